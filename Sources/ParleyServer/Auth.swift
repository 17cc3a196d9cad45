import _CryptoExtras
import Crypto
import Foundation
import Hummingbird
import NIOCore
import ParleyStore

// MARK: - Secrets

enum Secrets {
    /// `count` bytes from the system's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// URL-safe base64 without padding.
    static func base64URL<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A random token of `bytes` bytes, URL-safe.
    static func token(bytes: Int = 32) -> String { base64URL(randomBytes(bytes)) }

    static func sha256Hex(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        let x = Array(a), y = Array(b)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) {
            diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
        }
        return diff == 0
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool { constantTimeEqual(Array(a.utf8), Array(b.utf8)) }
}

// MARK: - Passwords

/// PBKDF2-HMAC-SHA256 password hashes in a self-describing string:
/// `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>`. The derivation (hundreds of milliseconds) runs on
/// its own dispatch queue, never on an event loop or the concurrency pool.
public enum PasswordHasher {
    public static let iterations = 600_000
    static let saltBytes = 16
    static let hashBytes = 32
    private static let queue = DispatchQueue(label: "parley.kdf", qos: .userInitiated, attributes: .concurrent)
    /// At most this many derivations at once; the rest wait (a flood of sign-ins cannot take every core).
    private static let gate = DispatchSemaphore(value: max(1, ProcessInfo.processInfo.activeProcessorCount / 2))

    public static func hash(_ password: String) async throws -> String {
        let salt = Secrets.randomBytes(saltBytes)
        let derived = try await derive(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// False for a wrong password and for a string that is not one of these hashes (e.g. the no-auth user's).
    public static func verify(_ password: String, against encoded: String) async -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]),
              (1_000...10_000_000).contains(rounds),
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
              !expected.isEmpty
        else { return false }
        guard let derived = try? await derive(password, salt: Array(salt), iterations: rounds, length: expected.count) else {
            return false
        }
        return Secrets.constantTimeEqual(derived, expected)
    }

    /// Spends the time of a verification without a user to check against, so an unknown email takes as long as
    /// a wrong password.
    static func burnVerification(_ password: String) async {
        _ = try? await derive(password, salt: Array(repeating: 0, count: saltBytes), iterations: iterations)
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int, length: Int = hashBytes) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8], Error>) in
            queue.async {
                gate.wait()
                defer { gate.signal() }
                do {
                    let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256,
                                                                outputByteCount: length, unsafeUncheckedRounds: iterations)
                    c.resume(returning: key.withUnsafeBytes { Array($0) })
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}

// MARK: - Sign-in rate limiting

/// Failed sign-ins per key (a client address, an email) in a sliding window; past `limit` the key is refused
/// until its oldest failure leaves the window.
final class LoginRateLimiter: @unchecked Sendable {
    let limit: Int
    let window: TimeInterval
    private let lock = NSLock()
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 5, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// Seconds to wait when any of the keys is over the limit, else nil.
    func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        lock.withLock {
            var wait: TimeInterval = 0
            for key in keys {
                let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
                failures[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait, window - now.timeIntervalSince(oldest))
                }
            }
            return wait > 0 ? max(1, Int(wait.rounded(.up))) : nil
        }
    }

    func recordFailure(_ keys: [String], now: Date = Date()) {
        lock.withLock {
            for key in keys {
                var list = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
                list.append(now)
                failures[key] = list
            }
            // Keep the table small: drop keys whose failures have all expired.
            if failures.count > 10_000 {
                failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
            }
        }
    }

    func reset(_ key: String) {
        _ = lock.withLock { failures.removeValue(forKey: key) }
    }
}

// MARK: - Who is asking

/// How a request proved who it is.
public enum AuthMethod: Sendable {
    /// The browser's session cookie (state-changing requests need the CSRF header).
    case session(WebSession)
    /// A user's `pk-…` key.
    case apiKey(APIKey)
    /// `--no-auth`: the implicit local user.
    case local
}

