import Foundation
import GRDB

// Credits on SQLite. Every write is one IMMEDIATE transaction and the pool has a single writer, so a ledger post's
// balance check and its inserts cannot interleave with another post: balances stay exact under concurrency.

extension SQLiteStore: CreditsStore {
    public func createResearchArea(_ area: ResearchArea) async throws {
        try await write { db in
            _ = try Self.execute(db, CreditsQ.insertArea, [.text(area.id), .text(area.name), .time(area.createdAt)])
        }
    }

    public func researchAreas() async throws -> [ResearchArea] {
        try await read { db in try Self.fetchAll(db, CreditsQ.areas, []).map(ResearchArea.init(row:)) }
    }

    public func addAreaReviewer(areaID: RecordID, userID: RecordID) async throws {
        try await write { db in _ = try Self.execute(db, CreditsQ.insertReviewer, [.text(areaID), .text(userID)]) }
    }

    public func areaReviewers(areaID: RecordID) async throws -> [RecordID] {
        try await read { db in try Self.fetchAll(db, CreditsQ.reviewers, [.text(areaID)]).map { try $0.text("user_id") } }
    }

    public func createProject(_ project: Project) async throws {
        try await write { db in
            _ = try Self.execute(db, CreditsQ.insertProject, [.text(project.id), .text(project.name), .text(project.researchAreaID),
                                                              .text(project.leadID), .text(project.periodEndPolicy.rawValue),
                                                              .time(project.createdAt)])
            _ = try Self.execute(db, CreditsQ.upsertMember, [.text(project.id), .text(project.leadID), .text(ProjectRole.lead.rawValue)])
        }
    }

    public func project(id: RecordID) async throws -> Project? {
        try await read { db in try Self.fetchOne(db, CreditsQ.project, [.text(id)]).map(Project.init(row:)) }
    }

    public func projects() async throws -> [Project] {
        try await read { db in try Self.fetchAll(db, CreditsQ.projects, []).map(Project.init(row:)) }
    }

    public func setProjectMember(_ member: ProjectMember) async throws {
        try await write { db in
            _ = try Self.execute(db, CreditsQ.upsertMember, [.text(member.projectID), .text(member.userID), .text(member.role.rawValue)])
        }
    }

    public func projectMembers(projectID: RecordID) async throws -> [ProjectMember] {
        try await read { db in try Self.fetchAll(db, CreditsQ.members, [.text(projectID)]).map(ProjectMember.init(row:)) }
    }

    public func memberships(userID: RecordID) async throws -> [ProjectMember] {
        try await read { db in try Self.fetchAll(db, CreditsQ.memberships, [.text(userID)]).map(ProjectMember.init(row:)) }
    }

    public func addPrice(_ price: Price) async throws {
        try await write { db in
            _ = try Self.execute(db, CreditsQ.insertPrice, [.text(price.id), .text(price.unit.rawValue), .text(price.model),
                                                            .int(price.microCredits), .time(price.effectiveFrom), .text(price.setBy)])
        }
    }

    public func prices() async throws -> [Price] {
        try await read { db in try Self.fetchAll(db, CreditsQ.prices, []).map(Price.init(row:)) }
    }

    public func createCreditRequest(_ request: CreditRequest, event: CreditRequestEvent) async throws {
        try await write { db in
            _ = try Self.execute(db, CreditsQ.insertRequest, CreditsValues.request(request))
            _ = try Self.execute(db, CreditsQ.insertEvent, CreditsValues.event(event))
        }
    }

    public func creditRequest(id: RecordID) async throws -> CreditRequest? {
        try await read { db in try Self.fetchOne(db, CreditsQ.request, [.text(id)]).map(CreditRequest.init(row:)) }
    }

    public func creditRequests(projectID: RecordID?) async throws -> [CreditRequest] {
        try await read { db in
            if let projectID {
                return try Self.fetchAll(db, CreditsQ.projectRequests, [.text(projectID)]).map(CreditRequest.init(row:))
            }
            return try Self.fetchAll(db, CreditsQ.allRequests, []).map(CreditRequest.init(row:))
        }
    }

