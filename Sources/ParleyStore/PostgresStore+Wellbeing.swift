import Foundation
import PostgresNIO

extension PostgresStore: WellbeingStore {
    @discardableResult
    public func addWellbeingRecord(_ record: WellbeingRecord, openReviewCase: Bool) async throws -> ReviewCase? {
        try WQ.checkSeverity(record)
        return try await transaction { tx in
            guard let user = try await tx.row(Q.userByID, [.text(record.userID)]).map(User.init(row:)) else {
                throw StoreError.notFound("user \(record.userID)")
            }
            if let conversationID = record.conversationID,
               try await tx.row(Q.ownsConversation, [.text(conversationID), .text(record.userID)]) == nil {
                throw StoreError.notFound("conversation \(conversationID)")
            }
            try await tx.execute(WQ.insertRecord, WQ.record(record))
            guard openReviewCase else { return nil }
            let opened = WQ.newCase(for: record, userEmail: user.email)
            try await tx.execute(WQ.insertCase, [.text(opened.id), .text(record.id), .text(opened.status.rawValue), .time(opened.createdAt)])
            try await tx.execute(WQ.insertEvent, WQ.event(WQ.openedEvent(opened)))
            return opened
        }
    }

    public func wellbeingRecords(userID: RecordID, since: Date?) async throws -> [WellbeingRecord] {
        try await rows(WQ.userRecords, [.text(userID), .int(since.map(Time.millis) ?? Int64.min)]).map(WellbeingRecord.init(row:))
    }

    @discardableResult
    public func deleteWellbeingRecords(userID: RecordID) async throws -> Int {
        try await execute(WQ.deleteUserRecords, [.text(userID)])
    }

    @discardableResult
    public func purgeWellbeingRecords(before cutoff: Date) async throws -> Int {
        try await execute(WQ.purgeRecords, [.time(cutoff)])
    }

    public func userMessageTimes(userID: RecordID, since: Date) async throws -> [Date] {
        try await rows(WQ.userMessageTimes, [.text(userID), .time(since)]).map { try $0.time("created_at") }
    }

    public func reviewCases(status: ReviewCaseStatus?, limit: Int) async throws -> [ReviewCase] {
        try Rules.checkPage(limit: limit, offset: 0)
        return try await rows(WQ.cases, [.text(status?.rawValue ?? ""), .int(limit)]).map(ReviewCase.init(row:))
    }

    public func reviewCase(id: RecordID) async throws -> ReviewCase? {
        try await row(WQ.caseByID, [.text(id)]).map(ReviewCase.init(row:))
    }

    public func reviewEvents(caseID: RecordID) async throws -> [ReviewEvent] {
        try await rows(WQ.caseEvents, [.text(caseID)]).map(ReviewEvent.init(row:))
    }

    public func addReviewEvent(_ event: ReviewEvent, newStatus: ReviewCaseStatus?) async throws {
        try await transaction { tx in
            guard try await tx.row(WQ.caseExists + " FOR UPDATE", [.text(event.caseID)]) != nil else {
                throw StoreError.notFound("review case \(event.caseID)")
            }
            try await tx.execute(WQ.insertEvent, WQ.event(event))
            if let newStatus {
                try await tx.execute(WQ.setCaseStatus, [.text(event.caseID), .text(newStatus.rawValue), .time(event.createdAt)])
            } else if event.kind != .viewed {
                try await tx.execute(WQ.touchCase, [.text(event.caseID), .time(event.createdAt)])
            }
        }
    }
}
