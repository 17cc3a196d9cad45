import Foundation
import Hummingbird
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTokenizer

/// Memory in the chat app (docs/app-api.md, "Memory"): the memory page's routes, the auto-memory switch,
/// temporary conversations, account deletion, and what a turn reads from and writes to memory.
extension ChatApp {
    func registerMemory(_ add: AddRoute) {
        let app = self
        add(.get, "/api/memories") { request, context in
            let me = try Self.me(context)
            guard let memory = app.memory else {
                return AppJSON.response(.obj([("available", false), ("memories", .array([]))]))
            }
            var q = queryValue(request, "q")?.trimmingCharacters(in: .whitespacesAndNewlines)
            if q?.isEmpty == true { q = nil }
            if let q, q.count > 500 { throw AppError.badRequest("'q' is longer than 500 characters.") }
            let items: [TemplateValue]
            if let q {
                let hits = try await Self.memoryCall { try await memory.service.search(userID: me.user.id, query: q, top: 20) }
                items = hits.map { MemoryJSON.memory($0.memory, score: $0.score) }
            } else {
                items = try await Self.memoryCall { try await memory.service.list(userID: me.user.id) }.map { MemoryJSON.memory($0) }
            }
            return AppJSON.response(.obj([("available", true), ("memories", .array(items))]))
        }
        add(.post, "/api/memories") { request, context in
            let me = try Self.me(context)
            let memory = try app.requireMemory()
            let text = try await app.body(request).requiredString("text", maxLength: 4000)
            let saved = try await Self.memoryCall { try await memory.service.add(userID: me.user.id, text: text) }
            return AppJSON.response(MemoryJSON.memory(saved), status: .created)
        }
        add(.patch, "/api/memories/:id") { request, context in
            let me = try Self.me(context)
            let memory = try app.requireMemory()
            let id = try Self.id(context)
            let text = try await app.body(request).requiredString("text", maxLength: 4000)
            guard try await Self.memoryCall({ try await memory.service.edit(userID: me.user.id, id: id, text: text) }),
                  let updated = try await db({ try await memory.store.memory(id: id, userID: me.user.id) }) else {
                throw AppError.notFound("Memory")
            }
            return AppJSON.response(MemoryJSON.memory(updated))
        }
        add(.delete, "/api/memories/:id") { _, context in
            let me = try Self.me(context)
            let memory = try app.requireMemory()
            let id = try Self.id(context)
            guard try await Self.memoryCall({ try await memory.service.delete(userID: me.user.id, id: id) }) else {
                throw AppError.notFound("Memory")
            }
            return AppJSON.noContent()
        }
        add(.get, "/api/memory/settings") { _, context in
            let me = try Self.me(context)
            return AppJSON.response(try await app.memorySettings(me.user.id))
        }
        add(.put, "/api/memory/settings") { request, context in
            let me = try Self.me(context)
            guard let store = app.chatMemoryStore else { throw AppError(.serviceUnavailable, "unavailable", "This database keeps no memories.") }
            guard let enabled = try await app.body(request).bool("auto_memory") else {
                throw AppError.badRequest("'auto_memory' (true or false) is required.")
            }
            try await db { try await store.setAutoMemory(enabled, userID: me.user.id) }
            return AppJSON.response(try await app.memorySettings(me.user.id))
        }
        add(.delete, "/api/account") { request, context in try await app.deleteAccount(request, context) }
    }

