import Foundation
import Hummingbird
import Logging
import ParleyEngine
import ParleyMemory
import ParleyStore

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
    /// Opens the chat app's database; nil serves only the OpenAI API (no `/api`, no UI).
    public var openStore: (@Sendable () async throws -> any ParleyStore)?
    /// Where the database is, for the start-up message.
    public var databaseDescription = ""
    /// `--no-auth`: one implicit local admin, no sign-in; only a loopback host is allowed.
    public var noAuth = false
    /// The system prompt of conversations that set none.
    public var defaultSystemPrompt = ChatApp.standardSystemPrompt
    /// Take the client address for sign-in rate limits from `X-Forwarded-For` (behind a reverse proxy).
    public var trustForwardedFor = false
    /// `--wellbeing-policy`: a policy file, reloaded when it changes; nil is the built-in policy.
    public var wellbeingPolicyPath: String?
    /// `--wellbeing-test-clock`: browser tests only; a file of seconds that moves the wellbeing clock forward.
    public var wellbeingTestClockPath: String?
    /// Sentence-embedding model directories `/v1/embeddings` serves (`--embedding-model`).
    public var embeddingModelPaths: [String] = []
    /// The file holding the key that seals provider API keys in the database (created 0600 on first use);
    /// nil keeps a key in memory only (stored provider keys then do not survive a restart).
    public var providerKeyFile: String?
    /// `--adapters DIR`: LoRA adapters requests can name as "model:NAME" (see `ModelCatalog.adapterDirectory`).
    public var adapterDirectory: String?

    public init() {}

    /// Hosts that only this machine can reach.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h == "127.0.0.1" 
            || (h.hasPrefix("127.") && h.split(separator: ".").count == 4 && h.split(separator: ".").allSatisfy { UInt8($0) != nil })
    }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the HTTP server until SIGINT/SIGTERM. The port opens at once; `/health` answers 503 until every model
/// has loaded. Shutdown is graceful: no new connections, in-flight responses (streams too) run to their end.
public enum ParleyServer {
    public static func run(_ options: ServerOptions, onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        if options.noAuth, !ServerOptions.isLoopback(options.host) {
            throw ServerStartError("--no-auth serves everyone as the admin, so it only listens on loopback (127.0.0.1, ::1 or localhost), not on '\(options.host)'. Drop --no-auth to use accounts, or bind to 127.0.0.1.")
        }
        let policies = try WellbeingSetup.policies(path: options.wellbeingPolicyPath, log: onListening)
        defer { policies.stopWatching() }
        let clock = options.wellbeingTestClockPath.map { WellbeingClock.testOffset(file: URL(fileURLWithPath: $0)) } ?? .system
        let catalog = ModelCatalog(adapterDirectory: options.adapterDirectory)
        let metrics = ServerMetrics()
        let encoders: EncoderCatalog
        do {
            encoders = EncoderCatalog(try options.embeddingModelPaths.map {
                try SentenceEncoder(directory: $0, threads: options.scheduler.threads)
            })
        } catch {
            throw ServerStartError("cannot load the embedding model: \(error)")
        }
        var store: (any ParleyStore)?
        var app: ChatApp?
        if let open = options.openStore {
            let opened = try await open()
            store = opened
            do {
                app = try await ChatApp.start(store: opened, catalog: catalog, metrics: metrics, accounts: !options.noAuth,
                                              staticAPIKey: options.apiKey, defaultSystemPrompt: options.defaultSystemPrompt,
                                              defaultModel: options.modelIDs.first ?? nil, maxBodyBytes: options.maxBodyBytes,
                                              trustForwardedFor: options.trustForwardedFor,
                                              wellbeingPolicies: policies, wellbeingClock: clock,
                                              providerKeyFile: options.providerKeyFile,
                                              embedder: encoders.encoders.first)
            } catch {
                try? await opened.close()
                throw error
            }
        }
        let chatApp = app
        let api = ParleyAPI(catalog: catalog, metrics: metrics, apiKey: options.apiKey, maxBodyBytes: options.maxBodyBytes,
                            app: chatApp, encoders: encoders)
        var logger = Logger(label: "parley")
        logger.logLevel = .warning
        let application = Application(
            router: api.makeRouter(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "parley"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let host = options.host.contains(":") ? "[\(options.host)]" : options.host
                onListening("listening on http://\(host):\(port)")
                if chatApp != nil {
                    let shown = host == "0.0.0.0" || host == "[::]" ? "localhost" : host
                    onListening("chat UI: open http://\(shown):\(port)/ (database: \(options.databaseDescription); "
                                + (options.noAuth ? "no accounts, local user" : "accounts on") + ")")
                }
            },
            logger: logger
        )
        let paths = options.modelPaths
        let ids = paths.indices.map { i in
            (i < options.modelIDs.count ? options.modelIDs[i] : nil) ?? ServedModel.id(forPath: paths[i])
        }
        var schedulerConfiguration = options.scheduler
        // Waiting requests of metered projects are admitted by fair share (CreditsMetering.swift).
        if let credits = chatApp?.credits {
            schedulerConfiguration.admission = FairShareAdmission(fairShare: credits.service.fairShare)
            try? await credits.service.refreshShares()
        }
        let config = schedulerConfiguration
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
        do {
            try await application.runService()
        } catch {
            loader.cancel()
            try? await store?.close()
            throw error
        }
        _ = await loader.result
        try? await store?.close()
    }
}
