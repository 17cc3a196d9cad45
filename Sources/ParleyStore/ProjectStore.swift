import Foundation

/// A project: conversations grouped with shared instructions and files.
public struct ChatProject: Sendable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    public var name: String
    public var instructions: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: RecordID = newRecordID(), userID: RecordID, name: String, instructions: String = "",
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id; self.userID = userID; self.name = name; self.instructions = instructions
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// A file uploaded to a project: its name, type, size and the text extracted from it.
public struct ProjectFile: Sendable, Equatable {
    public var id: RecordID
    public var projectID: RecordID
    public var userID: RecordID
    public var name: String
    public var mediaType: String
    public var size: Int
    public var chunkCount: Int
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), projectID: RecordID, userID: RecordID, name: String, mediaType: String,
                size: Int, chunkCount: Int, createdAt: Date = Date()) {
        self.id = id; self.projectID = projectID; self.userID = userID; self.name = name; self.mediaType = mediaType
        self.size = size; self.chunkCount = chunkCount; self.createdAt = createdAt
    }
}

/// One indexed piece of a project file's text (`ordinal` from 1, in file order).
public struct FileChunk: Sendable, Equatable {
    public var id: RecordID
    public var fileID: RecordID
    public var projectID: RecordID
    public var fileName: String
    public var ordinal: Int
    public var text: String
}

/// A chunk's embedding, for dense retrieval.
public struct FileChunkEmbedding: Sendable, Equatable {
    public var chunkID: RecordID
    public var model: String
    public var vector: [Float]
}

/// A chunk to store: its text and embedding.
public struct NewFileChunk: Sendable {
    public var text: String
    public var embedding: [Float]
    public init(text: String, embedding: [Float]) { self.text = text; self.embedding = embedding }
}

/// Projects, their conversations and files, and the files' chunk index (full-text: words and CJK bigrams;
/// vectors). Every call names the user; another user's ids behave as unknown ones.
public protocol ProjectStore: Sendable {
    func createChatProject(_ project: ChatProject) async throws -> ChatProject
    /// The user's projects, most recently updated first.
    func chatProjects(userID: RecordID) async throws -> [ChatProject]
    func chatProject(id: RecordID, userID: RecordID) async throws -> ChatProject?
    /// Renames / re-instructs; false when the user has no such project.
    @discardableResult
    func updateChatProject(_ project: ChatProject) async throws -> Bool
    /// Deletes the project, its files and chunks; its conversations stay, outside any project.
    @discardableResult
    func deleteChatProject(id: RecordID, userID: RecordID) async throws -> Bool

    /// Puts the user's conversation in the user's project (nil: in none); false when either is not the user's.
    @discardableResult
    func setProject(_ projectID: RecordID?, conversationID: RecordID, userID: RecordID) async throws -> Bool
    func projectID(conversationID: RecordID, userID: RecordID) async throws -> RecordID?
    /// The ids of the project's conversations.
    func conversationIDs(projectID: RecordID, userID: RecordID) async throws -> [RecordID]

    /// Stores a file and its chunks in one transaction.
    func addFile(_ file: ProjectFile, chunks: [NewFileChunk], model: String) async throws -> ProjectFile
    func files(projectID: RecordID, userID: RecordID) async throws -> [ProjectFile]
    @discardableResult
    func deleteFile(id: RecordID, userID: RecordID) async throws -> Bool
    /// Full-text search over the project's chunks, best first.
    func searchChunkText(projectID: RecordID, userID: RecordID, query: String, limit: Int) async throws -> [FileChunk]
    func chunkEmbeddings(projectID: RecordID, userID: RecordID) async throws -> [FileChunkEmbedding]
    func chunks(ids: [RecordID], userID: RecordID) async throws -> [FileChunk]
    /// Every chunk of the user's (for the export).
    func allChunks(userID: RecordID) async throws -> [(chunk: FileChunk, embedding: FileChunkEmbedding)]
}

