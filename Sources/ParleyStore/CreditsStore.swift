import Foundation

// The persistence of compute credits (research areas, projects, prices, allocation requests, the ledger), kept
// apart from the chat app's `ParleyStore` protocol. The rules (who may decide, what a transition needs) live in
// ParleyCredits; this layer stores rows and makes the few multi-row changes atomic: a request's transition with
// its audit event and its grant, and a ledger transaction with its balance check.
//
// Amounts are whole micro-credits (1 credit = 1,000,000), so sums are exact on both backends.

public struct ResearchArea: Sendable, Codable, Equatable {
    public var id: RecordID
    public var name: String
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), name: String, createdAt: Date = Date()) {
        self.id = id; self.name = name; self.createdAt = createdAt
    }
}

/// What happens to a project's unused credits when its allocation period ends.
public enum PeriodEndPolicy: String, Sendable, Codable { case expire, rollover }

public struct Project: Sendable, Codable, Equatable {
    public var id: RecordID
    public var name: String
    public var researchAreaID: RecordID
    public var leadID: RecordID
    public var periodEndPolicy: PeriodEndPolicy
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), name: String, researchAreaID: RecordID, leadID: RecordID,
                periodEndPolicy: PeriodEndPolicy = .expire, createdAt: Date = Date()) {
        self.id = id; self.name = name; self.researchAreaID = researchAreaID; self.leadID = leadID
        self.periodEndPolicy = periodEndPolicy; self.createdAt = createdAt
    }
}

public enum ProjectRole: String, Sendable, Codable { case lead, member }

public struct ProjectMember: Sendable, Codable, Equatable {
    public var projectID: RecordID
    public var userID: RecordID
    public var role: ProjectRole

    public init(projectID: RecordID, userID: RecordID, role: ProjectRole) {
        self.projectID = projectID; self.userID = userID; self.role = role
    }
}

/// What a price is per: 1k prompt tokens, 1k completion tokens, a CPU-second of training, a GB-month stored.
public enum PriceUnit: String, Sendable, Codable, CaseIterable {
    case promptKTokens = "prompt_1k_tokens"
    case completionKTokens = "completion_1k_tokens"
    case cpuSecond = "cpu_second"
    case gbMonth = "gb_month"
}

/// An exchange rate, versioned: the price of `unit` for `model` ("" = every model) from `effectiveFrom` on,
/// until a later row for the same unit and model.
public struct Price: Sendable, Codable, Equatable {
    public var id: RecordID
    public var unit: PriceUnit
    public var model: String
    public var microCredits: Int64
    public var effectiveFrom: Date
    public var setBy: RecordID?

    public init(id: RecordID = newRecordID(), unit: PriceUnit, model: String = "", microCredits: Int64,
                effectiveFrom: Date = Date(), setBy: RecordID? = nil) {
        self.id = id; self.unit = unit; self.model = model; self.microCredits = microCredits
        self.effectiveFrom = effectiveFrom; self.setBy = setBy
    }
}

public enum CreditRequestKind: String, Sendable, Codable { case initial, supplement, renewal }

public enum CreditRequestStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for a reviewer (also after an appeal re-opened it).
    case pending
    case approved
    case partial
    case denied
}

public struct CreditRequest: Sendable, Codable, Equatable {
    public var id: RecordID
    public var projectID: RecordID
    public var kind: CreditRequestKind
    public var amount: Int64
    public var granted: Int64?
    public var periodStart: Date
    public var periodEnd: Date
    public var justification: String
    public var expectedOutcome: String
    public var status: CreditRequestStatus
    public var requestedBy: RecordID
    public var createdAt: Date
    public var decidedAt: Date?
    public var decidedBy: RecordID?
    public var reason: String?
    /// Reviewers who decided it before an appeal; none of them may decide it again.
    public var excludedReviewers: [RecordID]

