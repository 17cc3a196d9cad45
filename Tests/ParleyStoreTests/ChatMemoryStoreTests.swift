import Foundation
import ParleyStore
import Testing

/// Memory in chat on both backends: the auto-memory switch, temporary conversations, the history index (per
/// user, full-text with Chinese bigrams, the current conversation left out) and account deletion that takes
/// memories, snippets and vectors with it.
enum ChatMemoryBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case autoMemorySwitch, temporaryConversations, historyIndex, accountDeletionCascades

    var testDescription: String { rawValue }

    static func vector(_ seed: Float) -> [Float] { (0..<8).map { seed + Float($0) / 8 } }

    func run(on backend: Backend) async throws {
        try await withHarness(backend) { h in
            guard let store = h.store as? any ChatMemoryStore else {
                Issue.record("\(backend) store keeps no chat memory")
                return
            }
            let alice = try await h.store.createUser(email: "alice@example.com", displayName: "Alice", passwordHash: "x").id
            let bob = try await h.store.createUser(email: "bob@example.com", displayName: "Bob", passwordHash: "x").id
            try await body(store, h.store, alice: alice, bob: bob)
        }
    }

    private func body(_ store: any ChatMemoryStore, _ chat: any ParleyStore, alice: RecordID, bob: RecordID) async throws {
        let v = Self.vector
        switch self {
        case .autoMemorySwitch:
            #expect(try await store.autoMemory(userID: alice), "on by default")
            try await store.setAutoMemory(false, userID: alice)
            #expect(try await !store.autoMemory(userID: alice))
            #expect(try await store.autoMemory(userID: bob), "per user")
            try await store.setAutoMemory(true, userID: alice)
            #expect(try await store.autoMemory(userID: alice))

        case .temporaryConversations:
            let c = try await chat.createConversation(Conversation(userID: alice, title: "t"))
            let d = try await chat.createConversation(Conversation(userID: alice, title: "d"))
            #expect(try await !store.isTemporary(conversationID: c.id, userID: alice))
            #expect(try await !store.markTemporary(conversationID: c.id, userID: bob), "not bob's conversation")
            #expect(try await store.markTemporary(conversationID: c.id, userID: alice))
            #expect(try await store.markTemporary(conversationID: c.id, userID: alice), "marking twice is fine")
            #expect(try await store.isTemporary(conversationID: c.id, userID: alice))
            #expect(try await !store.isTemporary(conversationID: c.id, userID: bob))
            #expect(try await !store.isTemporary(conversationID: d.id, userID: alice))
            #expect(try await chat.deleteConversation(id: c.id, userID: alice))
            #expect(try await !store.isTemporary(conversationID: c.id, userID: alice))

        case .historyIndex:
            let one = try await chat.createConversation(Conversation(userID: alice, title: "one"))
            let two = try await chat.createConversation(Conversation(userID: alice, title: "two"))
            let bobs = try await chat.createConversation(Conversation(userID: bob, title: "bob"))
            let a = try await store.addHistorySnippet(userID: alice, conversationID: one.id, messageID: "m1",
                                                      text: "  I'm planning a trip to Kyoto in April. ", embedding: v(1), model: "m")
            #expect(a.text == "I'm planning a trip to Kyoto in April.")
            let b = try await store.addHistorySnippet(userID: alice, conversationID: two.id, messageID: "m2",
                                                      text: "我在学做四川菜，特别喜欢麻婆豆腐。", embedding: v(2), model: "m")
            _ = try await store.addHistorySnippet(userID: bob, conversationID: bobs.id, messageID: "m3",
                                                  text: "My trip to Kyoto was cancelled.", embedding: v(3), model: "m")
            await expectStoreError(.notFound) {
                _ = try await store.addHistorySnippet(userID: bob, conversationID: one.id, messageID: "m4", text: "into alice's chat",
                                                      embedding: v(4), model: "m")
            }
            #expect(try await store.searchHistoryText(userID: alice, query: "When is my Kyoto trip?", excludingConversation: nil, limit: 5)
                .map(\.id) == [a.id], "alice's own snippet only")
            #expect(try await store.searchHistoryText(userID: alice, query: "Kyoto", excludingConversation: one.id, limit: 5).isEmpty,
                    "the current conversation is left out")
            #expect(try await store.searchHistoryText(userID: alice, query: "推荐一道川菜", excludingConversation: one.id, limit: 5)
                .map(\.id) == [b.id], "Chinese bigrams match")
            let vectors = try await store.historyEmbeddings(userID: alice, excludingConversation: two.id)
            #expect(vectors == [HistorySnippetEmbedding(snippetID: a.id, conversationID: one.id, model: "m", vector: v(1))])
            #expect(try await store.historyEmbeddings(userID: alice, excludingConversation: nil).count == 2)
            try await store.updateHistoryEmbedding(id: a.id, userID: alice, embedding: v(9), model: "m2")
            try await store.updateHistoryEmbedding(id: a.id, userID: bob, embedding: v(7), model: "hijack")
            #expect(try await store.historyEmbeddings(userID: alice, excludingConversation: two.id).first?.vector == v(9))
            #expect(try await store.historySnippets(ids: [a.id, b.id], userID: bob).isEmpty, "never another user's")
            #expect(Set(try await store.historySnippets(ids: [a.id, b.id, "nope"], userID: alice).map(\.id)) == [a.id, b.id])
            #expect(try await chat.deleteConversation(id: one.id, userID: alice))
            #expect(try await store.searchHistoryText(userID: alice, query: "Kyoto", excludingConversation: nil, limit: 5).isEmpty,
                    "deleting a conversation deletes its snippets and their index")

        case .accountDeletionCascades:
            let c = try await chat.createConversation(Conversation(userID: alice, title: "c"))
            _ = try await store.addMemory(userID: alice, text: "I'm vegetarian.", embedding: v(1), model: "m")
            _ = try await store.addHistorySnippet(userID: alice, conversationID: c.id, messageID: "m", text: "vegetarian recipes please",
                                                  embedding: v(2), model: "m")
            try await store.setAutoMemory(false, userID: alice)
            _ = try await store.markTemporary(conversationID: c.id, userID: alice)
            let kept = try await store.addMemory(userID: bob, text: "I'm vegetarian too.", embedding: v(3), model: "m")
            #expect(try await store.deleteUserAccount(userID: alice))
            #expect(try await !store.deleteUserAccount(userID: alice))
            #expect(try await chat.user(id: alice) == nil)
            #expect(try await store.memories(userID: alice).isEmpty)
            #expect(try await store.memoryEmbeddings(userID: alice).isEmpty)
            #expect(try await store.searchMemoryText(userID: alice, query: "vegetarian", limit: 5).isEmpty)
            #expect(try await store.historyEmbeddings(userID: alice, excludingConversation: nil).isEmpty)
            #expect(try await store.searchHistoryText(userID: alice, query: "vegetarian", excludingConversation: nil, limit: 5).isEmpty)
            #expect(try await store.autoMemory(userID: alice), "the setting went too (default again)")
            #expect(try await store.memories(userID: bob).map(\.id) == [kept.id], "other users keep theirs")
        }
    }
}

@Suite("Chat memory store on SQLite")
struct SQLiteChatMemoryStoreTests {
    @Test("chat memory behaviour", arguments: ChatMemoryBehaviour.allCases)
    func behaviour(_ behaviour: ChatMemoryBehaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "Chat memory store on PostgreSQL",
    .serialized,
    .enabled(if: PostgresTestServer.shouldRun, "SKIPPED: needs PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\")")
)
struct PostgresChatMemoryStoreTests {
    @Test("chat memory behaviour", arguments: ChatMemoryBehaviour.allCases)
    func behaviour(_ behaviour: ChatMemoryBehaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}
