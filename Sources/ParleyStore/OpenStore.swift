import Foundation

/// Which backend a location names: `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://PATH` or a plain
/// path is a SQLite file.
public enum StoreLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    public init(_ location: String) throws {
        let trimmed = location.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            self = .postgres(url: trimmed)
        } else if lower.hasPrefix("sqlite://") {
            let path = String(trimmed.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw StoreError.invalid("sqlite:// needs a file path") }
            self = .sqlite(path: path)
        } else if lower.contains("://") {
            throw StoreError.invalid("unknown database location \(trimmed): use postgres://…, sqlite://PATH or a file path")
        } else {
            guard !trimmed.isEmpty else { throw StoreError.invalid("the database location is empty") }
            self = .sqlite(path: trimmed)
        }
    }
}

/// Opens the store at `location` (see `StoreLocation`) and applies the migrations it lacks, so the store returned
/// is ready to use. Unreachable servers and unopenable files throw `StoreError.unavailable`.
public func openStore(_ location: String) async throws -> any ParleyStore {
    let store: any ParleyStore
    switch try StoreLocation(location) {
    case .sqlite(let path): store = try SQLiteStore(path: path)
    case .postgres(let url): store = try await PostgresStore(url: url)
    }
    do {
        try await store.migrate()
    } catch {
        try? await store.close()
        throw error
    }
    return store
}
