import Foundation

// The wellbeing queries, the same text in both dialects, and their rows as records.

enum WQ {
    static let recordColumns = "r.id, r.user_id, r.conversation_id, r.category, r.severity, r.action, r.created_at"
    static let insertRecord = """
        INSERT INTO wellbeing_records (id, user_id, conversation_id, category, severity, action, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """
    static let insertCase = """
        INSERT INTO wellbeing_review_cases (id, record_id, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
        """
    static let insertEvent = """
        INSERT INTO wellbeing_review_events (case_id, actor_id, actor, event, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)
        """
    static let userRecords = """
        SELECT \(recordColumns) FROM wellbeing_records r WHERE r.user_id = $1 AND r.created_at >= $2 ORDER BY r.created_at, r.id
        """
    static let deleteUserRecords = "DELETE FROM wellbeing_records WHERE user_id = $1"
    static let purgeRecords = "DELETE FROM wellbeing_records WHERE created_at < $1"
    static let userMessageTimes = """
        SELECT m.created_at FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.user_id = $1 AND m.role = 'user' AND m.created_at >= $2 ORDER BY m.created_at
        """
    /// A case with its record and the user's email; `$1` is a status or '' for any.
    private static let caseSelect = """
        SELECT k.id AS case_id, k.status AS case_status, k.created_at AS case_created_at, k.updated_at AS case_updated_at,
        \(recordColumns), u.email AS user_email
        FROM wellbeing_review_cases k JOIN wellbeing_records r ON r.id = k.record_id JOIN users u ON u.id = r.user_id
        """
    static let cases = caseSelect + " WHERE ($1 = '' OR k.status = $1) ORDER BY k.created_at DESC, k.id LIMIT $2"
    static let caseByID = caseSelect + " WHERE k.id = $1"
    static let caseExists = "SELECT id FROM wellbeing_review_cases WHERE id = $1"
    static let setCaseStatus = "UPDATE wellbeing_review_cases SET status = $2, updated_at = $3 WHERE id = $1"
    static let touchCase = "UPDATE wellbeing_review_cases SET updated_at = $2 WHERE id = $1"
    static let caseEvents = """
        SELECT case_id, actor_id, actor, event, detail, created_at FROM wellbeing_review_events WHERE case_id = $1 ORDER BY seq
        """

    static func record(_ r: WellbeingRecord) -> [SQLValue] {
        [.text(r.id), .text(r.userID), .text(r.conversationID), .text(r.category), .int(r.severity), .text(r.action),
         .time(r.createdAt)]
    }

    static func event(_ e: ReviewEvent) -> [SQLValue] {
        [.text(e.caseID), .text(e.actorID), .text(e.actor), .text(e.kind.rawValue), .text(e.detail), .time(e.createdAt)]
    }

    static func checkSeverity(_ r: WellbeingRecord) throws {
        guard (0...3).contains(r.severity) else { throw StoreError.invalid("a severity is 0...3, not \(r.severity)") }
    }

    /// The case `addWellbeingRecord` opens for `record` (times as stored).
    static func newCase(for record: WellbeingRecord, userEmail: String) -> ReviewCase {
        ReviewCase(id: newRecordID(), status: .open, record: record.normalized, userEmail: userEmail,
                   createdAt: Time.normalized(record.createdAt), updatedAt: Time.normalized(record.createdAt))
    }

    static func openedEvent(_ c: ReviewCase) -> ReviewEvent {
        ReviewEvent(caseID: c.id, actorID: nil, actor: "system", kind: .opened,
                    detail: "\(c.record.category), severity \(c.record.severity)", createdAt: c.createdAt)
    }
}

extension WellbeingRecord {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), conversationID: try row.optionalText("conversation_id"),
                  category: try row.text("category"), severity: Int(try row.int("severity")), action: try row.text("action"),
                  createdAt: try row.time("created_at"))
    }

    var normalized: WellbeingRecord {
        var copy = self
        copy.createdAt = Time.normalized(createdAt)
        return copy
    }
}

extension ReviewCase {
    init(row: some SQLRowReader) throws {
        let statusText = try row.text("case_status")
        guard let status = ReviewCaseStatus(rawValue: statusText) else {
            throw StoredValueError(description: "unknown review case status '\(statusText)'")
        }
        self.init(id: try row.text("case_id"), status: status, record: try WellbeingRecord(row: row),
                  userEmail: try row.text("user_email"), createdAt: try row.time("case_created_at"),
                  updatedAt: try row.time("case_updated_at"))
    }
}

extension ReviewEvent {
    init(row: some SQLRowReader) throws {
        let kindText = try row.text("event")
        guard let kind = Kind(rawValue: kindText) else { throw StoredValueError(description: "unknown review event '\(kindText)'") }
        self.init(caseID: try row.text("case_id"), actorID: try row.optionalText("actor_id"), actor: try row.text("actor"),
                  kind: kind, detail: try row.optionalText("detail"), createdAt: try row.time("created_at"))
    }
}
