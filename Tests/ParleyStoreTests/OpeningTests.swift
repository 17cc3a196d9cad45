import Foundation
import ParleyStore
import Testing

@Suite("Opening stores")
struct OpeningTests {
    @Test func locationsPickTheBackend() throws {
        #expect(try StoreLocation("postgres://u:p@db:5432/chat") == .postgres(url: "postgres://u:p@db:5432/chat"))
        #expect(try StoreLocation("postgresql://db/chat") == .postgres(url: "postgresql://db/chat"))
        #expect(try StoreLocation("sqlite:///var/lib/parley/chat.sqlite") == .sqlite(path: "/var/lib/parley/chat.sqlite"))
        #expect(try StoreLocation("sqlite://chat.sqlite") == .sqlite(path: "chat.sqlite"))
        #expect(try StoreLocation("/var/lib/parley/chat.sqlite") == .sqlite(path: "/var/lib/parley/chat.sqlite"))
        #expect(try StoreLocation("chat.db") == .sqlite(path: "chat.db"))
        #expect(throws: StoreError.self) { try StoreLocation("mysql://db/chat") }
        #expect(throws: StoreError.self) { try StoreLocation("sqlite://") }
        #expect(throws: StoreError.self) { try StoreLocation("  ") }
    }

    @Test func anUnopenableSQLiteFileIsUnavailable() async throws {
        let missing = "/nonexistent-\(UUID().uuidString)/chat.sqlite"
        let error = await expectStoreError(.unavailable) { _ = try await openStore(missing) }
        #expect(error.map { "\($0)".contains(missing) } == true)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("not-a-database.sqlite")
        try Data(repeating: 0x5A, count: 8192).write(to: garbage)
        await expectStoreError(.unavailable) { _ = try await openStore(garbage.path) }
    }
}
