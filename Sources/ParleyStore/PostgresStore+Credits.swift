import Foundation
import PostgresNIO

// Credits on PostgreSQL. A ledger post locks its project's row (`SELECT … FOR UPDATE`) before it reads the
// balances it checks, so concurrent posts on one project run one after another (READ COMMITTED: each statement
// after the lock sees what the previous holder committed). Posts on different projects run in parallel.

extension PostgresStore: CreditsStore {
    public func createResearchArea(_ area: ResearchArea) async throws {
        _ = try await execute(CreditsQ.insertArea, [.text(area.id), .text(area.name), .time(area.createdAt)])
    }

    public func researchAreas() async throws -> [ResearchArea] {
        try await rows(CreditsQ.areas, []).map(ResearchArea.init(row:))
    }

    public func addAreaReviewer(areaID: RecordID, userID: RecordID) async throws {
        _ = try await execute(CreditsQ.insertReviewer, [.text(areaID), .text(userID)])
    }

    public func areaReviewers(areaID: RecordID) async throws -> [RecordID] {
        try await rows(CreditsQ.reviewers, [.text(areaID)]).map { try $0.text("user_id") }
    }

    public func createProject(_ project: Project) async throws {
        try await transaction { tx in
            try await tx.execute(CreditsQ.insertProject, [.text(project.id), .text(project.name), .text(project.researchAreaID),
                                                          .text(project.leadID), .text(project.periodEndPolicy.rawValue),
                                                          .time(project.createdAt)])
            try await tx.execute(CreditsQ.upsertMember, [.text(project.id), .text(project.leadID), .text(ProjectRole.lead.rawValue)])
        }
    }

    public func project(id: RecordID) async throws -> Project? {
        try await row(CreditsQ.project, [.text(id)]).map(Project.init(row:))
    }

    public func projects() async throws -> [Project] {
        try await rows(CreditsQ.projects, []).map(Project.init(row:))
    }

    public func setProjectMember(_ member: ProjectMember) async throws {
        _ = try await execute(CreditsQ.upsertMember, [.text(member.projectID), .text(member.userID), .text(member.role.rawValue)])
    }

    public func projectMembers(projectID: RecordID) async throws -> [ProjectMember] {
        try await rows(CreditsQ.members, [.text(projectID)]).map(ProjectMember.init(row:))
    }

    public func memberships(userID: RecordID) async throws -> [ProjectMember] {
        try await rows(CreditsQ.memberships, [.text(userID)]).map(ProjectMember.init(row:))
    }

    public func addPrice(_ price: Price) async throws {
        _ = try await execute(CreditsQ.insertPrice, [.text(price.id), .text(price.unit.rawValue), .text(price.model),
                                                     .int(price.microCredits), .time(price.effectiveFrom), .text(price.setBy)])
    }

    public func prices() async throws -> [Price] {
        try await rows(CreditsQ.prices, []).map(Price.init(row:))
    }

    public func createCreditRequest(_ request: CreditRequest, event: CreditRequestEvent) async throws {
        try await transaction { tx in
            try await tx.execute(CreditsQ.insertRequest, CreditsValues.request(request))
            try await tx.execute(CreditsQ.insertEvent, CreditsValues.event(event))
        }
    }

    public func creditRequest(id: RecordID) async throws -> CreditRequest? {
        try await row(CreditsQ.request, [.text(id)]).map(CreditRequest.init(row:))
    }

    public func creditRequests(projectID: RecordID?) async throws -> [CreditRequest] {
        if let projectID { return try await rows(CreditsQ.projectRequests, [.text(projectID)]).map(CreditRequest.init(row:)) }
        return try await rows(CreditsQ.allRequests, []).map(CreditRequest.init(row:))
    }

    public func transitionCreditRequest(_ updated: CreditRequest, expected: CreditRequestStatus, event: CreditRequestEvent,
                                        grant: LedgerTransaction?) async throws -> Bool {
        if let grant { try LedgerRules.check(grant) }
        return try await transaction { tx in
            guard try await tx.execute(CreditsQ.transitionRequest, CreditsValues.transition(updated, expected: expected)) > 0 else {
                return false
            }
            try await tx.execute(CreditsQ.insertEvent, CreditsValues.event(event))
            if let grant { try await Self.insert(tx, grant) }
            return true
        }
    }

