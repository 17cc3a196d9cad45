import Foundation
import GRDB

extension SQLiteStore: ProjectStore {
    public func createChatProject(_ project: ChatProject) async throws -> ChatProject {
        var p = project
        p.name = try ProjectRules.checkedName(p.name)
        p.instructions = try ProjectRules.checkedInstructions(p.instructions)
        p.createdAt = Time.normalized(p.createdAt)
        p.updatedAt = Time.normalized(p.updatedAt)
        let created = p
        return try await write { db in
            try Self.execute(db, ProjectQueries.insertChatProject, [.text(created.id), .text(created.userID), .text(created.name),
                                                                .text(created.instructions), .time(created.createdAt), .time(created.updatedAt)])
            return created
        }
    }

    public func chatProjects(userID: RecordID) async throws -> [ChatProject] {
        try await read { db in try Self.fetchAll(db, ProjectQueries.chatProjects, [.text(userID)]).map(ChatProject.init(row:)) }
    }

    public func chatProject(id: RecordID, userID: RecordID) async throws -> ChatProject? {
        try await read { db in try Self.fetchOne(db, ProjectQueries.chatProject, [.text(id), .text(userID)]).map(ChatProject.init(row:)) }
    }

    public func updateChatProject(_ project: ChatProject) async throws -> Bool {
        let name = try ProjectRules.checkedName(project.name)
        let instructions = try ProjectRules.checkedInstructions(project.instructions)
        return try await write { db in
            try Self.execute(db, ProjectQueries.updateChatProject, [.text(project.id), .text(project.userID), .text(name),
                                                                .text(instructions), .time(Date())]) > 0
        }
    }

    public func deleteChatProject(id: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in try Self.execute(db, ProjectQueries.deleteChatProject, [.text(id), .text(userID)]) > 0 }
    }

    public func setProject(_ projectID: RecordID?, conversationID: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in
            guard try Self.fetchOne(db, ProjectQueries.conversationExists, [.text(conversationID), .text(userID)]) != nil else { return false }
            guard let projectID else {
                try Self.execute(db, ProjectQueries.clearConversationProject, [.text(conversationID), .text(userID)])
                return true
            }
            return try Self.execute(db, ProjectQueries.setConversationProject, [.text(conversationID), .text(projectID), .text(userID)]) > 0
        }
    }

    public func projectID(conversationID: RecordID, userID: RecordID) async throws -> RecordID? {
        try await read { db in
            try Self.fetchOne(db, ProjectQueries.projectOfConversation, [.text(conversationID), .text(userID)]).map { try $0.text("project_id") }
        }
    }

    public func conversationIDs(projectID: RecordID, userID: RecordID) async throws -> [RecordID] {
        try await read { db in
            try Self.fetchAll(db, ProjectQueries.conversationsOfProject, [.text(projectID), .text(userID)]).map { try $0.text("conversation_id") }
        }
    }

    public func addFile(_ file: ProjectFile, chunks: [NewFileChunk], model: String) async throws -> ProjectFile {
        var f = file
        f.chunkCount = chunks.count
        f.createdAt = Time.normalized(f.createdAt)
        let stored = f
        let rows = try ProjectChunkRows.make(stored, chunks: chunks, model: model)
        return try await write { db in
            guard try Self.execute(db, ProjectQueries.insertFile, ProjectChunkRows.fileValues(stored)) == 1 else {
                throw StoreError.notFound("project")
            }
            for values in rows { try Self.execute(db, ProjectQueries.insertChunk, values) }
            return stored
        }
    }

    public func files(projectID: RecordID, userID: RecordID) async throws -> [ProjectFile] {
        try await read { db in try Self.fetchAll(db, ProjectQueries.files, [.text(projectID), .text(userID)]).map(ProjectFile.init(row:)) }
    }

    public func deleteFile(id: RecordID, userID: RecordID) async throws -> Bool {
        try await write { db in try Self.execute(db, ProjectQueries.deleteFile, [.text(id), .text(userID)]) > 0 }
    }

    public func searchChunkText(projectID: RecordID, userID: RecordID, query: String, limit: Int) async throws -> [FileChunk] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        let match = terms.map { "\"\($0)\"" }.joined(separator: " OR ")
        return try await read { db in
            try Self.fetchAll(db, """
                SELECT \(ProjectQueries.chunkColumns), bm25(chat_project_chunks_fts) AS score
                FROM chat_project_chunks_fts JOIN chat_project_chunks k ON k.id = chat_project_chunks_fts.chunk_id JOIN chat_project_files f ON f.id = k.file_id
                WHERE chat_project_chunks_fts MATCH $1 AND chat_project_chunks_fts.project_id = $2 AND k.project_id = $2 AND k.user_id = $3
                ORDER BY score, k.ordinal LIMIT $4
                """, [.text(match), .text(projectID), .text(userID), .int(Int64(limit))]).map(FileChunk.init(row:))
        }
    }

    public func chunkEmbeddings(projectID: RecordID, userID: RecordID) async throws -> [FileChunkEmbedding] {
        try await read { db in
            try Self.fetchAll(db, ProjectQueries.embeddings, [.text(projectID), .text(userID)]).map(FileChunkEmbedding.init(row:))
        }
    }

    public func chunks(ids: [RecordID], userID: RecordID) async throws -> [FileChunk] {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            try Self.fetchAll(db, ProjectQueries.chunksByID(count: ids.count), [.text(userID)] + ids.map { .text($0) }).map(FileChunk.init(row:))
        }
    }

    public func allChunks(userID: RecordID) async throws -> [(chunk: FileChunk, embedding: FileChunkEmbedding)] {
        try await read { db in
            try Self.fetchAll(db, ProjectQueries.allChunks, [.text(userID)]).map { (chunk: try FileChunk(row: $0), embedding: try FileChunkEmbedding(row: $0)) }
        }
    }
}

/// The bound values of a file and its chunks.
enum ProjectChunkRows {
    static func fileValues(_ f: ProjectFile) -> [SQLValue] {
        [.text(f.id), .text(f.projectID), .text(f.name), .text(f.mediaType), .int(Int64(f.size)), .int(Int64(f.chunkCount)),
         .time(f.createdAt), .text(f.userID)]
    }

    static func make(_ f: ProjectFile, chunks: [NewFileChunk], model: String) throws -> [[SQLValue]] {
        guard !f.name.trimmingCharacters(in: .whitespaces).isEmpty, f.name.count <= 255 else {
            throw StoreError.invalid("a file's name is empty or longer than 255 characters")
        }
        return try chunks.enumerated().map { index, chunk in
            let text = chunk.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw StoreError.invalid("a file chunk is empty") }
            try MemoryRules.checkedEmbedding(chunk.embedding, model: model)
            return [.text(newRecordID()), .text(f.id), .text(f.projectID), .text(f.userID), .int(Int64(index + 1)), .text(text),
                    .text(MemorySearchTerms.indexText(text)), .text(EmbeddingCoding.encode(chunk.embedding)), .text(model)]
        }
    }
}
