import Foundation
import PostgresNIO

extension PostgresStore: ChatMemoryStore {
    public func autoMemory(userID: RecordID) async throws -> Bool {
        try await row(ChatMemoryQueries.autoMemory, [.text(userID)]).map { try $0.int("auto_memory") != 0 } ?? true
    }

    public func setAutoMemory(_ enabled: Bool, userID: RecordID) async throws {
        _ = try await execute(ChatMemoryQueries.setAutoMemory, [.text(userID), .int(enabled ? 1 : 0), .time(Date())])
    }

    public func markTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool {
        _ = try await execute(ChatMemoryQueries.markTemporary, [.text(conversationID), .text(userID)])
        return try await isTemporary(conversationID: conversationID, userID: userID)
    }

    public func isTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool {
        try await row(ChatMemoryQueries.isTemporary, [.text(conversationID), .text(userID)]) != nil
    }

    public func addHistorySnippet(userID: RecordID, conversationID: RecordID, messageID: RecordID, text: String,
                                  embedding: [Float], model: String) async throws -> HistorySnippet {
        let text = try MemoryRules.checkedText(String(text.prefix(MemoryRules.maxTextLength)))
        try MemoryRules.checkedEmbedding(embedding, model: model)
        let now = Time.normalized(Date())
        let snippet = HistorySnippet(userID: userID, conversationID: conversationID, messageID: messageID, text: text, createdAt: now)
        let n = try await execute(ChatMemoryQueries.insertSnippet, [
            .text(snippet.id), .text(userID), .text(conversationID), .text(messageID), .text(text),
            .text(MemorySearchTerms.indexText(text)), .text(EmbeddingCoding.encode(embedding)), .text(model), .time(now)])
        guard n == 1 else { throw StoreError.notFound("conversation") }
        return snippet
    }

    public func historySnippets(ids: [RecordID], userID: RecordID) async throws -> [HistorySnippet] {
        guard !ids.isEmpty else { return [] }
        return try await rows(ChatMemoryQueries.snippetsByID(count: ids.count), [.text(userID)] + ids.map { .text($0) })
            .map(HistorySnippet.init(row:))
    }

    public func historyEmbeddings(userID: RecordID, excludingConversation: RecordID?) async throws -> [HistorySnippetEmbedding] {
        try await rows(ChatMemoryQueries.embeddings, [.text(userID), .text(excludingConversation ?? ChatMemoryQueries.noConversation)])
            .map(HistorySnippetEmbedding.init(row:))
    }

    /// The generated tsvector (`simple` configuration over the indexed terms), any term matching, by `ts_rank`.
    public func searchHistoryText(userID: RecordID, query: String, excludingConversation: RecordID?, limit: Int) async throws -> [HistorySnippet] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        let tsquery = terms.map { "'\($0)'" }.joined(separator: " | ")
        return try await rows("""
            SELECT id, user_id, conversation_id, message_id, text, created_at,
                   ts_rank(search_vector, to_tsquery('simple', $1))::float8 AS score
            FROM history_snippets
            WHERE user_id = $2 AND conversation_id <> $3 AND search_vector @@ to_tsquery('simple', $1)
            ORDER BY score DESC, created_at DESC LIMIT $4
            """, [.text(tsquery), .text(userID), .text(excludingConversation ?? ChatMemoryQueries.noConversation), .int(Int64(limit))])
            .map(HistorySnippet.init(row:))
    }

    public func updateHistoryEmbedding(id: RecordID, userID: RecordID, embedding: [Float], model: String) async throws {
        try MemoryRules.checkedEmbedding(embedding, model: model)
        _ = try await execute(ChatMemoryQueries.updateEmbedding, [.text(id), .text(userID), .text(EmbeddingCoding.encode(embedding)), .text(model)])
    }

    public func deleteUserAccount(userID: RecordID) async throws -> Bool {
        try await execute(ChatMemoryQueries.deleteUser, [.text(userID)]) > 0
    }
}