    public init(id: RecordID = newRecordID(), projectID: RecordID, kind: CreditRequestKind, amount: Int64,
                granted: Int64? = nil, periodStart: Date, periodEnd: Date, justification: String,
                expectedOutcome: String, status: CreditRequestStatus = .pending, requestedBy: RecordID,
                createdAt: Date = Date(), decidedAt: Date? = nil, decidedBy: RecordID? = nil, reason: String? = nil,
                excludedReviewers: [RecordID] = []) {
        self.id = id; self.projectID = projectID; self.kind = kind; self.amount = amount; self.granted = granted
        self.periodStart = periodStart; self.periodEnd = periodEnd; self.justification = justification
        self.expectedOutcome = expectedOutcome; self.status = status; self.requestedBy = requestedBy
        self.createdAt = createdAt; self.decidedAt = decidedAt; self.decidedBy = decidedBy; self.reason = reason
        self.excludedReviewers = excludedReviewers
    }
}

/// One audited transition of a request: who, when, from what to what, and why.
public struct CreditRequestEvent: Sendable, Codable, Equatable {
    public var requestID: RecordID
    public var actorID: RecordID
    public var action: String
    public var fromStatus: CreditRequestStatus?
    public var toStatus: CreditRequestStatus
    public var amount: Int64?
    public var reason: String?
    public var at: Date

    public init(requestID: RecordID, actorID: RecordID, action: String, fromStatus: CreditRequestStatus?,
                toStatus: CreditRequestStatus, amount: Int64? = nil, reason: String? = nil, at: Date = Date()) {
        self.requestID = requestID; self.actorID = actorID; self.action = action; self.fromStatus = fromStatus
        self.toStatus = toStatus; self.amount = amount; self.reason = reason; self.at = at
    }
}

/// A ledger account, one set per project: `available` (what it may spend), `held` (reserved for requests in
/// flight), and the counter-accounts `issued` (grants come from it, so it runs negative), `consumed` (metered
/// usage) and `expired` (credits lost at a period end). Granted = -issued = available + held + consumed + expired.
public struct LedgerAccount: Sendable, Codable, Hashable, CustomStringConvertible {
    public var name: String
    public var projectID: RecordID?

    public init(name: String, projectID: RecordID? = nil) { self.name = name; self.projectID = projectID }

    public static func available(_ project: RecordID) -> LedgerAccount { .init(name: "available", projectID: project) }
    public static func held(_ project: RecordID) -> LedgerAccount { .init(name: "held", projectID: project) }
    public static func issued(_ project: RecordID) -> LedgerAccount { .init(name: "issued", projectID: project) }
    public static func consumed(_ project: RecordID) -> LedgerAccount { .init(name: "consumed", projectID: project) }
    public static func expired(_ project: RecordID) -> LedgerAccount { .init(name: "expired", projectID: project) }

    public var description: String { projectID.map { "\(name):\($0)" } ?? name }
}

public struct LedgerEntry: Sendable, Codable, Equatable {
    public var account: LedgerAccount
    /// Positive adds to the account, negative takes from it.
    public var amount: Int64

    public init(_ account: LedgerAccount, _ amount: Int64) { self.account = account; self.amount = amount }
}

public enum LedgerKind: String, Sendable, Codable { case grant, reserve, settle, expire, adjust }

/// A balanced set of entries (they sum to zero), posted at once or not at all.
public struct LedgerTransaction: Sendable, Codable, Equatable {
    public var id: RecordID
    /// Unique when set: posting the same key again changes nothing.
    public var idempotencyKey: String?
    public var projectID: RecordID
    public var kind: LedgerKind
    public var memo: String
    public var entries: [LedgerEntry]
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), idempotencyKey: String? = nil, projectID: RecordID, kind: LedgerKind,
                memo: String = "", entries: [LedgerEntry], createdAt: Date = Date()) {
        self.id = id; self.idempotencyKey = idempotencyKey; self.projectID = projectID; self.kind = kind
        self.memo = memo; self.entries = entries; self.createdAt = createdAt
    }
}

public enum LedgerPostResult: Sendable, Equatable {
    case posted
    /// A transaction with this idempotency key was posted before; nothing changed.
    case duplicate(LedgerTransaction)
    /// An account that must not go negative would have; nothing changed. `balance` is what it holds.
    case insufficient(account: LedgerAccount, balance: Int64)
}

