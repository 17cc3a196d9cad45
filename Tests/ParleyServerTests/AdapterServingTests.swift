import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyTestSupport
import Testing

/// LoRA adapters chosen per request ("smollm2:NAME" from the catalog's adapter directory), run in the same
/// batches as the base model's requests, and swapped on disk without a restart.
@Suite(.serialized) struct AdapterServingTests {
    static let model = try! Model(path: TestModels.smolLM2)

    static func scheduler(_ model: Model) -> Scheduler {
        var c = SchedulerConfiguration()
        c.parallel = 4
        c.contextLength = 256
        c.threads = 2
        return Scheduler(model: model, configuration: c)
    }

    /// An adapter that changes the model's answers: A and B drawn from `seed` (B large in a few layers).
    static func adapter(seed: UInt64) -> LoRAAdapter {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> Float {  // xorshift, uniform in [-1, 1)
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        let hp = model.hyperparameters
        let adapter = LoRAAdapter(hyperparameters: hp, rank: 4, alpha: 8, targets: [.query, .value, .down]) { count, inFeatures in
            (0..<count).map { _ in next() / Float(inFeatures).squareRoot() }
        }
        for (layer, _, weights) in adapter.orderedWeights where layer % 10 == 3 {
            weights.b = (0..<weights.b.count).map { _ in next() }
        }
        return adapter
    }

    static func completion(_ client: some TestClientProtocol, model: String, prompt: String) async throws
        -> (HTTPResponse.Status, [String: Any])
    {
        let body = try JSONSerialization.data(withJSONObject: ["model": model, "prompt": prompt, "max_tokens": 10,
                                                               "temperature": 0] as [String: Any])
        return try await client.execute(uri: "/v1/completions", method: .post, headers: [.contentType: "application/json"],
                                        body: ByteBuffer(bytes: body)) { r in
            (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]) ?? [:])
        }
    }

    static func text(_ r: (HTTPResponse.Status, [String: Any])) -> String? {
        ((r.1["choices"] as? [[String: Any]])?.first?["text"]) as? String
    }

    /// What a model loaded with the adapter baked in answers (the reference for the per-request path).
    static func reference(_ adapter: LoRAAdapter, _ prompt: String) async throws -> String {
        let baked = try Model(path: TestModels.smolLM2, adapter: adapter)
        let served = ServedModel(id: "baked", model: baked, scheduler: scheduler(baked))
        defer { served.scheduler.shutdown() }
        let api = ParleyAPI(catalog: ModelCatalog(ready: [served]))
        var answer = ""
        try await Application(router: api.makeRouter()).test(.router) { client in
            answer = text(try await completion(client, model: "baked", prompt: prompt)) ?? ""
        }
        return answer
    }

    @Test func adaptersAreChosenPerRequestAndSwappedWithoutARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-adapters-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prompt = "The three most important things in life are"
        let first = Self.adapter(seed: 1), second = Self.adapter(seed: 2)
        let expectedFirst = try await Self.reference(first, prompt)
        let expectedSecond = try await Self.reference(second, prompt)
        #expect(expectedFirst != expectedSecond)

        let served = ServedModel(id: "smollm2", model: Self.model, scheduler: Self.scheduler(Self.model))
        defer { served.scheduler.shutdown() }
        let api = ParleyAPI(catalog: ModelCatalog(ready: [served], adapterDirectory: directory))
        try await Application(router: api.makeRouter()).test(.router) { client in
            let missing = try await Self.completion(client, model: "smollm2:notes", prompt: prompt)
            #expect(missing.0 == .notFound)

            let plain = Self.text(try await Self.completion(client, model: "smollm2", prompt: prompt))
            try first.write(to: directory + "/notes.gguf")
            // Base and adapter requests at once share the scheduler's batches; each gets its own model's answer.
            async let a = Self.completion(client, model: "smollm2:notes", prompt: prompt)
            async let b = Self.completion(client, model: "smollm2", prompt: prompt)
            let (adapted, base) = try await (a, b)
            #expect(adapted.0 == .ok && adapted.1["model"] as? String == "smollm2:notes")
            #expect(Self.text(adapted) == expectedFirst, "\(Self.text(adapted) ?? "nil") vs \(expectedFirst)")
            #expect(Self.text(base) == plain && plain != expectedFirst)

            // Replaced on disk (written aside and renamed in, as `parley learn --registry` does): the next request
            // runs the new adapter.
            try second.write(to: directory + "/notes.tmp")
            #expect(rename(directory + "/notes.tmp", directory + "/notes.gguf") == 0)
            let swapped = try await Self.completion(client, model: "smollm2:notes", prompt: prompt)
            #expect(Self.text(swapped) == expectedSecond, "\(Self.text(swapped) ?? "nil") vs \(expectedSecond)")

            // An adapter line's directory serves its current.gguf.
            try FileManager.default.createDirectory(atPath: directory + "/team", withIntermediateDirectories: true)
            try first.write(to: directory + "/team/current.gguf")
            #expect(Self.text(try await Self.completion(client, model: "smollm2:team", prompt: prompt)) == expectedFirst)

            // A broken file is a clear error for that request only.
            FileManager.default.createFile(atPath: directory + "/broken.gguf", contents: Data("not a gguf".utf8))
            let broken = try await Self.completion(client, model: "smollm2:broken", prompt: prompt)
            #expect(broken.0 == .badRequest, "\(broken)")
            let after = try await Self.completion(client, model: "smollm2", prompt: prompt)
            #expect(Self.text(after) == plain)
        }
    }
}
