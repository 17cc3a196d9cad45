import Foundation
import ParleyStore

/// A project's balance, derived from its ledger entries.
public struct ProjectBalance: Sendable, Equatable {
    public var granted: Int64
    public var used: Int64
    /// Reserved by requests being generated right now.
    public var held: Int64
    public var expired: Int64
    /// What the project may still spend: granted − used − held − expired.
    public var remaining: Int64

    public init(balances: [LedgerAccount: Int64], projectID: RecordID) {
        granted = -(balances[.issued(projectID)] ?? 0)
        used = balances[.consumed(projectID)] ?? 0
        held = balances[.held(projectID)] ?? 0
        expired = balances[.expired(projectID)] ?? 0
        remaining = balances[.available(projectID)] ?? 0
    }
}

/// The double-entry ledger's operations, each one balanced transaction:
/// - grant: issued → available
/// - reserve (before generation, the maximum cost): available → held, refused when available would go negative
/// - settle (after, the metered cost): held → consumed, and the rest of the hold back to available
/// - expire (period end): available → expired
public struct CreditLedger: Sendable {
    public let store: any CreditsStore

    public init(store: any CreditsStore) { self.store = store }

    public func balance(projectID: RecordID) async throws -> ProjectBalance {
        ProjectBalance(balances: try await store.balances(projectID: projectID), projectID: projectID)
    }

    public static func grant(projectID: RecordID, amount: Int64, requestID: RecordID, eventAt: Date) -> LedgerTransaction {
        LedgerTransaction(idempotencyKey: "grant:\(requestID):\(Int64(eventAt.timeIntervalSince1970 * 1000))",
                          projectID: projectID, kind: .grant, memo: "request \(requestID)",
                          entries: [LedgerEntry(.issued(projectID), -amount), LedgerEntry(.available(projectID), amount)],
                          createdAt: eventAt)
    }

    public enum Reservation: Sendable, Equatable {
        /// Held; settle it when the work is done.
        case held(key: String, amount: Int64)
        /// This idempotency key was reserved before: a retry, already (or about to be) charged once.
        case alreadyCharged
    }

    /// Holds `amount` of the project's available credits under `key`. Throws `CreditsError.insufficient` (and
    /// changes nothing) when they do not cover it.
    public func reserve(projectID: RecordID, key: String, amount: Int64, memo: String, now: Date = Date()) async throws -> Reservation {
        let amount = max(0, amount)
        let transaction = LedgerTransaction(idempotencyKey: "usage:\(projectID):\(key):reserve", projectID: projectID,
                                            kind: .reserve, memo: memo,
                                            entries: [LedgerEntry(.available(projectID), -amount), LedgerEntry(.held(projectID), amount)],
                                            createdAt: now)
        switch try await store.post(transaction, mustStayNonNegative: [.available(projectID)]) {
        case .posted: return .held(key: key, amount: amount)
        case .duplicate: return .alreadyCharged
        case .insufficient(_, let balance):
            throw CreditsError.insufficient(projectID: projectID, available: balance, needed: amount)
        }
    }

    /// Charges `cost` (capped at what was held) and returns the rest of the hold. Settling twice changes nothing.
    /// Returns the amount charged, or nil when it had been settled before.
    @discardableResult
    public func settle(projectID: RecordID, key: String, held: Int64, cost: Int64, memo: String, now: Date = Date()) async throws -> Int64? {
        let charged = min(max(0, cost), held)
        var entries = [LedgerEntry(.held(projectID), -held), LedgerEntry(.consumed(projectID), charged)]
        if held - charged > 0 { entries.append(LedgerEntry(.available(projectID), held - charged)) }
        let transaction = LedgerTransaction(idempotencyKey: "usage:\(projectID):\(key):settle", projectID: projectID,
                                            kind: .settle, memo: memo, entries: entries, createdAt: now)
        switch try await store.post(transaction, mustStayNonNegative: [.held(projectID)]) {
        case .posted: return charged
        case .duplicate: return nil
        case .insufficient(_, let balance):
            // Only a settle without its reserve could get here: a programming error, reported loudly.
            throw CreditsError.conflict("settling \(key) would take the hold below zero (held \(balance))")
        }
    }

    /// Moves `amount` of the project's available credits to `expired` once per `key`.
    @discardableResult
    public func expire(projectID: RecordID, amount: Int64, key: String, now: Date = Date()) async throws -> Bool {
        guard amount > 0 else { return false }
        let transaction = LedgerTransaction(idempotencyKey: "expire:\(projectID):\(key)", projectID: projectID, kind: .expire,
                                            memo: "period end",
                                            entries: [LedgerEntry(.available(projectID), -amount), LedgerEntry(.expired(projectID), amount)],
                                            createdAt: now)
        if case .posted = try await store.post(transaction, mustStayNonNegative: [.available(projectID)]) { return true }
        return false
    }
}
