import Foundation
import PostgresNIO

extension PostgresStore: ArenaStore {
    public func createBattle(_ battle: ArenaBattle) async throws -> ArenaBattle {
        try ArenaRules.checkedBattle(battle)
        _ = try await execute(ArenaQueries.insertBattle, ArenaQueries.battleValues(battle))
        return battle
    }

    public func battle(id: RecordID, userID: RecordID) async throws -> ArenaBattle? {
        try await row(ArenaQueries.battle, [.text(id), .text(userID)]).map(ArenaBattle.init(row:))
    }

    public func updateBattleAnswers(id: RecordID, userID: RecordID, answerA: String, answerB: String) async throws {
        let changed = try await execute(ArenaQueries.answers, [.text(id), .text(userID), .text(answerA), .text(answerB)])
        if changed == 0 { throw StoreError.notFound("arena battle \(id)") }
    }

    public func voteBattle(id: RecordID, userID: RecordID, winner: ArenaBattle.Winner, now: Date) async throws -> Bool {
        try await execute(ArenaQueries.vote, [.text(id), .text(userID), .text(winner.rawValue), .time(now)]) > 0
    }

    public func arenaVotes() async throws -> [ArenaVote] {
        try await rows(ArenaQueries.votes, []).compactMap { try ArenaVote(row: $0) }
    }

    public func saveEvalResult(_ result: EvalResultRecord) async throws {
        try ArenaRules.checkedEval(result)
        _ = try await execute(ArenaQueries.upsertEval, ArenaQueries.evalValues(result))
    }

    public func evalResults() async throws -> [EvalResultRecord] {
        try await rows(ArenaQueries.evals, []).map(EvalResultRecord.init(row:))
    }

    public func createProvider(_ provider: StoredProvider) async throws -> StoredProvider {
        try ArenaRules.checkedProvider(provider)
        _ = try await execute(ArenaQueries.insertProvider, ArenaQueries.providerValues(provider))
        return provider
    }

    public func providers() async throws -> [StoredProvider] {
        try await rows(ArenaQueries.providers, []).map(StoredProvider.init(row:))
    }

    public func deleteProvider(id: RecordID) async throws -> Bool {
        try await execute(ArenaQueries.deleteProvider, [.text(id)]) > 0
    }
}
