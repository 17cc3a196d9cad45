import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// One SmolLM2 scheduler shared by the in-process tests.
enum Shared {
    static let served: ServedModel = {
        let model = try! Model(path: TestModels.smolLM2)
        var c = SchedulerConfiguration()
        c.parallel = 4
        c.contextLength = 1024
        c.threads = 2
        return ServedModel(id: "smollm2", model: model, scheduler: Scheduler(model: model, configuration: c))
    }()
}

/// Where a test's database lives: a fresh SQLite file, or (when `PARLEY_TEST_POSTGRES_URL` is set) PostgreSQL.
enum Backend: String, CaseIterable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }

    static var available: [Backend] {
        ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    func open() async throws -> any ParleyStore {
        switch self {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parley-app-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return try await openStore(dir.appendingPathComponent("parley.sqlite").path)
        case .postgres:
            return try await openStore(ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"]!)
        }
    }
}

/// An app over a fresh store, served in process.
struct TestApp {
    let api: ParleyAPI
    let store: any ParleyStore

    static func make(accounts: Bool = true, staticKey: String? = nil, backend: Backend = .sqlite) async throws -> TestApp {
        let store = try await backend.open()
        let catalog = ModelCatalog(ready: [Shared.served])
        let app = try await ChatApp.start(store: store, catalog: catalog, accounts: accounts, staticAPIKey: staticKey)
        return TestApp(api: ParleyAPI(catalog: catalog, apiKey: staticKey, app: app), store: store)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: api.makeRouter()).test(.router) { client in try await body(client) }
        try? await store.close()
    }
}

struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }

    /// `event: NAME` / `data: JSON` pairs of an event stream.
    var events: [(name: String, data: [String: Any])] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var name = "message", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard !data.isEmpty else { return nil }
            return (name, (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:])
        }
    }
}

/// A browser: keeps the session cookie and CSRF token between requests.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?
    var bearer: String?
    var extraHeaders: HTTPFields = [:]

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, sendCSRF: Bool = true) async throws -> Reply {
        var headers = extraHeaders
        if body != nil { headers[.contentType] = "application/json" }
        if let cookie { headers[.cookie] = "parley_session=\(cookie)" }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if sendCSRF, let csrf, method != .get { headers[.init("X-CSRF-Token")!] = csrf }
        let reply = try await client.execute(uri: path, method: method, headers: headers,
                                             body: body.map { ByteBuffer(string: $0) }) { r in
            Reply(status: r.status, headers: r.headers, text: String(buffer: r.body))
        }
        if let set = reply.headers[.setCookie], set.hasPrefix("parley_session=") {
            let value = set.dropFirst("parley_session=".count).prefix { $0 != ";" }
            cookie = value.isEmpty ? nil : String(value)
        }
        if let token = reply.json["csrf_token"] as? String { csrf = token }
        return reply
    }

    func get(_ path: String) async throws -> Reply { try await call(.get, path) }
    func post(_ path: String, _ body: String = "{}") async throws -> Reply { try await call(.post, path, body) }

    /// Signs up (or in when `signin`), expecting success.
    @discardableResult
    func signUp(_ email: String, password: String = "correct horse", sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let r = try await post("/api/auth/signup", #"{"email": "\#(email)", "password": "\#(password)", "display_name": "\#(email)"}"#)
        #expect(r.status == .created, "\(r.text)", sourceLocation: sourceLocation)
        return r.json["user"] as? [String: Any] ?? [:]
    }

    func newConversation(_ body: String = "{}") async throws -> String {
        let r = try await post("/api/conversations", body)
        #expect(r.status == .created, "\(r.text)")
        return r.json["id"] as? String ?? ""
    }

    func tree(_ id: String) async throws -> (conversation: [String: Any], messages: [[String: Any]], feedback: [[String: Any]]) {
        let r = try await get("/api/conversations/\(id)")
        #expect(r.status == .ok, "\(r.text)")
        return (r.json["conversation"] as? [String: Any] ?? [:], r.json["messages"] as? [[String: Any]] ?? [],
                r.json["feedback"] as? [[String: Any]] ?? [])
    }
}

func jsonString(_ s: String) -> String {
    String(data: try! JSONSerialization.data(withJSONObject: [s], options: []), encoding: .utf8)!.dropFirst().dropLast().description
}
