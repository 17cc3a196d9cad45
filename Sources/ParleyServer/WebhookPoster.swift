import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fire-and-forget JSON POST with a short timeout, for notifications whose delivery is best effort.
enum WebhookPoster {
    static func post(url: URL, json: String, timeout: TimeInterval = 5) async {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.utf8)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            URLSession.shared.dataTask(with: request) { _, _, _ in done.resume() }.resume()
        }
    }
}
