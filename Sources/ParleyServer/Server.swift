import Foundation
import Hummingbird
import Logging
import ParleyEngine

/// What `parley serve` runs with.
public struct ServerOptions: Sendable {
    public var modelPaths: [String] = []
    /// The id each model is served under, by position in `modelPaths` (default: the file name without `.gguf`).
    public var modelIDs: [String?] = []
    public var host = "127.0.0.1"
    public var port = 8080
    public var scheduler = SchedulerConfiguration()
    public var apiKey: String?
    public var maxBodyBytes = 4 << 20

    public init() {}
}

/// Runs the HTTP server until SIGINT/SIGTERM. The port opens at once; `/health` answers 503 until every model
/// has loaded. Shutdown is graceful: no new connections, in-flight responses (streams too) run to their end.
public enum ParleyServer {
    public static func run(_ options: ServerOptions, onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let catalog = ModelCatalog()
        let api = ParleyAPI(catalog: catalog, apiKey: options.apiKey, maxBodyBytes: options.maxBodyBytes)
        var logger = Logger(label: "parley")
        logger.logLevel = .warning
        let app = Application(
            router: api.makeRouter(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "parley"),
            onServerRunning: { channel in
                onListening("listening on http://\(options.host):\(channel.localAddress?.port ?? options.port)")
            },
            logger: logger
        )
        let paths = options.modelPaths
        let ids = paths.indices.map { i in
            (i < options.modelIDs.count ? options.modelIDs[i] : nil) ?? ServedModel.id(forPath: paths[i])
        }
        let config = options.scheduler
        let loader = Task.detached {
            do {
                var served: [ServedModel] = []
                for (path, id) in zip(paths, ids) {
                    let model = try Model(path: path)
                    served.append(ServedModel(id: id, model: model,
                                              scheduler: Scheduler(model: model, configuration: config)))
                }
                catalog.finishLoading(served)
                onListening("ready: " + served.map(\.id).joined(separator: ", "))
            } catch {
                catalog.failLoading("\(error)")
                onListening("failed to load: \(error)")
            }
        }
        defer { catalog.shutdown() }
        try await app.runService()
        _ = await loader.result
    }
}