    public func creditRequestEvents(requestID: RecordID) async throws -> [CreditRequestEvent] {
        try await rows(CreditsQ.events, [.text(requestID)]).map(CreditRequestEvent.init(row:))
    }

    public func setAPIKeyProject(keyID: RecordID, projectID: RecordID) async throws {
        _ = try await execute(CreditsQ.setKeyProject, [.text(keyID), .text(projectID)])
    }

    public func apiKeyProject(keyID: RecordID) async throws -> RecordID? {
        try await row(CreditsQ.keyProject, [.text(keyID)])?.text("project_id")
    }

    public func post(_ transaction: LedgerTransaction, mustStayNonNegative: [LedgerAccount]) async throws -> LedgerPostResult {
        try LedgerRules.check(transaction)
        return try await self.transaction { tx in
            guard try await tx.row("SELECT id FROM projects WHERE id = $1 FOR UPDATE", [.text(transaction.projectID)]) != nil else {
                throw StoreError.notFound("project \(transaction.projectID)")
            }
            if let key = transaction.idempotencyKey, let existing = try await Self.transaction(tx, idempotencyKey: key) {
                return .duplicate(existing)
            }
            for account in mustStayNonNegative {
                let balance = try await tx.row(CreditsQ.balance, CreditsValues.account(account))?.int("balance") ?? 0
                if balance + LedgerRules.delta(transaction, account) < 0 {
                    return .insufficient(account: account, balance: balance)
                }
            }
            try await Self.insert(tx, transaction)
            return .posted
        }
    }

    public func ledgerTransaction(idempotencyKey: String) async throws -> LedgerTransaction? {
        try await transaction(readOnly: true) { tx in try await Self.transaction(tx, idempotencyKey: idempotencyKey) }
    }

    public func balances(projectID: RecordID) async throws -> [LedgerAccount: Int64] {
        var out: [LedgerAccount: Int64] = [:]
        for row in try await rows(CreditsQ.balances, [.text(projectID)]) {
            out[try LedgerAccount(row: row)] = try row.int("balance")
        }
        return out
    }

    public func ledgerTotals(from: Date, to: Date) async throws -> [LedgerTotal] {
        try await rows(CreditsQ.totals, [.time(from), .time(to)]).map(LedgerTotal.init(row:))
    }

    public func recordAlert(_ alert: CreditAlert) async throws -> Bool {
        try await execute(CreditsQ.insertAlert, [.text(alert.projectID), .int(alert.threshold), .int(alert.grantedLevel),
                                                 .text(alert.message), .time(alert.createdAt)]) > 0
    }

    public func alerts(projectID: RecordID) async throws -> [CreditAlert] {
        try await rows(CreditsQ.alerts, [.text(projectID)]).map(CreditAlert.init(row:))
    }

    // MARK: Ledger rows

    private static func insert(_ tx: Transaction, _ transaction: LedgerTransaction) async throws {
        try await tx.execute(CreditsQ.insertTransaction, CreditsValues.transaction(transaction))
        for entry in transaction.entries {
            try await tx.execute(CreditsQ.insertEntry, CreditsValues.entry(entry, transactionID: transaction.id))
        }
    }

    private static func transaction(_ tx: Transaction, idempotencyKey: String) async throws -> LedgerTransaction? {
        guard let row = try await tx.row(CreditsQ.transactionByKey, [.text(idempotencyKey)]) else { return nil }
        let entries = try await tx.rows(CreditsQ.entries, [.text(try row.text("id"))]).map {
            LedgerEntry(try LedgerAccount(row: $0), try $0.int("amount"))
        }
        return try LedgerTransaction(row: row, entries: entries)
    }
}

extension PostgresStore: UserAdministration {
    public func setAdmin(userID: RecordID, isAdmin: Bool) async throws {
        guard try await execute(CreditsQ.setAdmin, [.text(userID), .bool(isAdmin)]) > 0 else {
            throw StoreError.notFound("user \(userID)")
        }
    }
}
