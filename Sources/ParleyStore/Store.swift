import Foundation

// The persistence interface of the chat app. Two backends implement it with the same versioned migrations:
// SQLite through GRDB (the default) and PostgreSQL through postgres-nio. Every method that reads or writes a
// user's data takes that user's id and scopes the query by it: a caller can never reach another user's rows,
// whatever ids it passes.

/// Ids are random UUID strings (lowercase), made by the store unless the caller sets one.
public typealias RecordID = String

public struct User: Sendable, Codable, Equatable {
    public var id: RecordID
    /// The sign-in name, unique, stored lowercased and trimmed.
    public var email: String
    public var displayName: String
    /// A self-describing KDF string (algorithm, cost, salt, hash); the server makes and checks it.
    public var passwordHash: String
    public var isAdmin: Bool
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), email: String, displayName: String, passwordHash: String,
                isAdmin: Bool = false, createdAt: Date = Date()) {
        self.id = id; self.email = email; self.displayName = displayName; self.passwordHash = passwordHash
        self.isAdmin = isAdmin; self.createdAt = createdAt
    }
}

/// A signed-in browser. The cookie carries a random token; only its SHA-256 (hex) is stored.
public struct WebSession: Sendable, Codable, Equatable {
    public var tokenHash: String
    public var userID: RecordID
    /// Sent back by the page in `X-CSRF-Token` on every state-changing request.
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(tokenHash: String, userID: RecordID, csrfToken: String, createdAt: Date = Date(), expiresAt: Date) {
        self.tokenHash = tokenHash; self.userID = userID; self.csrfToken = csrfToken
        self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}

/// A per-user key for the OpenAI API. Only the SHA-256 (hex) of the secret is stored, with a short prefix to
/// recognise it by in the UI.
public struct APIKey: Sendable, Codable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    public var name: String
    public var prefix: String
    public var keyHash: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(id: RecordID = newRecordID(), userID: RecordID, name: String, prefix: String, keyHash: String,
                createdAt: Date = Date(), lastUsedAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id; self.userID = userID; self.name = name; self.prefix = prefix; self.keyHash = keyHash
        self.createdAt = createdAt; self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
    }
}

public struct Conversation: Sendable, Codable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    public var title: String
    /// Per-conversation settings; nil means the user's / server's default.
    public var systemPrompt: String?
    public var temperature: Double?
    public var model: String?
    /// The leaf of the branch the user is looking at (nil for an empty conversation).
    public var currentLeafID: RecordID?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: RecordID = newRecordID(), userID: RecordID, title: String, systemPrompt: String? = nil,
                temperature: Double? = nil, model: String? = nil, currentLeafID: RecordID? = nil,
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id; self.userID = userID; self.title = title; self.systemPrompt = systemPrompt
        self.temperature = temperature; self.model = model; self.currentLeafID = currentLeafID
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

public enum MessageRole: String, Sendable, Codable { case system, user, assistant }

public enum MessageStatus: String, Sendable, Codable {
    /// Written in full.
    case complete
    /// A reply being generated right now; its content is flushed as it grows.
    case generating
    /// A reply cut off by a stop, an error or a crash: kept as far as it got.
    case incomplete
}

/// One node of a conversation's message tree. Editing a user message or regenerating a reply adds a sibling
/// (same parent); a branch is the path from a root to a leaf.
public struct Message: Sendable, Codable, Equatable {
    public var id: RecordID
    public var conversationID: RecordID
    public var parentID: RecordID?
    public var role: MessageRole
    public var content: String
    /// The model that wrote an assistant message.
    public var model: String?
    public var status: MessageStatus
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: RecordID = newRecordID(), conversationID: RecordID, parentID: RecordID?, role: MessageRole,
                content: String, model: String? = nil, status: MessageStatus = .complete,
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id; self.conversationID = conversationID; self.parentID = parentID; self.role = role
        self.content = content; self.model = model; self.status = status
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// Thumbs up (+1) or down (-1) on an assistant message, with an optional comment; one per user and message.
public struct Feedback: Sendable, Codable, Equatable {
    public var messageID: RecordID
    public var userID: RecordID
    public var rating: Int
    public var comment: String?
    public var createdAt: Date

    public init(messageID: RecordID, userID: RecordID, rating: Int, comment: String? = nil, createdAt: Date = Date()) {
        self.messageID = messageID; self.userID = userID; self.rating = rating; self.comment = comment
        self.createdAt = createdAt
    }
}

/// Applied to every chat of the user.
public struct CustomInstructions: Sendable, Codable, Equatable {
    public var aboutMe: String
    public var howToAnswer: String

    public init(aboutMe: String = "", howToAnswer: String = "") {
        self.aboutMe = aboutMe; self.howToAnswer = howToAnswer
    }
}

/// One conversation with everything in it, as exported and imported.
public struct ConversationExport: Sendable, Codable, Equatable {
    public var conversation: Conversation
    public var messages: [Message]
    public var feedback: [Feedback]

