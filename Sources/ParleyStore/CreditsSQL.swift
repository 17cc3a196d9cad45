import Foundation

// What the two credits backends share: the queries (same text in both dialects), row decoding and the checks made
// before a ledger transaction is written.

enum CreditsColumns {
    static let area = "id, name, created_at"
    static let project = "id, name, research_area_id, lead_id, period_end_policy, created_at"
    static let member = "project_id, user_id, role"
    static let price = "id, unit, model, micro_credits, effective_from, set_by"
    static let request = """
        id, project_id, kind, amount, granted, period_start, period_end, justification, expected_outcome, status, \
        requested_by, created_at, decided_at, decided_by, reason, excluded_reviewers
        """
    static let event = "request_id, actor_id, action, from_status, to_status, amount, reason, at"
    static let transaction = "id, idempotency_key, project_id, kind, memo, created_at"
    static let alert = "project_id, threshold, granted_level, message, created_at"
}

enum CreditsQ {
    static let setAdmin = "UPDATE users SET is_admin = $2 WHERE id = $1"

    static let insertArea = "INSERT INTO research_areas (\(CreditsColumns.area)) VALUES ($1, $2, $3)"
    static let areas = "SELECT \(CreditsColumns.area) FROM research_areas ORDER BY name"
    static let insertReviewer = "INSERT INTO area_reviewers (area_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    static let reviewers = "SELECT user_id FROM area_reviewers WHERE area_id = $1 ORDER BY user_id"

    static let insertProject = "INSERT INTO projects (\(CreditsColumns.project)) VALUES ($1, $2, $3, $4, $5, $6)"
    static let project = "SELECT \(CreditsColumns.project) FROM projects WHERE id = $1"
    static let projects = "SELECT \(CreditsColumns.project) FROM projects ORDER BY name"
    static let upsertMember = """
        INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)
        ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role
        """
    static let members = "SELECT \(CreditsColumns.member) FROM project_members WHERE project_id = $1 ORDER BY role, user_id"
    static let memberships = "SELECT \(CreditsColumns.member) FROM project_members WHERE user_id = $1 ORDER BY project_id"

    static let insertPrice = "INSERT INTO credit_prices (\(CreditsColumns.price)) VALUES ($1, $2, $3, $4, $5, $6)"
    static let prices = "SELECT \(CreditsColumns.price) FROM credit_prices ORDER BY effective_from, id"

    static let insertRequest = """
        INSERT INTO credit_requests (\(CreditsColumns.request))
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """
    static let request = "SELECT \(CreditsColumns.request) FROM credit_requests WHERE id = $1"
    static let allRequests = "SELECT \(CreditsColumns.request) FROM credit_requests ORDER BY created_at, id"
    static let projectRequests = "SELECT \(CreditsColumns.request) FROM credit_requests WHERE project_id = $1 ORDER BY created_at, id"
    /// Compare-and-set on the status: `$2` is the status the caller read.
    static let transitionRequest = """
        UPDATE credit_requests SET status = $3, granted = $4, decided_at = $5, decided_by = $6, reason = $7,
        excluded_reviewers = $8, amount = $9 WHERE id = $1 AND status = $2
        """
    static let insertEvent = """
        INSERT INTO credit_request_events (\(CreditsColumns.event)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """
    static let events = "SELECT \(CreditsColumns.event) FROM credit_request_events WHERE request_id = $1 ORDER BY seq"

    static let setKeyProject = """
        INSERT INTO api_key_projects (key_id, project_id) VALUES ($1, $2)
        ON CONFLICT (key_id) DO UPDATE SET project_id = excluded.project_id
        """
    static let keyProject = "SELECT project_id FROM api_key_projects WHERE key_id = $1"

