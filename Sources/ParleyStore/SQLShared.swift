import Foundation

// What the two backends share: bound values, the row decoding of every record, the queries whose text is the same
// in both dialects, the rules checked before writing, and the import plan.

/// A value bound to a query parameter.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case double(Double)
    case null

    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    static func int(_ value: Int) -> SQLValue { .int(Int64(value)) }
    static func double(_ value: Double?) -> SQLValue { value.map { .double($0) } ?? .null }
    static func time(_ date: Date) -> SQLValue { .int(Time.millis(date)) }
    static func time(_ date: Date?) -> SQLValue { date.map { .int(Time.millis($0)) } ?? .null }
    static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
}

/// Times are stored as whole milliseconds since 1970; records handed out are rounded the same way, so what a
/// caller gets back from a write equals what a later read returns.
enum Time {
    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
    static func normalized(_ date: Date) -> Date { Self.date(millis(date)) }
    static func normalized(_ date: Date?) -> Date? { date.map(normalized) }
}

/// One row of a result, read by column name.
protocol SQLRowReader {
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func int(_ column: String) throws -> Int64
    func optionalInt(_ column: String) throws -> Int64?
    func optionalDouble(_ column: String) throws -> Double?
}

extension SQLRowReader {
    func time(_ column: String) throws -> Date { Time.date(try int(column)) }
    func optionalTime(_ column: String) throws -> Date? { try optionalInt(column).map(Time.date) }
}

/// The bound values of `Q.insertConversation` and `Q.insertMessage`.
enum Values {
    static func conversation(_ c: Conversation) -> [SQLValue] {
        [.text(c.id), .text(c.userID), .text(c.title), .text(c.systemPrompt), .double(c.temperature), .text(c.model),
         .text(c.currentLeafID), .time(c.createdAt), .time(c.updatedAt)]
    }

    static func message(_ m: Message) -> [SQLValue] {
        [.text(m.id), .text(m.conversationID), .text(m.parentID), .text(m.role.rawValue), .text(m.content),
         .text(m.model), .text(m.status.rawValue), .time(m.createdAt), .time(m.updatedAt)]
    }

}

// MARK: - Records from rows

enum Columns {
    static let user = "id, email, display_name, password_hash, is_admin, created_at"
    static let session = "token_hash, user_id, csrf_token, created_at, expires_at"
    static let apiKey = "id, user_id, name, prefix, key_hash, created_at, last_used_at, revoked_at"
    /// Qualified with `c.` because the conversation queries join messages.
    static let conversation = "c.id, c.user_id, c.title, c.system_prompt, c.temperature, c.model, c.current_leaf_id, c.created_at, c.updated_at"
    static let message = "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.model, m.status, m.created_at, m.updated_at"
    static let feedback = "f.message_id, f.user_id, f.rating, f.comment, f.created_at"
}

struct StoredValueError: Error, CustomStringConvertible {
    let description: String
}

extension User {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), email: try row.text("email"), displayName: try row.text("display_name"),
                  passwordHash: try row.text("password_hash"), isAdmin: try row.int("is_admin") != 0,
                  createdAt: try row.time("created_at"))
    }
}

extension WebSession {
    init(row: some SQLRowReader) throws {
        self.init(tokenHash: try row.text("token_hash"), userID: try row.text("user_id"),
                  csrfToken: try row.text("csrf_token"), createdAt: try row.time("created_at"),
                  expiresAt: try row.time("expires_at"))
    }
}

extension APIKey {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), name: try row.text("name"),
                  prefix: try row.text("prefix"), keyHash: try row.text("key_hash"),
                  createdAt: try row.time("created_at"), lastUsedAt: try row.optionalTime("last_used_at"),
                  revokedAt: try row.optionalTime("revoked_at"))
    }
}

extension Conversation {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), title: try row.text("title"),
                  systemPrompt: try row.optionalText("system_prompt"), temperature: try row.optionalDouble("temperature"),
                  model: try row.optionalText("model"), currentLeafID: try row.optionalText("current_leaf_id"),
                  createdAt: try row.time("created_at"), updatedAt: try row.time("updated_at"))
    }

    /// As it is stored: times rounded to milliseconds.
    var normalized: Conversation {
        var copy = self
        copy.createdAt = Time.normalized(createdAt)
        copy.updatedAt = Time.normalized(updatedAt)
        return copy
    }
}

