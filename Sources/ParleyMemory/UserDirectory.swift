import ParleyStore

/// Finds users by the name the CLI and outside checks use: the account's sign-in name (the `users.email`
/// column, compared lowercased and trimmed, as sign-in does).
///
/// `parley memory add` may name a user no one has created yet; `userID(named:create: true)` then creates the
/// row through the store's public API, with a password hash no password verifies against (such an account
/// cannot sign in until a password is set).
public enum UserDirectory {
    /// The placeholder password hash of accounts made here: not in the PBKDF2 format, so nothing matches it.
    public static let noPassword = "!no-password"

    public static func userID(named name: String, in store: any ParleyStore, create: Bool) async throws -> RecordID {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw MemoryError.invalid("the user name is empty") }
        if let user = try await store.user(email: trimmed) { return user.id }
        guard create else { throw MemoryError.unknownUser(trimmed) }
        do {
            return try await store.createUser(email: trimmed, displayName: trimmed, passwordHash: noPassword).id
        } catch let error as StoreError {
            // Another process created it in between.
            if case .conflict = error, let user = try await store.user(email: trimmed) { return user.id }
            throw error
        }
    }
}
