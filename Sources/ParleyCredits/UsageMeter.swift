import Foundation
import ParleyStore

/// One metered request: credits for its maximum cost are held before generation; `settle` charges the metered
/// cost (the engine's own token counts at the prices in force when the request arrived) and returns the rest.
public final class UsageMeter: @unchecked Sendable {
    // @unchecked: `settled` is only touched under `lock`; everything else is immutable.
    public let projectID: RecordID
    public let key: String
    public let model: String
    /// Micro-credits held; 0 for a retry of a request already charged.
    public let held: Int64
    public let startedAt: Date
    let prices: PriceBook
    let service: CreditsService
    private let lock = NSLock()
    private var settled = false

    /// Whether this is a retry whose key was charged before (nothing is held and nothing will be charged).
    public let isRetry: Bool

    init(projectID: RecordID, key: String, model: String, held: Int64, isRetry: Bool = false, startedAt: Date,
         prices: PriceBook, service: CreditsService) {
        self.projectID = projectID; self.key = key; self.model = model; self.held = held; self.startedAt = startedAt
        self.prices = prices; self.service = service
        self.isRetry = isRetry
        settled = isRetry || held == 0  // nothing held (a retry, or a free model): nothing to settle
    }

    /// Charges the metered usage once; later calls do nothing. Returns the micro-credits charged.
    @discardableResult
    public func settle(promptTokens: Int, completionTokens: Int) async throws -> Int64 {
        let first: Bool = lock.withLock {
            defer { settled = true }
            return !settled
        }
        guard first else { return 0 }
        let cost = prices.tokenCost(promptTokens: promptTokens, completionTokens: completionTokens, model: model, at: startedAt)
        let charged = try await service.ledger.settle(projectID: projectID, key: key, held: held, cost: cost,
                                                      memo: "\(model): \(promptTokens) prompt + \(completionTokens) completion tokens",
                                                      now: service.clock()) ?? 0
        service.fairShare.record(projectID: projectID, usage: charged)
        try await service.alerts.check(projectID: projectID, ledger: service.ledger)
        return charged
    }
}

extension CreditsService {
    /// Holds the maximum cost of a generation (`promptTokens` plus `maxCompletionTokens`) on the project. Throws
    /// `CreditsError.insufficient` when the project's available credits do not cover it: nothing is held then. A
    /// key used before gives a meter that charges nothing (the retry was charged once already).
    public func openMeter(projectID: RecordID, idempotencyKey: String?, model: String, promptTokens: Int,
                          maxCompletionTokens: Int) async throws -> UsageMeter {
        let now = clock()
        let prices = try await priceBook()
        let maximum = prices.tokenCost(promptTokens: promptTokens, completionTokens: maxCompletionTokens, model: model, at: now)
        let key = idempotencyKey ?? newRecordID()
        let memo = "\(model): up to \(promptTokens) prompt + \(maxCompletionTokens) completion tokens"
        switch try await ledger.reserve(projectID: projectID, key: key, amount: maximum, memo: memo, now: now) {
        case .held(_, let amount):
            return UsageMeter(projectID: projectID, key: key, model: model, held: amount, startedAt: now, prices: prices, service: self)
        case .alreadyCharged:
            return UsageMeter(projectID: projectID, key: key, model: model, held: 0, isRetry: true, startedAt: now, prices: prices,
                              service: self)
        }
    }

    /// The project an API key is metered against, if any.
    public func project(forAPIKey keyID: RecordID) async throws -> RecordID? {
        try await store.apiKeyProject(keyID: keyID)
    }

    /// Ties a key to a project; the key's owner must be a member of it.
    public func attach(apiKey key: APIKey, projectID: RecordID, by actor: CreditsActor) async throws {
        let facts = try await self.facts(projectID)
        guard facts.isMember(key.userID) else {
            throw CreditsError.forbidden("Only members of the project may make keys that charge it.")
        }
        guard key.userID == actor.userID || actor.isAdmin else { throw CreditsError.forbidden("Not your key.") }
        try await store.setAPIKeyProject(keyID: key.id, projectID: projectID)
    }
}
