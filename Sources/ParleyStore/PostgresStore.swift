import Foundation
import Logging
import PostgresNIO

/// Where a PostgreSQL database is: parsed from `postgres://user:password@host:port/database?sslmode=…`
/// (`postgresql://` too). Port 5432, user `postgres` and database = user name unless given. `sslmode` is
/// `disable` (the default), `prefer`, `require` (encrypted, certificate not checked), `verify-ca` or
/// `verify-full`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(url: String) throws {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError.invalid("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw StoreError.invalid("the PostgreSQL URL has no host") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.percentEncodedPath.drop { $0 == "/" }
        database = path.isEmpty ? username : (String(path).removingPercentEncoding ?? String(path))
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard let tls = TLSMode(rawValue: mode) else {
            throw StoreError.invalid("sslmode \(mode) is not one of disable, prefer, require, verify-ca, verify-full")
        }
        self.tls = tls
    }

    /// `host:port`, as errors name the server.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL without the password.
    public var description: String { "postgres://\(username)@\(endpoint)/\(database)" }

    func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tlsSetting: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(tlsConfiguration())
        case .require, .verifyCA, .verifyFull: tlsSetting = .require(tlsConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                            database: database, tls: tlsSetting)
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tlsSetting: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
        case .require, .verifyCA, .verifyFull: tlsSetting = .require(try NIOSSLContext(configuration: tlsConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                database: database, tls: tlsSetting)
    }
}

/// The PostgreSQL backend, through a postgres-nio `PostgresClient` (a connection pool) whose `run()` runs in a
/// task the store owns; `close()` ends it. Writes run in transactions on one pooled connection.
public final class PostgresStore: ParleyStore, @unchecked Sendable {
    // @unchecked: the stored properties are immutable and Sendable except the run task, which is only touched
    // under `lock`.
    public let location: PostgresLocation
    private let client: PostgresClient
    private let logger: Logger
    private let lock = NSLock()
    private var runTask: Task<Void, Never>?

    /// Connects (once, to report an unreachable server or a bad login at once) and starts the pool. Does not
    /// migrate: call `migrate()`.
    public init(url: String, maxConnections: Int = 20, logger: Logger? = nil) async throws {
        Schema.checkOrder()
        let location = try PostgresLocation(url: url)
        self.location = location
        var log = logger ?? Logger(label: "parley.store.postgres")
        if logger == nil { log.logLevel = .warning }
        self.logger = log
        do {
            let probe = try await PostgresConnection.connect(configuration: try location.connectionConfiguration(), id: 0, logger: log)
            try await probe.close()
        } catch {
            throw Self.storeError(error, location: location)
        }
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = max(1, maxConnections)
        configuration.options.connectionIdleTimeout = .seconds(60)
        let client = PostgresClient(configuration: configuration, backgroundLogger: log)
        self.client = client
        runTask = Task { await client.run() }
    }

    deinit {
        runTask?.cancel()
    }

    public func close() async throws {
        let task: Task<Void, Never>? = lock.withLock {
            defer { runTask = nil }
            return runTask
        }
        task?.cancel()
        await task?.value
    }

    // MARK: Plumbing

    /// One statement outside a transaction.
    func rows(_ sql: String, _ values: [SQLValue]) async throws -> [PostgresRandomAccessRow] {
        do {
            return try await client.query(Self.query(sql, values), logger: logger).collect().map { $0.makeRandomAccess() }
        } catch {
            throw Self.storeError(error, location: location)
        }
    }

    func row(_ sql: String, _ values: [SQLValue]) async throws -> PostgresRandomAccessRow? {
        try await rows(sql, values).first
    }