public struct Identity: Sendable {
    public var user: User
    public var method: AuthMethod
    /// Admin rights: the account's, or everything in `--no-auth` mode.
    public var isAdmin: Bool {
        if case .local = method { return true }
        return user.isAdmin
    }
}

/// The request context of every route: the client's address and, once the auth middleware has run, who it is.
public struct ParleyRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var remoteAddress: SocketAddress?
    public var identity: Identity?
    /// The static `--api-key` was presented (authenticates `/v1` without a user).
    public var staticKey = false

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Cookie handling for the browser session.
enum SessionCookie {
    static let name = "parley_session"
    static let lifetime: TimeInterval = 30 * 24 * 3600

    /// Whether the client reached us over HTTPS (directly or through a proxy that says so).
    static func isSecure(_ request: Request) -> Bool {
        if request.uri.scheme == .https { return true }
        if let proto = request.headers[.init("X-Forwarded-Proto")!]?.split(separator: ",").first,
           proto.trimmingCharacters(in: .whitespaces).lowercased() == "https" { return true }
        if let forwarded = request.headers[.init("Forwarded")!]?.lowercased(), forwarded.contains("proto=https") { return true }
        return false
    }

    static func set(_ token: String, request: Request) -> String {
        "\(name)=\(token); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; SameSite=Lax" + (isSecure(request) ? "; Secure" : "")
    }

    static func clear(request: Request) -> String {
        "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (isSecure(request) ? "; Secure" : "")
    }

    static func token(_ request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty, value.count <= 200 else { return nil }
        return value
    }
}

/// Decides who each request is and enforces the rules of docs/app-api.md:
/// - `/api/…`: a session cookie (plus `X-CSRF-Token` on POST/PUT/PATCH/DELETE) or a user's API key; the
///   sign-in routes, `GET /api/session` and the OpenAPI document are open.
/// - `/v1/…`: with accounts, a user's API key or the static `--api-key`; without accounts, the static key when
///   one is set.
/// - everything else (the UI, `/health`, `/metrics`) is open.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ParleyRequestContext
    let auth: AppAuth

    static let openAPIRoutes: Set<String> = ["/api/session", "/api/auth/signup", "/api/auth/signin", "/api/auth/signout",
                                             "/api/openapi.json"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        var context = context
        if path.hasPrefix("/v1/") || path == "/v1" {
            try await authenticateOpenAI(request, &context)
            return try await next(request, context)
        }
        guard path.hasPrefix("/api/") else { return try await next(request, context) }

        context.identity = try await auth.identify(request)
        if Self.openAPIRoutes.contains(path) { return try await next(request, context) }
        guard let identity = context.identity else { throw AppError.unauthorized }
        if case .session(let session) = identity.method, Self.changesState(request.method) {
            guard let sent = request.headers[.init("X-CSRF-Token")!], Secrets.constantTimeEqual(sent, session.csrfToken) else {
                throw AppError(.forbidden, "csrf", "Missing or wrong X-CSRF-Token header (GET /api/session returns the token).")
            }
        }
        return try await next(request, context)
    }

    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch || method == .delete
    }

    private func authenticateOpenAI(_ request: Request, _ context: inout Context) async throws {
        let staticKey = auth.staticAPIKey.flatMap { $0.isEmpty ? nil : $0 }
        guard auth.accounts || staticKey != nil else { return }  // --no-auth without --api-key: open
        guard let header = request.headers[.authorization] else {
            throw OpenAIError(status: .unauthorized, message: "Missing API key: send 'Authorization: Bearer <key>'.",
                              code: "invalid_api_key")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix) else {
            throw OpenAIError(status: .unauthorized, message: "Incorrect API key provided.", code: "invalid_api_key")
        }
        let presented = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        if let staticKey, Secrets.constantTimeEqual(presented, staticKey) {
            context.staticKey = true
            return
        }
        if presented.hasPrefix(AppAuth.keyPrefix), let identity = try await auth.identify(apiKey: presented) {
            context.identity = identity
            return
        }
        throw OpenAIError(status: .unauthorized, message: "Incorrect API key provided.", code: "invalid_api_key")
    }
}

