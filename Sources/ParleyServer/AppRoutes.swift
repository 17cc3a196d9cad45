import Foundation
import Hummingbird
import ParleyWellbeing
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTokenizer

/// The chat app behind `/api/…`: accounts, conversations, replies, settings, keys, export and import.
public final class ChatApp: Sendable {
    let store: any ParleyStore
    let auth: AppAuth
    let catalog: ModelCatalog
    let metrics: ServerMetrics
    let replies = ReplyRegistry()
    let defaultSystemPrompt: String
    let defaultModel: String?
    let maxBodyBytes: Int
    /// How often a growing reply is written to the store.
    let flushInterval: TimeInterval
    /// Compute credits: projects, allocations, metering (CreditsRoutes.swift).
    public let credits: CreditsAPI?
    /// Wellbeing records, review queue, usage signals and break reminders.
    let safeguards: AppWellbeing
    /// OpenAI-compatible providers whose models chat and the arena offer beside the local ones (Providers.swift);
    /// nil when the store keeps none.
    let providers: ProviderRegistry?
    /// Saved memories and chat-history reference (AppMemory.swift); nil without an embedding model.
    let memory: ChatMemory?
    /// Project files for chat (AppProjects.swift); nil without an embedding model.
    let library: ProjectLibrary?
    /// Where memory settings, temporary conversations and the history index live (nil: a store without them).
    var chatMemoryStore: (any ChatMemoryStore)? { store as? any ChatMemoryStore }

    /// Sets the chat app up over an opened store: applies migrations, marks replies a crash left `generating`
    /// as `incomplete`, and in `--no-auth` mode finds or creates the implicit local user.
    public static func start(store: any ParleyStore, catalog: ModelCatalog, metrics: ServerMetrics = ServerMetrics(),
                             accounts: Bool = true, staticAPIKey: String? = nil,
                             defaultSystemPrompt: String = ChatApp.standardSystemPrompt, defaultModel: String? = nil,
                             maxBodyBytes: Int = 4 << 20, trustForwardedFor: Bool = false,
                             flushInterval: TimeInterval = 0.25, wellbeingPolicies: PolicyStore? = nil,
                             wellbeingClock: WellbeingClock = .system, providerKeyFile: String? = nil,
                             embedder: (any TextEmbedder)? = nil) async throws -> ChatApp {
        try await store.migrate()
        try await store.markInterruptedReplies()
        try await store.deleteExpiredSessions(now: Date())
        let local = accounts ? nil : try await AppAuth.ensureLocalUser(store)
        let safeguards = AppWellbeing(policies: wellbeingPolicies ?? WellbeingPolicies.current,
                                      store: store as? any WellbeingStore, clock: wellbeingClock)
        safeguards.startPurging()
        var providers: ProviderRegistry?
        if let arena = store as? any ArenaStore {
            let keyring = try providerKeyFile.map { try ProviderKeyring(file: $0) } ?? ProviderKeyring(key: .init(size: .bits256))
            providers = ProviderRegistry(store: arena, keyring: keyring)
        }
        return ChatApp(store: store, catalog: catalog, metrics: metrics,
                       auth: AppAuth(store: store, accounts: accounts, staticAPIKey: staticAPIKey, localUser: local,
                                     trustForwardedFor: trustForwardedFor),
                       defaultSystemPrompt: defaultSystemPrompt, defaultModel: defaultModel, maxBodyBytes: maxBodyBytes,
                       flushInterval: flushInterval, safeguards: safeguards, providers: providers,
                       memory: embedder.flatMap { e in (store as? any ChatMemoryStore).map { ChatMemory(store: $0, embedder: e) } },
                       library: embedder.flatMap { e in (store as? any ProjectStore).map { ProjectLibrary(store: $0, embedder: e) } })
    }

    public static let standardSystemPrompt = "You are a helpful assistant."