    /// Deletes the signed-in account and everything of it (conversations, memories, history index and vectors,
    /// keys, records). A browser session must confirm with the password.
    func deleteAccount(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        guard auth.accounts, !Self.isLocal(me) else {
            throw AppError(.forbidden, "no_accounts", "This server runs without accounts (--no-auth); there is no account to delete.")
        }
        guard let store = chatMemoryStore else { throw AppError(.serviceUnavailable, "unavailable", "This database cannot delete accounts.") }
        if case .session = me.method {
            let password = try await body(request, limit: 64 << 10).requiredString("password", maxLength: 1024)
            guard await PasswordHasher.verify(password, against: me.user.passwordHash) else {
                throw AppError(.forbidden, "invalid_credentials", "Wrong password; the account was not deleted.")
            }
        }
        for c in try await db({ try await self.store.conversations(userID: me.user.id, search: nil, limit: 500, offset: 0) }) {
            replies.stopAll(conversationID: c.id, userID: me.user.id)
        }
        guard try await db({ try await store.deleteUserAccount(userID: me.user.id) }) else { throw AppError.notFound("Account") }
        return AppJSON.noContent(headers: [.setCookie: SessionCookie.clear(request: request)])
    }

    static func isLocal(_ identity: Identity) -> Bool {
        if case .local = identity.method { return true }
        return false
    }

    func requireMemory() throws -> ChatMemory {
        guard let memory else {
            throw AppError(.serviceUnavailable, "memory_unavailable",
                           "Memory needs a sentence-embedding model: start the server with --embedding-model (e.g. all-MiniLM-L6-v2).")
        }
        return memory
    }

    func memorySettings(_ userID: RecordID) async throws -> TemplateValue {
        let auto = try await db { try await chatMemoryStore?.autoMemory(userID: userID) ?? false }
        return .obj([("available", .bool(memory != nil)), ("auto_memory", .bool(auto))])
    }

    func isTemporary(_ conversation: Conversation) async throws -> Bool {
        guard let store = chatMemoryStore else { return false }
        return try await db { try await store.isTemporary(conversationID: conversation.id, userID: conversation.userID) }
    }

    /// Memory and store errors as API errors.
    static func memoryCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await db(body)
        } catch let e as MemoryError {
            throw AppError.badRequest(e.description)
        } catch let e as EngineError {
            throw AppError.badRequest("The embedding model could not encode this text: \(e)")
        }
    }

    static func joinedGuidance(_ parts: String?...) -> String? {
        let present = parts.compactMap { $0 }.filter { !$0.isEmpty }
        return present.isEmpty ? nil : present.joined(separator: "\n\n")
    }

    /// The export's memory part: the memories with their vectors, and the history index (snippets, vectors).
    func memoryExport(userID: RecordID) async throws -> [(String, TemplateValue)] {
        guard let store = chatMemoryStore else { return [] }
        return try await db {
            let memories = try await store.memories(userID: userID)
            let vectors = Dictionary(try await store.memoryEmbeddings(userID: userID).map { ($0.memoryID, $0) }, uniquingKeysWith: { a, _ in a })
            let historyVectors = try await store.historyEmbeddings(userID: userID, excludingConversation: nil)
            var snippets: [RecordID: HistorySnippet] = [:]
            for start in stride(from: 0, to: historyVectors.count, by: 500) {
                let ids = historyVectors[start..<min(start + 500, historyVectors.count)].map(\.snippetID)
                for s in try await store.historySnippets(ids: ids, userID: userID) { snippets[s.id] = s }
            }
            let history: [TemplateValue] = historyVectors.compactMap { v in
                guard let s = snippets[v.snippetID] else { return nil }
                return .obj([("id", .string(s.id)), ("conversation_id", .string(s.conversationID)), ("message_id", .string(s.messageID)),
                             ("text", .string(s.text)), ("created_at", .time(s.createdAt)), ("embedding_model", .string(v.model)),
                             ("embedding", .array(v.vector.map { (x: Float) -> TemplateValue in .double(Double(x)) }))])
            }
            return [("memories", .array(memories.map { MemoryJSON.export($0, embedding: vectors[$0.id]) })),
                    ("memory_settings", .obj([("auto_memory", .bool(try await store.autoMemory(userID: userID)))])),
                    ("history_index", .array(history))]
        }
    }

    /// The token budget of what memory adds to a turn's prompt.
    static func memoryBudget(context: Int) -> Int { max(64, min(512, context / 8)) }

    /// What memory does for a user's turn that was just committed: applies "remember"/"forget" or auto-memory,
    /// retrieves memories and earlier-conversation snippets, and indexes the message for later reference.
    /// A temporary conversation neither reads nor writes memory. Memory failures never fail the turn.
    func memoryTurn(userID: RecordID, conversation: Conversation, message: Message?, query: String,
                    model: Model, context: Int) async -> MemoryTurn {
        guard let memory else { return MemoryTurn() }
        do {
            if try await isTemporary(conversation) { return MemoryTurn(temporary: true) }
            var turn = MemoryTurn()
            if let message {
                let auto = try await memory.store.autoMemory(userID: userID)
                turn.update = try await memory.apply(turn: message.content, userID: userID, autoMemory: auto)
            }
            let fresh = Set(turn.update?.memories.map(\.id) ?? [])
            // What this turn just saved is shown as saved, not as used.
            let found = try await memory.context(for: query, userID: userID, excludingConversation: conversation.id,
                                                 excludingMemories: fresh, budget: Self.memoryBudget(context: context),
                                                 countTokens: { model.tokenizePrompt($0).count })
            turn.context = found
            // A turn that changed the memories lives on the memory page, not in the history index: deleting the
            // memory then really forgets it.
            if let message, turn.update == nil {
                try await memory.indexHistory(userID: userID, conversationID: conversation.id, messageID: message.id, text: message.content)
            }
            return turn
        } catch {
            return MemoryTurn(failure: "\(error)")
        }
    }
}