    public init(conversation: Conversation, messages: [Message], feedback: [Feedback]) {
        self.conversation = conversation; self.messages = messages; self.feedback = feedback
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A unique value is taken (an email, say).
    case conflict(String)
    /// The row does not exist or belongs to another user (the two are not told apart on purpose).
    case notFound(String)
    /// A value breaks a rule (a parent in another conversation, a rating other than ±1, …).
    case invalid(String)
    /// The database could not be opened or reached, or a migration failed.
    case unavailable(String)

    public var description: String {
        switch self {
        case .conflict(let m): return "conflict: \(m)"
        case .notFound(let m): return "not found: \(m)"
        case .invalid(let m): return "invalid: \(m)"
        case .unavailable(let m): return "database unavailable: \(m)"
        }
    }
}

public func newRecordID() -> RecordID { UUID().uuidString.lowercased() }

/// The chat app's persistence. Implementations are safe to call from many tasks at once.
public protocol ParleyStore: Sendable {
    /// Applies the migrations not yet applied (idempotent); returns the schema version reached.
    @discardableResult func migrate() async throws -> Int
    func close() async throws

    // MARK: Users and settings
    /// Creates a user; the first user ever created is the admin (decided atomically). Throws `.conflict` when
    /// the email is taken.
    func createUser(email: String, displayName: String, passwordHash: String) async throws -> User
    func user(id: RecordID) async throws -> User?
    func user(email: String) async throws -> User?
    func userCount() async throws -> Int
    func updatePasswordHash(userID: RecordID, passwordHash: String) async throws
    /// Server-wide settings (e.g. "signup_enabled"), as strings.
    func setting(_ key: String) async throws -> String?
    func setSetting(_ key: String, value: String) async throws

    // MARK: Sessions
    func createSession(_ session: WebSession) async throws
    /// Nil when unknown or expired.
    func session(tokenHash: String, now: Date) async throws -> WebSession?
    func deleteSession(tokenHash: String) async throws
    func deleteSessions(userID: RecordID) async throws
    /// Removes expired sessions; returns how many.
    @discardableResult func deleteExpiredSessions(now: Date) async throws -> Int

    // MARK: API keys
    func createAPIKey(_ key: APIKey) async throws
    /// The user's keys, revoked ones included, newest first.
    func apiKeys(userID: RecordID) async throws -> [APIKey]
    /// The unrevoked key with this hash; records the use time.
    func useAPIKey(keyHash: String, now: Date) async throws -> APIKey?
    /// False when there is no such key of this user.
    func revokeAPIKey(id: RecordID, userID: RecordID, now: Date) async throws -> Bool

    // MARK: Conversations
    func createConversation(_ conversation: Conversation) async throws -> Conversation
    /// Newest-updated first. `search` matches (case-insensitively) the title or any message's content.
    func conversations(userID: RecordID, search: String?, limit: Int, offset: Int) async throws -> [Conversation]
    func conversation(id: RecordID, userID: RecordID) async throws -> Conversation?
    /// Writes title, system prompt, temperature, model and current leaf; throws `.notFound` if not the user's,
    /// `.invalid` if the leaf is not a message of this conversation.
    func updateConversation(_ conversation: Conversation) async throws
    /// Deletes the conversation, its messages and their feedback. False when there is no such conversation.
    func deleteConversation(id: RecordID, userID: RecordID) async throws -> Bool

    // MARK: Messages
    /// Appends a node to the user's conversation (committed before returning) and makes it the current leaf.
    /// The parent must be nil or a message of the same conversation.
    func appendMessage(_ message: Message, userID: RecordID) async throws -> Message
    /// Every node of the conversation's tree, oldest first.
    func messages(conversationID: RecordID, userID: RecordID) async throws -> [Message]
    /// Rewrites a message's content and status (used to flush a reply as it streams and to finish it).
    func updateMessage(id: RecordID, userID: RecordID, content: String, status: MessageStatus) async throws
    /// At start-up: replies left `generating` by a crash become `incomplete`. Returns how many.
    @discardableResult func markInterruptedReplies() async throws -> Int

    // MARK: Feedback and instructions
    /// One per user and message: a second call replaces the first. Rating must be +1 or -1.
    func setFeedback(_ feedback: Feedback) async throws
    func feedback(conversationID: RecordID, userID: RecordID) async throws -> [Feedback]
    func customInstructions(userID: RecordID) async throws -> CustomInstructions
    func setCustomInstructions(_ instructions: CustomInstructions, userID: RecordID) async throws

    // MARK: Export and import
    func exportConversations(userID: RecordID) async throws -> [ConversationExport]
    /// Imports in one transaction under fresh ids (parents, leaves and feedback remapped), owned by `userID`.
    /// Returns the number of conversations imported.
    func importConversations(_ items: [ConversationExport], userID: RecordID) async throws -> Int
}
