import Foundation

/// One indexed snippet of a user's earlier conversation (their own message), for chat-history reference.
public struct HistorySnippet: Sendable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    public var conversationID: RecordID
    public var messageID: RecordID
    public var text: String
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), userID: RecordID, conversationID: RecordID, messageID: RecordID,
                text: String, createdAt: Date) {
        self.id = id; self.userID = userID; self.conversationID = conversationID; self.messageID = messageID
        self.text = text; self.createdAt = createdAt
    }
}

/// A history snippet's sentence embedding and the model that made it.
public struct HistorySnippetEmbedding: Sendable, Equatable {
    public var snippetID: RecordID
    public var conversationID: RecordID
    public var model: String
    public var vector: [Float]

    public init(snippetID: RecordID, conversationID: RecordID, model: String, vector: [Float]) {
        self.snippetID = snippetID; self.conversationID = conversationID; self.model = model; self.vector = vector
    }
}

/// What memory in chat keeps beside the saved memories: the per-user auto-memory switch, which conversations
/// are temporary (they neither read nor write memory), and the index of the user's earlier messages that
/// chat-history reference searches (words + CJK bigrams full-text, and sentence embeddings).
///
/// As with `MemoryStore`, every call names the user and nothing reads or changes another user's rows.
public protocol ChatMemoryStore: MemoryStore {
    /// Whether memories may be proposed automatically from the user's messages (default: on).
    func autoMemory(userID: RecordID) async throws -> Bool
    func setAutoMemory(_ enabled: Bool, userID: RecordID) async throws

    /// Marks the user's conversation temporary; false when the user has no such conversation.
    @discardableResult
    func markTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool
    func isTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool

    /// Indexes one of the user's messages for history reference (text trimmed; empty is `StoreError.invalid`).
    @discardableResult
    func addHistorySnippet(userID: RecordID, conversationID: RecordID, messageID: RecordID, text: String,
                           embedding: [Float], model: String) async throws -> HistorySnippet
    /// The user's snippets with these ids (unknown ids and other users' snippets are left out).
    func historySnippets(ids: [RecordID], userID: RecordID) async throws -> [HistorySnippet]
    /// Every snippet embedding of the user's, except those of `excludingConversation`.
    func historyEmbeddings(userID: RecordID, excludingConversation: RecordID?) async throws -> [HistorySnippetEmbedding]
    /// Full-text search over the user's snippets (except `excludingConversation`), best first, at most `limit`.
    func searchHistoryText(userID: RecordID, query: String, excludingConversation: RecordID?, limit: Int) async throws -> [HistorySnippet]
    /// Re-embeds one snippet (after an embedding model change).
    func updateHistoryEmbedding(id: RecordID, userID: RecordID, embedding: [Float], model: String) async throws

    /// Deletes the account and, by cascade, everything of it: conversations, memories, snippets and their vectors.
    /// False when there is no such user.
    @discardableResult
    func deleteUserAccount(userID: RecordID) async throws -> Bool
}

enum ChatMemoryQueries {
    static let autoMemory = "SELECT auto_memory FROM memory_settings WHERE user_id = $1"
    static let setAutoMemory = """
        INSERT INTO memory_settings (user_id, auto_memory, updated_at) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE SET auto_memory = excluded.auto_memory, updated_at = excluded.updated_at
        """
    static let markTemporary = """
        INSERT INTO temporary_conversations (conversation_id, user_id)
        SELECT id, user_id FROM conversations WHERE id = $1 AND user_id = $2
        ON CONFLICT (conversation_id) DO NOTHING
        """
    static let isTemporary = "SELECT 1 AS one FROM temporary_conversations WHERE conversation_id = $1 AND user_id = $2"
    static let insertSnippet = """
        INSERT INTO history_snippets (id, user_id, conversation_id, message_id, text, search_terms, embedding, embedding_model, created_at)
        SELECT $1, $2, id, $4, $5, $6, $7, $8, $9 FROM conversations WHERE id = $3 AND user_id = $2
        """
    static let snippetColumns = "id, user_id, conversation_id, message_id, text, created_at"
    static let embeddings = """
        SELECT id, conversation_id, embedding, embedding_model FROM history_snippets
        WHERE user_id = $1 AND conversation_id <> $2
        """
    static let updateEmbedding = "UPDATE history_snippets SET embedding = $3, embedding_model = $4 WHERE id = $1 AND user_id = $2"
    static let deleteUser = "DELETE FROM users WHERE id = $1"

    /// `$2, $3, …` for `count` ids after the user (placeholder 1).
    static func snippetsByID(count: Int) -> String {
        let marks = (0..<count).map { "$\($0 + 2)" }.joined(separator: ", ")
        return "SELECT \(snippetColumns) FROM history_snippets WHERE user_id = $1 AND id IN (\(marks))"
    }

    /// An id no conversation has, standing for "exclude nothing".
    static let noConversation = ""
}

extension HistorySnippet {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), conversationID: try row.text("conversation_id"),
                  messageID: try row.text("message_id"), text: try row.text("text"), createdAt: try row.time("created_at"))
    }
}

extension HistorySnippetEmbedding {
    init(row: some SQLRowReader) throws {
        self.init(snippetID: try row.text("id"), conversationID: try row.text("conversation_id"),
                  model: try row.text("embedding_model"), vector: try EmbeddingCoding.decode(try row.text("embedding")))
    }
}
