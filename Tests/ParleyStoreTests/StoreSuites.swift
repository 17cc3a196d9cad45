import Foundation
import ParleyStore
import Testing

// The same behaviours, once per backend.

@Suite("SQLite store (GRDB)")
struct SQLiteStoreTests {
    @Test("behaviour", arguments: Behaviour.allCases)
    func behaviour(_ behaviour: Behaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "PostgreSQL store (postgres-nio)",
    .serialized,
    .enabled(
        if: PostgresTestServer.shouldRun,
        "SKIPPED: PostgreSQL store tests need PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\"); set PARLEY_REQUIRE_POSTGRES=1 to make its absence a failure"
    )
)
struct PostgresStoreTests {
    @Test("behaviour", arguments: Behaviour.allCases)
    func behaviour(_ behaviour: Behaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}
