import Foundation
import ParleyEngine

/// A model being served: its weights and the scheduler that batches its requests.
public final class ServedModel: Sendable {
    public let id: String
    public let model: Model
    public let scheduler: Scheduler
    public let created: Int
    /// A LoRA adapter its requests run with (served as "base:adapter", sharing the base model's scheduler).
    public let adapter: LoRAAdapter?

    public init(id: String, model: Model, scheduler: Scheduler, adapter: LoRAAdapter? = nil, created: Int? = nil) {
        self.id = id
        self.model = model
        self.scheduler = scheduler
        self.adapter = adapter
        self.created = created ?? Int(Date().timeIntervalSince1970)
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

    /// Where "model:NAME" finds adapter NAME: `DIR/NAME.gguf`, or `DIR/NAME/current.gguf` (an adapter line kept
    /// by `parley learn --registry DIR/NAME`). Files are re-read when they change, so a new or rolled-back
    /// adapter is served from the next request on, without a restart; requests already running keep theirs.
    public let adapterDirectory: String?
    private var adapters: [String: (signature: FileSignature, adapter: LoRAAdapter)] = [:]

    public init(adapterDirectory: String? = nil) { self.adapterDirectory = adapterDirectory }

    public init(ready models: [ServedModel], adapterDirectory: String? = nil) {
        self.models = models
        _state = .ready
        self.adapterDirectory = adapterDirectory
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
        if let found = models.first(where: { $0.id == id }) { return found }
        // "base:adapter"
        guard let colon = id.lastIndex(of: ":"), let adapterDirectory,
              let base = models.first(where: { $0.id == id[..<colon] }) else { throw OpenAIError.modelNotFound(id) }
        let name = String(id[id.index(after: colon)...])
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else { throw OpenAIError.modelNotFound(id) }
        let candidates = [adapterDirectory + "/" + name + ".gguf", adapterDirectory + "/" + name + "/current.gguf"]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
              let signature = FileSignature(path: path) else { throw OpenAIError.modelNotFound(id) }
        let adapter: LoRAAdapter
        if let cached = lock.withLock({ adapters[path] }), cached.signature == signature {
            adapter = cached.adapter
        } else {
            do {
                adapter = try LoRAAdapter(path: path)
                try adapter.validate(for: base.model.hyperparameters)
            } catch {
                throw OpenAIError.invalid("model", "The adapter '\(name)' cannot be used with \(base.id): \(error)")
            }
            lock.withLock { adapters[path] = (signature, adapter) }
        }
        return ServedModel(id: id, model: base.model, scheduler: base.scheduler, adapter: adapter, created: signature.modified)
    }

    public func shutdown() {
        for m in all { m.scheduler.shutdown() }
    }
}

/// What identifies a version of a file on disk: its inode, size and modification time (a replacement written
/// and renamed into place changes the inode; a rewrite in place, the time).
struct FileSignature: Equatable {
    let inode: UInt64
    let size: Int64
    let modifiedNanoseconds: Int64
    var modified: Int { Int(modifiedNanoseconds / 1_000_000_000) }

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
