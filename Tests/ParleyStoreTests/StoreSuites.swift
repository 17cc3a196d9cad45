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
