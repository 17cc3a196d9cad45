import Foundation
import ParleyStore
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    @Test func postgresURLsAreParsed() throws {
        let full = try PostgresLocation(url: "postgres://parley:p%40ss%2Fword@db.internal:6543/chat%20db?sslmode=require")
        #expect(full.host == "db.internal" && full.port == 6543)
        #expect(full.username == "parley" && full.password == "p@ss/word")
        #expect(full.database == "chat db" && full.tls == .require)
        #expect(full.endpoint == "db.internal:6543")
        #expect(!full.description.contains("p@ss"), "the description leaves the password out")

        let bare = try PostgresLocation(url: "postgresql://localhost")
        #expect(bare.port == 5432 && bare.username == "postgres" && bare.password == nil)
        #expect(bare.database == "postgres" && bare.tls == .disable)
        #expect(try PostgresLocation(url: "postgres://me@[::1]:7000/").endpoint == "[::1]:7000")
        #expect(try PostgresLocation(url: "postgres://me@[::1]:7000/").database == "me")

        #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://db/chat?sslmode=sometimes") }
        #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres:///chat") }
        #expect(throws: StoreError.self) { try PostgresLocation(url: "http://db/chat") }
    }

    @Test func anUnreachablePostgresServerIsUnavailableAndNamed() async throws {
        let port = try closedLoopbackPort()
        let started = Date()
        let error = await expectStoreError(.unavailable) { _ = try await openStore("postgres://parley@127.0.0.1:\(port)/chat") }
        #expect(error.map { "\($0)".contains("127.0.0.1:\(port)") } == true, "the error names host:port: \(String(describing: error))")
        // Alone this takes milliseconds; the bound only separates "fails at once" from the pool's minute of
        // retries, with room for a test run that keeps every core and the cooperative pool busy (50 s seen once).
        #expect(Date().timeIntervalSince(started) < 58, "a refused connection fails at once, without retrying for a minute")
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

/// A loopback TCP port nothing listens on: bound to find a free one, then closed again.
func closedLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
