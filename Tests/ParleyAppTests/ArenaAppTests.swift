import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// A stand-in provider: a second Parley OpenAI API (the shared SmolLM2) on a loopback port, guarded by a key,
/// so every provider request goes over real HTTP and nothing leaves the machine.
final class FakeProvider: @unchecked Sendable {
    static let key = "sk-fake-provider-0123456789"
    let port: Int
    private let task: Task<Void, Error>

    private init(port: Int, task: Task<Void, Error>) { self.port = port; self.task = task }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    static func start() async throws -> FakeProvider {
        let api = ParleyAPI(catalog: ModelCatalog(ready: [Shared.served]), apiKey: key)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: api.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw FakeProviderError() }
        return FakeProvider(port: port, task: task)
    }

    func stop() { task.cancel() }
}

struct FakeProviderError: Error, CustomStringConvertible {
    var description: String { "the fake provider did not start" }
}

@Suite("Providers in chat and the arena", .serialized)
struct ArenaAppTests {
    func addProvider(_ b: Browser, name: String, baseURL: String, key: String?) async throws -> Reply {
        let keyField = key.map { #", "api_key": "\#($0)""# } ?? ""
        return try await b.post("/api/providers", #"{"name": "\#(name)", "base_url": "\#(baseURL)", "models": ["smollm2"]\#(keyField)}"#)
    }

    @Test func providerKeysAreSealedAndNeverReturned() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let app = try await TestApp.make()
        let store = app.store
        try await app.test { client in
            let admin = Browser(client)
            try await admin.signUp("admin@example.com")
            let created = try await addProvider(admin, name: "fake", baseURL: fake.baseURL, key: FakeProvider.key)
            #expect(created.status == .created, "\(created.text)")
            #expect(!created.text.contains(FakeProvider.key))
            #expect(created.json["has_key"] as? Bool == true)
            let listed = try await admin.get("/api/providers")
            #expect(!listed.text.contains(FakeProvider.key) && !listed.text.contains("ciphertext"))
            #expect((listed.json["providers"] as? [[String: Any]])?.first?["models"] as? [String] == ["fake/smollm2"])
            // In the database: ciphertext only, which does not contain the key.
            let stored = try #require(try await (store as! any ArenaStore).providers().first)
            let sealed = try #require(stored.keyCiphertext)
            #expect(!sealed.contains(FakeProvider.key) && !(Data(base64Encoded: sealed).map { String(decoding: $0, as: UTF8.self) } ?? "").contains(FakeProvider.key))
            // Every /api answer the admin can get says nothing of it either.
            for path in ["/api/models", "/api/providers", "/api/arena/leaderboard", "/api/export", "/api/session"] {
                let r = try await admin.get(path)
                #expect(!r.text.contains(FakeProvider.key) && !r.text.contains(sealed), "\(path) leaks the key")
            }
            // Others may list the models, not configure providers or see their URLs.
            let bob = Browser(client)
            try await bob.signUp("bob@example.com")
            #expect(try await addProvider(bob, name: "mine", baseURL: fake.baseURL, key: "x").status == .forbidden)
            let seen = try await bob.get("/api/providers").json["providers"] as? [[String: Any]] ?? []
            #expect(seen.count == 1 && seen[0]["base_url"] == nil && seen[0]["has_key"] == nil)
            // Bad input is a clear 400 / 409.
            #expect(try await addProvider(admin, name: "fake", baseURL: fake.baseURL, key: nil).status == .conflict)
            #expect(try await addProvider(admin, name: "a/b", baseURL: fake.baseURL, key: nil).status == .badRequest)
            #expect(try await addProvider(admin, name: "ftp", baseURL: "ftp://example.com", key: nil).status == .badRequest)
            #expect(try await admin.post("/api/providers", #"{"name": "x", "base_url": "http://127.0.0.1:1/v1", "models": []}"#).status == .badRequest)
        }
    }

    @Test func theKeyFileIsPrivateAndSealsPerProvider() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parley-keyring-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("provider-keys.secret").path
        let keyring = try ProviderKeyring(file: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((attributes[.size] as? NSNumber)?.intValue == 32)
        let sealed = try keyring.seal("sk-secret", providerID: "p1")
        #expect(sealed != "sk-secret" && !sealed.contains("sk-secret"))
        #expect(try keyring.seal("sk-secret", providerID: "p1") != sealed, "a fresh nonce each time")
        // The same file opens it again (a restarted server); another provider's id does not.
        #expect(try ProviderKeyring(file: file).unseal(sealed, providerID: "p1") == "sk-secret")
        #expect(throws: (any Error).self) { try keyring.unseal(sealed, providerID: "p2") }
        // A key file others can read is refused.
        chmod(file, 0o644)
        #expect(throws: (any Error).self) { try ProviderKeyring(file: file) }
    }

    @Test func usersChatWithProviderModelsInTheAppAndOverV1() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let app = try await TestApp.make()
        try await app.test { client in
            let admin = Browser(client)
            try await admin.signUp("admin@example.com")
            #expect(try await addProvider(admin, name: "fake", baseURL: fake.baseURL, key: FakeProvider.key).status == .created)
            #expect(try await addProvider(admin, name: "badkey", baseURL: fake.baseURL, key: "sk-wrong").status == .created)
            let models = (try await admin.get("/api/models").json["models"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(models == ["smollm2", "badkey/smollm2", "fake/smollm2"], "\(models)")

            // The app: a conversation on the provider's model streams and stores its reply like a local one.
            let id = try await admin.newConversation(#"{"model": "fake/smollm2", "temperature": 0}"#)
            let r = try await admin.post("/api/conversations/\(id)/messages", #"{"content": "What is the capital of France?"}"#)
            #expect(r.status == .ok)
            let names = r.events.map(\.name)
            #expect(names.first == "user" && names.contains("delta") && names.last == "done", "\(names)")
            let done = try #require(r.events.last?.data)
            #expect(done["status"] as? String == "complete" && done["model"] as? String == "fake/smollm2")
            let text = r.events.filter { $0.name == "delta" }.compactMap { $0.data["text"] as? String }.joined()
            #expect(!text.isEmpty && done["content"] as? String == text)
            let (_, messages, _) = try await admin.tree(id)
            #expect(messages.last?["content"] as? String == text && messages.last?["status"] as? String == "complete")

            // A provider that refuses the key: the reply ends with an error and is kept incomplete.
            let bad = try await admin.newConversation(#"{"model": "badkey/smollm2"}"#)
            let failed = try await admin.post("/api/conversations/\(bad)/messages", #"{"content": "Hello"}"#)
            #expect(failed.events.contains { $0.name == "error" && ($0.data["message"] as? String ?? "").contains("401") }, "\(failed.text)")
            #expect(failed.events.last?.data["status"] as? String == "incomplete")

            // /v1 with a user's key: relayed to the provider (JSON and stream), the provider's key never shown.
            let key = try await admin.post("/api/keys", #"{"name": "cli"}"#).json["secret"] as? String ?? ""
            let api = Browser(client)
            api.bearer = key
            let listed = (try await api.get("/v1/models").json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(listed.contains("fake/smollm2") && listed.contains("smollm2"), "\(listed)")
            let body = #"{"model": "fake/smollm2", "max_tokens": 8, "temperature": 0, "messages": [{"role": "user", "content": "Say hi"}]}"#
            let json = try await api.post("/v1/chat/completions", body)
            #expect(json.status == .ok, "\(json.text)")
            let choice = (json.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            let content = choice?["content"] as? String ?? ""
            #expect(content.count > 0, "\(json.text)")
            #expect(json.json["model"] as? String == "smollm2", "the provider names its own model")
            let streamed = try await api.post("/v1/chat/completions", body.replacingOccurrences(of: "\"max_tokens\"", with: "\"stream\": true, \"max_tokens\""))
            #expect(streamed.status == .ok && streamed.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            #expect(streamed.text.contains("data: [DONE]"))
            let refused = try await api.post("/v1/chat/completions", body.replacingOccurrences(of: "fake/", with: "badkey/"))
            #expect(refused.status == .unauthorized && !refused.text.contains(FakeProvider.key))
        }
    }

    @Test func arenaBattleIsBlindUntilTheVoteAndRatesTheModels() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let app = try await TestApp.make()
        try await app.test { client in
            let admin = Browser(client)
            try await admin.signUp("admin@example.com")
            // One local model: the arena cannot pair it yet.
            let lonely = try await admin.post("/api/arena/battles", #"{"prompt": "Hi"}"#)
            #expect(lonely.status == .serviceUnavailable && lonely.text.contains("two models"))
            #expect(try await addProvider(admin, name: "fake", baseURL: fake.baseURL, key: FakeProvider.key).status == .created)
            #expect(try await admin.get("/api/arena/models").json["count"] as? Int == 2)

            let r = try await admin.post("/api/arena/battles", #"{"prompt": "Name a colour."}"#)
            #expect(r.status == .ok)
            let events = r.events
            #expect(events.first?.name == "battle" && events.last?.name == "done", "\(events.map(\.name))")
            let sides = Set(events.filter { $0.name == "delta" }.compactMap { $0.data["side"] as? String })
            #expect(sides == ["a", "b"])
            #expect(events.filter { $0.name == "end" }.count == 2 && !events.contains { $0.data["error"] != nil }, "\(r.text)")
            // Nothing in the stream names a model.
            #expect(!events.contains { $0.data["model"] != nil || $0.data["model_a"] != nil })
            let battleID = try #require(events.first?.data["id"] as? String)
            let before = try await admin.get("/api/arena/battles/\(battleID)")
            #expect(before.json["model_a"] is NSNull && before.json["model_b"] is NSNull)
            let answerA = events.filter { $0.name == "delta" && $0.data["side"] as? String == "a" }.compactMap { $0.data["text"] as? String }.joined()
            #expect(before.json["answer_a"] as? String == answerA)

            // Another user cannot see or vote on it.
            let bob = Browser(client)
            try await bob.signUp("bob@example.com")
            #expect(try await bob.get("/api/arena/battles/\(battleID)").status == .notFound)
            #expect(try await bob.post("/api/arena/battles/\(battleID)/vote", #"{"winner": "a"}"#).status == .notFound)

            #expect(try await admin.post("/api/arena/battles/\(battleID)/vote", #"{"winner": "best"}"#).status == .badRequest)
            let voted = try await admin.post("/api/arena/battles/\(battleID)/vote", #"{"winner": "a"}"#)
            #expect(voted.status == .ok, "\(voted.text)")
            let modelA = try #require(voted.json["model_a"] as? String)
            let modelB = try #require(voted.json["model_b"] as? String)
            #expect(Set([modelA, modelB]) == ["smollm2", "fake/smollm2"])
            #expect(try await admin.post("/api/arena/battles/\(battleID)/vote", #"{"winner": "b"}"#).status == .conflict)

            // One win with one virtual tie per pair: W = 1.5 vs 0.5 over 2 games, odds 3:1, so the ratings are
            // 1000 ± 200·log10(3) = 1095.42 / 904.58.
            let board = try await admin.get("/api/arena/leaderboard").json
            #expect(board["votes"] as? Int == 1)
            let ratings = board["ratings"] as? [[String: Any]] ?? []
            #expect(ratings.map { $0["model"] as? String } == [modelA, modelB])
            let half = 200 * log10(3.0)
            #expect(abs((ratings.first?["rating"] as? Double ?? 0) - (1000 + half)) < 1e-6)
            #expect(abs((ratings.last?["rating"] as? Double ?? 0) - (1000 - half)) < 1e-6)
            #expect(ratings.first?["wins"] as? Int == 1 && ratings.last?["losses"] as? Int == 1)

            // Benchmark figures (the JSON of `parley eval run --json`) beside the ratings; admins only.
            let figure = #"{"model": "smollm2", "task": "arc_easy", "metric": "acc_norm", "value": 52.5, "n": 40}"#
            #expect(try await bob.post("/api/arena/eval-results", figure).status == .forbidden)
            #expect(try await admin.post("/api/arena/eval-results", figure).status == .created)
            let evals = try await admin.get("/api/arena/leaderboard").json["eval_results"] as? [[String: Any]] ?? []
            #expect(evals.count == 1 && evals[0]["value"] as? Double == 52.5 && evals[0]["task"] as? String == "arc_easy")
        }
    }
}
