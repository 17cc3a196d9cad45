import Foundation
import Hummingbird
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTokenizer

/// Projects in the chat app (docs/app-api.md, "Projects"): conversations grouped with shared instructions and
/// files (text, Markdown, PDF) whose excerpts are retrieved for each turn and cited in the reply.
extension ChatApp {
    /// The largest file upload.
    static let maxFileBytes = 32 << 20

    func registerProjects(_ add: AddRoute) {
        let app = self
        add(.get, "/api/chat-projects") { _, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            let list = try await db { try await store.chatProjects(userID: me.user.id) }
            return AppJSON.response(.obj([("projects", .array(list.map(ProjectJSON.project)))]))
        }
        add(.post, "/api/chat-projects") { request, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            let b = try await app.body(request)
            let project = ChatProject(userID: me.user.id, name: try b.requiredString("name", maxLength: 200),
                                  instructions: try b.string("instructions", maxLength: 32_000) ?? "")
            let created = try await db { try await store.createChatProject(project) }
            return AppJSON.response(ProjectJSON.project(created), status: .created)
        }
        add(.get, "/api/chat-projects/:id") { _, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            let project = try await app.project(try Self.id(context), me, store)
            let files = try await db { try await store.files(projectID: project.id, userID: me.user.id) }
            let conversations = try await db { try await store.conversationIDs(projectID: project.id, userID: me.user.id) }
            return AppJSON.response(.obj([("project", ProjectJSON.project(project)), ("files", .array(files.map(ProjectJSON.file))),
                                          ("conversation_ids", .array(conversations.map(TemplateValue.string)))]))
        }
        add(.patch, "/api/chat-projects/:id") { request, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            var project = try await app.project(try Self.id(context), me, store)
            let b = try await app.body(request)
            if let name = try b.string("name", maxLength: 200) { project.name = name }
            if b.has("instructions") { project.instructions = try b.string("instructions", maxLength: 32_000) ?? "" }
            guard try await db({ try await store.updateChatProject(project) }) else { throw AppError.notFound("ChatProject") }
            return AppJSON.response(ProjectJSON.project(try await app.project(project.id, me, store)))
        }
        add(.delete, "/api/chat-projects/:id") { _, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            guard try await db({ try await store.deleteChatProject(id: try Self.id(context), userID: me.user.id) }) else {
                throw AppError.notFound("ChatProject")
            }
            return AppJSON.noContent()
        }
        add(.post, "/api/chat-projects/:id/files") { request, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            guard let library = app.library else {
                throw AppError(.serviceUnavailable, "memory_unavailable",
                               "ChatProject files need a sentence-embedding model: start the server with --embedding-model.")
            }
            let project = try await app.project(try Self.id(context), me, store)
            guard let name = queryValue(request, "name")?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else {
                throw AppError.badRequest("The file's name is required: POST …/files?name=notes.md with the file as the body.")
            }
            let buffer = try await request.body.collect(upTo: Self.maxFileBytes)
            guard buffer.readableBytes > 0 else { throw AppError.badRequest("The file is empty.") }
            let data = Data(buffer.readableBytesView)
            let file = try await Self.memoryCall {
                try await library.add(projectID: project.id, userID: me.user.id, name: name,
                                      mediaType: request.headers[.contentType], data: data)
            }
            return AppJSON.response(ProjectJSON.file(file), status: .created)
        }
        add(.delete, "/api/chat-projects/:id/files/:file_id") { _, context in
            let me = try Self.me(context)
            let store = try app.requireProjects()
            _ = try await app.project(try Self.id(context), me, store)
            guard try await db({ try await store.deleteFile(id: try Self.id(context, "file_id"), userID: me.user.id) }) else {
                throw AppError.notFound("File")
            }
            return AppJSON.noContent()
        }
    }

    var projectStore: (any ProjectStore)? { store as? any ProjectStore }

