import AsyncHTTPClient
@preconcurrency import Crypto
import Foundation
import Hummingbird
import ParleyEval
import ParleyStore
import ParleyTokenizer

/// Seals provider keys for the database: AES-256-GCM, a fresh 96-bit nonce per key, the provider's id as
/// authenticated data (a ciphertext moved to another row does not open). The 32-byte key lives in a file the
/// server creates on first use with mode 0600 (`$PARLEY_HOME/provider-keys.secret` for `parley serve`), never
/// in the database; without a file (tests in process) the key lives in memory for the process's lifetime.
public struct ProviderKeyring: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// Reads the key file, creating it (0600, exclusively, so two starting servers agree on one key) if absent.
    public init(file: String) throws {
        let url = URL(fileURLWithPath: file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == fresh.count else { throw ServerStartError("cannot write the provider key file \(file)") }
        } else if errno != EEXIST {
            throw ServerStartError("cannot create the provider key file \(file): \(String(cString: strerror(errno)))")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw ServerStartError("the provider key file \(file) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: file), data.count == 32 else {
            throw ServerStartError("the provider key file \(file) does not hold a 32-byte key")
        }
        key = SymmetricKey(data: data)
    }

    public func seal(_ secret: String, providerID: String) throws -> String {
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(providerID.utf8))
        guard let combined = box.combined else { throw AppError(.internalServerError, "internal_error", "Cannot seal the key.") }
        return combined.base64EncodedString()
    }

    public func unseal(_ ciphertext: String, providerID: String) throws -> String {
        guard let data = Data(base64Encoded: ciphertext) else { throw ProviderKeyError() }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(providerID.utf8)), as: UTF8.self)
    }
}

struct ProviderKeyError: Error, CustomStringConvertible {
    var description: String { "the stored key cannot be opened with this server's provider key file" }
}

/// A model a configured provider serves, under the id `PROVIDER/MODEL`.
struct ProviderModel: Sendable {
    let id: String
    let provider: StoredProvider
    let model: String
}

/// The configured OpenAI-compatible providers, read from the store (so every server process over one database
/// sees the same); their requests share AsyncHTTPClient's process-wide client (its connection pool).
final class ProviderRegistry: Sendable {
    let store: any ArenaStore
    let keyring: ProviderKeyring
    var http: HTTPClient { .shared }

    init(store: any ArenaStore, keyring: ProviderKeyring) {
        self.store = store
        self.keyring = keyring
    }

    func models() async throws -> [ProviderModel] {
        try await db { try await store.providers() }.flatMap { p in
            p.models.map { ProviderModel(id: "\(p.name)/\($0)", provider: p, model: $0) }
        }
    }

    /// The provider model with this id; nil when the id names none (a local model, then).
    func model(_ id: String?) async throws -> ProviderModel? {
        guard let id, id.contains("/") else { return nil }
        return try await models().first { $0.id == id }
    }

    /// A client for the model, its key opened (never logged, never returned).
    func client(_ model: ProviderModel) throws -> ProviderClient {
        var key: String?
        if let sealed = model.provider.keyCiphertext {
            do {
                key = try keyring.unseal(sealed, providerID: model.provider.id)
            } catch {
                throw AppError(.serviceUnavailable, "provider_key", "The key of provider '\(model.provider.name)' cannot be opened with this server's key file; set it again.")
            }
        }
        return ProviderClient(ProviderConfiguration(name: model.provider.name, baseURL: model.provider.baseURL, apiKey: key,
                                                    model: model.model), sharing: http)
    }

    static func json(_ p: StoredProvider, admin: Bool) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [
            ("id", .string(p.id)), ("name", .string(p.name)), ("models", .array(p.models.map { .string("\(p.name)/\($0)") })),
        ]
        // Never the key, nor its ciphertext: only whether one is set.
        if admin {
            pairs += [("base_url", .string(p.baseURL)), ("has_key", .bool(p.keyCiphertext != nil)), ("created_at", .time(p.createdAt))]
        }
        return .obj(pairs)
    }
}

