import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// The HTTP API in process: shapes of successful responses and every OpenAI-shaped error.
@Suite(.serialized) struct ServerTests {
    static let served: ServedModel = {
        let model = try! Model(path: TestModels.smolLM2)
        var c = SchedulerConfiguration()
        c.parallel = 4
        c.contextLength = 512
        c.threads = 2
        return ServedModel(id: "smollm2", model: model, scheduler: Scheduler(model: model, configuration: c))
    }()

    static func app(apiKey: String? = nil, maxBody: Int = 1 << 20) -> some ApplicationProtocol {
        let api = ParleyAPI(catalog: ModelCatalog(ready: [served]), apiKey: apiKey, maxBodyBytes: maxBody)
        return Application(router: api.makeRouter())
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] ?? [:]
    }

    func post(_ client: some TestClientProtocol, _ path: String, _ body: String,
              headers: HTTPFields = [.contentType: "application/json"]) async throws -> (HTTPResponse.Status, [String: Any], TestResponse) {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
            (r.status, (try? Self.json(r.body)) ?? [:], r)
        }
    }

    func expectError(_ r: (HTTPResponse.Status, [String: Any], TestResponse), _ status: HTTPResponse.Status,
                     param: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.0 == status, sourceLocation: sourceLocation)
        let error = r.1["error"] as? [String: Any]
        #expect(error?["message"] is String, sourceLocation: sourceLocation)
        #expect(error?["type"] is String, sourceLocation: sourceLocation)
        #expect(error?.keys.contains("param") == true && error?.keys.contains("code") == true, sourceLocation: sourceLocation)
        if let param { #expect(error?["param"] as? String == param, sourceLocation: sourceLocation) }
    }

    @Test func chatCompletionNonStreaming() async throws {
        try await Self.app().test(.router) { client in
            let r = try await post(client, "/v1/chat/completions",
                #"{"model": "smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8, "temperature": 0}"#)
            #expect(r.0 == .ok)
            #expect(r.1["object"] as? String == "chat.completion")
            let choice = (r.1["choices"] as? [[String: Any]])?.first
            let message = choice?["message"] as? [String: Any]
            #expect(message?["role"] as? String == "assistant")
            let content = message?["content"] as? String ?? ""
            #expect(content.count > 0)
            let usage = r.1["usage"] as? [String: Any]
            #expect((usage?["completion_tokens"] as? Int ?? 0) > 0)
            #expect(["stop", "length"].contains(choice?["finish_reason"] as? String ?? ""))
        }
    }

    @Test func chatCompletionStreamsServerSentEvents() async throws {
        try await Self.app().test(.router) { client in
            let r = try await post(client, "/v1/chat/completions",
                #"{"model": "smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 6, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(r.0 == .ok)
            #expect(r.2.headers[.contentType] == "text/event-stream")
            let text = String(buffer: r.2.body)
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            let chunks = events.dropLast().map { try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any] }
            #expect(chunks.allSatisfy { $0 != nil })
            let usage = chunks.last??["usage"] as? [String: Any]
            #expect(usage?["completion_tokens"] as? Int == 6)
            let finishes = chunks.compactMap { (($0?["choices"] as? [[String: Any]])?.first?["finish_reason"]) as? String }
            #expect(finishes == ["length"])
        }
    }

    @Test func jsonSchemaOutputValidates() async throws {
        try await Self.app().test(.router) { client in
            let r = try await post(client, "/v1/chat/completions", #"""
                {"model": "smollm2", "messages": [{"role": "user", "content": "Describe a dog as JSON."}], "max_tokens": 80, "temperature": 0,
                 "response_format": {"type": "json_schema", "json_schema": {"name": "dog", "schema": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}}}}
                """#)
            #expect(r.0 == .ok)
            let content = (((r.1["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])?["content"] as? String ?? ""
            let parsed = try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any]
            #expect(parsed?["name"] is String)
            #expect(parsed?["age"] is NSNumber)
        }
    }

    @Test func toolCallsAreReturned() async throws {
        try await Self.app().test(.router) { client in
            let r = try await post(client, "/v1/chat/completions", #"""
                {"model": "smollm2", "messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": 60, "temperature": 0,
                 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
                 "tool_choice": "required"}
                """#)
            #expect(r.0 == .ok)
            let choice = (r.1["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "tool_calls")
            let call = ((choice?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first
            let function = call?["function"] as? [String: Any]
            #expect(function?["name"] as? String == "get_weather")
            let args = try JSONSerialization.jsonObject(with: Data((function?["arguments"] as? String ?? "").utf8)) as? [String: Any]
            #expect(args?["city"] is String)
        }
    }

    @Test func errorsAreOpenAIShaped() async throws {
        try await Self.app(maxBody: 4096).test(.router) { client in
            expectError(try await post(client, "/v1/chat/completions", "{not json"), .badRequest)
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "nope", "messages": [{"role": "user", "content": "x"}]}"#), .notFound, param: "model")
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "smollm2", "messages": [{"role": "user", "content": "x"}], "temperature": 7}"#), .badRequest, param: "temperature")
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "smollm2", "messages": [{"role": "user", "content": "x"}], "max_tokens": "many"}"#), .badRequest, param: "max_tokens")
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "smollm2"}"#), .badRequest, param: "messages")
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "smollm2", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "a+"}}}}"#),
                        .badRequest, param: "response_format.json_schema.schema")
            let long = String(repeating: "hello ", count: 600)
            expectError(try await post(client, "/v1/completions", #"{"model": "smollm2", "prompt": "\#(long)"}"#), .badRequest, param: "prompt")
            let huge = String(repeating: "x", count: 5000)
            expectError(try await post(client, "/v1/chat/completions", #"{"model": "smollm2", "messages": [{"role": "user", "content": "\#(huge)"}]}"#), .contentTooLarge)
            let missing = try await client.execute(uri: "/v1/nothing", method: .get) { ($0.status, try Self.json($0.body)) }
            #expect(missing.0 == .notFound)
            #expect((missing.1["error"] as? [String: Any])?["message"] is String)
        }
    }

    @Test func apiKeyIsRequiredWhenSet() async throws {
        try await Self.app(apiKey: "sekret").test(.router) { client in
            let body = #"{"model": "smollm2", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1}"#
            expectError(try await post(client, "/v1/chat/completions", body), .unauthorized)
            expectError(try await post(client, "/v1/chat/completions", body, headers: [.authorization: "Bearer wrong"]), .unauthorized)
            let ok = try await post(client, "/v1/chat/completions", body, headers: [.authorization: "Bearer sekret"])
            #expect(ok.0 == .ok)
            let health = try await client.execute(uri: "/health", method: .get) { $0.status }
            #expect(health == .ok)
        }
    }

    @Test func modelsHealthMetricsCompletionsAndEmbeddings() async throws {
        try await Self.app().test(.router) { client in
            let models = try await client.execute(uri: "/v1/models", method: .get) { try Self.json($0.body) }
            #expect(((models["data"] as? [[String: Any]])?.first?["id"]) as? String == "smollm2")
            let one = try await client.execute(uri: "/v1/models/smollm2", method: .get) { $0.status }
            #expect(one == .ok)
            let none = try await client.execute(uri: "/v1/models/other", method: .get) { $0.status }
            #expect(none == .notFound)

            let c = try await post(client, "/v1/completions", #"{"model": "smollm2", "prompt": "The sky is", "max_tokens": 4, "temperature": 0, "echo": true, "logprobs": 2}"#)
            #expect(c.0 == .ok)
            let choice = (c.1["choices"] as? [[String: Any]])?.first
            #expect((choice?["text"] as? String)?.hasPrefix("The sky is") == true)
            let lp = choice?["logprobs"] as? [String: Any]
            #expect((lp?["tokens"] as? [Any])?.count == (lp?["token_logprobs"] as? [Any])?.count)

            let e = try await post(client, "/v1/embeddings", #"{"model": "smollm2", "input": ["a cat", "a dog"]}"#)
            #expect(e.0 == .ok)
            let data = e.1["data"] as? [[String: Any]]
            #expect(data?.count == 2)
            #expect((data?.first?["embedding"] as? [Any])?.count == Self.served.model.hyperparameters.embeddingLength)

            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("parley_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"))
            #expect(metrics.contains("parley_time_to_first_token_seconds_bucket"))
            #expect(metrics.contains("parley_kv_cache_blocks_used{model=\"smollm2\"}"))
        }
    }

    @Test func healthIs503WhileLoading() async throws {
        let api = ParleyAPI(catalog: ModelCatalog())
        try await Application(router: api.makeRouter()).test(.router) { client in
            let status = try await client.execute(uri: "/health", method: .get) { $0.status }
            #expect(status == .serviceUnavailable)
            let r = try await post(client, "/v1/chat/completions", #"{"model": "smollm2", "messages": [{"role": "user", "content": "x"}]}"#)
            expectError(r, .serviceUnavailable)
        }
    }
}
