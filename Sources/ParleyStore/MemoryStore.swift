import Foundation

/// A saved memory: one fact or preference about a user, in their words (or the assistant's summary of them).
public struct Memory: Sendable, Codable, Equatable {
    public var id: RecordID
    public var userID: RecordID
    public var text: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: RecordID = newRecordID(), userID: RecordID, text: String, createdAt: Date, updatedAt: Date) {
        self.id = id; self.userID = userID; self.text = text; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// A memory's sentence embedding and the model that made it.
public struct MemoryEmbedding: Sendable, Equatable {
    public var memoryID: RecordID
    public var model: String
    public var vector: [Float]

    public init(memoryID: RecordID, model: String, vector: [Float]) {
        self.memoryID = memoryID; self.model = model; self.vector = vector
    }
}

/// A full-text match: the memory and the backend's relevance (larger is better; comparable within one search).
public struct MemoryTextMatch: Sendable, Equatable {
    public var memory: Memory
    public var relevance: Double
}

/// Saved memories with their vectors, kept apart from `ParleyStore` so the chat store's interface stays small.
/// Every call names the user, and nothing reads or changes another user's memories: an id of someone else's
/// memory behaves as an unknown id.
public protocol MemoryStore: Sendable {
    /// Saves `text` (trimmed; empty is `StoreError.invalid`) with its embedding.
    func addMemory(userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Memory
    /// The user's memories, newest first.
    func memories(userID: RecordID) async throws -> [Memory]
    func memory(id: RecordID, userID: RecordID) async throws -> Memory?
    /// Replaces the text and its embedding; false when the user has no such memory.
    @discardableResult
    func updateMemory(id: RecordID, userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Bool
    /// False when the user has no such memory.
    @discardableResult
    func deleteMemory(id: RecordID, userID: RecordID) async throws -> Bool
    /// Every embedding of the user's memories (dense retrieval compares the query against all of them).
    func memoryEmbeddings(userID: RecordID) async throws -> [MemoryEmbedding]
    /// Full-text search over the user's memories (words, and CJK character bigrams), best first, at most `limit`.
    func searchMemoryText(userID: RecordID, query: String, limit: Int) async throws -> [MemoryTextMatch]
}

/// Embeddings travel as base64 of little-endian Float32, so both backends store them as plain text.
enum EmbeddingCoding {
    static func encode(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        return Data(bytes).base64EncodedString()
    }

    static func decode(_ text: String, column: String = "embedding") throws -> [Float] {
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
            throw StoredValueError(description: "column \(column) is not base64 of Float32 values")
        }
        return stride(from: 0, to: data.count, by: 4).map { offset in
            let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[data.startIndex + offset + $1]) << UInt32(8 * $1) }
            return Float(bitPattern: bits)
        }
    }
}

enum MemoryRules {
    static let maxTextLength = 4000
    static let maxSearchLimit = 1000

    static func checkedText(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw StoreError.invalid("a memory's text is empty") }
        guard trimmed.count <= maxTextLength else {
            throw StoreError.invalid("a memory is at most \(maxTextLength) characters, this one has \(trimmed.count)")
        }
        return trimmed
    }

    static func checkedEmbedding(_ vector: [Float], model: String) throws {
        guard !vector.isEmpty, vector.allSatisfy(\.isFinite) else {
            throw StoreError.invalid("a memory's embedding is empty or not finite")
        }
        guard !model.isEmpty else { throw StoreError.invalid("a memory's embedding model is not named") }
    }

    static func checkedLimit(_ limit: Int) throws -> Int {
        guard (1...maxSearchLimit).contains(limit) else {
            throw StoreError.invalid("a search limit is 1…\(maxSearchLimit), not \(limit)")
        }
        return limit
    }
}

enum MemoryQueries {
    static let columns = "id, user_id, text, created_at, updated_at"
    static let insert = """
        INSERT INTO memories (id, user_id, text, search_terms, embedding, embedding_model, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """
    static let list = "SELECT \(columns) FROM memories WHERE user_id = $1 ORDER BY created_at DESC, id"
    static let one = "SELECT \(columns) FROM memories WHERE id = $1 AND user_id = $2"
    static let update = """
        UPDATE memories SET text = $3, search_terms = $4, embedding = $5, embedding_model = $6, updated_at = $7
        WHERE id = $1 AND user_id = $2
        """
    static let delete = "DELETE FROM memories WHERE id = $1 AND user_id = $2"
    static let embeddings = "SELECT id, embedding, embedding_model FROM memories WHERE user_id = $1"
}

extension Memory {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), userID: try row.text("user_id"), text: try row.text("text"),
                  createdAt: try row.time("created_at"), updatedAt: try row.time("updated_at"))
    }
}
