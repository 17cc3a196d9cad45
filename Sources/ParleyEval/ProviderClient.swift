import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible endpoint: a name, a base URL (ending in `/v1` or the provider's equivalent) and a key
/// taken from the environment, never stored or printed. OpenAI, Gemini's and Anthropic's OpenAI-compatible
/// endpoints, vLLM, llama.cpp's server, Ollama and `parley serve` all speak it.
public struct ProviderConfiguration: Sendable, Equatable {
    public var name: String
    public var baseURL: String
    public var apiKey: String?
    public var model: String

    public init(name: String, baseURL: String, apiKey: String?, model: String) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
    }

    /// Known providers: base URL and the environment variable that holds the key.
    public static let known: [String: (baseURL: String, keyVariable: String)] = [
        "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
        "gemini": ("https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"),
        "anthropic": ("https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"),
        "ollama": ("http://127.0.0.1:11434/v1", "OLLAMA_API_KEY"),
    ]

    /// `NAME:MODEL` for a known provider, or any model at `baseURL` with the key in `keyVariable`
    /// (default `PARLEY_PROVIDER_API_KEY`). Nil when `spec` names no provider (a local model, then).
    public static func resolve(_ spec: String, baseURL: String?, keyVariable: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> ProviderConfiguration? {
        if let baseURL {
            let variable = keyVariable ?? "PARLEY_PROVIDER_API_KEY"
            return ProviderConfiguration(name: URL(string: baseURL)?.host ?? "provider", baseURL: baseURL,
                                         apiKey: environment[variable].flatMap { $0.isEmpty ? nil : $0 }, model: spec)
        }
        guard let colon = spec.firstIndex(of: ":") else { return nil }
        let name = String(spec[..<colon]).lowercased()
        guard let entry = known[name] else { return nil }
        let variable = keyVariable ?? entry.keyVariable
        return ProviderConfiguration(name: name, baseURL: entry.baseURL,
                                     apiKey: environment[variable].flatMap { $0.isEmpty ? nil : $0 },
                                     model: String(spec[spec.index(after: colon)...]))
    }
}

/// Calls an OpenAI-compatible API: text completions (with prompt log-probabilities where the provider gives
/// them) and chat completions. Shared by evaluation and, later, the arena and chat.
public final class ProviderClient: Sendable {
    public let configuration: ProviderConfiguration
    private let client: HTTPClient
    /// False when the HTTP client is shared (the server's): then its owner shuts it down.
    private let ownsClient: Bool
    private let timeout: TimeAmount

    public init(_ configuration: ProviderConfiguration, timeoutSeconds: Int64 = 120) {
        self.configuration = configuration
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        ownsClient = true
        timeout = .seconds(timeoutSeconds)
    }

    /// A client over a shared `HTTPClient` (many providers, one connection pool).
    public init(_ configuration: ProviderConfiguration, sharing client: HTTPClient, timeoutSeconds: Int64 = 120) {
        self.configuration = configuration
        self.client = client
        ownsClient = false
        timeout = .seconds(timeoutSeconds)
    }

    deinit { if ownsClient { try? client.syncShutdown() } }

    public func shutdown() async throws { if ownsClient { try await client.shutdown() } }

    private func request(_ path: String, body: [UInt8]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = configuration.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// POSTs `body` as it is to `path` and hands back the response unread (status, headers, streamed body), for
    /// a caller that relays it. The key goes in `Authorization`; nothing else of the caller's request is sent.
    public func forward(_ path: String, body: [UInt8]) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request(path, body: body), timeout: timeout)
        } catch {
            throw EvalError("\(configuration.name): cannot reach \(configuration.baseURL)\(path): \(error)")
        }
    }

    /// A streamed chat reply: the text of each `choices[0].delta.content` of the provider's server-sent events,
    /// until `data: [DONE]` or the end of the body. An HTTP error status throws with the provider's message.
    public func streamChat(_ messages: [(role: String, content: String)], maxTokens: Int?, temperature: Double?)
        -> AsyncThrowingStream<String, Error> {
        var body: [String: Any] = [
            "model": configuration.model, "stream": true,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
        ]
        if let maxTokens { body["max_tokens"] = maxTokens }
        if let temperature { body["temperature"] = temperature }
        let bytes = (try? JSONSerialization.data(withJSONObject: body)).map { [UInt8]($0) } ?? []
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await self.forward("/chat/completions", body: bytes)
                    guard response.status == .ok else {
                        var buffer = try await response.body.collect(upTo: 1 << 20)
                        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
                        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
                        let message = ((object?["error"] as? [String: Any])?["message"] as? String)
                            ?? String(decoding: data.prefix(300), as: UTF8.self)
                        throw EvalError("\(self.configuration.name): HTTP \(response.status.code): \(message)")
                    }
                    var parser = ServerSentEventLines()
                    outer: for try await chunk in response.body {
                        for line in parser.feed(Array(chunk.readableBytesView)) {
                            guard line.hasPrefix("data:") else { continue }
                            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                            if payload == "[DONE]" { break outer }
                            guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { continue }
                            if let error = object["error"] as? [String: Any] {
                                throw EvalError("\(self.configuration.name): \(error["message"] as? String ?? "error")")
                            }
                            if let delta = (object["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any],
                               let text = delta["content"] as? String, !text.isEmpty {
                                continuation.yield(text)
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// POSTs a JSON body to `path` under the base URL; returns the decoded JSON object.
    public func post(_ path: String, body: [String: Any]) async throws -> [String: Any] {
        let response = try await forward(path, body: [UInt8](try JSONSerialization.data(withJSONObject: body)))
        var bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(bytes.readBytes(length: bytes.readableBytes) ?? [])
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard response.status == .ok, let object else {
            let message = ((object?["error"] as? [String: Any])?["message"] as? String)
                ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw EvalError("\(configuration.name) \(path): HTTP \(response.status.code): \(message)")
        }
        return object
    }

    /// The log-probabilities the provider reports for the prompt's own tokens (`echo` with `logprobs`), as
    /// (character offset, log-probability) per token after the first; nil when it reports none.
    public func promptLogprobs(_ prompt: String) async throws -> [(offset: Int, logprob: Double)]? {
        let object = try await post("/completions", body: [
            "model": configuration.model, "prompt": prompt, "max_tokens": 1, "echo": true, "logprobs": 1, "temperature": 0,
        ])
        guard let choice = (object["choices"] as? [[String: Any]])?.first,
              let logprobs = choice["logprobs"] as? [String: Any],
              let values = logprobs["token_logprobs"] as? [Any], let offsets = logprobs["text_offset"] as? [Int],
              values.count == offsets.count, values.count >= 2 else { return nil }
        // The generated token is last; the first prompt token has no prediction.
        var result: [(Int, Double)] = []
        for (value, offset) in zip(values.dropLast(), offsets.dropLast()).dropFirst() {
            guard let number = value as? Double else { return nil }
            result.append((offset, number))
        }
        return result
    }

    /// One chat reply, greedy unless `temperature` says otherwise.
    public func chat(_ messages: [(role: String, content: String)], maxTokens: Int, temperature: Double = 0,
                     stop: [String] = []) async throws -> String {
        var body: [String: Any] = [
            "model": configuration.model, "max_tokens": maxTokens, "temperature": temperature,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
        ]
        if !stop.isEmpty { body["stop"] = Array(stop.prefix(4)) }
        let object = try await post("/chat/completions", body: body)
        guard let message = (object["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any] else {
            throw EvalError("\(configuration.name): a chat completion without a message")
        }
        return message["content"] as? String ?? ""
    }

    /// A text completion of `prompt`.
    public func complete(_ prompt: String, maxTokens: Int, temperature: Double = 0, stop: [String] = []) async throws -> String {
        var body: [String: Any] = ["model": configuration.model, "prompt": prompt, "max_tokens": maxTokens, "temperature": temperature]
        if !stop.isEmpty { body["stop"] = Array(stop.prefix(4)) }
        let object = try await post("/completions", body: body)
        return (object["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""
    }
}

/// Splits a server-sent event stream into lines (LF or CRLF), across chunk boundaries.
struct ServerSentEventLines {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var lines: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<newline])
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        return lines
    }
}
