import Foundation
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTestSupport
import Testing

/// Memory in chat through the real encoder (all-MiniLM-L6-v2) on SQLite: explicit remember / forget, auto-memory
/// and its switch, retrieval of memories and earlier-conversation snippets within a token budget, and users kept
/// apart.
@Suite("Memory in chat", .serialized)
struct ChatMemoryTests {
    static let encoder: SentenceEncoder = try! SentenceEncoder(directory: try! TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)

    struct Fixture {
        let store: any ParleyStore
        let memory: ChatMemory
        let alice: RecordID
        let bob: RecordID
        let directory: URL

        static func make() async throws -> Fixture {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-chatmemory-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try await openStore(directory.appendingPathComponent("parley.sqlite").path)
            let memory = ChatMemory(store: store as! any ChatMemoryStore, embedder: ChatMemoryTests.encoder)
            let alice = try await UserDirectory.userID(named: "alice", in: store, create: true)
            let bob = try await UserDirectory.userID(named: "bob", in: store, create: true)
            return Fixture(store: store, memory: memory, alice: alice, bob: bob, directory: directory)
        }

        func close() async {
            try? await store.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static let words: (String) -> Int = { $0.split(whereSeparator: \.isWhitespace).count }

    @Test func rememberSavesForgetDeletesAndAutoMemoryObeysItsSwitch() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.close() } }
        let m = f.memory

        let saved = try #require(try await m.apply(turn: "Remember that my favourite colour is teal.", userID: f.alice, autoMemory: false))
        #expect(saved.kind == .remembered && saved.memories.map(\.text) == ["my favourite colour is teal"])
        #expect(saved.instruction?.contains("teal") == true)
        let again = try await m.apply(turn: "remember that my favourite colour is teal", userID: f.alice, autoMemory: false)
        #expect(again?.kind == .alreadyKnown, "no duplicate")
        #expect(try await m.service.list(userID: f.alice).count == 1)

        #expect(try await m.apply(turn: "I'm vegetarian. What should I cook tonight?", userID: f.alice, autoMemory: false) == nil,
                "auto-memory off: nothing proposed")
        let proposed = try #require(try await m.apply(turn: "I work as a nurse at St Mary's hospital", userID: f.alice, autoMemory: true))
        #expect(proposed.kind == .proposed && proposed.memories.map(\.text) == ["I work as a nurse at St Mary's hospital"])
        #expect(try await m.apply(turn: "I work as a nurse at St Mary's hospital.", userID: f.alice, autoMemory: true) == nil,
                "a repeat is not saved again")
        #expect(try await m.apply(turn: "Thanks, that was helpful!", userID: f.alice, autoMemory: true) == nil)

        let other = try #require(try await m.apply(turn: "Forget where I work", userID: f.bob, autoMemory: true))
        #expect(other.kind == .noMatch, "bob cannot forget alice's memories")
        let forgot = try #require(try await m.apply(turn: "Please forget where I work.", userID: f.alice, autoMemory: true))
        #expect(forgot.kind == .forgotten && forgot.memories.map(\.text) == ["I work as a nurse at St Mary's hospital"])
        #expect(try await m.service.list(userID: f.alice).map(\.text) == ["my favourite colour is teal"], "only the matching memory went")

        let chinese = try #require(try await m.apply(turn: "记住我是素食者", userID: f.alice, autoMemory: false))
        #expect(chinese.kind == .remembered && chinese.memories.map(\.text) == ["我是素食者"])
        let gone = try #require(try await m.apply(turn: "忘掉我是素食者", userID: f.alice, autoMemory: false))
        #expect(gone.kind == .forgotten && gone.memories.map(\.text) == ["我是素食者"])
    }

    @Test func contextHoldsTheRelevantMemoriesAndEarlierChatsOfThisUserOnly() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.close() } }
        let m = f.memory
        for text in ["My favourite colour is teal.", "I'm allergic to peanuts.", "My cat is called Biscuit."] {
            try await m.service.add(userID: f.alice, text: text)
        }
        try await m.service.add(userID: f.bob, text: "My favourite colour is orange.")
        let earlier = try await f.store.createConversation(Conversation(userID: f.alice, title: "trip"))
        let current = try await f.store.createConversation(Conversation(userID: f.alice, title: "now"))
        let bobs = try await f.store.createConversation(Conversation(userID: f.bob, title: "bob"))
        try await m.indexHistory(userID: f.alice, conversationID: earlier.id, messageID: "m1", text: "I'm planning a trip to Kyoto in April.")
        try await m.indexHistory(userID: f.alice, conversationID: current.id, messageID: "m2", text: "Which month is best for Kyoto?")
        try await m.indexHistory(userID: f.bob, conversationID: bobs.id, messageID: "m3", text: "My Kyoto trip is in October.")

        let colour = try await m.context(for: "What is my favourite colour?", userID: f.alice, excludingConversation: current.id,
                                         budget: 200, countTokens: Self.words)
        #expect(colour.memories.first?.memory.text == "My favourite colour is teal.")
        #expect(colour.memories.allSatisfy { $0.memory.userID == f.alice })
        #expect(colour.text.contains("teal") && !colour.text.contains("orange"))

        let trip = try await m.context(for: "When am I going to Kyoto?", userID: f.alice, excludingConversation: current.id,
                                       budget: 200, countTokens: Self.words)
        #expect(trip.history.map(\.snippet.text) == ["I'm planning a trip to Kyoto in April."],
                "the earlier chat, not this one and not bob's")
        #expect(trip.text.contains("April") && !trip.text.contains("October"))

        let tight = try await m.context(for: "What is my favourite colour?", userID: f.alice, excludingConversation: current.id,
                                        budget: 22, countTokens: Self.words)
        #expect(Self.words(tight.text) <= 22, "the block stays within the budget")
        #expect(tight.memories.map(\.memory.text) == ["My favourite colour is teal."], "the best one fits, no more")
        let unrelated = try await m.context(for: "Explain quicksort in C", userID: f.alice, excludingConversation: current.id,
                                            budget: 200, countTokens: Self.words)
        #expect(unrelated.memories.isEmpty && unrelated.history.isEmpty, "nothing irrelevant is injected")
        let excluded = try await m.context(for: "What is my favourite colour?", userID: f.alice, excludingConversation: current.id,
                                           excludingMemories: Set(colour.memories.map(\.memory.id)), budget: 200, countTokens: Self.words)
        #expect(!excluded.text.contains("teal"))
    }
}