    init(store: any ParleyStore, catalog: ModelCatalog, metrics: ServerMetrics, auth: AppAuth, defaultSystemPrompt: String,
         defaultModel: String?, maxBodyBytes: Int, flushInterval: TimeInterval, safeguards: AppWellbeing,
         providers: ProviderRegistry? = nil, memory: ChatMemory? = nil, library: ProjectLibrary? = nil) {
        self.store = store
        self.catalog = catalog
        self.metrics = metrics
        self.auth = auth
        self.defaultSystemPrompt = defaultSystemPrompt
        self.defaultModel = defaultModel
        self.maxBodyBytes = maxBodyBytes
        self.flushInterval = max(0.05, min(flushInterval, 0.5))
        credits = CreditsAPI(store: store, auth: auth, maxBodyBytes: maxBodyBytes)
        self.safeguards = safeguards
        self.providers = providers
        self.memory = memory
        self.library = library
    }

    /// Replies being generated right now.
    public var activeReplies: Int { replies.count }

    // MARK: - Helpers

    static func me(_ context: ParleyRequestContext) throws -> Identity {
        guard let identity = context.identity else { throw AppError.unauthorized }
        return identity
    }

    func body(_ request: Request, limit: Int? = nil) async throws -> AppBody {
        try await AppBody(request, limit: limit ?? maxBodyBytes)
    }

    static func id(_ context: ParleyRequestContext, _ name: String = "id") throws -> String {
        guard let id = context.parameters.get(name), !id.isEmpty, id.count <= 100 else { throw AppError.notFound("Record") }
        return id
    }

    func signupEnabled() async throws -> Bool {
        try await db { try await store.setting("signup_enabled") } != "false"
    }

    /// The model a conversation uses: its own, else the server's default, else the first loaded.
    func servedModel(for conversation: Conversation) throws -> ServedModel {
        let models = catalog.all
        if let id = conversation.model, let m = models.first(where: { $0.id == id }) { return m }
        if let id = conversation.model, id.contains(":"), let m = try? catalog.resolve(id) { return m }  // model:adapter
        if let defaultModel, let m = models.first(where: { $0.id == defaultModel }) { return m }
        if let m = models.first { return m }
        _ = try catalog.resolve(nil)  // loading / failed: 503
        throw AppError(.serviceUnavailable, "unavailable", "No model is loaded.")
    }

    func checkModel(_ id: String?) async throws {
        if let providers, try await providers.model(id) != nil { return }
        guard let id, case .ready = catalog.state else { return }
        guard catalog.all.contains(where: { $0.id == id }) || (id.contains(":") && (try? catalog.resolve(id)) != nil) else {
            throw AppError.badRequest("Unknown model '\(id)'; GET /api/models lists them.")
        }
    }

    func conversation(_ id: RecordID, _ user: Identity) async throws -> Conversation {
        guard let c = try await db({ try await store.conversation(id: id, userID: user.user.id) }) else {
            throw AppError.notFound("Conversation")
        }
        return c
    }

    /// The path from the root to `leafID`, root first.
    static func branch(to leafID: RecordID?, in messages: [Message]) -> [Message] {
        let byID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var path: [Message] = []
        var next = leafID
        var seen = Set<RecordID>()
        while let id = next, let m = byID[id], !seen.contains(id) {
            seen.insert(id)
            path.append(m)
            next = m.parentID
        }
        return path.reversed()
    }