/// Totals of one project's ledger entries of one kind on one account, between two times.
public struct LedgerTotal: Sendable, Equatable {
    public var projectID: RecordID
    public var kind: LedgerKind
    public var account: LedgerAccount
    public var amount: Int64
}

/// An alert raised when a project's usage crossed a threshold (per cent of its granted credits).
public struct CreditAlert: Sendable, Codable, Equatable {
    public var projectID: RecordID
    public var threshold: Int
    /// The granted total the threshold was measured against; a new grant re-arms the alerts.
    public var grantedLevel: Int64
    public var message: String
    public var createdAt: Date

    public init(projectID: RecordID, threshold: Int, grantedLevel: Int64, message: String, createdAt: Date = Date()) {
        self.projectID = projectID; self.threshold = threshold; self.grantedLevel = grantedLevel; self.message = message
        self.createdAt = createdAt
    }
}

public protocol CreditsStore: Sendable {
    // MARK: Areas, projects, members
    /// Throws `.conflict` when the name is taken.
    func createResearchArea(_ area: ResearchArea) async throws
    func researchAreas() async throws -> [ResearchArea]
    func addAreaReviewer(areaID: RecordID, userID: RecordID) async throws
    func areaReviewers(areaID: RecordID) async throws -> [RecordID]
    /// Creates the project and makes its lead a member with role `lead`, in one transaction.
    func createProject(_ project: Project) async throws
    func project(id: RecordID) async throws -> Project?
    func projects() async throws -> [Project]
    /// Adds or changes a member's role.
    func setProjectMember(_ member: ProjectMember) async throws
    func projectMembers(projectID: RecordID) async throws -> [ProjectMember]
    func memberships(userID: RecordID) async throws -> [ProjectMember]

    // MARK: Prices
    func addPrice(_ price: Price) async throws
    /// Every version, oldest first.
    func prices() async throws -> [Price]

    // MARK: Allocation requests
    func createCreditRequest(_ request: CreditRequest, event: CreditRequestEvent) async throws
    func creditRequest(id: RecordID) async throws -> CreditRequest?
    /// Oldest first; all projects when `projectID` is nil.
    func creditRequests(projectID: RecordID?) async throws -> [CreditRequest]
    /// Writes `updated` only if the stored status is still `expected`, with its event and (when granted) the
    /// grant's ledger transaction, in one transaction. False when another transition came first.
    func transitionCreditRequest(_ updated: CreditRequest, expected: CreditRequestStatus, event: CreditRequestEvent,
                                 grant: LedgerTransaction?) async throws -> Bool
    func creditRequestEvents(requestID: RecordID) async throws -> [CreditRequestEvent]

    // MARK: Keys
    /// Ties an API key to a project: its requests are metered against that project.
    func setAPIKeyProject(keyID: RecordID, projectID: RecordID) async throws
    func apiKeyProject(keyID: RecordID) async throws -> RecordID?

    // MARK: Ledger
    /// Posts a balanced transaction atomically. Accounts in `mustStayNonNegative` are checked against their
    /// balance inside the same transaction (the project's ledger is locked meanwhile), so concurrent posts can
    /// never take one below zero.
    func post(_ transaction: LedgerTransaction, mustStayNonNegative: [LedgerAccount]) async throws -> LedgerPostResult
    func ledgerTransaction(idempotencyKey: String) async throws -> LedgerTransaction?
    /// Every account of the project with its balance (the sum of its entries).
    func balances(projectID: RecordID) async throws -> [LedgerAccount: Int64]
    /// Sums of entries by project, kind and account, for transactions in [from, to).
    func ledgerTotals(from: Date, to: Date) async throws -> [LedgerTotal]

    // MARK: Alerts
    /// Records the alert unless one for the same project, threshold and granted level exists; true when new.
    func recordAlert(_ alert: CreditAlert) async throws -> Bool
    /// Newest first.
    func alerts(projectID: RecordID) async throws -> [CreditAlert]
}

/// Account administration the CLI needs (`parley users add NAME --admin`), apart from the chat app's protocol.
public protocol UserAdministration: Sendable {
    /// Grants or takes away admin rights; throws `.notFound` for an unknown user.
    func setAdmin(userID: RecordID, isAdmin: Bool) async throws
}