enum ProjectRules {
    static func checkedName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw StoreError.invalid("a project's name is empty") }
        guard trimmed.count <= 200 else { throw StoreError.invalid("a project's name is at most 200 characters") }
        return trimmed
    }

    static func checkedInstructions(_ text: String) throws -> String {
        guard text.count <= 32_000 else { throw StoreError.invalid("a project's instructions are at most 32,000 characters") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

enum ProjectQueries {
    static let projectColumns = "id, user_id, name, instructions, created_at, updated_at"
    static let insertChatProject = "INSERT INTO chat_projects (\(projectColumns)) VALUES ($1, $2, $3, $4, $5, $6)"
    static let chatProjects = "SELECT \(projectColumns) FROM chat_projects WHERE user_id = $1 ORDER BY updated_at DESC, id"
    static let chatProject = "SELECT \(projectColumns) FROM chat_projects WHERE id = $1 AND user_id = $2"
    static let updateChatProject = "UPDATE chat_projects SET name = $3, instructions = $4, updated_at = $5 WHERE id = $1 AND user_id = $2"
    static let deleteChatProject = "DELETE FROM chat_projects WHERE id = $1 AND user_id = $2"
    static let clearConversationProject = "DELETE FROM chat_project_conversations WHERE conversation_id = $1 AND user_id = $2"
    static let setConversationProject = """
        INSERT INTO chat_project_conversations (conversation_id, project_id, user_id)
        SELECT c.id, p.id, c.user_id FROM conversations c JOIN chat_projects p ON p.user_id = c.user_id
        WHERE c.id = $1 AND p.id = $2 AND c.user_id = $3
        ON CONFLICT (conversation_id) DO UPDATE SET project_id = excluded.project_id
        """
    static let conversationExists = "SELECT 1 AS one FROM conversations WHERE id = $1 AND user_id = $2"
    static let projectOfConversation = "SELECT project_id FROM chat_project_conversations WHERE conversation_id = $1 AND user_id = $2"
    static let conversationsOfProject = "SELECT conversation_id FROM chat_project_conversations WHERE project_id = $1 AND user_id = $2"
    static let fileColumns = "id, project_id, user_id, name, media_type, size, chunk_count, created_at"
    static let insertFile = """
        INSERT INTO chat_project_files (\(fileColumns))
        SELECT $1, id, user_id, $3, $4, $5, $6, $7 FROM chat_projects WHERE id = $2 AND user_id = $8
        """
    static let insertChunk = """
        INSERT INTO chat_project_chunks (id, file_id, project_id, user_id, ordinal, text, search_terms, embedding, embedding_model)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """
    static let files = "SELECT \(fileColumns) FROM chat_project_files WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id"
    static let deleteFile = "DELETE FROM chat_project_files WHERE id = $1 AND user_id = $2"
    static let chunkColumns = "k.id, k.file_id, k.project_id, f.name AS file_name, k.ordinal, k.text"
    static let embeddings = "SELECT id, embedding, embedding_model FROM chat_project_chunks WHERE project_id = $1 AND user_id = $2"
    static let allChunks = """
        SELECT \(chunkColumns), k.embedding, k.embedding_model FROM chat_project_chunks k JOIN chat_project_files f ON f.id = k.file_id
        WHERE k.user_id = $1 ORDER BY f.created_at, k.file_id, k.ordinal
        """

    static func chunksByID(count: Int) -> String {
        let marks = (0..<count).map { "$\($0 + 2)" }.joined(separator: ", ")
        return "SELECT \(chunkColumns) FROM chat_project_chunks k JOIN chat_project_files f ON f.id = k.file_id WHERE k.user_id = $1 AND k.id IN (\(marks))"
    }
}

extension ChatProject {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), name: try row.text("name"),
                  instructions: try row.text("instructions"), createdAt: try row.time("created_at"), updatedAt: try row.time("updated_at"))
    }
}

extension ProjectFile {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), projectID: try row.text("project_id"), userID: try row.text("user_id"),
                  name: try row.text("name"), mediaType: try row.text("media_type"), size: Int(try row.int("size")),
                  chunkCount: Int(try row.int("chunk_count")), createdAt: try row.time("created_at"))
    }
}

extension FileChunk {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), fileID: try row.text("file_id"), projectID: try row.text("project_id"),
                  fileName: try row.text("file_name"), ordinal: Int(try row.int("ordinal")), text: try row.text("text"))
    }
}

extension FileChunkEmbedding {
    init(row: some SQLRowReader) throws {
        self.init(chunkID: try row.text("id"), model: try row.text("embedding_model"),
                  vector: try EmbeddingCoding.decode(try row.text("embedding")))
    }
}
