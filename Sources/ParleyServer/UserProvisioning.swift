import Foundation
import ParleyStore

/// Accounts made outside the web app (`parley users add`): a user that signs in with API keys only.
public enum UserProvisioning {
    /// Creates the user `name` (its sign-in name) with admin rights as asked, and a first API key for it.
    /// Returns the user and the key's secret (shown once; the store keeps its hash). Throws `.conflict` when the
    /// name is taken.
    public static func addUser(name: String, admin: Bool, store: any ParleyStore) async throws -> (user: User, key: String) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 320 else { throw StoreError.invalid("a user name is 1 to 320 characters") }
        guard let administration = store as? any UserAdministration else {
            throw StoreError.unavailable("this store cannot change admin rights")
        }
        // "!" matches no password hash: the account is used through its keys until a password is set.
        var user = try await store.createUser(email: trimmed, displayName: trimmed, passwordHash: "!no-password")
        if user.isAdmin != admin {
            try await administration.setAdmin(userID: user.id, isAdmin: admin)
            user.isAdmin = admin
        }
        let secret = AppAuth.keyPrefix + Secrets.token()
        let key = APIKey(userID: user.id, name: "parley users add", prefix: String(secret.prefix(AppAuth.keyPrefix.count + 6)),
                         keyHash: Secrets.sha256Hex(secret))
        try await store.createAPIKey(key)
        return (user, secret)
    }
}