extension Message {
    init(row: some SQLRowReader) throws {
        let roleText = try row.text("role"), statusText = try row.text("status")
        guard let role = MessageRole(rawValue: roleText) else { throw StoredValueError(description: "unknown message role '\(roleText)'") }
        guard let status = MessageStatus(rawValue: statusText) else { throw StoredValueError(description: "unknown message status '\(statusText)'") }
        self.init(id: try row.text("id"), conversationID: try row.text("conversation_id"),
                  parentID: try row.optionalText("parent_id"), role: role, content: try row.text("content"),
                  model: try row.optionalText("model"), status: status, createdAt: try row.time("created_at"),
                  updatedAt: try row.time("updated_at"))
    }

    var normalized: Message {
        var copy = self
        copy.createdAt = Time.normalized(createdAt)
        copy.updatedAt = Time.normalized(updatedAt)
        return copy
    }
}

extension Feedback {
    init(row: some SQLRowReader) throws {
        self.init(messageID: try row.text("message_id"), userID: try row.text("user_id"),
                  rating: Int(try row.int("rating")), comment: try row.optionalText("comment"),
                  createdAt: try row.time("created_at"))
    }
}

// MARK: - Rules checked before writing

enum Rules {
    /// Sign-in names are compared lowercased and without surrounding white space.
    static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func checkedEmail(_ email: String) throws -> String {
        let normalized = normalizedEmail(email)
        guard !normalized.isEmpty else { throw StoreError.invalid("the email is empty") }
        return normalized
    }

    static func checkRating(_ rating: Int) throws {
        guard rating == 1 || rating == -1 else { throw StoreError.invalid("a rating is +1 or -1, not \(rating)") }
    }

    static func checkPage(limit: Int, offset: Int) throws {
        guard limit >= 0, offset >= 0 else { throw StoreError.invalid("limit and offset must not be negative") }
    }