    static let insertTransaction = """
        INSERT INTO ledger_transactions (\(CreditsColumns.transaction)) VALUES ($1, $2, $3, $4, $5, $6)
        """
    static let insertEntry = "INSERT INTO ledger_entries (transaction_id, account, project_id, amount) VALUES ($1, $2, $3, $4)"
    static let transactionByKey = "SELECT \(CreditsColumns.transaction) FROM ledger_transactions WHERE idempotency_key = $1"
    static let entries = "SELECT account, project_id, amount FROM ledger_entries WHERE transaction_id = $1 ORDER BY seq"
    static let balance = """
        SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM ledger_entries WHERE project_id = $1 AND account = $2
        """
    static let balances = """
        SELECT account, project_id, CAST(SUM(amount) AS BIGINT) AS balance FROM ledger_entries WHERE project_id = $1
        GROUP BY account, project_id
        """
    static let totals = """
        SELECT t.project_id AS owner, t.kind, e.account, e.project_id, CAST(SUM(e.amount) AS BIGINT) AS total
        FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE t.created_at >= $1 AND t.created_at < $2
        GROUP BY t.project_id, t.kind, e.account, e.project_id
        """

    static let insertAlert = """
        INSERT INTO credit_alerts (\(CreditsColumns.alert)) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (project_id, threshold, granted_level) DO NOTHING
        """
    static let alerts = "SELECT \(CreditsColumns.alert) FROM credit_alerts WHERE project_id = $1 ORDER BY created_at DESC, threshold DESC"
}

enum CreditsValues {
    static func request(_ r: CreditRequest) -> [SQLValue] {
        [.text(r.id), .text(r.projectID), .text(r.kind.rawValue), .int(r.amount), SQLValue.int(r.granted),
         .time(r.periodStart), .time(r.periodEnd), .text(r.justification), .text(r.expectedOutcome),
         .text(r.status.rawValue), .text(r.requestedBy), .time(r.createdAt), .time(r.decidedAt), .text(r.decidedBy),
         .text(r.reason), .text(r.excludedReviewers.joined(separator: ","))]
    }

    static func transition(_ r: CreditRequest, expected: CreditRequestStatus) -> [SQLValue] {
        [.text(r.id), .text(expected.rawValue), .text(r.status.rawValue), SQLValue.int(r.granted),
         .time(r.decidedAt), .text(r.decidedBy), .text(r.reason), .text(r.excludedReviewers.joined(separator: ",")),
         .int(r.amount)]
    }

    static func event(_ e: CreditRequestEvent) -> [SQLValue] {
        [.text(e.requestID), .text(e.actorID), .text(e.action), .text(e.fromStatus?.rawValue), .text(e.toStatus.rawValue),
         SQLValue.int(e.amount), .text(e.reason), .time(e.at)]
    }

    static func transaction(_ t: LedgerTransaction) -> [SQLValue] {
        [.text(t.id), .text(t.idempotencyKey), .text(t.projectID), .text(t.kind.rawValue), .text(t.memo), .time(t.createdAt)]
    }

    static func entry(_ e: LedgerEntry, transactionID: RecordID) -> [SQLValue] {
        [.text(transactionID), .text(e.account.name), .text(e.account.projectID ?? ""), .int(e.amount)]
    }

    static func account(_ a: LedgerAccount) -> [SQLValue] { [.text(a.projectID ?? ""), .text(a.name)] }
}

enum LedgerRules {
    /// A transaction is posted only when it has entries, they sum to zero, and it names each account once.
    static func check(_ t: LedgerTransaction) throws {
        guard !t.entries.isEmpty else { throw StoreError.invalid("a ledger transaction needs entries") }
        var sum: Int64 = 0
        for e in t.entries {
            let (s, overflow) = sum.addingReportingOverflow(e.amount)
            guard !overflow else { throw StoreError.invalid("ledger amounts overflow") }
            sum = s
        }
        guard sum == 0 else { throw StoreError.invalid("a ledger transaction's entries must sum to zero, not \(sum)") }
    }

    /// How much the transaction changes `account` by.
    static func delta(_ t: LedgerTransaction, _ account: LedgerAccount) -> Int64 {
        t.entries.filter { $0.account == account }.reduce(0) { $0 + $1.amount }
    }
}

extension SQLValue {
    static func int(_ value: Int64?) -> SQLValue { value.map { SQLValue.int($0) } ?? .null }
}

// MARK: - Records from rows

extension ResearchArea {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), name: try row.text("name"), createdAt: try row.time("created_at"))
    }
}

extension Project {
    init(row: some SQLRowReader) throws {
        let policy = try row.text("period_end_policy")
        self.init(id: try row.text("id"), name: try row.text("name"), researchAreaID: try row.text("research_area_id"),
                  leadID: try row.text("lead_id"), periodEndPolicy: PeriodEndPolicy(rawValue: policy) ?? .expire,
                  createdAt: try row.time("created_at"))
    }
}

