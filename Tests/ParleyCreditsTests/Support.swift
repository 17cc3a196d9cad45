import Foundation
import Logging
import ParleyCredits
import ParleyStore
import PostgresNIO
import Testing

/// The backends the credits tests run on: SQLite always, PostgreSQL when `PARLEY_TEST_POSTGRES_URL` is set
/// (`eval "$(scripts/start-test-postgres.sh)"`), each test on a database of its own.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// PostgreSQL too when a server is configured or required (`PARLEY_REQUIRE_POSTGRES=1`, as scripts/test.sh
    /// sets: then a missing server fails the test instead of skipping it).
    static var available: [Backend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["PARLEY_REQUIRE_POSTGRES"] == "1" ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// A fresh, migrated store; `cleanup()` removes it.
struct TestDatabase: Sendable {
    let store: CreditsService.Store
    /// What `openStore` takes (for a second store on the same database, as the server opens it).
    let location: String
    let remove: @Sendable () async -> Void

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parley-credits-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let path = dir.appendingPathComponent("parley.sqlite").path
            let store = try await openStore(path) as! CreditsService.Store
            return TestDatabase(store: store, location: path) { try? FileManager.default.removeItem(at: dir) }
        case .postgres:
            guard let adminURL = Backend.postgresURL else { throw CreditsError.invalid("PARLEY_TEST_POSTGRES_URL is not set") }
            let admin = try PostgresLocation(url: adminURL)
            let name = "parley_credits_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
            try await TestDatabase.run(on: admin, "CREATE DATABASE \(name)")
            var components = URLComponents(string: adminURL)!
            components.percentEncodedPath = "/" + name
            let url = components.string!
            let store = try await openStore(url) as! CreditsService.Store
            return TestDatabase(store: store, location: url) { try? await TestDatabase.run(on: admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
    }

    func cleanup() async {
        try? await store.close()
        await remove()
    }

    private static func run(on location: PostgresLocation, _ sql: String) async throws {
        var logger = Logger(label: "parley.credits.tests")
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

/// A settable clock for the service: tests move time to make waits and periods exact.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) { now = start }

    var date: Date { lock.withLock { now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
    var read: @Sendable () -> Date { { [self] in date } }
}

/// An organisation to act in: an admin, area reviewers, project leads and members, over a fresh store.
struct Org {
    let db: TestDatabase
    let service: CreditsService
    let clock: TestClock
    let admin: CreditsActor

    static func make(_ backend: Backend = .sqlite) async throws -> Org {
        let db = try await TestDatabase.make(backend)
        let clock = TestClock()
        let service = CreditsService(store: db.store, clock: clock.read)
        let admin = try await db.store.createUser(email: "admin", displayName: "Admin", passwordHash: "!")
        return Org(db: db, service: service, clock: clock, admin: CreditsActor(userID: admin.id, isAdmin: true))
    }

    func user(_ name: String) async throws -> CreditsActor {
        let user = try await db.store.createUser(email: name, displayName: name, passwordHash: "!")
        return CreditsActor(userID: user.id, isAdmin: user.isAdmin)
    }

    func area(_ name: String, reviewers: [CreditsActor] = []) async throws -> ResearchArea {
        let area = try await service.createResearchArea(name: name, by: admin)
        for r in reviewers { try await service.addAreaReviewer(areaID: area.id, userID: r.userID, by: admin) }
        return area
    }

    func project(_ name: String, in area: ResearchArea, lead: CreditsActor) async throws -> Project {
        try await service.createProject(name: name, researchAreaID: area.id, by: lead)
    }

    func cleanup() async { await db.cleanup() }
}

func credits(_ whole: Int64) -> Int64 { whole * CreditAmount.microPerCredit }

/// Expects `body` to throw this kind of CreditsError.
func expectCreditsError(_ matches: (CreditsError) -> Bool, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(what), nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as CreditsError {
        #expect(matches(e), "expected \(what), got \(e)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(what), got \(error)", sourceLocation: sourceLocation)
    }
}

func isForbidden(_ e: CreditsError) -> Bool { if case .forbidden = e { return true }; return false }
func isInvalid(_ e: CreditsError) -> Bool { if case .invalid = e { return true }; return false }
func isConflict(_ e: CreditsError) -> Bool { if case .conflict = e { return true }; return false }
