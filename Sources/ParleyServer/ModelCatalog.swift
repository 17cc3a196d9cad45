import Foundation
import ParleyEngine

/// A model being served: its weights and the scheduler that batches its requests.
public final class ServedModel: Sendable {
    public let id: String
    public let model: Model
    public let scheduler: Scheduler
    public let created: Int

    public init(id: String, model: Model, scheduler: Scheduler) {
        self.id = id
        self.model = model
        self.scheduler = scheduler
        created = Int(Date().timeIntervalSince1970)
    }

    /// The id a model file is served under: its file name without `.gguf`.
    public static func id(forPath path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        return name.hasSuffix(".gguf") ? String(name.dropLast(5)) : name
    }
}

/// The models of this server; empty while they load.
public final class ModelCatalog: @unchecked Sendable {
    public enum State: Sendable { case loading, ready, failed(String) }
    private let lock = NSLock()
    private var models: [ServedModel] = []
    private var _state: State = .loading

    public init() {}

    public init(ready models: [ServedModel]) {
        self.models = models
        _state = .ready
    }

    public var state: State { lock.withLock { _state } }
    public var all: [ServedModel] { lock.withLock { models } }

    public func finishLoading(_ loaded: [ServedModel]) {
        lock.withLock {
            models = loaded
            _state = .ready
        }
    }

    public func failLoading(_ message: String) { lock.withLock { _state = .failed(message) } }

    /// The model a request names; 503 while loading, 404 when unknown.
    func resolve(_ id: String?) throws -> ServedModel {
        let (state, models) = lock.withLock { (_state, self.models) }
        switch state {
        case .loading:
            var e = OpenAIError(status: .serviceUnavailable, message: "The model is still loading; retry shortly.",
                                type: "server_error", code: "model_loading")
            e.headers[.retryAfter] = "1"
            throw e
        case .failed(let m):
            throw OpenAIError(status: .serviceUnavailable, message: "The model failed to load: \(m)", type: "server_error")
        case .ready:
            break
        }
        guard let id else { throw OpenAIError.invalid("model", "You must provide a model parameter.", code: "missing_required_parameter") }
        guard let found = models.first(where: { $0.id == id }) else { throw OpenAIError.modelNotFound(id) }
        return found
    }

    public func shutdown() {
        for m in all { m.scheduler.shutdown() }
    }
}
