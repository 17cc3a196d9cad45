import Foundation
import PostgresNIO

extension PostgresStore: MemoryStore {
    public func addMemory(userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Memory {
        let text = try MemoryRules.checkedText(text)
        try MemoryRules.checkedEmbedding(embedding, model: model)
        let now = Time.normalized(Date())
        let memory = Memory(userID: userID, text: text, createdAt: now, updatedAt: now)
        _ = try await execute(MemoryQueries.insert, [
            .text(memory.id), .text(userID), .text(text), .text(MemorySearchTerms.indexText(text)),
            .text(EmbeddingCoding.encode(embedding)), .text(model), .time(now), .time(now)])
        return memory
    }

    public func memories(userID: RecordID) async throws -> [Memory] {
        try await rows(MemoryQueries.list, [.text(userID)]).map(Memory.init(row:))
    }

    public func memory(id: RecordID, userID: RecordID) async throws -> Memory? {
        try await row(MemoryQueries.one, [.text(id), .text(userID)]).map(Memory.init(row:))
    }

    public func updateMemory(id: RecordID, userID: RecordID, text: String, embedding: [Float], model: String) async throws -> Bool {
        let text = try MemoryRules.checkedText(text)
        try MemoryRules.checkedEmbedding(embedding, model: model)
        return try await execute(MemoryQueries.update, [
            .text(id), .text(userID), .text(text), .text(MemorySearchTerms.indexText(text)),
            .text(EmbeddingCoding.encode(embedding)), .text(model), .time(Time.normalized(Date()))]) > 0
    }

    public func deleteMemory(id: RecordID, userID: RecordID) async throws -> Bool {
        try await execute(MemoryQueries.delete, [.text(id), .text(userID)]) > 0
    }

    public func memoryEmbeddings(userID: RecordID) async throws -> [MemoryEmbedding] {
        try await rows(MemoryQueries.embeddings, [.text(userID)]).map { row in
            MemoryEmbedding(memoryID: try row.text("id"), model: try row.text("embedding_model"),
                            vector: try EmbeddingCoding.decode(try row.text("embedding")))
        }
    }

    /// The generated tsvector (`simple` configuration over the same terms SQLite indexes), any term matching,
    /// ranked by `ts_rank`.
    public func searchMemoryText(userID: RecordID, query: String, limit: Int) async throws -> [MemoryTextMatch] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        // Terms hold only letters, digits and CJK characters; quoting makes each a tsquery lexeme.
        let tsquery = terms.map { "'\($0)'" }.joined(separator: " | ")
        return try await rows("""
            SELECT id, user_id, text, created_at, updated_at,
                   ts_rank(search_vector, to_tsquery('simple', $1))::float8 AS score
            FROM memories
            WHERE user_id = $2 AND search_vector @@ to_tsquery('simple', $1)
            ORDER BY score DESC, created_at DESC LIMIT $3
            """, [.text(tsquery), .text(userID), .int(limit)]).map { row in
            MemoryTextMatch(memory: try Memory(row: row), relevance: try row.optionalDouble("score") ?? 0)
        }
    }
}
