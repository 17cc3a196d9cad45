import Foundation
import Hummingbird
import ParleyStore
import ParleyTokenizer

/// An error of the chat app's `/api`: `{"error": {"code", "message"}}` with its HTTP status.
public struct AppError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func badRequest(_ message: String, code: String = "invalid_request") -> AppError {
        AppError(.badRequest, code, message)
    }
    static func notFound(_ what: String) -> AppError { AppError(.notFound, "not_found", "\(what) not found.") }
    static let unauthorized = AppError(.unauthorized, "unauthorized", "Sign in first (or send 'Authorization: Bearer pk-…').")
    static let notAdmin = AppError(.forbidden, "forbidden", "Only an administrator may do this.")

    /// The code a status gets when the error carries none.
    static func defaultCode(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "invalid_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 409: "conflict"
        case 413: "request_too_large"
        case 429: "rate_limited"
        case 503: "unavailable"
        default: status.code >= 500 ? "internal_error" : "error"
        }
    }

    /// A store failure as the API reports it; ids of other users are "not found", never told apart.
    init(_ error: StoreError) {
        switch error {
        case .conflict(let m): self.init(.conflict, "conflict", m)
        case .notFound(let m): self.init(.notFound, "not_found", m)
        case .invalid(let m): self.init(.badRequest, "invalid_request", m)
        case .unavailable(let m): self.init(.serviceUnavailable, "unavailable", "The database is unavailable: \(m)")
        }
    }

    var body: TemplateValue { .obj([("error", .obj([("code", .string(code)), ("message", .string(message))]))]) }

    func response() -> Response {
        var h = headers
        h[.contentType] = "application/json"
        h[.cacheControl] = "no-store"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonString())))
    }
}

/// Runs a store call, turning its errors into API errors.
func db<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as StoreError {
        throw AppError(e)
    }
}

// MARK: - Times

enum ISOTime {
    static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    static let plain = Date.ISO8601FormatStyle()

    static func string(_ date: Date) -> String { withFraction.format(date) }

    static func parse(_ s: String) -> Date? {
        (try? withFraction.parse(s)) ?? (try? plain.parse(s))
    }
}

// MARK: - Records as JSON (the shapes of docs/app-api.md, snake_case)

extension TemplateValue {
    static func time(_ d: Date?) -> TemplateValue { d.map { .string(ISOTime.string($0)) } ?? .none }
    static func dbl(_ d: Double?) -> TemplateValue { d.map(TemplateValue.double) ?? .none }
}

enum AppJSON {
    static func user(_ u: User) -> TemplateValue {
        .obj([("id", .string(u.id)), ("email", .string(u.email)), ("display_name", .string(u.displayName)),
              ("is_admin", .bool(u.isAdmin)), ("created_at", .time(u.createdAt))])
    }

    static func apiKey(_ k: APIKey) -> TemplateValue {
        .obj([("id", .string(k.id)), ("name", .string(k.name)), ("prefix", .string(k.prefix)),
              ("created_at", .time(k.createdAt)), ("last_used_at", .time(k.lastUsedAt)), ("revoked_at", .time(k.revokedAt))])
    }

    static func conversation(_ c: Conversation, temporary: Bool, projectID: RecordID? = nil) -> TemplateValue {
        guard case .object(var o) = conversation(c) else { return conversation(c) }
        o["temporary"] = .bool(temporary)
        o["project_id"] = .str(projectID)
        return .object(o)
    }

    static func conversation(_ c: Conversation) -> TemplateValue {
        .obj([("id", .string(c.id)), ("title", .string(c.title)), ("system_prompt", .str(c.systemPrompt)),
              ("temperature", .dbl(c.temperature)), ("model", .str(c.model)), ("current_leaf_id", .str(c.currentLeafID)),
              ("created_at", .time(c.createdAt)), ("updated_at", .time(c.updatedAt))])
    }

    static func messagePairs(_ m: Message) -> [(String, TemplateValue)] {
        [("id", .string(m.id)), ("conversation_id", .string(m.conversationID)), ("parent_id", .str(m.parentID)),
         ("role", .string(m.role.rawValue)), ("content", .string(m.content)), ("model", .str(m.model)),
         ("status", .string(m.status.rawValue)), ("created_at", .time(m.createdAt)), ("updated_at", .time(m.updatedAt))]
    }