    public func transitionCreditRequest(_ updated: CreditRequest, expected: CreditRequestStatus, event: CreditRequestEvent,
                                        grant: LedgerTransaction?) async throws -> Bool {
        if let grant { try LedgerRules.check(grant) }
        return try await write { db in
            guard try Self.execute(db, CreditsQ.transitionRequest, CreditsValues.transition(updated, expected: expected)) > 0 else {
                return false
            }
            _ = try Self.execute(db, CreditsQ.insertEvent, CreditsValues.event(event))
            if let grant { try Self.insert(db, grant) }
            return true
        }
    }

    public func creditRequestEvents(requestID: RecordID) async throws -> [CreditRequestEvent] {
        try await read { db in try Self.fetchAll(db, CreditsQ.events, [.text(requestID)]).map(CreditRequestEvent.init(row:)) }
    }

    public func setAPIKeyProject(keyID: RecordID, projectID: RecordID) async throws {
        try await write { db in _ = try Self.execute(db, CreditsQ.setKeyProject, [.text(keyID), .text(projectID)]) }
    }

    public func apiKeyProject(keyID: RecordID) async throws -> RecordID? {
        try await read { db in try Self.fetchOne(db, CreditsQ.keyProject, [.text(keyID)])?.text("project_id") }
    }

    public func post(_ transaction: LedgerTransaction, mustStayNonNegative: [LedgerAccount]) async throws -> LedgerPostResult {
        try LedgerRules.check(transaction)
        return try await write { db in
            if let key = transaction.idempotencyKey, let existing = try Self.transaction(db, idempotencyKey: key) {
                return .duplicate(existing)
            }
            for account in mustStayNonNegative {
                let balance = try Self.fetchOne(db, CreditsQ.balance, CreditsValues.account(account))?.int("balance") ?? 0
                if balance + LedgerRules.delta(transaction, account) < 0 {
                    return .insufficient(account: account, balance: balance)
                }
            }
            try Self.insert(db, transaction)
            return .posted
        }
    }

    public func ledgerTransaction(idempotencyKey: String) async throws -> LedgerTransaction? {
        try await read { db in try Self.transaction(db, idempotencyKey: idempotencyKey) }
    }

    public func balances(projectID: RecordID) async throws -> [LedgerAccount: Int64] {
        try await read { db in
            var out: [LedgerAccount: Int64] = [:]
            for row in try Self.fetchAll(db, CreditsQ.balances, [.text(projectID)]) {
                out[try LedgerAccount(row: row)] = try row.int("balance")
            }
            return out
        }
    }

    public func ledgerTotals(from: Date, to: Date) async throws -> [LedgerTotal] {
        try await read { db in try Self.fetchAll(db, CreditsQ.totals, [.time(from), .time(to)]).map(LedgerTotal.init(row:)) }
    }

    public func recordAlert(_ alert: CreditAlert) async throws -> Bool {
        try await write { db in
            try Self.execute(db, CreditsQ.insertAlert, [.text(alert.projectID), .int(alert.threshold), .int(alert.grantedLevel),
                                                        .text(alert.message), .time(alert.createdAt)]) > 0
        }
    }

    public func alerts(projectID: RecordID) async throws -> [CreditAlert] {
        try await read { db in try Self.fetchAll(db, CreditsQ.alerts, [.text(projectID)]).map(CreditAlert.init(row:)) }
    }

    // MARK: Ledger rows

    private static func insert(_ db: Database, _ transaction: LedgerTransaction) throws {
        _ = try execute(db, CreditsQ.insertTransaction, CreditsValues.transaction(transaction))
        for entry in transaction.entries {
            _ = try execute(db, CreditsQ.insertEntry, CreditsValues.entry(entry, transactionID: transaction.id))
        }
    }

    private static func transaction(_ db: Database, idempotencyKey: String) throws -> LedgerTransaction? {
        guard let row = try fetchOne(db, CreditsQ.transactionByKey, [.text(idempotencyKey)]) else { return nil }
        let entries = try fetchAll(db, CreditsQ.entries, [.text(try row.text("id"))]).map {
            LedgerEntry(try LedgerAccount(row: $0), try $0.int("amount"))
        }
        return try LedgerTransaction(row: row, entries: entries)
    }
}

extension SQLiteStore: UserAdministration {
    public func setAdmin(userID: RecordID, isAdmin: Bool) async throws {
        try await write { db in
            guard try Self.execute(db, CreditsQ.setAdmin, [.text(userID), .bool(isAdmin)]) > 0 else {
                throw StoreError.notFound("user \(userID)")
            }
        }
    }
}
