import Foundation
import ParleyStore
import Testing

/// Arena battles and votes, benchmark figures and chat providers on both backends.
enum ArenaBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case battlesAreTheUsersOwnAndVotedOnce, evalResultsAreReplacedPerModelTaskMetric, providersKeepOnlyCiphertext,
         badInputIsRefused

    var testDescription: String { rawValue }

    func run(on backend: Backend) async throws {
        try await withHarness(backend) { h in
            guard let store = h.store as? any ArenaStore else {
                Issue.record("\(backend) store has no arena")
                return
            }
            let alice = try await h.store.createUser(email: "alice@example.com", displayName: "Alice", passwordHash: "x").id
            let bob = try await h.store.createUser(email: "bob@example.com", displayName: "Bob", passwordHash: "x").id
            try await body(store, alice: alice, bob: bob)
        }
    }

    private func body(_ store: any ArenaStore, alice: RecordID, bob: RecordID) async throws {
        switch self {
        case .battlesAreTheUsersOwnAndVotedOnce:
            let battle = try await store.createBattle(ArenaBattle(userID: alice, prompt: "Hi", modelA: "m1", modelB: "m2", createdAt: at(0)))
            #expect(try await store.battle(id: battle.id, userID: alice) == battle)
            #expect(try await store.battle(id: battle.id, userID: bob) == nil, "another user's battle is unknown")
            try await store.updateBattleAnswers(id: battle.id, userID: alice, answerA: "Hello", answerB: "Hey")
            await expectStoreError(.notFound) { try await store.updateBattleAnswers(id: battle.id, userID: bob, answerA: "x", answerB: "y") }
            #expect(try await store.arenaVotes().isEmpty, "an unvoted battle is no vote")
            #expect(try await !store.voteBattle(id: battle.id, userID: bob, winner: .a, now: at(1)), "bob cannot vote on alice's battle")
            #expect(try await store.voteBattle(id: battle.id, userID: alice, winner: .b, now: at(2)))
            #expect(try await !store.voteBattle(id: battle.id, userID: alice, winner: .a, now: at(3)), "a vote is final")
            let stored = try #require(try await store.battle(id: battle.id, userID: alice))
            #expect(stored.answerA == "Hello" && stored.answerB == "Hey" && stored.winner == .b && stored.votedAt == at(2))
            let second = try await store.createBattle(ArenaBattle(userID: bob, prompt: "2+2?", modelA: "m2", modelB: "m3"))
            #expect(try await store.voteBattle(id: second.id, userID: bob, winner: .bothBad, now: at(4)))
            #expect(try await store.arenaVotes() == [ArenaVote(modelA: "m1", modelB: "m2", winner: .b),
                                                     ArenaVote(modelA: "m2", modelB: "m3", winner: .bothBad)])
        case .evalResultsAreReplacedPerModelTaskMetric:
            try await store.saveEvalResult(EvalResultRecord(model: "smollm2", task: "arc_easy", metric: "acc_norm", value: 40, n: 20, createdAt: at(0)))
            try await store.saveEvalResult(EvalResultRecord(model: "gemma", task: "arc_easy", metric: "acc_norm", value: 45.5, n: 20, method: "loglikelihood", createdAt: at(1)))
            try await store.saveEvalResult(EvalResultRecord(model: "smollm2", task: "arc_easy", metric: "acc_norm", value: 42.5, n: 40, createdAt: at(2)))
            #expect(try await store.evalResults() == [
                EvalResultRecord(model: "gemma", task: "arc_easy", metric: "acc_norm", value: 45.5, n: 20, method: "loglikelihood", createdAt: at(1)),
                EvalResultRecord(model: "smollm2", task: "arc_easy", metric: "acc_norm", value: 42.5, n: 40, createdAt: at(2)),
            ])
        case .providersKeepOnlyCiphertext:
            let p = try await store.createProvider(StoredProvider(name: "fake", baseURL: "http://127.0.0.1:9/v1", models: ["a", "b"],
                                                                  keyCiphertext: "c2VhbGVk", createdBy: alice, createdAt: at(0)))
            #expect(try await store.providers() == [p])
            await expectStoreError(.conflict) {
                _ = try await store.createProvider(StoredProvider(name: "fake", baseURL: "http://x/v1", models: ["c"], keyCiphertext: nil, createdBy: bob))
            }
            #expect(try await store.deleteProvider(id: p.id))
            #expect(try await !store.deleteProvider(id: p.id))
            #expect(try await store.providers().isEmpty)
        case .badInputIsRefused:
            await expectStoreError(.invalid) { _ = try await store.createBattle(ArenaBattle(userID: alice, prompt: "x", modelA: "m", modelB: "m")) }
            await expectStoreError(.invalid) { _ = try await store.createBattle(ArenaBattle(userID: alice, prompt: "  ", modelA: "m", modelB: "n")) }
            await expectStoreError(.invalid) { try await store.saveEvalResult(EvalResultRecord(model: "m", task: "t", metric: "acc", value: .nan, n: 1)) }
            await expectStoreError(.invalid) {
                _ = try await store.createProvider(StoredProvider(name: "a/b", baseURL: "http://x", models: ["m"], keyCiphertext: nil, createdBy: nil))
            }
            await expectStoreError(.invalid) {
                _ = try await store.createProvider(StoredProvider(name: "p", baseURL: "ftp://x", models: ["m"], keyCiphertext: nil, createdBy: nil))
            }
            await expectStoreError(.invalid) {
                _ = try await store.createProvider(StoredProvider(name: "p", baseURL: "http://x", models: [], keyCiphertext: nil, createdBy: nil))
            }
        }
    }
}

@Suite("Arena store on SQLite")
struct SQLiteArenaStoreTests {
    @Test("arena behaviour", arguments: ArenaBehaviour.allCases)
    func behaviour(_ behaviour: ArenaBehaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "Arena store on PostgreSQL",
    .serialized,
    .enabled(if: PostgresTestServer.shouldRun, "SKIPPED: needs PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\")")
)
struct PostgresArenaStoreTests {
    @Test("arena behaviour", arguments: ArenaBehaviour.allCases)
    func behaviour(_ behaviour: ArenaBehaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}