extension ChatApp {
    func registerProviders(_ add: AddRoute) {
        let app = self
        add(.get, "/api/providers") { _, context in
            let me = try Self.me(context)
            let registry = try app.providerRegistry()
            let list = try await db { try await registry.store.providers() }
            return AppJSON.response(.obj([("providers", .array(list.map { ProviderRegistry.json($0, admin: me.isAdmin) }))]))
        }
        add(.post, "/api/providers") { request, context in
            let me = try Self.me(context)
            guard me.isAdmin else { throw AppError.notAdmin }
            let registry = try app.providerRegistry()
            let b = try await app.body(request, limit: 64 << 10)
            let name = try b.requiredString("name", maxLength: 64).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw AppError.badRequest("'name' must be letters, digits, '-', '_' or '.'.")
            }
            let baseURL = try b.requiredString("base_url", maxLength: 2000).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw AppError.badRequest("'base_url' must be an http:// or https:// URL (e.g. https://api.openai.com/v1).")
            }
            guard case .array(let rawModels)? = b.object["models"], !rawModels.isEmpty, rawModels.count <= 100 else {
                throw AppError.badRequest("'models' must be a non-empty array of model ids.")
            }
            let models = try rawModels.map { raw -> String in
                guard case .string(let s) = raw else { throw AppError.badRequest("'models' must hold strings.") }
                let id = s.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !id.isEmpty, id.count <= 200, !id.contains("\n") else { throw AppError.badRequest("A model id is empty or too long.") }
                return id
            }
            let key = try b.string("api_key", maxLength: 4096).flatMap { $0.isEmpty ? nil : $0 }
            let id = newRecordID()
            let sealed = try key.map { try registry.keyring.seal($0, providerID: id) }
            let created = try await db {
                try await registry.store.createProvider(StoredProvider(id: id, name: name, baseURL: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL,
                                                                       models: models, keyCiphertext: sealed, createdBy: me.user.id))
            }
            return AppJSON.response(ProviderRegistry.json(created, admin: true), status: .created)
        }
        add(.delete, "/api/providers/:id") { _, context in
            guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
            let id = try Self.id(context)
            let registry = try app.providerRegistry()
            guard try await db({ try await registry.store.deleteProvider(id: id) }) else { throw AppError.notFound("Provider") }
            return AppJSON.noContent()
        }
    }

    func providerRegistry() throws -> ProviderRegistry {
        guard let providers else {
            throw AppError(.serviceUnavailable, "unavailable", "This server's store keeps no providers or arena.")
        }
        return providers
    }

    /// Streams a provider's reply to the app's stream (the same events as a local model's reply).
    func streamProviderReply(identity: Identity, conversation: Conversation, branch: [Message], parent: Message,
                             userMessage: Message?, newTitle: String?, model: ProviderModel,
                             wellbeing: WellbeingNotice? = nil) async throws -> Response {
        let registry = try providerRegistry()
        let client = try registry.client(model)
        let instructions = try await db { try await store.customInstructions(userID: identity.user.id) }
        let turns = PromptBuilder.turns(systemPrompt: conversation.systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
                                        instructions: instructions, branch: branch, guidance: wellbeing?.guidance)
        let userID = identity.user.id
        let assistant = try await db {
            try await store.appendMessage(Message(conversationID: conversation.id, parentID: parent.id, role: .assistant,
                                                  content: "", model: model.id, status: .generating), userID: userID)
        }
        let reply = ActiveReply(messageID: assistant.id, userID: userID, conversationID: conversation.id)
        replies.add(reply)
        var first: [ReplyEvent] = []
        if let userMessage { first.append(ReplyEvent(name: "user", data: AppJSON.message(userMessage))) }
        if let wellbeing { first.append(ReplyEvent(name: "wellbeing", data: wellbeing.json)) }
        first.append(ReplyEvent(name: "assistant", data: AppJSON.message(assistant)))
        let (events, continuation) = AsyncStream<ReplyEvent>.makeStream(bufferingPolicy: .unbounded)
        let stream = client.streamChat(turns, maxTokens: nil, temperature: conversation.temperature ?? 0.7)
        let job = ReplyJob(store: store, registry: replies, metrics: metrics, flushInterval: flushInterval, reply: reply,
                           assistant: assistant, userID: userID, newTitle: newTitle, continuation: continuation)
        let task = Task.detached { await job.run(provider: stream) }
        reply.onStop { task.cancel() }
        let opening = first.map(\.text).joined()
        let body = ResponseBody { writer in
            try await ReplyJob.send(opening: opening, events: events, reply: reply, to: &writer)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store",
                                               .init("X-Accel-Buffering")!: "no"], body: body)
    }
}

extension ParleyAPI {
    /// `/v1/chat/completions` for a provider's model: the request body goes to the provider as it came, with only
    /// `model` replaced by the provider's own id and the provider's key in `Authorization` (never the caller's);
    /// the answer (JSON or an event stream) comes back as the provider sent it, status included.
    func forwardChat(_ f: RequestFields, model: ProviderModel, registry: ProviderRegistry) async throws -> Response {
        var object = f.object
        object["model"] = .string(model.model)
        let client = try registry.client(model)
        let response: HTTPClientResponse
        do {
            response = try await client.forward("/chat/completions", body: Array(TemplateValue.object(object).jsonString().utf8))
        } catch {
            throw OpenAIError(status: .badGateway, message: "The provider '\(model.provider.name)' cannot be reached: \(error)", type: "server_error")
        }
        var headers: HTTPFields = [:]
        headers[.contentType] = response.headers.first(name: "content-type") ?? "application/json"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            for try await chunk in response.body { try await writer.write(chunk) }
            try await writer.finish(nil)
        }
        return Response(status: HTTPResponse.Status(code: Int(response.status.code)), headers: headers, body: body)
    }
}