    /// The LIKE pattern matching `search` anywhere, with `\` escaping the wildcards `%` and `_` (and itself), or
    /// nil when there is nothing to search for.
    static func containsPattern(_ search: String?, folded: Bool) -> String? {
        guard var needle = search?.trimmingCharacters(in: .whitespacesAndNewlines), !needle.isEmpty else { return nil }
        if folded { needle = needle.lowercased() }
        var escaped = ""
        for character in needle {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}

// MARK: - Queries

/// Placeholders are `$1`, `$2`, … in both dialects (SQLite reads them as `?1`, `?2`, …; see `sqliteText`).
enum Q {
    static let countUsers = "SELECT COUNT(*) AS n FROM users"
    static let insertUser = "INSERT INTO users (\(Columns.user)) VALUES ($1, $2, $3, $4, $5, $6)"
    static let userByID = "SELECT \(Columns.user) FROM users WHERE id = $1"
    static let userByEmail = "SELECT \(Columns.user) FROM users WHERE email = $1"
    static let updatePassword = "UPDATE users SET password_hash = $2 WHERE id = $1"

    static let setting = "SELECT value FROM settings WHERE key = $1"
    static let setSetting = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

    static let insertSession = "INSERT INTO sessions (\(Columns.session)) VALUES ($1, $2, $3, $4, $5)"
    static let liveSession = "SELECT \(Columns.session) FROM sessions WHERE token_hash = $1 AND expires_at > $2"
    static let deleteSession = "DELETE FROM sessions WHERE token_hash = $1"
    static let deleteUserSessions = "DELETE FROM sessions WHERE user_id = $1"
    static let deleteExpiredSessions = "DELETE FROM sessions WHERE expires_at <= $1"

    static let insertAPIKey = "INSERT INTO api_keys (\(Columns.apiKey)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    static let userAPIKeys = "SELECT \(Columns.apiKey) FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id"
    static let useAPIKey = """
        UPDATE api_keys SET last_used_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL RETURNING \(Columns.apiKey)
        """
    static let revokeAPIKey = """
        UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2
        """

    static let insertConversation = """
        INSERT INTO conversations (id, user_id, title, system_prompt, temperature, model, current_leaf_id, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """
    static let conversation = "SELECT \(Columns.conversation) FROM conversations c WHERE c.id = $1 AND c.user_id = $2"
    static let ownsConversation = "SELECT c.id FROM conversations c WHERE c.id = $1 AND c.user_id = $2"
    static let userConversations = """
        SELECT \(Columns.conversation) FROM conversations c WHERE c.user_id = $1
        ORDER BY c.updated_at DESC, c.id LIMIT $2 OFFSET $3
        """
    /// `$4` is the pattern from `Rules.containsPattern`.
    static let searchConversations = SQLStatement.dialects(
        sqlite: """
            SELECT \(Columns.conversation) FROM conversations c WHERE c.user_id = $1
            AND (parley_fold(c.title) LIKE $4 ESCAPE '\\' OR EXISTS (
                SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND parley_fold(m.content) LIKE $4 ESCAPE '\\'))
            ORDER BY c.updated_at DESC, c.id LIMIT $2 OFFSET $3
            """,
        postgres: """
            SELECT \(Columns.conversation) FROM conversations c WHERE c.user_id = $1
            AND (c.title ILIKE $4 ESCAPE '\\' OR EXISTS (
                SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.content ILIKE $4 ESCAPE '\\'))
            ORDER BY c.updated_at DESC, c.id LIMIT $2 OFFSET $3
            """)
    static let updateConversation = """
        UPDATE conversations SET title = $3, system_prompt = $4, temperature = $5, model = $6, current_leaf_id = $7
        WHERE id = $1 AND user_id = $2
        """
    static let deleteConversation = "DELETE FROM conversations WHERE id = $1 AND user_id = $2"
    static let allUserConversations = """
        SELECT \(Columns.conversation) FROM conversations c WHERE c.user_id = $1 ORDER BY c.updated_at DESC, c.id
        """

    /// Whether message `$1` is in conversation `$2` (whoever owns it: callers check the conversation first).
    static let messageInConversation = "SELECT m.role FROM messages m WHERE m.id = $1 AND m.conversation_id = $2"
    static let insertMessage = """
        INSERT INTO messages (id, conversation_id, parent_id, role, content, model, status, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """
    static let setLeaf = "UPDATE conversations SET current_leaf_id = $2, updated_at = $3 WHERE id = $1"
    static let conversationMessages = """
        SELECT \(Columns.message) FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.conversation_id = $1 AND c.user_id = $2 ORDER BY m.created_at, m.seq
        """
    static let updateMessage = """
        UPDATE messages SET content = $3, status = $4, updated_at = $5
        WHERE id = $1 AND conversation_id IN (SELECT c.id FROM conversations c WHERE c.user_id = $2)
        """
    static let markInterrupted = "UPDATE messages SET status = 'incomplete', updated_at = $1 WHERE status = 'generating'"

    /// The role of message `$1` when it is in a conversation of user `$2`.
    static let userMessageRole = """
        SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1 AND c.user_id = $2
        """
    static let upsertFeedback = """
        INSERT INTO feedback (message_id, user_id, rating, comment, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (message_id, user_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment,
        created_at = excluded.created_at
        """
    static let conversationFeedback = """
        SELECT \(Columns.feedback) FROM feedback f JOIN messages m ON m.id = f.message_id
        JOIN conversations c ON c.id = m.conversation_id
        WHERE m.conversation_id = $1 AND c.user_id = $2 AND f.user_id = $2 ORDER BY m.created_at, m.seq
        """
    static let instructions = "SELECT about_me, how_to_answer FROM custom_instructions WHERE user_id = $1"
    static let setInstructions = """
        INSERT INTO custom_instructions (user_id, about_me, how_to_answer, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id) DO UPDATE SET about_me = excluded.about_me, how_to_answer = excluded.how_to_answer,
        updated_at = excluded.updated_at
        """
    static let insertFeedback = "INSERT INTO feedback (message_id, user_id, rating, comment, created_at) VALUES ($1, $2, $3, $4, $5)"

    static let appliedVersions = "SELECT version FROM schema_migrations ORDER BY version"
    static let recordMigration = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
    static let isApplied = "SELECT version FROM schema_migrations WHERE version = $1"
}

/// `$n` → `?n` (SQLite's numbered parameters). The queries hold no `$` anywhere else.
func sqliteText(_ sql: String) -> String {
    var out = ""
    out.reserveCapacity(sql.utf8.count)
    for character in sql {
        out.append(character == "$" ? "?" : character)
    }
    return out
}

// MARK: - Import

/// An export document checked and rewritten under fresh ids, ready to insert in order (parents before children).
struct ImportPlan {
    struct Item {
        var conversation: Conversation
        var messages: [Message]
        var feedback: [Feedback]
    }

    static func make(_ items: [ConversationExport], userID: RecordID) throws -> [Item] {
        try items.enumerated().map { index, item in try plan(item, number: index + 1, userID: userID) }
    }

    private static func plan(_ item: ConversationExport, number: Int, userID: RecordID) throws -> Item {
        let oldConversation = item.conversation
        let label = "conversation \(number) (\"\(oldConversation.title)\")"
        var byID: [RecordID: Message] = [:]
        for message in item.messages {
            guard message.conversationID == oldConversation.id else {
                throw StoreError.invalid("\(label): message \(message.id) belongs to another conversation")
            }
            guard byID.updateValue(message, forKey: message.id) == nil else {
                throw StoreError.invalid("\(label): message id \(message.id) appears twice")
            }
        }
        // Parents first: walk each message up to its root; an unknown parent or a cycle is an error.
        var newID: [RecordID: RecordID] = [:]
        var ordered: [Message] = []
        ordered.reserveCapacity(item.messages.count)
        for message in item.messages where newID[message.id] == nil {
            var chain: [Message] = []
            var onChain: Set<RecordID> = []
            var cursor: Message? = message
            while let current = cursor, newID[current.id] == nil {
                guard onChain.insert(current.id).inserted else {
                    throw StoreError.invalid("\(label): the parents of message \(current.id) form a cycle")
                }
                chain.append(current)
                if let parentID = current.parentID {
                    guard let parent = byID[parentID] else {
                        throw StoreError.invalid("\(label): the parent \(parentID) of message \(current.id) is not in the conversation")
                    }
                    cursor = parent
                } else {
                    cursor = nil
                }
            }
            for node in chain.reversed() {
                newID[node.id] = newRecordID()
                ordered.append(node)
            }
        }
        var conversation = oldConversation
        conversation.id = newRecordID()
        conversation.userID = userID
        if let leaf = oldConversation.currentLeafID {
            guard let mapped = newID[leaf] else {
                throw StoreError.invalid("\(label): the current leaf \(leaf) is not a message of the conversation")
            }
            conversation.currentLeafID = mapped
        }
        let messages: [Message] = ordered.map { old in
            var message = old
            message.id = newID[old.id]!
            message.conversationID = conversation.id
            message.parentID = old.parentID.map { newID[$0]! }
            // Nothing is generating it any more.
            if message.status == .generating { message.status = .incomplete }
            return message.normalized
        }
        var rated: Set<RecordID> = []
        let feedback: [Feedback] = try item.feedback.map { old in
            guard let message = byID[old.messageID], let mapped = newID[old.messageID] else {
                throw StoreError.invalid("\(label): feedback on message \(old.messageID), which is not in the conversation")
            }
            guard message.role == .assistant else {
                throw StoreError.invalid("\(label): feedback on message \(old.messageID), which is not an assistant message")
            }
            guard rated.insert(old.messageID).inserted else {
                throw StoreError.invalid("\(label): two ratings of message \(old.messageID)")
            }
            try Rules.checkRating(old.rating)
            return Feedback(messageID: mapped, userID: userID, rating: old.rating, comment: old.comment,
                            createdAt: Time.normalized(old.createdAt))
        }
        return Item(conversation: conversation.normalized, messages: messages, feedback: feedback)
    }
}