/// Accounts, sessions and keys over the store.
public final class AppAuth: Sendable {
    static let keyPrefix = "pk-"
    let store: any ParleyStore
    /// False in `--no-auth` mode.
    let accounts: Bool
    let staticAPIKey: String?
    /// The implicit user of `--no-auth` mode.
    let localUser: User?
    let limiter = LoginRateLimiter()
    /// Use the first address of `X-Forwarded-For` as the client's (only behind a proxy that sets it).
    let trustForwardedFor: Bool

    init(store: any ParleyStore, accounts: Bool, staticAPIKey: String?, localUser: User?, trustForwardedFor: Bool) {
        self.store = store
        self.accounts = accounts
        self.staticAPIKey = staticAPIKey
        self.localUser = localUser
        self.trustForwardedFor = trustForwardedFor
    }

    static let localEmail = "local@localhost"

    /// The `--no-auth` user: found by its email, created (with a password hash no password matches) if absent.
    static func ensureLocalUser(_ store: any ParleyStore) async throws -> User {
        if let user = try await store.user(email: localEmail) { return user }
        do {
            return try await store.createUser(email: localEmail, displayName: "Local user", passwordHash: "!no-password")
        } catch StoreError.conflict {
            guard let user = try await store.user(email: localEmail) else { throw StoreError.unavailable("local user vanished") }
            return user
        }
    }

    /// Who the request is: the `--no-auth` user, an API key's owner, or a live session's user (nil otherwise).
    func identify(_ request: Request) async throws -> Identity? {
        if !accounts, let localUser { return Identity(user: localUser, method: .local) }
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            let presented = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let identity = try await identify(apiKey: presented) else {
                throw AppError(.unauthorized, "invalid_api_key", "Incorrect API key provided.")
            }
            return identity
        }
        guard let token = SessionCookie.token(request) else { return nil }
        return try await identify(sessionToken: token)
    }

    func identify(apiKey: String) async throws -> Identity? {
        guard apiKey.hasPrefix(Self.keyPrefix), apiKey.count < 200 else { return nil }
        guard let key = try await db({ try await store.useAPIKey(keyHash: Secrets.sha256Hex(apiKey), now: Date()) }),
              let user = try await db({ try await store.user(id: key.userID) }) else { return nil }
        return Identity(user: user, method: .apiKey(key))
    }

    func identify(sessionToken: String) async throws -> Identity? {
        guard let session = try await db({ try await store.session(tokenHash: Secrets.sha256Hex(sessionToken), now: Date()) }),
              let user = try await db({ try await store.user(id: session.userID) }) else { return nil }
        return Identity(user: user, method: .session(session))
    }

    /// The client's address for rate limiting.
    func clientAddress(_ request: Request, _ context: ParleyRequestContext) -> String {
        if trustForwardedFor, let xff = request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").first {
            return xff.trimmingCharacters(in: .whitespaces)
        }
        return context.remoteAddress?.ipAddress ?? "local"
    }

    /// Starts a session for the user: a fresh token (only its hash is stored) and CSRF token.
    func startSession(for user: User) async throws -> (token: String, session: WebSession) {
        let token = Secrets.token()
        let now = Date()
        let session = WebSession(tokenHash: Secrets.sha256Hex(token), userID: user.id, csrfToken: Secrets.token(),
                                 createdAt: now, expiresAt: now.addingTimeInterval(SessionCookie.lifetime))
        try await db { try await store.createSession(session) }
        return (token, session)
    }

    /// A new API key: `pk-` and 32 random bytes; the store keeps its SHA-256 and a short prefix.
    func makeAPIKey(userID: RecordID, name: String) -> (secret: String, key: APIKey) {
        let secret = Self.keyPrefix + Secrets.token()
        let key = APIKey(userID: userID, name: name, prefix: String(secret.prefix(Self.keyPrefix.count + 6)),
                         keyHash: Secrets.sha256Hex(secret))
        return (secret, key)
    }
}