/// What memory did for one turn.
struct MemoryTurn {
    var temporary = false
    var update: MemoryUpdate?
    var context: TurnContext = .empty
    var failure: String?

    /// The system-prompt text: the retrieved block and the update's note for the model.
    var guidance: String? {
        let parts = [context.text, update?.instruction ?? ""].filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: "\n\n")
    }

    /// The stream's `memory` event: what was used, what changed (with what undo needs), or that the chat is
    /// temporary. Nil when there is nothing to show.
    func event(files project: ProjectTurn) -> ReplyEvent? {
        guard temporary || update != nil || !context.memories.isEmpty || !context.history.isEmpty || failure != nil
                || !project.files.isEmpty else { return nil }
        var pairs: [(String, TemplateValue)] = [("temporary", .bool(temporary))]
        pairs.append(("files", .array(project.citations)))
        pairs.append(("used", .array(context.memories.map { MemoryJSON.memory($0.memory, score: $0.score) })))
        pairs.append(("history", .array(context.history.map { (hit: HistoryHit) -> TemplateValue in
            .obj([("conversation_id", .string(hit.snippet.conversationID)), ("message_id", .string(hit.snippet.messageID)),
                  ("text", .string(hit.snippet.text)), ("score", .double(hit.score))])
        })))
        if let update {
            pairs.append(("update", .obj([("action", .string(update.kind.rawValue)), ("request", .string(update.request)),
                                          ("memories", .array(update.memories.map { MemoryJSON.memory($0) }))])))
        } else {
            pairs.append(("update", .none))
        }
        if let failure { pairs.append(("error", .string(failure))) }
        return ReplyEvent(name: "memory", data: .obj(pairs))
    }
}

enum MemoryJSON {
    static func memory(_ m: Memory, score: Double? = nil) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("id", .string(m.id)), ("text", .string(m.text)),
                                                ("created_at", .time(m.createdAt)), ("updated_at", .time(m.updatedAt))]
        if let score { pairs.append(("score", .double(score))) }
        return .obj(pairs)
    }

    /// A memory with its vector, for the user's export.
    static func export(_ m: Memory, embedding: MemoryEmbedding?) -> TemplateValue {
        var vector: TemplateValue = .none
        if let embedding { vector = .array(embedding.vector.map { (x: Float) -> TemplateValue in .double(Double(x)) }) }
        return .obj([("id", .string(m.id)), ("text", .string(m.text)), ("created_at", .time(m.createdAt)),
                     ("updated_at", .time(m.updatedAt)), ("embedding_model", .str(embedding?.model)), ("embedding", vector)])
    }
}
