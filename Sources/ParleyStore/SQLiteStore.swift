import Foundation
import GRDB

/// The SQLite backend: one database file through a GRDB `DatabasePool` (WAL: readers never wait for the writer),
/// foreign keys on, a busy timeout for other processes holding the file. Writes run in IMMEDIATE transactions,
/// serialized by the pool's single writer connection.
public final class SQLiteStore: ParleyStore, @unchecked Sendable {
    // @unchecked: every stored property is immutable and `DatabasePool` is safe to share.
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the database file at `path`. Does not migrate: call `migrate()`.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        Schema.checkOrder()
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "parley-store"
        configuration.prepareDatabase { db in
            // Case-folds for search the way Swift does (SQLite's own LIKE folds ASCII letters only).
            db.add(function: DatabaseFunction("parley_fold", argumentCount: 1, pure: true) { values in
                guard let text = String.fromDatabaseValue(values[0]) else { return nil }
                return text.lowercased()
            })
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw StoreError.unavailable("cannot open the SQLite database \(path): the directory \(directory) does not exist")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    public func close() async throws {
        do { try pool.close() } catch { throw Self.storeError(error, path: path) }
    }

    // MARK: Plumbing

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.storeError(error, path: path) }
    }

    /// One IMMEDIATE transaction, committed before this returns.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.storeError(error, path: path) }
    }

    static func storeError(_ error: any Error, path: String) -> any Error {
        if error is StoreError || error is CancellationError { return error }
        guard let error = error as? DatabaseError else {
            return StoreError.unavailable("SQLite database \(path): \(error)")
        }
        let message = error.message ?? "\(error.resultCode)"
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.conflict("a row with this key already exists (\(message))")
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StoreError.notFound("a row this refers to does not exist (\(message))")
        case .SQLITE_CONSTRAINT_CHECK, .SQLITE_CONSTRAINT_NOTNULL:
            return StoreError.invalid("a value breaks a rule of the schema (\(message))")
        default:
            break
        }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError.unavailable("SQLite database \(path) is locked by another connection: \(message)")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
            return StoreError.unavailable("cannot open or write the SQLite database \(path): \(message)")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return StoreError.unavailable("\(path) is not a usable SQLite database: \(message)")
        default:
            return StoreError.unavailable("SQLite database \(path): \(message)")
        }
    }

    // MARK: Migrations

    @discardableResult public func migrate() async throws -> Int {
        try await write { db in try db.execute(sql: Schema.migrationsTable.sqlite) }
        let applied = try await read { db in try Int.fetchAll(db, sql: Q.appliedVersions) }
        if let newest = applied.last, newest > Schema.latestVersion { throw Schema.tooNew(newest) }
        for migration in Schema.migrations where !applied.contains(migration.version) {
            try await write { db in
                // Another process may have applied it since the read above (the write lock is held now).
                guard try Int.fetchOne(db, sql: sqliteText(Q.isApplied), arguments: [migration.version]) == nil else { return }
                for statement in migration.statements { try db.execute(sql: statement.sqlite) }
                try db.execute(sql: sqliteText(Q.recordMigration),
                               arguments: Self.arguments([.int(migration.version), .text(migration.name), .time(Date())]))
            }
        }
        return try await read { db in try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_migrations") ?? 0 }
    }

    // MARK: Users and settings

    public func createUser(email: String, displayName: String, passwordHash: String) async throws -> User {
        let email = try Rules.checkedEmail(email)
        return try await write { db in
            // The count and the insert share one IMMEDIATE transaction: no other writer runs in between.
            if try Self.fetchOne(db, Q.userByEmail, [.text(email)]).map(User.init(row:)) != nil {
                throw StoreError.conflict("the email \(email) is already registered")
            }
            let count = try Self.fetchOne(db, Q.countUsers, [])?.int("n") ?? 0
            let user = User(email: email, displayName: displayName, passwordHash: passwordHash, isAdmin: count == 0,
                            createdAt: Time.normalized(Date()))
            try Self.execute(db, Q.insertUser, [.text(user.id), .text(user.email), .text(user.displayName),
                                                .text(user.passwordHash), .bool(user.isAdmin), .time(user.createdAt)])
            return user
        }
    }

    public func user(id: RecordID) async throws -> User? {
        try await read { db in try Self.fetchOne(db, Q.userByID, [.text(id)]).map(User.init(row:)) }
    }

    public func user(email: String) async throws -> User? {
        let email = Rules.normalizedEmail(email)
        return try await read { db in try Self.fetchOne(db, Q.userByEmail, [.text(email)]).map(User.init(row:)) }
    }

    public func userCount() async throws -> Int {
        try await read { db in Int(try Self.fetchOne(db, Q.countUsers, [])?.int("n") ?? 0) }
    }

    public func updatePasswordHash(userID: RecordID, passwordHash: String) async throws {
        try await write { db in
            guard try Self.execute(db, Q.updatePassword, [.text(userID), .text(passwordHash)]) > 0 else {
                throw StoreError.notFound("user \(userID)")
            }
        }
    }

    public func setting(_ key: String) async throws -> String? {
        try await read { db in try Self.fetchOne(db, Q.setting, [.text(key)])?.text("value") }
    }

    public func setSetting(_ key: String, value: String) async throws {
        try await write { db in _ = try Self.execute(db, Q.setSetting, [.text(key), .text(value)]) }
    }

    // MARK: Sessions

    public func createSession(_ session: WebSession) async throws {
        try await write { db in
            _ = try Self.execute(db, Q.insertSession, [.text(session.tokenHash), .text(session.userID),
                                                       .text(session.csrfToken), .time(session.createdAt),
                                                       .time(session.expiresAt)])
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> WebSession? {
        try await read { db in try Self.fetchOne(db, Q.liveSession, [.text(tokenHash), .time(now)]).map(WebSession.init(row:)) }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { db in _ = try Self.execute(db, Q.deleteSession, [.text(tokenHash)]) }
    }

    public func deleteSessions(userID: RecordID) async throws {
        try await write { db in _ = try Self.execute(db, Q.deleteUserSessions, [.text(userID)]) }
    }

    @discardableResult public func deleteExpiredSessions(now: Date) async throws -> Int {
        try await write { db in try Self.execute(db, Q.deleteExpiredSessions, [.time(now)]) }
    }

    // MARK: API keys

    public func createAPIKey(_ key: APIKey) async throws {
        try await write { db in
            _ = try Self.execute(db, Q.insertAPIKey, [.text(key.id), .text(key.userID), .text(key.name), .text(key.prefix),
                                                      .text(key.keyHash), .time(key.createdAt), .time(key.lastUsedAt),
                                                      .time(key.revokedAt)])
        }
    }

    public func apiKeys(userID: RecordID) async throws -> [APIKey] {
        try await read { db in try Self.fetchAll(db, Q.userAPIKeys, [.text(userID)]).map(APIKey.init(row:)) }
    }

    public func useAPIKey(keyHash: String, now: Date) async throws -> APIKey? {
        try await write { db in try Self.fetchOne(db, Q.useAPIKey, [.text(keyHash), .time(now)]).map(APIKey.init(row:)) }
    }

    public func revokeAPIKey(id: RecordID, userID: RecordID, now: Date) async throws -> Bool {
        try await write { db in try Self.execute(db, Q.revokeAPIKey, [.text(id), .text(userID), .time(now)]) > 0 }
    }

    // MARK: Conversations

    public func createConversation(_ conversation: Conversation) async throws -> Conversation {
        guard conversation.currentLeafID == nil else {
            throw StoreError.invalid("a new conversation has no messages, so no current leaf")
        }
        let stored = conversation.normalized
        try await write { db in
            guard try Self.fetchOne(db, Q.userByID, [.text(stored.userID)]) != nil else {
                throw StoreError.notFound("user \(stored.userID)")
            }
            _ = try Self.execute(db, Q.insertConversation, Values.conversation(stored))
        }
        return stored
    }

    public func conversations(userID: RecordID, search: String?, limit: Int, offset: Int) async throws -> [Conversation] {
        try Rules.checkPage(limit: limit, offset: offset)
        let pattern = Rules.containsPattern(search, folded: true)
        return try await read { db in
            if let pattern {
                return try Self.fetchAll(db, Q.searchConversations.sqlite,
                                         [.text(userID), .int(limit), .int(offset), .text(pattern)]).map(Conversation.init(row:))
            }
            return try Self.fetchAll(db, Q.userConversations, [.text(userID), .int(limit), .int(offset)]).map(Conversation.init(row:))
        }
    }

    public func conversation(id: RecordID, userID: RecordID) async throws -> Conversation? {
        try await read { db in try Self.fetchOne(db, Q.conversation, [.text(id), .text(userID)]).map(Conversation.init(row:)) }
    }

    public func updateConversation(_ conversation: Conversation) async throws {
        try await write { db in
            guard try Self.fetchOne(db, Q.ownsConversation, [.text(conversation.id), .text(conversation.userID)]) != nil else {
                throw StoreError.notFound("conversation \(conversation.id)")
            }
            if let leaf = conversation.currentLeafID,
               try Self.fetchOne(db, Q.messageInConversation, [.text(leaf), .text(conversation.id)]) == nil {
                throw StoreError.invalid("the current leaf \(leaf) is not a message of conversation \(conversation.id)")
            }
            _ = try Self.execute(db, Q.updateConversation, [
                .text(conversation.id), .text(conversation.userID), .text(conversation.title),
                .text(conversation.systemPrompt), .double(conversation.temperature), .text(conversation.model),
                .text(conversation.currentLeafID),
            ])
        }
    }

    public func deleteConversation(id: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in try Self.execute(db, Q.deleteConversation, [.text(id), .text(userID)]) > 0 }
    }

    // MARK: Messages

    public func appendMessage(_ message: Message, userID: RecordID) async throws -> Message {
        let stored = message.normalized
        try await write { db in
            try Self.insertMessage(db, stored, userID: userID, now: Date())
        }
        return stored
    }

    /// Checks ownership and the parent, inserts, and moves the conversation's current leaf (inside the caller's
    /// transaction).
    private static func insertMessage(_ db: Database, _ message: Message, userID: RecordID, now: Date) throws {
        guard try fetchOne(db, Q.ownsConversation, [.text(message.conversationID), .text(userID)]) != nil else {
            throw StoreError.notFound("conversation \(message.conversationID)")
        }
        if let parent = message.parentID,
           try fetchOne(db, Q.messageInConversation, [.text(parent), .text(message.conversationID)]) == nil {
            throw StoreError.invalid("the parent \(parent) is not a message of conversation \(message.conversationID)")
        }
        _ = try execute(db, Q.insertMessage, Values.message(message))
        _ = try execute(db, Q.setLeaf, [.text(message.conversationID), .text(message.id), .time(now)])
    }

    public func messages(conversationID: RecordID, userID: RecordID) async throws -> [Message] {
        try await read { db in
            try Self.fetchAll(db, Q.conversationMessages, [.text(conversationID), .text(userID)]).map(Message.init(row:))
        }
    }

    public func updateMessage(id: RecordID, userID: RecordID, content: String, status: MessageStatus) async throws {
        try await write { db in
            guard try Self.execute(db, Q.updateMessage, [.text(id), .text(userID), .text(content), .text(status.rawValue),
                                                         .time(Date())]) > 0 else {
                throw StoreError.notFound("message \(id)")
            }
        }
    }

    @discardableResult public func markInterruptedReplies() async throws -> Int {
        try await write { db in try Self.execute(db, Q.markInterrupted, [.time(Date())]) }
    }

    // MARK: Feedback and instructions

    public func setFeedback(_ feedback: Feedback) async throws {
        try Rules.checkRating(feedback.rating)
        try await write { db in
            guard let role = try Self.fetchOne(db, Q.userMessageRole, [.text(feedback.messageID), .text(feedback.userID)]) else {
                throw StoreError.notFound("message \(feedback.messageID)")
            }
            guard try role.text("role") == MessageRole.assistant.rawValue else {
                throw StoreError.invalid("feedback is for assistant messages; \(feedback.messageID) is not one")
            }
            _ = try Self.execute(db, Q.upsertFeedback, [.text(feedback.messageID), .text(feedback.userID),
                                                        .int(feedback.rating), .text(feedback.comment),
                                                        .time(feedback.createdAt)])
        }
    }

    public func feedback(conversationID: RecordID, userID: RecordID) async throws -> [Feedback] {
        try await read { db in
            try Self.fetchAll(db, Q.conversationFeedback, [.text(conversationID), .text(userID)]).map(Feedback.init(row:))
        }
    }

    public func customInstructions(userID: RecordID) async throws -> CustomInstructions {
        try await read { db in
            guard let row = try Self.fetchOne(db, Q.instructions, [.text(userID)]) else { return CustomInstructions() }
            return CustomInstructions(aboutMe: try row.text("about_me"), howToAnswer: try row.text("how_to_answer"))
        }
    }

    public func setCustomInstructions(_ instructions: CustomInstructions, userID: RecordID) async throws {
        try await write { db in
            _ = try Self.execute(db, Q.setInstructions, [.text(userID), .text(instructions.aboutMe),
                                                         .text(instructions.howToAnswer), .time(Date())])
        }
    }

    // MARK: Export and import

    public func exportConversations(userID: RecordID) async throws -> [ConversationExport] {
        // One read transaction: a consistent snapshot of everything.
        try await read { db in
            try Self.fetchAll(db, Q.allUserConversations, [.text(userID)]).map(Conversation.init(row:)).map { conversation in
                ConversationExport(
                    conversation: conversation,
                    messages: try Self.fetchAll(db, Q.conversationMessages, [.text(conversation.id), .text(userID)])
                        .map(Message.init(row:)),
                    feedback: try Self.fetchAll(db, Q.conversationFeedback, [.text(conversation.id), .text(userID)])
                        .map(Feedback.init(row:)))
            }
        }
    }

    public func importConversations(_ items: [ConversationExport], userID: RecordID) async throws -> Int {
        let plan = try ImportPlan.make(items, userID: userID)
        return try await write { db in
            guard try Self.fetchOne(db, Q.userByID, [.text(userID)]) != nil else { throw StoreError.notFound("user \(userID)") }
            for item in plan {
                _ = try Self.execute(db, Q.insertConversation, Values.conversation(item.conversation))
                for message in item.messages { _ = try Self.execute(db, Q.insertMessage, Values.message(message)) }
                for feedback in item.feedback {
                    _ = try Self.execute(db, Q.insertFeedback, [.text(feedback.messageID), .text(feedback.userID),
                                                                .int(feedback.rating), .text(feedback.comment),
                                                                .time(feedback.createdAt)])
                }
            }
            return plan.count
        }
    }

    // MARK: Statements

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValue in
            switch value {
            case .text(let text): return text.databaseValue
            case .int(let int): return int.databaseValue
            case .double(let double): return double.databaseValue
            case .null: return .null
            }
        })
    }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    static func execute(_ db: Database, _ sql: String, _ values: [SQLValue]) throws -> Int {
        try db.execute(sql: sqliteText(sql), arguments: arguments(values))
        return db.changesCount
    }

    static func fetchAll(_ db: Database, _ sql: String, _ values: [SQLValue]) throws -> [SQLiteRow] {
        try Row.fetchAll(db, sql: sqliteText(sql), arguments: arguments(values)).map(SQLiteRow.init)
    }

    static func fetchOne(_ db: Database, _ sql: String, _ values: [SQLValue]) throws -> SQLiteRow? {
        try Row.fetchOne(db, sql: sqliteText(sql), arguments: arguments(values)).map(SQLiteRow.init)
    }
}