    static func message(_ m: Message) -> TemplateValue { .obj(messagePairs(m)) }

    static func feedback(_ f: Feedback) -> TemplateValue {
        .obj([("message_id", .string(f.messageID)), ("rating", .int(f.rating)), ("comment", .str(f.comment)),
              ("created_at", .time(f.createdAt))])
    }

    static func instructions(_ i: CustomInstructions) -> TemplateValue {
        .obj([("about_me", .string(i.aboutMe)), ("how_to_answer", .string(i.howToAnswer))])
    }

    static func export(_ e: ConversationExport) -> TemplateValue {
        .obj([("conversation", conversation(e.conversation)), ("messages", .array(e.messages.map(message))),
              ("feedback", .array(e.feedback.map(feedback)))])
    }

    static func response(_ value: TemplateValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        if h[.cacheControl] == nil { h[.cacheControl] = "no-store" }
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonString())))
    }

    static func noContent(headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.cacheControl] = "no-store"
        return Response(status: .noContent, headers: h)
    }
}

// MARK: - Request bodies

/// A JSON object body of `/api`, read with checks that name the field (400 otherwise).
struct AppBody {
    let object: TemplateObject

    init(_ request: Request, limit: Int) async throws {
        let buffer = try await request.body.collect(upTo: limit)
        try self.init(bytes: Array(buffer.readableBytesView))
    }

    init(bytes: [UInt8]) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw AppError.badRequest("The request body is not valid UTF-8.", code: "invalid_json")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            object = TemplateObject()
            return
        }
        let value: TemplateValue
        do {
            value = try TemplateValue(json: trimmed)
        } catch {
            throw AppError.badRequest("The request body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard case .object(let o) = value else {
            throw AppError.badRequest("The request body must be a JSON object.", code: "invalid_json")
        }
        object = o
    }

    init(object: TemplateObject) { self.object = object }

    /// Whether the key is present at all (null included).
    func has(_ key: String) -> Bool { object[key] != nil }

    /// A string; nil when absent or null.
    func string(_ key: String, maxLength: Int = 100_000) throws -> String? {
        switch object[key] {
        case nil, .none?: return nil
        case .string(let s)?:
            guard s.count <= maxLength else { throw AppError.badRequest("'\(key)' is longer than \(maxLength) characters.") }
            return s
        default: throw AppError.badRequest("'\(key)' must be a string.")
        }
    }

    func requiredString(_ key: String, maxLength: Int = 100_000) throws -> String {
        guard let s = try string(key, maxLength: maxLength) else { throw AppError.badRequest("'\(key)' is required.") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        switch object[key] {
        case nil, .none?: return nil
        case .bool(let b)?: return b
        default: throw AppError.badRequest("'\(key)' must be true or false.")
        }
    }

    func int(_ key: String) throws -> Int? {
        switch object[key] {
        case nil, .none?: return nil
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: throw AppError.badRequest("'\(key)' must be an integer.")
        }
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        let d: Double
        switch object[key] {
        case nil, .none?: return nil
        case .int(let i)?: d = Double(i)
        case .double(let x)?: d = x
        default: throw AppError.badRequest("'\(key)' must be a number.")
        }
        guard d.isFinite, range.contains(d) else {
            throw AppError.badRequest("'\(key)' must be between \(range.lowerBound) and \(range.upperBound).")
        }
        return d
    }
}

/// A query parameter, decoded as a form would send it (`+` is a space, then percent-escapes).
func queryValue(_ request: Request, _ key: String) -> String? {
    guard let query = request.uri.query else { return nil }
    for pair in query.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first.map(String.init) == key else { continue }
        let raw = parts.count > 1 ? String(parts[1]) : ""
        return raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
    }
    return nil
}

/// A query parameter as a bounded integer (400 otherwise).
func queryInt(_ request: Request, _ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
    guard let raw = queryValue(request, key), !raw.isEmpty else { return value }
    guard let n = Int(String(raw)), range.contains(n) else {
        throw AppError.badRequest("'\(key)' must be an integer between \(range.lowerBound) and \(range.upperBound).")
    }
    return n
}