    static func title(from content: String) -> String {
        let oneLine = content.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        guard oneLine.count > 60 else { return oneLine }
        var cut = String(oneLine.prefix(60))
        if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) >= 30 {
            cut = String(cut[..<space])
        }
        return cut.trimmingCharacters(in: .whitespaces.union(.punctuationCharacters)) + "…"
    }

    // MARK: - Routes

    func register(on router: Router<ParleyRequestContext>, recorder: RouteRecorder) {
        let app = self
        func add(_ method: HTTPRequest.Method, _ path: String,
                 _ handler: @escaping @Sendable (Request, ParleyRequestContext) async throws -> Response) {
            recorder.record(method: method, path: path)
            router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
        }

        // Session and accounts
        add(.get, "/api/session") { _, context in try await app.session(context) }
        add(.post, "/api/auth/signup") { request, context in try await app.signup(request, context) }
        add(.post, "/api/auth/signin") { request, context in try await app.signin(request, context) }
        add(.post, "/api/auth/signout") { request, context in try await app.signout(request, context) }

        // Models and settings
        add(.get, "/api/models") { _, _ in try await app.models() }
        add(.get, "/api/settings") { _, context in
            let me = try Self.me(context)
            return AppJSON.response(AppJSON.instructions(try await db { try await app.store.customInstructions(userID: me.user.id) }))
        }
        add(.put, "/api/settings") { request, context in try await app.putSettings(request, context) }
        add(.get, "/api/admin/settings") { _, context in
            guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
            return AppJSON.response(.obj([("signup_enabled", .bool(try await app.signupEnabled()))]))
        }
        add(.put, "/api/admin/settings") { request, context in try await app.putAdminSettings(request, context) }

        // API keys
        add(.get, "/api/keys") { _, context in
            let me = try Self.me(context)
            let keys = try await db { try await app.store.apiKeys(userID: me.user.id) }
            return AppJSON.response(.obj([("keys", .array(keys.map(AppJSON.apiKey)))]))
        }
        add(.post, "/api/keys") { request, context in try await app.createKey(request, context) }
        add(.delete, "/api/keys/:id") { _, context in
            let me = try Self.me(context)
            let id = try Self.id(context)
            guard try await db({ try await app.store.revokeAPIKey(id: id, userID: me.user.id, now: Date()) }) else {
                throw AppError.notFound("API key")
            }
            return AppJSON.noContent()
        }

        // Conversations
        add(.get, "/api/conversations") { request, context in try await app.listConversations(request, context) }
        add(.post, "/api/conversations") { request, context in try await app.createConversation(request, context) }
        add(.get, "/api/conversations/:id") { _, context in
            let me = try Self.me(context)
            let c = try await app.conversation(try Self.id(context), me)
            async let messages = db { try await app.store.messages(conversationID: c.id, userID: me.user.id) }
            async let feedback = db { try await app.store.feedback(conversationID: c.id, userID: me.user.id) }
            let conversationJSON = AppJSON.conversation(c, temporary: try await app.isTemporary(c),
                                                        projectID: try await app.project(of: c)?.id)
            return AppJSON.response(.obj([("conversation", conversationJSON),
                                          ("messages", .array(try await messages.map(AppJSON.message))),
                                          ("feedback", .array(try await feedback.map(AppJSON.feedback)))]))
        }
        add(.patch, "/api/conversations/:id") { request, context in try await app.patchConversation(request, context) }
        add(.delete, "/api/conversations/:id") { _, context in
            let me = try Self.me(context)
            let id = try Self.id(context)
            app.replies.stopAll(conversationID: id, userID: me.user.id)
            guard try await db({ try await app.store.deleteConversation(id: id, userID: me.user.id) }) else {
                throw AppError.notFound("Conversation")
            }
            return AppJSON.noContent()
        }

        // Messages and replies
        add(.post, "/api/conversations/:id/messages") { request, context in try await app.postMessage(request, context) }
        add(.post, "/api/conversations/:id/regenerate") { request, context in try await app.regenerate(request, context) }
        add(.post, "/api/messages/:id/stop") { _, context in
            let me = try Self.me(context)
            guard app.replies.stop(messageID: try Self.id(context), userID: me.user.id) else {
                throw AppError.notFound("Reply being generated")
            }
            return AppJSON.noContent()
        }
        add(.put, "/api/messages/:id/feedback") { request, context in try await app.putFeedback(request, context) }

        // Export and import
        add(.get, "/api/export") { _, context in
            let me = try Self.me(context)
            let items = try await db { try await app.store.exportConversations(userID: me.user.id) }
            let records = try await db { try await app.safeguards.store?.wellbeingRecords(userID: me.user.id, since: nil) ?? [] }
            let memory = try await app.memoryExport(userID: me.user.id)
            let day = ISOTime.string(Date()).prefix(10)
            var document: [(String, TemplateValue)] = [("version", 1), ("exported_at", .time(Date())),
                                                       ("conversations", .array(items.map(AppJSON.export))),
                                                       ("wellbeing_records", .array(records.map(WellbeingJSON.record)))]
            document += memory
            document += try await app.projectExport(userID: me.user.id)
            return AppJSON.response(.obj(document),
                                    headers: [.contentDisposition: "attachment; filename=\"parley-export-\(day).json\""])
        }
        add(.post, "/api/import") { request, context in try await app.importConversations(request, context) }

        registerWellbeing(add)
        registerProviders(add)
        registerArena(add)
        registerMemory(add)
        registerProjects(add)

        add(.get, "/api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }

    // MARK: Session and accounts

    func session(_ context: ParleyRequestContext) async throws -> Response {
        let identity = context.identity
        var csrf: TemplateValue = .none
        if case .session(let s)? = identity?.method { csrf = .string(s.csrfToken) }
        let userCount = try await db { try await store.userCount() }
        let enabled = try await signupEnabled()
        let signup = auth.accounts && (userCount == 0 || enabled)
        return AppJSON.response(.obj([("user", identity.map { AppJSON.user($0.user) } ?? .none), ("csrf_token", csrf),
                                      ("signup_enabled", .bool(signup)), ("auth", .bool(auth.accounts))]))
    }

    func signedIn(_ user: User, request: Request, status: HTTPResponse.Status, context: ParleyRequestContext) async throws -> Response {
        // Rotation: the session the browser came with (if any) ends; a new token is issued.
        if let old = SessionCookie.token(request) {
            try? await store.deleteSession(tokenHash: Secrets.sha256Hex(old))
        }
        let (token, session) = try await auth.startSession(for: user)
        return AppJSON.response(.obj([("user", AppJSON.user(user)), ("csrf_token", .string(session.csrfToken))]),
                                status: status, headers: [.setCookie: SessionCookie.set(token, request: request)])
    }

    static func normalizedEmail(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.count <= 254,
              !email.contains(where: { $0.isWhitespace }) else {
            throw AppError.badRequest("'email' must be an email address.")
        }
        return email
    }

    func signup(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard auth.accounts else { throw AppError(.forbidden, "no_accounts", "This server runs without accounts (--no-auth).") }
        let b = try await body(request, limit: 64 << 10)
        let email = try Self.normalizedEmail(try b.requiredString("email", maxLength: 254))
        let password = try b.requiredString("password", maxLength: 1024)
        guard password.count >= 8 else { throw AppError.badRequest("The password must have at least 8 characters.") }
        var name = try b.string("display_name", maxLength: 100)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty { name = String(email.split(separator: "@")[0]) }
        let existing = try await db { try await store.userCount() }
        let open = try await signupEnabled()
        if existing > 0, !open {
            throw AppError(.forbidden, "signup_closed", "Sign-up is closed; ask an administrator for an account.")
        }
        let hash = try await PasswordHasher.hash(password)
        let user: User
        do {
            user = try await store.createUser(email: email, displayName: name, passwordHash: hash)
        } catch StoreError.conflict {
            throw AppError(.conflict, "email_taken", "An account with this email exists; sign in instead.")
        } catch let e as StoreError {
            throw AppError(e)
        }
        return try await signedIn(user, request: request, status: .created, context: context)
    }

    func signin(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard auth.accounts else { throw AppError(.forbidden, "no_accounts", "This server runs without accounts (--no-auth).") }
        let b = try await body(request, limit: 64 << 10)
        let rawEmail = try b.requiredString("email", maxLength: 254)
        let password = try b.requiredString("password", maxLength: 1024)
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let keys = ["addr:" + auth.clientAddress(request, context), "email:" + email]
        if let wait = auth.limiter.retryAfter(keys) {
            var e = AppError(.tooManyRequests, "rate_limited", "Too many failed sign-ins; try again in \(wait) s.")
            e.headers[.retryAfter] = String(wait)
            throw e
        }
        let user = try await db { try await store.user(email: email) }
        var ok = false
        if let user {
            ok = await PasswordHasher.verify(password, against: user.passwordHash)
        } else {
            await PasswordHasher.burnVerification(password)
        }
        guard ok, let user else {
            auth.limiter.recordFailure(keys)
            throw AppError(.unauthorized, "invalid_credentials", "Wrong email or password.")
        }
        auth.limiter.reset("email:" + email)
        return try await signedIn(user, request: request, status: .ok, context: context)
    }

    func signout(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        if case .session(let session)? = context.identity?.method {
            guard let sent = request.headers[.init("X-CSRF-Token")!], Secrets.constantTimeEqual(sent, session.csrfToken) else {
                throw AppError(.forbidden, "csrf", "Missing or wrong X-CSRF-Token header.")
            }
            try await db { try await store.deleteSession(tokenHash: session.tokenHash) }
        }
        return AppJSON.noContent(headers: [.setCookie: SessionCookie.clear(request: request)])
    }

    // MARK: Models and settings

    func models() async throws -> Response {
        let models = catalog.all
        let fallback = defaultModel.flatMap { id in models.contains { $0.id == id } ? id : nil } ?? models.first?.id
        let remote = try await providers?.models() ?? []
        return AppJSON.response(.obj([
            ("models", .array(models.map { .obj([("id", .string($0.id)),
                                                 ("context_length", .int($0.scheduler.configuration.contextLength))]) }
                              + remote.map { .obj([("id", .string($0.id)), ("provider", .string($0.provider.name))]) })),
            ("default", .str(fallback)),
        ]))
    }

    func putSettings(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let b = try await body(request)
        var current = try await db { try await store.customInstructions(userID: me.user.id) }
        if let s = try b.string("about_me", maxLength: 8000) { current.aboutMe = s } else if b.has("about_me") { current.aboutMe = "" }
        if let s = try b.string("how_to_answer", maxLength: 8000) { current.howToAnswer = s } else if b.has("how_to_answer") { current.howToAnswer = "" }
        try await db { try await store.setCustomInstructions(current, userID: me.user.id) }
        return AppJSON.response(AppJSON.instructions(current))
    }

    func putAdminSettings(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
        let b = try await body(request)
        guard let enabled = try b.bool("signup_enabled") else { throw AppError.badRequest("'signup_enabled' is required.") }
        try await db { try await store.setSetting("signup_enabled", value: enabled ? "true" : "false") }
        return AppJSON.response(.obj([("signup_enabled", .bool(enabled))]))
    }

    func createKey(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let b = try await body(request)
        if let projectID = try b.string("project_id", maxLength: 100), let credits {
            return try await CreditsAPI.call { try await credits.createProjectKey(b, context, projectID: projectID) }
        }
        var name = try b.string("name", maxLength: 100)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty { name = "API key" }
        let (secret, key) = auth.makeAPIKey(userID: me.user.id, name: name)
        try await db { try await store.createAPIKey(key) }
        return AppJSON.response(.obj([("key", AppJSON.apiKey(key)), ("secret", .string(secret))]), status: .created)
    }

    // MARK: Conversations

    func listConversations(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let limit = try queryInt(request, "limit", default: 50, in: 1...500)
        let offset = try queryInt(request, "offset", default: 0, in: 0...Int(Int32.max))
        var q = queryValue(request, "q")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if q?.isEmpty == true { q = nil }
        if let query = q, query.count > 500 { throw AppError.badRequest("'q' is longer than 500 characters.") }
        let list = try await db { try await store.conversations(userID: me.user.id, search: q, limit: limit, offset: offset) }
        return AppJSON.response(.obj([("conversations", .array(list.map(AppJSON.conversation)))]))
    }

    func createConversation(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let b = try await body(request)
        let model = try b.string("model", maxLength: 200)
        try await checkModel(model)
        let c = Conversation(userID: me.user.id,
                             title: try b.string("title", maxLength: 500)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "",
                             systemPrompt: try b.string("system_prompt", maxLength: 32_000),
                             temperature: try b.number("temperature", in: 0...2), model: model)
        let temporary = try b.bool("temporary") ?? false
        let projectID = try b.string("project_id", maxLength: 100)
        if let projectID {
            let projects = try requireProjects()
            _ = try await project(projectID, me, projects)
        }
        if temporary, chatMemoryStore == nil {
            throw AppError(.serviceUnavailable, "unavailable", "This database cannot keep temporary chats apart.")
        }
        let created = try await db { try await store.createConversation(c) }
        if temporary, let memoryStore = chatMemoryStore {
            _ = try await db { try await memoryStore.markTemporary(conversationID: created.id, userID: me.user.id) }
        }
        if let projectID, let projects = projectStore {
            guard try await db({ try await projects.setProject(projectID, conversationID: created.id, userID: me.user.id) }) else {
                throw AppError.notFound("Project")
            }
        }
        return AppJSON.response(AppJSON.conversation(created, temporary: temporary, projectID: projectID), status: .created)
    }

    func patchConversation(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        var c = try await conversation(try Self.id(context), me)
        let b = try await body(request)
        if b.has("title") { c.title = try b.string("title", maxLength: 500)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
        if b.has("system_prompt") { c.systemPrompt = try b.string("system_prompt", maxLength: 32_000) }
        if b.has("temperature") { c.temperature = try b.number("temperature", in: 0...2) }
        if b.has("model") {
            c.model = try b.string("model", maxLength: 200)
            try await checkModel(c.model)
        }
        if b.has("current_leaf_id") { c.currentLeafID = try b.string("current_leaf_id", maxLength: 100) }
        c.updatedAt = Date()
        do {
            try await store.updateConversation(c)
        } catch StoreError.invalid(let m) {
            throw AppError.badRequest("'current_leaf_id' is not a message of this conversation (\(m)).")
        } catch let e as StoreError {
            throw AppError(e)
        }
        return AppJSON.response(AppJSON.conversation(try await conversation(c.id, me)))
    }

    // MARK: Messages and replies

    func postMessage(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        var c = try await conversation(try Self.id(context), me)
        let b = try await body(request)
        let content = try b.requiredString("content", maxLength: 200_000)
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AppError.badRequest("'content' is empty.")
        }
        let messages = try await db { try await store.messages(conversationID: c.id, userID: me.user.id) }
        // Absent: under the current leaf; null: a new root (an edit of the first message); an id: under it.
        let parentID: RecordID?
        if b.has("parent_id") {
            parentID = try b.string("parent_id", maxLength: 100)
            if let parentID, !messages.contains(where: { $0.id == parentID }) { throw AppError.notFound("Parent message") }
        } else {
            parentID = c.currentLeafID
        }
        let remote = try await providers?.model(c.model)
        let served = remote == nil ? try servedModel(for: c) : nil
        let instructions = try await db { try await store.customInstructions(userID: me.user.id) }
        let draft = Message(conversationID: c.id, parentID: parentID, role: .user, content: content)
        let branch = Self.branch(to: parentID, in: messages) + [draft]
        let wellbeing = await safeguards.notice(for: branch, userID: me.user.id, acceptLanguage: request.headers[.acceptLanguage])
        // The prompt is checked before anything is written: a message that cannot fit is refused whole.
        let prompt = try served.map {
            try PromptBuilder.build(model: $0.model, context: $0.scheduler.configuration.contextLength,
                                    systemPrompt: c.systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
                                    instructions: instructions, branch: branch, guidance: wellbeing?.guidance)
        }
        let user = try await db { try await store.appendMessage(draft, userID: me.user.id) }
        await safeguards.record(wellbeing, userID: me.user.id, conversationID: c.id)
        var newTitle: String?
        if c.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let title = Self.title(from: content)
            if let fresh = try await db({ try await store.conversation(id: c.id, userID: me.user.id) }) { c = fresh }
            c.title = title
            try await db { try await store.updateConversation(c) }
            newTitle = title
        }
        if let remote {
            return try await streamProviderReply(identity: me, conversation: c, branch: branch, parent: user, userMessage: user,
                                                 newTitle: newTitle, model: remote, wellbeing: wellbeing)
        }
        guard let served, let prompt else { throw AppError.badRequest("No model serves this conversation.") }
        // Memory and project files are read (and "remember …" acted on) for local models, whose prompt Parley builds.
        let contextLength = served.scheduler.configuration.contextLength
        let memoryTurn = await self.memoryTurn(userID: me.user.id, conversation: c, message: user, query: content,
                                               model: served.model, context: contextLength)
        let projectTurn = await self.projectTurn(conversation: c, query: content, model: served.model, context: contextLength)
        let extra = Self.joinedGuidance(projectTurn.guidance, memoryTurn.guidance)
        let finalPrompt = extra == nil ? prompt : (try? PromptBuilder.build(
            model: served.model, context: contextLength, systemPrompt: c.systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
            instructions: instructions, branch: branch,
            guidance: Self.joinedGuidance(projectTurn.guidance, memoryTurn.guidance, wellbeing?.guidance))) ?? prompt
        return try await streamReply(identity: me, conversation: c, branch: branch, parent: user, userMessage: user,
                                     newTitle: newTitle, prompt: finalPrompt, served: served, wellbeing: wellbeing,
                                     memoryEvent: memoryTurn.event(files: projectTurn))
    }

    func regenerate(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let c = try await conversation(try Self.id(context), me)
        let b = try await body(request)
        let messageID = try b.requiredString("message_id", maxLength: 100)
        let messages = try await db { try await store.messages(conversationID: c.id, userID: me.user.id) }
        guard let old = messages.first(where: { $0.id == messageID }) else { throw AppError.notFound("Message") }
        guard old.role == .assistant, let parentID = old.parentID,
              let parent = messages.first(where: { $0.id == parentID }) else {
            throw AppError.badRequest("'message_id' must be an assistant reply.")
        }
        let remote = try await providers?.model(c.model)
        let branch = Self.branch(to: parentID, in: messages)
        // The turn was recorded (and any review case opened) when it was sent; a new reply to it records nothing.
        var wellbeing = await safeguards.notice(for: branch, userID: me.user.id, acceptLanguage: request.headers[.acceptLanguage])
        wellbeing?.reviewNotice = nil
        if let remote {
            return try await streamProviderReply(identity: me, conversation: c, branch: branch, parent: parent, userMessage: nil,
                                                 newTitle: nil, model: remote, wellbeing: wellbeing)
        }
        let served = try servedModel(for: c)
        let instructions = try await db { try await store.customInstructions(userID: me.user.id) }
        // A new reply reads memory again for the same turn but changes nothing.
        let lastUser = branch.last(where: { $0.role == .user })?.content ?? ""
        let memoryTurn = await self.memoryTurn(userID: me.user.id, conversation: c, message: nil, query: lastUser,
                                               model: served.model, context: served.scheduler.configuration.contextLength)
        let projectTurn = await self.projectTurn(conversation: c, query: lastUser, model: served.model,
                                                 context: served.scheduler.configuration.contextLength)
        let prompt = try PromptBuilder.build(model: served.model, context: served.scheduler.configuration.contextLength,
                                             systemPrompt: c.systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
                                             instructions: instructions, branch: branch,
                                             guidance: Self.joinedGuidance(projectTurn.guidance, memoryTurn.guidance, wellbeing?.guidance))
        return try await streamReply(identity: me, conversation: c, branch: branch, parent: parent, userMessage: nil,
                                     newTitle: nil, prompt: prompt, served: served, wellbeing: wellbeing,
                                     memoryEvent: memoryTurn.event(files: projectTurn))
    }

    func putFeedback(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let id = try Self.id(context)
        let b = try await body(request)
        guard let rating = try b.int("rating"), rating == 1 || rating == -1 else {
            throw AppError.badRequest("'rating' must be 1 or -1.")
        }
        let comment = try b.string("comment", maxLength: 8000)
        let feedback = Feedback(messageID: id, userID: me.user.id, rating: rating,
                                comment: comment?.isEmpty == true ? nil : comment)
        try await db { try await store.setFeedback(feedback) }
        return AppJSON.response(AppJSON.feedback(feedback))
    }

    // MARK: Import

    func importConversations(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let b = try await body(request, limit: max(maxBodyBytes, 64 << 20))
        if let version = try b.int("version"), version != 1 {
            throw AppError.badRequest("Unsupported export version \(version); this server reads version 1.")
        }
        guard case .array(let list)? = b.object["conversations"] else {
            throw AppError.badRequest("'conversations' must be an array (the document GET /api/export returns).")
        }
        var items: [ConversationExport] = []
        for (i, raw) in list.enumerated() {
            items.append(try ImportReader.conversation(raw, path: "conversations[\(i)]", userID: me.user.id))
        }
        let n = try await db { try await store.importConversations(items, userID: me.user.id) }
        return AppJSON.response(.obj([("imported", .int(n))]))
    }
}

