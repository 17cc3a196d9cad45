import Foundation

// What the wellbeing safeguards keep: one record per assessed user turn that asked for more than an ordinary
// reply, and for severe ones a human-review case with its audit trail. Records hold names and numbers only
// (category, severity, action, time, conversation), never the text. Both backends implement this protocol
// beside `ParleyStore` (`SQLiteStore+Wellbeing.swift`, `PostgresStore+Wellbeing.swift`).

/// One assessment as stored. Category and action are the assessor's wire names (`self_harm_acute`, …).
public struct WellbeingRecord: Sendable, Codable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    /// Nil for turns that came through the OpenAI API rather than a stored conversation.
    public var conversationID: RecordID?
    public var category: String
    /// 0…3.
    public var severity: Int
    public var action: String
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), userID: RecordID, conversationID: RecordID?, category: String,
                severity: Int, action: String, createdAt: Date = Date()) {
        self.id = id; self.userID = userID; self.conversationID = conversationID; self.category = category
        self.severity = severity; self.action = action; self.createdAt = createdAt
    }
}

public enum ReviewCaseStatus: String, Sendable, Codable, CaseIterable {
    /// Nobody has taken it yet.
    case open
    /// A reviewer is on it.
    case inReview = "in_review"
    /// Done (with a note saying what was done).
    case closed
}

/// A severe assessment waiting for (or under) human review, with the record it was opened for and the email of
/// the user it concerns (the reviewer needs to know whom to reach).
public struct ReviewCase: Sendable, Codable, Equatable {
    public var id: RecordID
    public var status: ReviewCaseStatus
    public var record: WellbeingRecord
    public var userEmail: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: RecordID, status: ReviewCaseStatus, record: WellbeingRecord, userEmail: String, createdAt: Date, updatedAt: Date) {
        self.id = id; self.status = status; self.record = record; self.userEmail = userEmail
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// One line of a case's audit trail: who did what, when.
public struct ReviewEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The case was opened (actor: the system).
        case opened
        /// A reviewer opened the case's page.
        case viewed
        /// A reviewer changed the status; `detail` is the new status.
        case status
        /// A reviewer's note; `detail` is the note.
        case note
        /// The operator webhook answered 2xx, or failed (`detail` says how).
        case webhookDelivered = "webhook_delivered"
        case webhookFailed = "webhook_failed"
    }

    public var caseID: RecordID
    /// The reviewer's user id; nil for the system, or when that account was deleted since.
    public var actorID: RecordID?
    /// The reviewer's email at the time, or "system".
    public var actor: String
    public var kind: Kind
    public var detail: String?
    public var createdAt: Date

    public init(caseID: RecordID, actorID: RecordID?, actor: String, kind: Kind, detail: String? = nil, createdAt: Date = Date()) {
        self.caseID = caseID; self.actorID = actorID; self.actor = actor; self.kind = kind; self.detail = detail
        self.createdAt = createdAt
    }
}

/// The wellbeing records, the review queue and its audit trail.
public protocol WellbeingStore: Sendable {
    /// Stores `record`; with `openReviewCase`, also opens a case for it (status `open`, an `opened` event by the
    /// system) in the same transaction and returns it. Throws `.notFound` when the user or conversation is not
    /// there, `.invalid` for a severity outside 0…3.
    @discardableResult
    func addWellbeingRecord(_ record: WellbeingRecord, openReviewCase: Bool) async throws -> ReviewCase?
    /// The user's records created at or after `since` (all when nil), oldest first.
    func wellbeingRecords(userID: RecordID, since: Date?) async throws -> [WellbeingRecord]
    /// Deletes every record of the user (their cases and audit trails with them); returns how many records.
    @discardableResult func deleteWellbeingRecords(userID: RecordID) async throws -> Int
    /// The retention purge: deletes records created before `cutoff`, with their cases; returns how many records.
    @discardableResult func purgeWellbeingRecords(before cutoff: Date) async throws -> Int
    /// When the user sent messages (user turns of all their conversations) at or after `since`, oldest first.
    func userMessageTimes(userID: RecordID, since: Date) async throws -> [Date]

    /// Cases of every user, newest first; only those with `status` when given.
    func reviewCases(status: ReviewCaseStatus?, limit: Int) async throws -> [ReviewCase]
    func reviewCase(id: RecordID) async throws -> ReviewCase?
    /// The case's audit trail, oldest first.
    func reviewEvents(caseID: RecordID) async throws -> [ReviewEvent]
    /// Appends `event` to its case's trail and, when `newStatus` is given, sets the case's status, in one
    /// transaction. Throws `.notFound` when there is no such case.
    func addReviewEvent(_ event: ReviewEvent, newStatus: ReviewCaseStatus?) async throws
}