extension ProjectMember {
    init(row: some SQLRowReader) throws {
        self.init(projectID: try row.text("project_id"), userID: try row.text("user_id"),
                  role: ProjectRole(rawValue: try row.text("role")) ?? .member)
    }
}

extension Price {
    init(row: some SQLRowReader) throws {
        let unit = try row.text("unit")
        guard let parsed = PriceUnit(rawValue: unit) else { throw StoredValueError(description: "unknown price unit '\(unit)'") }
        self.init(id: try row.text("id"), unit: parsed, model: try row.text("model"),
                  microCredits: try row.int("micro_credits"), effectiveFrom: try row.time("effective_from"),
                  setBy: try row.optionalText("set_by"))
    }
}

extension CreditRequest {
    init(row: some SQLRowReader) throws {
        let kind = try row.text("kind"), status = try row.text("status")
        guard let k = CreditRequestKind(rawValue: kind), let s = CreditRequestStatus(rawValue: status) else {
            throw StoredValueError(description: "unknown request kind '\(kind)' or status '\(status)'")
        }
        let excluded = try row.text("excluded_reviewers").split(separator: ",").map(String.init)
        self.init(id: try row.text("id"), projectID: try row.text("project_id"), kind: k, amount: try row.int("amount"),
                  granted: try row.optionalInt("granted"), periodStart: try row.time("period_start"),
                  periodEnd: try row.time("period_end"), justification: try row.text("justification"),
                  expectedOutcome: try row.text("expected_outcome"), status: s, requestedBy: try row.text("requested_by"),
                  createdAt: try row.time("created_at"), decidedAt: try row.optionalTime("decided_at"),
                  decidedBy: try row.optionalText("decided_by"), reason: try row.optionalText("reason"),
                  excludedReviewers: excluded)
    }

    var normalized: CreditRequest {
        var copy = self
        copy.periodStart = Time.normalized(periodStart)
        copy.periodEnd = Time.normalized(periodEnd)
        copy.createdAt = Time.normalized(createdAt)
        copy.decidedAt = Time.normalized(decidedAt)
        return copy
    }
}

extension CreditRequestEvent {
    init(row: some SQLRowReader) throws {
        let to = try row.text("to_status")
        guard let toStatus = CreditRequestStatus(rawValue: to) else { throw StoredValueError(description: "unknown status '\(to)'") }
        self.init(requestID: try row.text("request_id"), actorID: try row.text("actor_id"), action: try row.text("action"),
                  fromStatus: try row.optionalText("from_status").flatMap(CreditRequestStatus.init(rawValue:)),
                  toStatus: toStatus, amount: try row.optionalInt("amount"), reason: try row.optionalText("reason"),
                  at: try row.time("at"))
    }
}

extension LedgerAccount {
    init(row: some SQLRowReader) throws {
        let project = try row.text("project_id")
        self.init(name: try row.text("account"), projectID: project.isEmpty ? nil : project)
    }
}

extension LedgerTransaction {
    init(row: some SQLRowReader, entries: [LedgerEntry]) throws {
        let kind = try row.text("kind")
        guard let k = LedgerKind(rawValue: kind) else { throw StoredValueError(description: "unknown ledger kind '\(kind)'") }
        self.init(id: try row.text("id"), idempotencyKey: try row.optionalText("idempotency_key"),
                  projectID: try row.text("project_id"), kind: k, memo: try row.text("memo"), entries: entries,
                  createdAt: try row.time("created_at"))
    }
}

extension LedgerTotal {
    init(row: some SQLRowReader) throws {
        let kind = try row.text("kind")
        guard let k = LedgerKind(rawValue: kind) else { throw StoredValueError(description: "unknown ledger kind '\(kind)'") }
        self.init(projectID: try row.text("owner"), kind: k, account: try LedgerAccount(row: row), amount: try row.int("total"))
    }
}

extension CreditAlert {
    init(row: some SQLRowReader) throws {
        self.init(projectID: try row.text("project_id"), threshold: Int(try row.int("threshold")),
                  grantedLevel: try row.int("granted_level"), message: try row.text("message"),
                  createdAt: try row.time("created_at"))
    }
}
