import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyMemory
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Memory in the chat app over HTTP, with SmolLM2 and the all-MiniLM-L6-v2 encoder: "remember" saves and the
/// stream says so; a new chat uses the memory and the stream names it; a deleted memory is no longer used; a
/// temporary chat neither reads nor writes memory; auto-memory obeys its switch; users never see each other's
/// memories; export carries memories and vectors; deleting the account deletes them.
@Suite("Memory in the chat app", .serialized)
struct MemoryAppTests {
    static let encoder: SentenceEncoder = try! SentenceEncoder(directory: try! TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)

    static func make(_ backend: Backend) async throws -> TestApp {
        let store = try await backend.open()
        let catalog = ModelCatalog(ready: [Shared.served])
        let app = try await ChatApp.start(store: store, catalog: catalog, embedder: encoder)
        return TestApp(api: ParleyAPI(catalog: catalog, app: app), store: store)
    }

    /// Sends a message (greedy, so replies end soon) and returns the stream's `memory` event, if any.
    static func say(_ b: Browser, _ conversation: String, _ text: String) async throws -> [String: Any]? {
        let r = try await b.post("/api/conversations/\(conversation)/messages", #"{"content": \#(jsonString(text))}"#)
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.events.contains { $0.name == "done" }, "the reply finished: \(r.text.suffix(300))")
        return r.events.first { $0.name == "memory" }?.data
    }

