import Foundation
import GRDB

extension SQLiteStore: MemoryStore {
    public func addMemory(userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Memory {
        let text = try MemoryRules.checkedText(text)
        try MemoryRules.checkedEmbedding(embedding, model: model)
        let now = Time.normalized(Date())
        let memory = Memory(userID: userID, text: text, createdAt: now, updatedAt: now)
        return try await write { db in
            try Self.execute(db, MemoryQueries.insert, [
                .text(memory.id), .text(userID), .text(text), .text(MemorySearchTerms.indexText(text)),
                .text(EmbeddingCoding.encode(embedding)), .text(model), .time(now), .time(now)])
            return memory
        }
    }

    public func memories(userID: RecordID) async throws -> [Memory] {
        try await read { db in try Self.fetchAll(db, MemoryQueries.list, [.text(userID)]).map(Memory.init(row:)) }
    }

    public func memory(id: RecordID, userID: RecordID) async throws -> Memory? {
        try await read { db in try Self.fetchOne(db, MemoryQueries.one, [.text(id), .text(userID)]).map(Memory.init(row:)) }
    }

    public func updateMemory(id: RecordID, userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Bool {
        let text = try MemoryRules.checkedText(text)
        try MemoryRules.checkedEmbedding(embedding, model: model)
        let now = Time.normalized(Date())
        return try await write { db in
            try Self.execute(db, MemoryQueries.update, [
                .text(id), .text(userID), .text(text), .text(MemorySearchTerms.indexText(text)),
                .text(EmbeddingCoding.encode(embedding)), .text(model), .time(now)]) > 0
        }
    }

    public func deleteMemory(id: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in try Self.execute(db, MemoryQueries.delete, [.text(id), .text(userID)]) > 0 }
    }

    public func memoryEmbeddings(userID: RecordID) async throws -> [MemoryEmbedding] {
        try await read { db in
            try Self.fetchAll(db, MemoryQueries.embeddings, [.text(userID)]).map { row in
                MemoryEmbedding(memoryID: try row.text("id"), model: try row.text("embedding_model"),
                                vector: try EmbeddingCoding.decode(try row.text("embedding")))
            }
        }
    }

    /// FTS5 over the indexed terms, any term matching, ranked by BM25 (FTS5's `bm25()` is smaller for better
    /// matches, so the relevance is its negation).
    public func searchMemoryText(userID: RecordID, query: String, limit: Int) async throws -> [MemoryTextMatch] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        // Terms hold only letters, digits and CJK characters; quoting makes each a plain FTS5 string.
        let match = terms.map { "\"\($0)\"" }.joined(separator: " OR ")
        return try await read { db in
            try Self.fetchAll(db, """
                SELECT m.id, m.user_id, m.text, m.created_at, m.updated_at, bm25(memories_fts) AS score
                FROM memories_fts JOIN memories m ON m.id = memories_fts.memory_id
                WHERE memories_fts MATCH $1 AND memories_fts.user_id = $2 AND m.user_id = $2
                ORDER BY score, m.created_at DESC LIMIT $3
                """, [.text(match), .text(userID), .int(limit)]).map { row in
                MemoryTextMatch(memory: try Memory(row: row), relevance: -(try row.optionalDouble("score") ?? 0))
            }
        }
    }
}
