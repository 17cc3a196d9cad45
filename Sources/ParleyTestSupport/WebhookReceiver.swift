import Foundation
import Hummingbird

/// The far end of a webhook in tests: a local HTTP server that keeps every body POSTed to `/hook`.
public final class WebhookReceiver: @unchecked Sendable {
    public let port: Int
    private let lock = NSLock()
    private var received: [String] = []
    private var task: Task<Void, Error>?

    public var bodies: [String] { lock.withLock { received } }

    private init(port: Int) { self.port = port }

    public static func start() async throws -> WebhookReceiver {
        let box = Box()
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            box.receiver?.append(String(buffer: body))
            return .ok
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw ReceiverError() }
        let receiver = WebhookReceiver(port: port)
        receiver.task = task
        box.receiver = receiver
        return receiver
    }

    private func append(_ body: String) { lock.withLock { received.append(body) } }

    public func stop() { task?.cancel() }

    private final class Box: @unchecked Sendable { weak var receiver: WebhookReceiver? }
}

struct ReceiverError: Error, CustomStringConvertible {
    var description: String { "the webhook receiver did not start" }
}