    static func usedTexts(_ event: [String: Any]?) -> [String] {
        (event?["used"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
    }

    static func memories(_ b: Browser, _ query: String? = nil) async throws -> [[String: Any]] {
        let path = query.map { "/api/memories?q=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" } ?? "/api/memories"
        let r = try await b.get(path)
        #expect(r.status == .ok && r.json["available"] as? Bool == true, "\(r.text)")
        return r.json["memories"] as? [[String: Any]] ?? []
    }

    @Test("remember, use, delete, temporary", arguments: Backend.available)
    func rememberUseDeleteAndTemporary(_ backend: Backend) async throws {
        try await Self.make(backend).test { client in
            let a = Browser(client), b = Browser(client)
            try await a.signUp("ann-\(UUID().uuidString.prefix(8))@example.com")
            try await b.signUp("ben-\(UUID().uuidString.prefix(8))@example.com")
            let options = #"{"temperature": 0}"#

            // Tell it a fact: saved, and the stream says so (with what undo needs).
            let first = try await a.newConversation(options)
            let told = try await Self.say(a, first, "Remember that my favourite colour is teal.")
            let update = told?["update"] as? [String: Any]
            #expect(update?["action"] as? String == "remembered")
            let saved = (update?["memories"] as? [[String: Any]])?.first
            let memoryID = try #require(saved?["id"] as? String)
            #expect(saved?["text"] as? String == "my favourite colour is teal")
            #expect(try await Self.memories(a).compactMap { $0["text"] as? String } == ["my favourite colour is teal"])
            #expect(try await Self.memories(a, "which colour do I like").first?["id"] as? String == memoryID, "the page's search")

            // A new chat asks about it: the memory is used, and named in the stream.
            let second = try await a.newConversation(options)
            let asked = try await Self.say(a, second, "What is my favourite colour?")
            #expect(Self.usedTexts(asked) == ["my favourite colour is teal"])
            #expect((asked?["history"] as? [Any])?.isEmpty == true, "the 'remember' turn lives in memory, not in the history index")

            // Another user neither sees nor gets it.
            #expect(try await Self.memories(b).isEmpty)
            let bens = try await b.newConversation(options)
            #expect(Self.usedTexts(try await Self.say(b, bens, "What is my favourite colour?")).isEmpty)
            #expect(try await b.call(.delete, "/api/memories/\(memoryID)").status == .notFound)
            #expect(try await b.call(.patch, "/api/memories/\(memoryID)", #"{"text": "mine"}"#).status == .notFound)

            // Edit, then delete: no longer used.
            let edited = try await a.call(.patch, "/api/memories/\(memoryID)", #"{"text": "My favourite colour is dark teal."}"#)
            #expect(edited.status == .ok && edited.json["text"] as? String == "My favourite colour is dark teal.")
            #expect(try await a.call(.delete, "/api/memories/\(memoryID)").status == .noContent)
            let third = try await a.newConversation(options)
            let after = try await Self.say(a, third, "What is my favourite colour?")
            #expect(Self.usedTexts(after).isEmpty)
            #expect(try await Self.memories(a).isEmpty)

            // A temporary chat: no memory read, none written, nothing indexed.
            #expect(try await a.post("/api/memories", #"{"text": "I have a dog named Rex."}"#).status == .created)
            let temp = try await a.post("/api/conversations", #"{"temperature": 0, "temporary": true}"#)
            #expect(temp.status == .created && temp.json["temporary"] as? Bool == true)
            let tempID = try #require(temp.json["id"] as? String)
            #expect(try await a.tree(tempID).conversation["temporary"] as? Bool == true)
            let inTemp = try await Self.say(a, tempID, "Remember that I live in Lisbon. What is my dog called?")
            #expect(inTemp?["temporary"] as? Bool == true)
            #expect(Self.usedTexts(inTemp).isEmpty && inTemp?["update"] is NSNull)
            let stated = try await Self.say(a, tempID, "I work as a pilot for a small airline.")
            #expect(stated?["update"] is NSNull, "auto-memory writes nothing in a temporary chat")
            #expect(try await Self.memories(a).compactMap { $0["text"] as? String } == ["I have a dog named Rex."])
            let fourth = try await a.newConversation(options)
            let later = try await Self.say(a, fourth, "Which airline do I fly for as a pilot?")
            #expect(!(later?["history"] as? [[String: Any]] ?? []).contains { ($0["text"] as? String)?.contains("pilot") == true },
                    "a temporary chat's messages are not referenced later")
            #expect(try await a.tree(fourth).conversation["temporary"] as? Bool == false)
        }
    }

    @Test("auto-memory, history, export, account deletion", arguments: Backend.available)
    func autoMemoryHistoryExportAndDeletion(_ backend: Backend) async throws {
        try await Self.make(backend).test { client in
            let a = Browser(client)
            try await a.signUp("cy-\(UUID().uuidString.prefix(8))@example.com")
            let options = #"{"temperature": 0}"#
            #expect(try await a.get("/api/memory/settings").json["auto_memory"] as? Bool == true)

            let off = try await a.call(.put, "/api/memory/settings", #"{"auto_memory": false}"#)
            #expect(off.status == .ok && off.json["auto_memory"] as? Bool == false)
            let c1 = try await a.newConversation(options)
            #expect(try await Self.say(a, c1, "I'm vegetarian.")?["update"] as? [String: Any] == nil)
            #expect(try await Self.memories(a).isEmpty, "auto-memory off: nothing saved")

            #expect(try await a.call(.put, "/api/memory/settings", #"{"auto_memory": true}"#).json["auto_memory"] as? Bool == true)
            let c2 = try await a.newConversation(options)
            let proposed = try await Self.say(a, c2, "I'm allergic to peanuts.")?["update"] as? [String: Any]
            #expect(proposed?["action"] as? String == "proposed")
            #expect(try await Self.memories(a).compactMap { $0["text"] as? String } == ["I'm allergic to peanuts"])
            let chatter = try await Self.say(a, c2, "Thanks, that helps!")
            #expect(chatter?["update"] == nil || chatter?["update"] is NSNull)

            // Chat-history reference: an earlier chat's message comes back in a later, related turn.
            let c3 = try await a.newConversation(options)
            _ = try await Self.say(a, c3, "Can you suggest a few sights in Kyoto for my April trip?")
            let c4 = try await a.newConversation(options)
            let recalled = try await Self.say(a, c4, "What should I pack for Kyoto?")
            let history = recalled?["history"] as? [[String: Any]] ?? []
            #expect(history.first?["conversation_id"] as? String == c3, "\(history)")

            // Export: memories with their vectors, the history index, the setting.
            let export = try await a.get("/api/export").json
            let exported = export["memories"] as? [[String: Any]] ?? []
            #expect(exported.map { $0["text"] as? String } == ["I'm allergic to peanuts"])
            #expect((exported.first?["embedding"] as? [Any])?.count == 384)
            #expect(exported.first?["embedding_model"] as? String == Self.encoder.name)
            #expect((export["history_index"] as? [[String: Any]] ?? []).contains { ($0["text"] as? String)?.contains("Kyoto") == true })

            // Deleting the account: password required; then everything is gone and the session ends.
            #expect(try await a.call(.delete, "/api/account", "{}").status == .badRequest)
            #expect(try await a.call(.delete, "/api/account", #"{"password": "wrong password"}"#).status == .forbidden)
            #expect(try await a.call(.delete, "/api/account", #"{"password": "correct horse"}"#).status == .noContent)
            #expect(try await a.get("/api/memories").status == .unauthorized)
        }
    }

    @Test func withoutAnEmbeddingModelMemoryIsUnavailableAndChatStillWorks() async throws {
        try await TestApp.make().test { client in
            let a = Browser(client)
            try await a.signUp("dee@example.com")
            let r = try await a.get("/api/memories")
            #expect(r.status == .ok && r.json["available"] as? Bool == false)
            #expect(try await a.post("/api/memories", #"{"text": "x"}"#).status == .serviceUnavailable)
            let c = try await a.newConversation(#"{"temperature": 0}"#)
            #expect(try await Self.say(a, c, "Remember that I'm vegetarian.") == nil, "no memory event without memory")
        }
    }
}