struct SQLiteRow: SQLRowReader {
    let row: Row

    private func value(_ column: String) throws -> DatabaseValue {
        guard let value = row[column] as DatabaseValue? else {
            throw StoredValueError(description: "no column \(column) in the result")
        }
        return value
    }

    private func mismatch(_ column: String, _ type: String, _ value: DatabaseValue) -> StoredValueError {
        StoredValueError(description: "column \(column) holds \(value), not \(type)")
    }

    func text(_ column: String) throws -> String {
        let v = try value(column)
        guard let text = String.fromDatabaseValue(v) else { throw mismatch(column, "text", v) }
        return text
    }

    func optionalText(_ column: String) throws -> String? {
        let v = try value(column)
        if v.isNull { return nil }
        return try text(column)
    }

    func int(_ column: String) throws -> Int64 {
        let v = try value(column)
        guard case .int64(let int) = v.storage else { throw mismatch(column, "an integer", v) }
        return int
    }

    func optionalInt(_ column: String) throws -> Int64? {
        let v = try value(column)
        if v.isNull { return nil }
        return try int(column)
    }

    func optionalDouble(_ column: String) throws -> Double? {
        let v = try value(column)
        switch v.storage {
        case .null: return nil
        case .double(let double): return double
        case .int64(let int): return Double(int)
        default: throw mismatch(column, "a number", v)
        }
    }
}
