import Foundation
import GRDB

extension SQLiteStore: ChatMemoryStore {
    public func autoMemory(userID: RecordID) async throws -> Bool {
        try await read { db in try Self.fetchOne(db, ChatMemoryQueries.autoMemory, [.text(userID)]).map { try $0.int("auto_memory") != 0 } } ?? true
    }

    public func setAutoMemory(_ enabled: Bool, userID: RecordID) async throws {
        _ = try await write { db in
            try Self.execute(db, ChatMemoryQueries.setAutoMemory, [.text(userID), .int(enabled ? 1 : 0), .time(Date())])
        }
    }

    public func markTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in
            _ = try Self.execute(db, ChatMemoryQueries.markTemporary, [.text(conversationID), .text(userID)])
            return try Self.fetchOne(db, ChatMemoryQueries.isTemporary, [.text(conversationID), .text(userID)]) != nil
        }
    }

    public func isTemporary(conversationID: RecordID, userID: RecordID) async throws -> Bool {
        try await read { db in try Self.fetchOne(db, ChatMemoryQueries.isTemporary, [.text(conversationID), .text(userID)]) != nil }
    }

    public func addHistorySnippet(userID: RecordID, conversationID: RecordID, messageID: RecordID, text: String,
                                  embedding: [Float], model: String) async throws -> HistorySnippet {
        let text = try MemoryRules.checkedText(String(text.prefix(MemoryRules.maxTextLength)))
        try MemoryRules.checkedEmbedding(embedding, model: model)
        let now = Time.normalized(Date())
        let snippet = HistorySnippet(userID: userID, conversationID: conversationID, messageID: messageID, text: text, createdAt: now)
        return try await write { db in
            let n = try Self.execute(db, ChatMemoryQueries.insertSnippet, [
                .text(snippet.id), .text(userID), .text(conversationID), .text(messageID), .text(text),
                .text(MemorySearchTerms.indexText(text)), .text(EmbeddingCoding.encode(embedding)), .text(model), .time(now)])
            guard n == 1 else { throw StoreError.notFound("conversation") }
            return snippet
        }
    }

    public func historySnippets(ids: [RecordID], userID: RecordID) async throws -> [HistorySnippet] {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            try Self.fetchAll(db, ChatMemoryQueries.snippetsByID(count: ids.count), [.text(userID)] + ids.map { .text($0) })
                .map(HistorySnippet.init(row:))
        }
    }

    public func historyEmbeddings(userID: RecordID, excludingConversation: RecordID?) async throws -> [HistorySnippetEmbedding] {
        try await read { db in
            try Self.fetchAll(db, ChatMemoryQueries.embeddings,
                              [.text(userID), .text(excludingConversation ?? ChatMemoryQueries.noConversation)])
                .map(HistorySnippetEmbedding.init(row:))
        }
    }

    /// FTS5 over the indexed terms, any term matching, ranked by BM25.
    public func searchHistoryText(userID: RecordID, query: String, excludingConversation: RecordID?, limit: Int) async throws -> [HistorySnippet] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        let match = terms.map { "\"\($0)\"" }.joined(separator: " OR ")
        return try await read { db in
            try Self.fetchAll(db, """
                SELECT h.id, h.user_id, h.conversation_id, h.message_id, h.text, h.created_at, bm25(history_snippets_fts) AS score
                FROM history_snippets_fts JOIN history_snippets h ON h.id = history_snippets_fts.snippet_id
                WHERE history_snippets_fts MATCH $1 AND history_snippets_fts.user_id = $2 AND h.user_id = $2
                  AND h.conversation_id <> $3
                ORDER BY score, h.created_at DESC LIMIT $4
                """, [.text(match), .text(userID), .text(excludingConversation ?? ChatMemoryQueries.noConversation), .int(Int64(limit))])
                .map(HistorySnippet.init(row:))
        }
    }

    public func updateHistoryEmbedding(id: RecordID, userID: RecordID, embedding: [Float], model: String) async throws {
        try MemoryRules.checkedEmbedding(embedding, model: model)
        _ = try await write { db in
            try Self.execute(db, ChatMemoryQueries.updateEmbedding, [.text(id), .text(userID), .text(EmbeddingCoding.encode(embedding)), .text(model)])
        }
    }

    public func deleteUserAccount(userID: RecordID) async throws -> Bool {
        try await write { db in try Self.execute(db, ChatMemoryQueries.deleteUser, [.text(userID)]) > 0 }
    }
}
