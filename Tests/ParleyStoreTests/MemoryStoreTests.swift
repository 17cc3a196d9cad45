import Foundation
import ParleyStore
import Testing

/// Saved memories on both backends: the same behaviours, per user, with full-text search that handles Chinese.
enum MemoryBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case addListEditDelete, usersNeverSeeEachOther, fullTextMatchesWordsAndChineseBigrams, badInputIsRefused,
         embeddingsRoundTrip

    var testDescription: String { rawValue }

    /// A vector that tells memories apart in these tests (the store never interprets it).
    static func vector(_ seed: Float) -> [Float] { (0..<8).map { seed + Float($0) / 8 } }

    func run(on backend: Backend) async throws {
        try await withHarness(backend) { h in
            guard let store = h.store as? any MemoryStore else {
                Issue.record("\(backend) store keeps no memories")
                return
            }
            let alice = try await h.store.createUser(email: "alice@example.com", displayName: "Alice", passwordHash: "x").id
            let bob = try await h.store.createUser(email: "bob@example.com", displayName: "Bob", passwordHash: "x").id
            try await body(store, alice: alice, bob: bob)
        }
    }

    private func body(_ store: any MemoryStore, alice: RecordID, bob: RecordID) async throws {
        let v = Self.vector
        switch self {
        case .addListEditDelete:
            let first = try await store.addMemory(userID: alice, text: "  I'm vegetarian.  ", embedding: v(1), model: "m")
            #expect(first.text == "I'm vegetarian.", "text is trimmed")
            try await Task.sleep(for: .milliseconds(5))
            let second = try await store.addMemory(userID: alice, text: "My cat is called Biscuit.", embedding: v(2), model: "m")
            #expect(try await store.memories(userID: alice).map(\.id) == [second.id, first.id], "newest first")
            #expect(try await store.updateMemory(id: first.id, userID: alice, text: "I'm vegan.", embedding: v(3), model: "m"))
            #expect(try await store.memory(id: first.id, userID: alice)?.text == "I'm vegan.")
            #expect(try await store.searchMemoryText(userID: alice, query: "vegan", limit: 5).map(\.memory.id) == [first.id],
                    "editing re-indexes the text")
            #expect(try await store.searchMemoryText(userID: alice, query: "vegetarian", limit: 5).isEmpty)
            #expect(try await store.deleteMemory(id: first.id, userID: alice))
            #expect(try await !store.deleteMemory(id: first.id, userID: alice), "a second delete finds nothing")
            #expect(try await store.memories(userID: alice).map(\.id) == [second.id])
            #expect(try await store.searchMemoryText(userID: alice, query: "vegan", limit: 5).isEmpty, "deleting un-indexes it")

        case .usersNeverSeeEachOther:
            let mine = try await store.addMemory(userID: alice, text: "I'm allergic to peanuts.", embedding: v(1), model: "m")
            _ = try await store.addMemory(userID: bob, text: "I'm allergic to penicillin.", embedding: v(2), model: "m")
            #expect(try await store.searchMemoryText(userID: bob, query: "allergic peanuts", limit: 10).allSatisfy { $0.memory.userID == bob })
            #expect(try await store.memoryEmbeddings(userID: bob).count == 1)
            #expect(try await store.memory(id: mine.id, userID: bob) == nil)
            #expect(try await !store.updateMemory(id: mine.id, userID: bob, text: "hijacked", embedding: v(3), model: "m"))
            #expect(try await !store.deleteMemory(id: mine.id, userID: bob))
            #expect(try await store.memory(id: mine.id, userID: alice)?.text == "I'm allergic to peanuts.")

        case .fullTextMatchesWordsAndChineseBigrams:
            let veg = try await store.addMemory(userID: alice, text: "我是素食者，不吃肉也不吃蛋。", embedding: v(1), model: "m")
            let tea = try await store.addMemory(userID: alice, text: "我喜欢喝绿茶，从来不喝咖啡。", embedding: v(2), model: "m")
            let run = try await store.addMemory(userID: alice, text: "Training for the Edinburgh half marathon.", embedding: v(3), model: "m")
            #expect(try await store.searchMemoryText(userID: alice, query: "推荐素食菜谱", limit: 5).first?.memory.id == veg.id)
            #expect(try await store.searchMemoryText(userID: alice, query: "我早上喝咖啡吗", limit: 5).first?.memory.id == tea.id)
            #expect(try await store.searchMemoryText(userID: alice, query: "When is the MARATHON?", limit: 5).map(\.memory.id) == [run.id])
            #expect(try await store.searchMemoryText(userID: alice, query: "the of and", limit: 5).isEmpty, "stop words alone match nothing")
            #expect(try await store.searchMemoryText(userID: alice, query: "\"OR NEAR( * -", limit: 5).isEmpty,
                    "query syntax characters are not operators")
            let ranked = try await store.searchMemoryText(userID: alice, query: "喝绿茶 咖啡 素食", limit: 5)
            #expect(ranked.first?.memory.id == tea.id && ranked.map(\.relevance) == ranked.map(\.relevance).sorted(by: >))

        case .badInputIsRefused:
            await expectStoreError(.invalid) { _ = try await store.addMemory(userID: alice, text: "   ", embedding: v(1), model: "m") }
            await expectStoreError(.invalid) { _ = try await store.addMemory(userID: alice, text: "x", embedding: [], model: "m") }
            await expectStoreError(.invalid) { _ = try await store.addMemory(userID: alice, text: "x", embedding: [.nan], model: "m") }
            await expectStoreError(.invalid) {
                _ = try await store.addMemory(userID: alice, text: String(repeating: "x", count: 4001), embedding: v(1), model: "m")
            }
            await expectStoreError(.notFound) { _ = try await store.addMemory(userID: "no-such-user", text: "x", embedding: v(1), model: "m") }
            await expectStoreError(.invalid) { _ = try await store.searchMemoryText(userID: alice, query: "x", limit: 0) }

        case .embeddingsRoundTrip:
            let values: [Float] = [0, -0.0, 1.5, -3.25e-7, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
            let memory = try await store.addMemory(userID: alice, text: "exact floats", embedding: values, model: "model-a")
            let stored = try await store.memoryEmbeddings(userID: alice)
            #expect(stored == [MemoryEmbedding(memoryID: memory.id, model: "model-a", vector: values)])
            #expect(stored.first?.vector.map(\.bitPattern) == values.map(\.bitPattern), "bit-exact, signed zero included")
        }
    }
}

@Suite("Memory store on SQLite")
struct SQLiteMemoryStoreTests {
    @Test("memory behaviour", arguments: MemoryBehaviour.allCases)
    func behaviour(_ behaviour: MemoryBehaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "Memory store on PostgreSQL",
    .serialized,
    .enabled(if: PostgresTestServer.shouldRun, "SKIPPED: needs PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\")")
)
struct PostgresMemoryStoreTests {
    @Test("memory behaviour", arguments: MemoryBehaviour.allCases)
    func behaviour(_ behaviour: MemoryBehaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}
