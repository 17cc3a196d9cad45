import Foundation
import ParleyStore
import PostgresNIO
import Testing

/// The backends every behaviour runs against.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A store at a fresh location (a temporary SQLite file, or a PostgreSQL database made for this test alone),
/// removed again by `cleanup()`.
final class Harness: @unchecked Sendable {
    let backend: Backend
    /// What `openStore` takes.
    let location: String
    /// The store the behaviour works on (opened by `openStore`, so migrated, unless asked otherwise).
    let store: any ParleyStore
    private var others: [any ParleyStore] = []
    private let removeLocation: @Sendable () async -> Void

    private init(backend: Backend, location: String, store: any ParleyStore, removeLocation: @escaping @Sendable () async -> Void) {
        self.backend = backend; self.location = location; self.store = store; self.removeLocation = removeLocation
    }

    static func make(_ backend: Backend, migrated: Bool = true) async throws -> Harness {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("chat.sqlite").path
            let location = "sqlite://" + path
            let remove: @Sendable () async -> Void = { try? FileManager.default.removeItem(at: directory) }
            do {
                let store: any ParleyStore = migrated ? try await openStore(location) : try SQLiteStore(path: path)
                return Harness(backend: backend, location: location, store: store, removeLocation: remove)
            } catch {
                await remove()
                throw error
            }
        case .postgres:
            let database = try await PostgresTestServer.freshDatabase()
            do {
                let store: any ParleyStore = migrated
                    ? try await openStore(database.url) : try await PostgresStore(url: database.url, maxConnections: 8)
                return Harness(backend: backend, location: database.url, store: store, removeLocation: database.drop)
            } catch {
                await database.drop()
                throw error
            }
        }
    }

    /// Another store on the same database, as a second process (or the next start of this one) would open it.
    func openAnother() async throws -> any ParleyStore {
        let store = try await openStore(location)
        others.append(store)
        return store
    }

    func cleanup() async {
        for store in others.reversed() { try? await store.close() }
        try? await store.close()
        await removeLocation()
    }
}

/// Runs `body` on a fresh harness and always cleans up.
func withHarness(_ backend: Backend, migrated: Bool = true, _ body: (Harness) async throws -> Void) async throws {
    let harness = try await Harness.make(backend, migrated: migrated)
    do {
        try await body(harness)
    } catch {
        await harness.cleanup()
        throw error
    }
    await harness.cleanup()
}

/// The PostgreSQL server the tests use: `PARLEY_TEST_POSTGRES_URL` (an account allowed to create databases;
/// `scripts/start-test-postgres.sh` starts one). Every harness gets a database of its own, dropped afterwards.
enum PostgresTestServer {
    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_POSTGRES"] == "1" }

    /// The PostgreSQL suite runs when a server is configured, or is required (and then fails without one).
    static var shouldRun: Bool { url != nil || required }

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "PARLEY_REQUIRE_POSTGRES=1 but PARLEY_TEST_POSTGRES_URL is not set: run eval \"$(scripts/start-test-postgres.sh)\""
        }
    }

    static func freshDatabase() async throws -> (url: String, drop: @Sendable () async -> Void) {
        guard let adminURL = url else { throw NotConfigured() }
        let admin = try PostgresLocation(url: adminURL)
        let name = "parley_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        try await run(on: admin, "CREATE DATABASE \(name)")
        var components = URLComponents(string: adminURL)!
        components.percentEncodedPath = "/" + name
        let drop: @Sendable () async -> Void = {
            do {
                try await run(on: admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            } catch {
                Issue.record("could not drop the test database \(name): \(String(reflecting: error))")
            }
        }
        return (components.string!, drop)
    }

    private static func run(on location: PostgresLocation, _ sql: String) async throws {
        var logger = Logger(label: "parley.store.tests")
        logger.logLevel = .error
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

// MARK: - Expectations

enum StoreErrorKind: String, Sendable { case conflict, notFound, invalid, unavailable }

extension StoreError {
    var kind: StoreErrorKind {
        switch self {
        case .conflict: return .conflict
        case .notFound: return .notFound
        case .invalid: return .invalid
        case .unavailable: return .unavailable
        }
    }
}

/// Expects `body` to throw a `StoreError` of this kind; returns it for a look at its message.
@discardableResult
func expectStoreError(_ kind: StoreErrorKind, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () async throws -> Void) async -> StoreError? {
    do {
        try await body()
        Issue.record("expected a \(kind) StoreError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error.kind == kind, "expected \(kind), got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a \(kind) StoreError, got \(String(reflecting: error))", sourceLocation: sourceLocation)
    }
    return nil
}

/// Whole-millisecond times (what the store keeps), fixed so tests compare exact values.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)
func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

extension ParleyStore {
    func makeUser(_ name: String) async throws -> User {
        try await createUser(email: "\(name)@example.com", displayName: name.capitalized, passwordHash: "kdf$\(name)")
    }

    func makeConversation(_ user: User, _ title: String, updated: Date = t0) async throws -> Conversation {
        try await createConversation(Conversation(userID: user.id, title: title, createdAt: updated, updatedAt: updated))
    }

    func say(_ conversation: Conversation, _ user: User, _ role: MessageRole, _ content: String, parent: Message?,
             at time: Date = t0, status: MessageStatus = .complete) async throws -> Message {
        try await appendMessage(Message(conversationID: conversation.id, parentID: parent?.id, role: role, content: content,
                                        model: role == .assistant ? "smollm2" : nil, status: status,
                                        createdAt: time, updatedAt: time), userID: user.id)
    }
}
