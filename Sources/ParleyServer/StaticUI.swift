import Crypto
import Foundation
import Hummingbird

/// The web UI, embedded in the binary at build time (see Plugins/EmbedUI): `GET /` is `index.html`,
/// `GET /ui/NAME` any other file of `Sources/ParleyServer/Resources/ui`.
public enum StaticUI {
    struct File: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let etag: String
    }

    static let files: [String: File] = {
        var out: [String: File] = [:]
        for (name, base64) in EmbeddedUI.files {
            guard let data = Data(base64Encoded: base64) else { continue }
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            out[name] = File(bytes: ByteBuffer(bytes: data), contentType: contentType(name), etag: "\"\(digest)\"")
        }
        return out
    }()

    /// The names of the embedded files.
    public static var names: [String] { files.keys.sorted() }

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html", "htm": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json", "map": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "webp": "image/webp"
        case "woff2": "font/woff2"
        case "txt": "text/plain; charset=utf-8"
        case "webmanifest": "application/manifest+json"
        default: "application/octet-stream"
        }
    }

    /// Same origin only: no inline script or style, no framing, no plugins; images may also be `data:` URLs.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static let securityHeaders: HTTPFields = [
        .init("Content-Security-Policy")!: contentSecurityPolicy,
        .init("X-Content-Type-Options")!: "nosniff",
        .init("X-Frame-Options")!: "DENY",
        .init("Referrer-Policy")!: "same-origin",
        .init("Cross-Origin-Opener-Policy")!: "same-origin",
    ]

    /// The file, or nil when there is none. Files are revalidated on every use (`no-cache` with an ETag, so an
    /// unchanged file costs a 304): after an upgrade the page and its scripts always match.
    static func response(_ name: String, request: Request) -> Response? {
        guard let file = files[name] else { return nil }
        var headers = securityHeaders
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = file.etag
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == file.etag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.bytes))
    }

    static func register(on router: Router<ParleyRequestContext>) {
        router.get("/") { request, _ in
            guard let r = response("index.html", request: request) else { throw HTTPError(.notFound, message: "The web UI is not built in.") }
            return r
        }
        router.get("/ui/:name") { request, context in
            guard let name = context.parameters.get("name"), let r = response(name, request: request) else {
                throw HTTPError(.notFound, message: "No such UI file.")
            }
            return r
        }
    }
}
