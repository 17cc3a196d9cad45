import AsyncHTTPClient
import Foundation
import Hummingbird

/// A JSON POST with a short timeout, for notifications whose delivery is best effort (credit alerts, the
/// wellbeing review queue). Through AsyncHTTPClient on the server's event loops — Foundation's URLSession would
/// load libcurl and its dependencies into every `parley` process (~8 MB resident).
enum WebhookPoster {
    /// Posts `json` to `url`; nil on a 2xx answer, else why it failed.
    @discardableResult
    static func post(url: URL, json: String, userAgent: String = "parley", timeout: TimeInterval = 5) async -> String? {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        request.body = .bytes(ByteBuffer(string: json))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            _ = try? await response.body.collect(upTo: 1 << 16)  // drained, so the connection can be reused
            return (200..<300).contains(Int(response.status.code)) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}
