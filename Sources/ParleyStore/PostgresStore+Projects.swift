import Foundation
import PostgresNIO

extension PostgresStore: ProjectStore {
    public func createChatProject(_ project: ChatProject) async throws -> ChatProject {
        var p = project
        p.name = try ProjectRules.checkedName(p.name)
        p.instructions = try ProjectRules.checkedInstructions(p.instructions)
        p.createdAt = Time.normalized(p.createdAt)
        p.updatedAt = Time.normalized(p.updatedAt)
        _ = try await execute(ProjectQueries.insertChatProject, [.text(p.id), .text(p.userID), .text(p.name), .text(p.instructions),
                                                             .time(p.createdAt), .time(p.updatedAt)])
        return p
    }

    public func chatProjects(userID: RecordID) async throws -> [ChatProject] {
        try await rows(ProjectQueries.chatProjects, [.text(userID)]).map(ChatProject.init(row:))
    }

    public func chatProject(id: RecordID, userID: RecordID) async throws -> ChatProject? {
        try await row(ProjectQueries.chatProject, [.text(id), .text(userID)]).map(ChatProject.init(row:))
    }

    public func updateChatProject(_ project: ChatProject) async throws -> Bool {
        let name = try ProjectRules.checkedName(project.name)
        let instructions = try ProjectRules.checkedInstructions(project.instructions)
        return try await execute(ProjectQueries.updateChatProject, [.text(project.id), .text(project.userID), .text(name),
                                                                .text(instructions), .time(Date())]) > 0
    }

    public func deleteChatProject(id: RecordID, userID: RecordID) async throws -> Bool {
        try await execute(ProjectQueries.deleteChatProject, [.text(id), .text(userID)]) > 0
    }

    public func setProject(_ projectID: RecordID?, conversationID: RecordID, userID: RecordID) async throws -> Bool {
        try await transaction { tx in
            guard try await tx.row(ProjectQueries.conversationExists, [.text(conversationID), .text(userID)]) != nil else { return false }
            guard let projectID else {
                try await tx.execute(ProjectQueries.clearConversationProject, [.text(conversationID), .text(userID)])
                return true
            }
            return try await tx.execute(ProjectQueries.setConversationProject, [.text(conversationID), .text(projectID), .text(userID)]) > 0
        }
    }

    public func projectID(conversationID: RecordID, userID: RecordID) async throws -> RecordID? {
        try await row(ProjectQueries.projectOfConversation, [.text(conversationID), .text(userID)]).map { try $0.text("project_id") }
    }

    public func conversationIDs(projectID: RecordID, userID: RecordID) async throws -> [RecordID] {
        try await rows(ProjectQueries.conversationsOfProject, [.text(projectID), .text(userID)]).map { try $0.text("conversation_id") }
    }

    public func addFile(_ file: ProjectFile, chunks: [NewFileChunk], model: String) async throws -> ProjectFile {
        var f = file
        f.chunkCount = chunks.count
        f.createdAt = Time.normalized(f.createdAt)
        let stored = f
        let values = try ProjectChunkRows.make(stored, chunks: chunks, model: model)
        return try await transaction { tx in
            guard try await tx.execute(ProjectQueries.insertFile, ProjectChunkRows.fileValues(stored)) == 1 else {
                throw StoreError.notFound("project")
            }
            for row in values { try await tx.execute(ProjectQueries.insertChunk, row) }
            return stored
        }
    }

    public func files(projectID: RecordID, userID: RecordID) async throws -> [ProjectFile] {
        try await rows(ProjectQueries.files, [.text(projectID), .text(userID)]).map(ProjectFile.init(row:))
    }

    public func deleteFile(id: RecordID, userID: RecordID) async throws -> Bool {
        try await execute(ProjectQueries.deleteFile, [.text(id), .text(userID)]) > 0
    }

    public func searchChunkText(projectID: RecordID, userID: RecordID, query: String, limit: Int) async throws -> [FileChunk] {
        let limit = try MemoryRules.checkedLimit(limit)
        let terms = MemorySearchTerms.queryTerms(query)
        if terms.isEmpty { return [] }
        let tsquery = terms.map { "'\($0)'" }.joined(separator: " | ")
        return try await rows("""
            SELECT \(ProjectQueries.chunkColumns), ts_rank(k.search_vector, to_tsquery('simple', $1))::float8 AS score
            FROM chat_project_chunks k JOIN chat_project_files f ON f.id = k.file_id
            WHERE k.project_id = $2 AND k.user_id = $3 AND k.search_vector @@ to_tsquery('simple', $1)
            ORDER BY score DESC, k.ordinal LIMIT $4
            """, [.text(tsquery), .text(projectID), .text(userID), .int(Int64(limit))]).map(FileChunk.init(row:))
    }

    public func chunkEmbeddings(projectID: RecordID, userID: RecordID) async throws -> [FileChunkEmbedding] {
        try await rows(ProjectQueries.embeddings, [.text(projectID), .text(userID)]).map(FileChunkEmbedding.init(row:))
    }

    public func chunks(ids: [RecordID], userID: RecordID) async throws -> [FileChunk] {
        guard !ids.isEmpty else { return [] }
        return try await rows(ProjectQueries.chunksByID(count: ids.count), [.text(userID)] + ids.map { .text($0) }).map(FileChunk.init(row:))
    }

    public func allChunks(userID: RecordID) async throws -> [(chunk: FileChunk, embedding: FileChunkEmbedding)] {
        try await rows(ProjectQueries.allChunks, [.text(userID)]).map { (chunk: try FileChunk(row: $0), embedding: try FileChunkEmbedding(row: $0)) }
    }
}
