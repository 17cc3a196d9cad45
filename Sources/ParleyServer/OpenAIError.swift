import Foundation
import Hummingbird
import ParleyTokenizer

/// An error in the OpenAI shape: `{"error": {"message", "type", "param", "code"}}` with its HTTP status.
public struct OpenAIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// A bad or missing parameter (400, naming it).
    static func invalid(_ param: String, _ message: String, code: String? = "invalid_value") -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, param: param, code: code)
    }

    static func modelNotFound(_ id: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "The model '\(id)' does not exist or you do not have access to it.",
                    param: "model", code: "model_not_found")
    }

    var body: TemplateValue {
        ["error": .object(TemplateObject([
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map(TemplateValue.string) ?? .none), ("code", code.map(TemplateValue.string) ?? .none),
        ]))]
    }

    func response() -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonString())))
    }
}

/// Turns every error into an OpenAI-shaped response, so nothing a client sends reaches it as a bare status.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        let app = request.uri.path.hasPrefix("/api/")
        do {
            response = try await next(request, context)
        } catch let error as AppError {
            response = error.response()
        } catch let error as OpenAIError {
            if app {
                var e = AppError(error.status, error.code ?? AppError.defaultCode(error.status), error.message)
                e.headers = error.headers
                response = e.response()
            } else {
                response = error.response()
            }
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "Unknown path \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            if app {
                response = AppError(error.status, error.status == .notFound ? "unknown_url" : AppError.defaultCode(error.status),
                                    message).response()
            } else {
                let type = error.status == .notFound ? "invalid_request_error" : "server_error"
                response = OpenAIError(status: error.status, message: message, type: type,
                                       code: error.status == .notFound ? "unknown_url" : nil).response()
            }
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors, such as a body over the size limit (413).
            let tooLarge = error.status == .contentTooLarge
            let message = tooLarge ? "The request body is too large." : error.status.reasonPhrase
            if app {
                response = AppError(error.status, tooLarge ? "request_too_large" : AppError.defaultCode(error.status), message).response()
            } else {
                response = OpenAIError(status: error.status, message: message,
                                       type: error.status.code < 500 ? "invalid_request_error" : "server_error",
                                       code: tooLarge ? "request_too_large" : nil).response()
            }
        } catch {
            response = app ? AppError(.internalServerError, "internal_error", "internal error: \(error)").response()
                : OpenAIError(status: .internalServerError, message: "internal error: \(error)", type: "server_error").response()
        }
        metrics.countRequest(path: request.uri.path, status: Int(response.status.code))
        return response
    }
}

/// `nosniff` on every response, and the UI's policy on `/api` too (a JSON reply opened as a page runs nothing).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.init("X-Content-Type-Options")!] == nil {
            response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        }
        if request.uri.path.hasPrefix("/api/"), response.headers[.init("Content-Security-Policy")!] == nil {
            response.headers[.init("Content-Security-Policy")!] = "default-src 'none'; frame-ancestors 'none'"
        }
        return response
    }
}

/// With an API key configured, every `/v1` request must carry `Authorization: Bearer <key>`.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw OpenAIError(status: .unauthorized, message: "Missing API key: send 'Authorization: Bearer <key>'.",
                              code: "invalid_api_key")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), constantTimeEqual(String(header.dropFirst(prefix.count)), key) else {
            throw OpenAIError(status: .unauthorized, message: "Incorrect API key provided.", code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) {
            diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
        }
        return diff == 0
    }
}