    /// The export's project part: projects, their files' metadata, and every chunk with its vector.
    func projectExport(userID: RecordID) async throws -> [(String, TemplateValue)] {
        guard let store = projectStore else { return [] }
        return try await db {
            let projects = try await store.chatProjects(userID: userID)
            var files: [TemplateValue] = []
            for p in projects { files += try await store.files(projectID: p.id, userID: userID).map(ProjectJSON.file) }
            let chunks = try await store.allChunks(userID: userID).map { (item: (chunk: FileChunk, embedding: FileChunkEmbedding)) -> TemplateValue in
                .obj([("id", .string(item.chunk.id)), ("file_id", .string(item.chunk.fileID)), ("part", .int(item.chunk.ordinal)),
                      ("text", .string(item.chunk.text)), ("embedding_model", .string(item.embedding.model)),
                      ("embedding", .array(item.embedding.vector.map { (x: Float) -> TemplateValue in .double(Double(x)) }))])
            }
            return [("chat_projects", .array(projects.map(ProjectJSON.project))), ("chat_project_files", .array(files)),
                    ("chat_project_chunks", .array(chunks))]
        }
    }

    func requireProjects() throws -> any ProjectStore {
        guard let projectStore else { throw AppError(.serviceUnavailable, "unavailable", "This database keeps no projects.") }
        return projectStore
    }

    func project(_ id: RecordID, _ me: Identity, _ store: any ProjectStore) async throws -> ChatProject {
        guard let p = try await db({ try await store.chatProject(id: id, userID: me.user.id) }) else { throw AppError.notFound("ChatProject") }
        return p
    }

    /// The project a conversation belongs to, if any.
    func project(of conversation: Conversation) async throws -> ChatProject? {
        guard let store = projectStore,
              let id = try await db({ try await store.projectID(conversationID: conversation.id, userID: conversation.userID) }) else { return nil }
        return try await db { try await store.chatProject(id: id, userID: conversation.userID) }
    }

    /// What a project adds to a turn: its instructions, and the excerpts of its files relevant to the turn
    /// (numbered for citation) within a budget. Retrieval failures never fail the turn.
    func projectTurn(conversation: Conversation, query: String, model: Model, context: Int) async -> ProjectTurn {
        guard let project = try? await project(of: conversation) else { return ProjectTurn() }
        var turn = ProjectTurn(project: project)
        guard let library, !query.isEmpty else { return turn }
        do {
            let hits = try await library.search(projectID: project.id, userID: conversation.userID, query: query)
            let budget = max(64, min(768, context / 4))
            let (text, used) = ProjectLibrary.context(hits, budget: budget, countTokens: { model.tokenizePrompt($0).count })
            turn.files = used
            turn.filesText = text
        } catch {
            turn.failure = "\(error)"
        }
        return turn
    }
}

/// What a project did for one turn.
struct ProjectTurn {
    var project: ChatProject?
    var files: [FileHit] = []
    var filesText = ""
    var failure: String?

    var guidance: String? {
        var parts: [String] = []
        if let project {
            let instructions = project.instructions.trimmingCharacters(in: .whitespacesAndNewlines)
            parts.append("This conversation is part of the project \"\(project.name)\"."
                         + (instructions.isEmpty ? "" : " ChatProject instructions: " + instructions))
        }
        if !filesText.isEmpty { parts.append(filesText) }
        return parts.isEmpty ? nil : parts.joined(separator: "\n\n")
    }

    /// The `files` of the stream's `memory` event: the cited excerpts, numbered as in the prompt.
    var citations: [TemplateValue] {
        files.enumerated().map { (item: (offset: Int, element: FileHit)) -> TemplateValue in
            let index = item.offset, hit = item.element
            return .obj([("n", .int(index + 1)), ("file_id", .string(hit.chunk.fileID)), ("name", .string(hit.chunk.fileName)),
                  ("part", .int(hit.chunk.ordinal)), ("text", .string(hit.chunk.text)), ("score", .double(hit.score))])
        }
    }
}

enum ProjectJSON {
    static func project(_ p: ChatProject) -> TemplateValue {
        .obj([("id", .string(p.id)), ("name", .string(p.name)), ("instructions", .string(p.instructions)),
              ("created_at", .time(p.createdAt)), ("updated_at", .time(p.updatedAt))])
    }

    static func file(_ f: ProjectFile) -> TemplateValue {
        .obj([("id", .string(f.id)), ("project_id", .string(f.projectID)), ("name", .string(f.name)),
              ("media_type", .string(f.mediaType)), ("size", .int(f.size)), ("chunks", .int(f.chunkCount)),
              ("created_at", .time(f.createdAt))])
    }
}