/// Reads the export document back into records, naming the first field that is wrong.
enum ImportReader {
    static func object(_ v: TemplateValue?, _ path: String) throws -> AppBody {
        guard case .object(let o)? = v else { throw AppError.badRequest("'\(path)' must be an object.") }
        return AppBody(object: o)
    }

    static func field<T>(_ path: String, _ key: String, _ read: () throws -> T?) throws -> T {
        do {
            guard let v = try read() else { throw AppError.badRequest("'\(path).\(key)' is required.") }
            return v
        } catch let e as AppError where !e.message.contains(path) {
            throw AppError.badRequest("'\(path).\(key)': \(e.message)")
        }
    }

    static func time(_ b: AppBody, _ path: String, _ key: String) throws -> Date {
        guard let s = try b.string(key) else { return Date() }
        guard let d = ISOTime.parse(s) else { throw AppError.badRequest("'\(path).\(key)' must be an ISO-8601 time.") }
        return d
    }

    static func conversation(_ raw: TemplateValue, path: String, userID: RecordID) throws -> ConversationExport {
        let item = try object(raw, path)
        let cb = try object(item.object["conversation"], path + ".conversation")
        let cp = path + ".conversation"
        let conversation = Conversation(
            id: try field(cp, "id") { try cb.string("id", maxLength: 100) }, userID: userID,
            title: try cb.string("title", maxLength: 500) ?? "", systemPrompt: try cb.string("system_prompt", maxLength: 32_000),
            temperature: try cb.number("temperature", in: 0...2), model: try cb.string("model", maxLength: 200),
            currentLeafID: try cb.string("current_leaf_id", maxLength: 100),
            createdAt: try time(cb, cp, "created_at"), updatedAt: try time(cb, cp, "updated_at"))
        var messages: [Message] = []
        if let raw = item.object["messages"], raw != .none {
            guard case .array(let list) = raw else { throw AppError.badRequest("'\(path).messages' must be an array.") }
            for (j, m) in list.enumerated() {
                let mp = "\(path).messages[\(j)]"
                let mb = try object(m, mp)
                guard let role = MessageRole(rawValue: try field(mp, "role") { try mb.string("role") }) else {
                    throw AppError.badRequest("'\(mp).role' must be system, user or assistant.")
                }
                var status = MessageStatus(rawValue: try mb.string("status") ?? "complete") ?? .complete
                if status == .generating { status = .incomplete }  // nothing is generating it here
                messages.append(Message(
                    id: try field(mp, "id") { try mb.string("id", maxLength: 100) }, conversationID: conversation.id,
                    parentID: try mb.string("parent_id", maxLength: 100), role: role,
                    content: try mb.string("content", maxLength: 1_000_000) ?? "", model: try mb.string("model", maxLength: 200),
                    status: status, createdAt: try time(mb, mp, "created_at"), updatedAt: try time(mb, mp, "updated_at")))
            }
        }
        var feedback: [Feedback] = []
        if let raw = item.object["feedback"], raw != .none {
            guard case .array(let list) = raw else { throw AppError.badRequest("'\(path).feedback' must be an array.") }
            for (j, f) in list.enumerated() {
                let fp = "\(path).feedback[\(j)]"
                let fb = try object(f, fp)
                let rating = try field(fp, "rating") { try fb.int("rating") }
                guard rating == 1 || rating == -1 else { throw AppError.badRequest("'\(fp).rating' must be 1 or -1.") }
                feedback.append(Feedback(messageID: try field(fp, "message_id") { try fb.string("message_id", maxLength: 100) },
                                         userID: userID, rating: rating, comment: try fb.string("comment", maxLength: 8000),
                                         createdAt: try time(fb, fp, "created_at")))
            }
        }
        return ConversationExport(conversation: conversation, messages: messages, feedback: feedback)
    }
}

/// The `/api` routes as registered, for the OpenAPI check.
public final class RouteRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(method: String, path: String)] = []

    func record(method: HTTPRequest.Method, path: String) {
        lock.withLock { entries.append((method.rawValue, path)) }
    }

    /// Method and path of each route, with parameters written OpenAPI-style (`{id}`).
    public var routes: [(method: String, path: String)] {
        lock.withLock { entries }.map { entry in
            (entry.method, entry.path.split(separator: "/", omittingEmptySubsequences: false).map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/"))
        }
    }
}