    /// A transaction on one pooled connection: committed before this returns, rolled back if `body` throws.
    private func transaction<T: Sendable>(readOnly: Bool = false,
                                          _ body: (Transaction) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                let tx = Transaction(connection: connection, logger: logger)
                _ = try await tx.rows(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", [])
                do {
                    let value = try await body(tx)
                    _ = try await tx.rows("COMMIT", [])
                    return value
                } catch {
                    _ = try? await tx.rows("ROLLBACK", [])
                    throw error
                }
            }
        } catch {
            throw Self.storeError(error, location: location)
        }
    }

    struct Transaction {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ sql: String, _ values: [SQLValue]) async throws -> [PostgresRandomAccessRow] {
            try await connection.query(PostgresStore.query(sql, values), logger: logger).collect().map { $0.makeRandomAccess() }
        }

        func row(_ sql: String, _ values: [SQLValue]) async throws -> PostgresRandomAccessRow? {
            try await rows(sql, values).first
        }

        /// Runs an UPDATE, DELETE or INSERT; returns the number of rows it touched.
        @discardableResult
        func execute(_ sql: String, _ values: [SQLValue]) async throws -> Int {
            try await rows(sql + " RETURNING 1", values).count
        }
    }

    func execute(_ sql: String, _ values: [SQLValue]) async throws -> Int {
        try await rows(sql + " RETURNING 1", values).count
    }

    static func query(_ sql: String, _ values: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .int(let int): bindings.append(int)
            case .double(let double): bindings.append(double)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func storeError(_ error: any Error, location: PostgresLocation) -> any Error {
        if error is StoreError || error is CancellationError { return error }
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.commitError ?? error.beginError {
            return storeError(inner, location: location)
        }
        let server = "PostgreSQL at \(location.endpoint)"
        guard let error = error as? PSQLError else {
            return StoreError.unavailable("\(server): \(String(reflecting: error))")
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "error \(state)"
            switch state {
            case "23505": return StoreError.conflict("a row with this key already exists (\(message))")
            case "23503": return StoreError.notFound("a row this refers to does not exist (\(message))")
            case "23502", "23514", "22001", "22003", "22P02", "22021":
                return StoreError.invalid("a value breaks a rule of the schema (\(message))")
            case "28000", "28P01":
                return StoreError.unavailable("\(server) refused the login of \(location.username): \(message)")
            case "3D000":
                return StoreError.unavailable("\(server) has no database \(location.database): \(message)")
            default:
                return StoreError.unavailable("\(server): \(message) (SQLSTATE \(state))")
            }
        case .connectionError:
            let cause = error.underlying.map { String(describing: $0) } ?? "no reason given"
            return StoreError.unavailable("cannot connect to \(server): \(cause)")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return StoreError.unavailable("the connection to \(server) was closed")
        case .poolClosed:
            return StoreError.unavailable("the store for \(server) is closed")
        case .sslUnsupported:
            return StoreError.unavailable("\(server) does not offer TLS, which sslmode=\(location.tls.rawValue) requires")
        default:
            return StoreError.unavailable("\(server): \(error.code)")
        }
    }

    // MARK: Migrations

    /// Serializes migrations of concurrent processes (a transaction-scoped advisory lock; any constant works).
    private static let migrationLock: Int64 = 0x5061_726c_6579

    @discardableResult public func migrate() async throws -> Int {
        try await transaction { tx in
            _ = try await tx.rows("SELECT pg_advisory_xact_lock($1)", [.int(Self.migrationLock)])
            _ = try await tx.rows(Schema.migrationsTable.postgres, [])
        }
        let applied = try await rows(Q.appliedVersions, []).map { try Int($0.int("version")) }
        if let newest = applied.last, newest > Schema.latestVersion { throw Schema.tooNew(newest) }
        for migration in Schema.migrations where !applied.contains(migration.version) {
            try await transaction { tx in
                _ = try await tx.rows("SELECT pg_advisory_xact_lock($1)", [.int(Self.migrationLock)])
                // Another process may have applied it while this one waited for the lock.
                guard try await tx.row(Q.isApplied, [.int(migration.version)]) == nil else { return }
                for statement in migration.statements { _ = try await tx.rows(statement.postgres, []) }
                try await tx.execute(Q.recordMigration, [.int(migration.version), .text(migration.name), .time(Date())])
            }
        }
        return Int(try await row("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", [])?.int("version") ?? 0)
    }

    // MARK: Users and settings

    public func createUser(email: String, displayName: String, passwordHash: String) async throws -> User {
        let email = try Rules.checkedEmail(email)
        return try await transaction { tx in
            // Concurrent sign-ups wait here, so exactly one of them sees an empty table (SHARE ROW EXCLUSIVE
            // conflicts with itself and with inserts; readers are not blocked).
            _ = try await tx.rows("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", [])
            if try await tx.row(Q.userByEmail, [.text(email)]) != nil {
                throw StoreError.conflict("the email \(email) is already registered")
            }
            let count = try await tx.row(Q.countUsers, [])?.int("n") ?? 0
            let user = User(email: email, displayName: displayName, passwordHash: passwordHash, isAdmin: count == 0,
                            createdAt: Time.normalized(Date()))
            try await tx.execute(Q.insertUser, [.text(user.id), .text(user.email), .text(user.displayName),
                                                .text(user.passwordHash), .bool(user.isAdmin), .time(user.createdAt)])
            return user
        }
    }

    public func user(id: RecordID) async throws -> User? {
        try await row(Q.userByID, [.text(id)]).map(User.init(row:))
    }

    public func user(email: String) async throws -> User? {
        try await row(Q.userByEmail, [.text(Rules.normalizedEmail(email))]).map(User.init(row:))
    }

    public func userCount() async throws -> Int {
        Int(try await row(Q.countUsers, [])?.int("n") ?? 0)
    }

    public func updatePasswordHash(userID: RecordID, passwordHash: String) async throws {
        guard try await execute(Q.updatePassword, [.text(userID), .text(passwordHash)]) > 0 else {
            throw StoreError.notFound("user \(userID)")
        }
    }

    public func setting(_ key: String) async throws -> String? {
        try await row(Q.setting, [.text(key)])?.text("value")
    }

    public func setSetting(_ key: String, value: String) async throws {
        _ = try await execute(Q.setSetting, [.text(key), .text(value)])
    }

    // MARK: Sessions

    public func createSession(_ session: WebSession) async throws {
        _ = try await execute(Q.insertSession, [.text(session.tokenHash), .text(session.userID), .text(session.csrfToken),
                                                .time(session.createdAt), .time(session.expiresAt)])
    }

    public func session(tokenHash: String, now: Date) async throws -> WebSession? {
        try await row(Q.liveSession, [.text(tokenHash), .time(now)]).map(WebSession.init(row:))
    }

    public func deleteSession(tokenHash: String) async throws {
        _ = try await execute(Q.deleteSession, [.text(tokenHash)])
    }

    public func deleteSessions(userID: RecordID) async throws {
        _ = try await execute(Q.deleteUserSessions, [.text(userID)])
    }

    @discardableResult public func deleteExpiredSessions(now: Date) async throws -> Int {
        try await execute(Q.deleteExpiredSessions, [.time(now)])
    }

    // MARK: API keys

    public func createAPIKey(_ key: APIKey) async throws {
        _ = try await execute(Q.insertAPIKey, [.text(key.id), .text(key.userID), .text(key.name), .text(key.prefix),
                                               .text(key.keyHash), .time(key.createdAt), .time(key.lastUsedAt),
                                               .time(key.revokedAt)])
    }

    public func apiKeys(userID: RecordID) async throws -> [APIKey] {
        try await rows(Q.userAPIKeys, [.text(userID)]).map(APIKey.init(row:))
    }

    public func useAPIKey(keyHash: String, now: Date) async throws -> APIKey? {
        try await row(Q.useAPIKey, [.text(keyHash), .time(now)]).map(APIKey.init(row:))
    }

    public func revokeAPIKey(id: RecordID, userID: RecordID, now: Date) async throws -> Bool {
        try await execute(Q.revokeAPIKey, [.text(id), .text(userID), .time(now)]) > 0
    }

    // MARK: Conversations

    public func createConversation(_ conversation: Conversation) async throws -> Conversation {
        guard conversation.currentLeafID == nil else {
            throw StoreError.invalid("a new conversation has no messages, so no current leaf")
        }
        let stored = conversation.normalized
        try await transaction { tx in
            guard try await tx.row(Q.userByID, [.text(stored.userID)]) != nil else {
                throw StoreError.notFound("user \(stored.userID)")
            }
            try await tx.execute(Q.insertConversation, Values.conversation(stored))
        }
        return stored
    }

    public func conversations(userID: RecordID, search: String?, limit: Int, offset: Int) async throws -> [Conversation] {
        try Rules.checkPage(limit: limit, offset: offset)
        if let pattern = Rules.containsPattern(search, folded: false) {
            return try await rows(Q.searchConversations.postgres, [.text(userID), .int(limit), .int(offset), .text(pattern)])
                .map(Conversation.init(row:))
        }
        return try await rows(Q.userConversations, [.text(userID), .int(limit), .int(offset)]).map(Conversation.init(row:))
    }

    public func conversation(id: RecordID, userID: RecordID) async throws -> Conversation? {
        try await row(Q.conversation, [.text(id), .text(userID)]).map(Conversation.init(row:))
    }

    public func updateConversation(_ conversation: Conversation) async throws {
        try await transaction { tx in
            guard try await tx.row(Q.ownsConversation + " FOR UPDATE", [.text(conversation.id), .text(conversation.userID)]) != nil else {
                throw StoreError.notFound("conversation \(conversation.id)")
            }
            if let leaf = conversation.currentLeafID,
               try await tx.row(Q.messageInConversation, [.text(leaf), .text(conversation.id)]) == nil {
                throw StoreError.invalid("the current leaf \(leaf) is not a message of conversation \(conversation.id)")
            }
            try await tx.execute(Q.updateConversation, [
                .text(conversation.id), .text(conversation.userID), .text(conversation.title),
                .text(conversation.systemPrompt), .double(conversation.temperature), .text(conversation.model),
                .text(conversation.currentLeafID),
            ])
        }
    }

    public func deleteConversation(id: RecordID, userID: RecordID) async throws -> Bool {
        try await execute(Q.deleteConversation, [.text(id), .text(userID)]) > 0
    }

    // MARK: Messages

    public func appendMessage(_ message: Message, userID: RecordID) async throws -> Message {
        let stored = message.normalized
        try await transaction { tx in
            // Locks the conversation row: appends to one conversation queue up here rather than racing for its leaf.
            guard try await tx.row(Q.ownsConversation + " FOR UPDATE", [.text(stored.conversationID), .text(userID)]) != nil else {
                throw StoreError.notFound("conversation \(stored.conversationID)")
            }
            if let parent = stored.parentID,
               try await tx.row(Q.messageInConversation, [.text(parent), .text(stored.conversationID)]) == nil {
                throw StoreError.invalid("the parent \(parent) is not a message of conversation \(stored.conversationID)")
            }
            try await tx.execute(Q.insertMessage, Values.message(stored))
            try await tx.execute(Q.setLeaf, [.text(stored.conversationID), .text(stored.id), .time(Date())])
        }
        return stored
    }

    public func messages(conversationID: RecordID, userID: RecordID) async throws -> [Message] {
        try await rows(Q.conversationMessages, [.text(conversationID), .text(userID)]).map(Message.init(row:))
    }

    public func updateMessage(id: RecordID, userID: RecordID, content: String, status: MessageStatus) async throws {
        guard try await execute(Q.updateMessage, [.text(id), .text(userID), .text(content), .text(status.rawValue),
                                                  .time(Date())]) > 0 else {
            throw StoreError.notFound("message \(id)")
        }
    }

    @discardableResult public func markInterruptedReplies() async throws -> Int {
        try await execute(Q.markInterrupted, [.time(Date())])
    }

    // MARK: Feedback and instructions

    public func setFeedback(_ feedback: Feedback) async throws {
        try Rules.checkRating(feedback.rating)
        try await transaction { tx in
            guard let row = try await tx.row(Q.userMessageRole, [.text(feedback.messageID), .text(feedback.userID)]) else {
                throw StoreError.notFound("message \(feedback.messageID)")
            }
            guard try row.text("role") == MessageRole.assistant.rawValue else {
                throw StoreError.invalid("feedback is for assistant messages; \(feedback.messageID) is not one")
            }
            try await tx.execute(Q.upsertFeedback, [.text(feedback.messageID), .text(feedback.userID), .int(feedback.rating),
                                                    .text(feedback.comment), .time(feedback.createdAt)])
        }
    }

    public func feedback(conversationID: RecordID, userID: RecordID) async throws -> [Feedback] {
        try await rows(Q.conversationFeedback, [.text(conversationID), .text(userID)]).map(Feedback.init(row:))
    }

    public func customInstructions(userID: RecordID) async throws -> CustomInstructions {
        guard let row = try await row(Q.instructions, [.text(userID)]) else { return CustomInstructions() }
        return CustomInstructions(aboutMe: try row.text("about_me"), howToAnswer: try row.text("how_to_answer"))
    }

    public func setCustomInstructions(_ instructions: CustomInstructions, userID: RecordID) async throws {
        _ = try await execute(Q.setInstructions, [.text(userID), .text(instructions.aboutMe), .text(instructions.howToAnswer),
                                                  .time(Date())])
    }

    // MARK: Export and import

    public func exportConversations(userID: RecordID) async throws -> [ConversationExport] {
        // One REPEATABLE READ transaction: a consistent snapshot of everything.
        try await transaction(readOnly: true) { tx in
            var exports: [ConversationExport] = []
            for conversation in try await tx.rows(Q.allUserConversations, [.text(userID)]).map(Conversation.init(row:)) {
                let messages = try await tx.rows(Q.conversationMessages, [.text(conversation.id), .text(userID)]).map(Message.init(row:))
                let feedback = try await tx.rows(Q.conversationFeedback, [.text(conversation.id), .text(userID)]).map(Feedback.init(row:))
                exports.append(ConversationExport(conversation: conversation, messages: messages, feedback: feedback))
            }
            return exports
        }
    }

    public func importConversations(_ items: [ConversationExport], userID: RecordID) async throws -> Int {
        let plan = try ImportPlan.make(items, userID: userID)
        return try await transaction { tx in
            guard try await tx.row(Q.userByID, [.text(userID)]) != nil else { throw StoreError.notFound("user \(userID)") }
            for item in plan {
                try await tx.execute(Q.insertConversation, Values.conversation(item.conversation))
                for message in item.messages { try await tx.execute(Q.insertMessage, Values.message(message)) }
                for feedback in item.feedback {
                    try await tx.execute(Q.insertFeedback, [.text(feedback.messageID), .text(feedback.userID),
                                                            .int(feedback.rating), .text(feedback.comment),
                                                            .time(feedback.createdAt)])
                }
            }
            return plan.count
        }
    }
}

extension PostgresRandomAccessRow: SQLRowReader {
    private func cell(_ column: String) throws -> PostgresCell {
        guard contains(column) else { throw StoredValueError(description: "no column \(column) in the result") }
        return self[column]
    }

    func text(_ column: String) throws -> String { try cell(column).decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try cell(column).decode(String?.self) }
    func int(_ column: String) throws -> Int64 { try cell(column).decode(Int64.self) }
    func optionalInt(_ column: String) throws -> Int64? { try cell(column).decode(Int64?.self) }
    func optionalDouble(_ column: String) throws -> Double? { try cell(column).decode(Double?.self) }
}
