import Foundation
import GRDB

extension SQLiteStore: WellbeingStore {
    @discardableResult
    public func addWellbeingRecord(_ record: WellbeingRecord, openReviewCase: Bool) async throws -> ReviewCase? {
        try WQ.checkSeverity(record)
        return try await write { db in
            guard let user = try Self.fetchOne(db, Q.userByID, [.text(record.userID)]).map(User.init(row:)) else {
                throw StoreError.notFound("user \(record.userID)")
            }
            if let conversationID = record.conversationID,
               try Self.fetchOne(db, Q.ownsConversation, [.text(conversationID), .text(record.userID)]) == nil {
                throw StoreError.notFound("conversation \(conversationID)")
            }
            try Self.execute(db, WQ.insertRecord, WQ.record(record))
            guard openReviewCase else { return nil }
            let opened = WQ.newCase(for: record, userEmail: user.email)
            try Self.execute(db, WQ.insertCase, [.text(opened.id), .text(record.id), .text(opened.status.rawValue), .time(opened.createdAt)])
            try Self.execute(db, WQ.insertEvent, WQ.event(WQ.openedEvent(opened)))
            return opened
        }
    }

    public func wellbeingRecords(userID: RecordID, since: Date?) async throws -> [WellbeingRecord] {
        try await read { db in
            try Self.fetchAll(db, WQ.userRecords, [.text(userID), .int(since.map(Time.millis) ?? Int64.min)]).map(WellbeingRecord.init(row:))
        }
    }

    @discardableResult
    public func deleteWellbeingRecords(userID: RecordID) async throws -> Int {
        try await write { db in try Self.execute(db, WQ.deleteUserRecords, [.text(userID)]) }
    }

    @discardableResult
    public func purgeWellbeingRecords(before cutoff: Date) async throws -> Int {
        try await write { db in try Self.execute(db, WQ.purgeRecords, [.time(cutoff)]) }
    }

    public func userMessageTimes(userID: RecordID, since: Date) async throws -> [Date] {
        try await read { db in
            try Self.fetchAll(db, WQ.userMessageTimes, [.text(userID), .time(since)]).map { try $0.time("created_at") }
        }
    }

    public func reviewCases(status: ReviewCaseStatus?, limit: Int) async throws -> [ReviewCase] {
        try Rules.checkPage(limit: limit, offset: 0)
        return try await read { db in
            try Self.fetchAll(db, WQ.cases, [.text(status?.rawValue ?? ""), .int(limit)]).map(ReviewCase.init(row:))
        }
    }

    public func reviewCase(id: RecordID) async throws -> ReviewCase? {
        try await read { db in try Self.fetchOne(db, WQ.caseByID, [.text(id)]).map(ReviewCase.init(row:)) }
    }

    public func reviewEvents(caseID: RecordID) async throws -> [ReviewEvent] {
        try await read { db in try Self.fetchAll(db, WQ.caseEvents, [.text(caseID)]).map(ReviewEvent.init(row:)) }
    }

    public func addReviewEvent(_ event: ReviewEvent, newStatus: ReviewCaseStatus?) async throws {
        try await write { db in
            guard try Self.fetchOne(db, WQ.caseExists, [.text(event.caseID)]) != nil else {
                throw StoreError.notFound("review case \(event.caseID)")
            }
            try Self.execute(db, WQ.insertEvent, WQ.event(event))
            if let newStatus {
                try Self.execute(db, WQ.setCaseStatus, [.text(event.caseID), .text(newStatus.rawValue), .time(event.createdAt)])
            } else if event.kind != .viewed {
                try Self.execute(db, WQ.touchCase, [.text(event.caseID), .time(event.createdAt)])
            }
        }
    }
}
