import ArgumentParser
import Foundation
import ParleyEngine
import ParleyModels
import ParleyServer
import ParleyStore

/// `parley serve`: the OpenAI-compatible HTTP server with continuous batching.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the chat app (web UI and /api) and an OpenAI-compatible HTTP API (chat, completions, embeddings, models).",
        discussion: """
            Accounts are on by default: the first account to sign up is the admin, and /v1 needs a user's API key \
            (or --api-key). --no-auth serves one implicit local admin without sign-in and listens on loopback only.
            """)

    @Option(name: [.customShort("m"), .long],
            help: "A .gguf file or a store name (repeat to serve several; the id is the file name). Default: the default model, pulled on first use.")
    var model: [String] = []

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Sequences generated at once (continuous batching slots).") var parallel = 8
    @Option(name: .customLong("ctx"), help: "Context length per sequence (default: the model's, at most 4096).")
    var contextLength: Int?
    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .customLong("api-key"), help: "A static key accepted on /v1 as 'Authorization: Bearer KEY' besides users' keys (or set PARLEY_API_KEY); with --no-auth it is required on /v1.")
    var apiKey: String?
    @Option(name: .customLong("database"),
            help: "The chat app's database: a SQLite file path or sqlite:// URL, or postgres://… (default: $PARLEY_HOME/parley.sqlite, PARLEY_HOME defaults to ~/.parley).")
    var database: String?
    @Flag(name: .customLong("no-auth"), help: "No accounts: one implicit local admin, no sign-in. Only allowed on a loopback host.")
    var noAuth = false
    @Option(name: .customLong("system-prompt"), help: "The system prompt of chats that set none.")
    var systemPrompt: String?
    @Flag(name: .customLong("trust-proxy"), help: "Behind a reverse proxy: rate-limit sign-ins by the X-Forwarded-For address.")
    var trustProxy = false
    @Option(name: .customLong("queue"), help: "Requests that may wait for a slot before 429.") var queue = 64
    @Option(name: .customLong("step-tokens"), help: "Most tokens in one batched forward step.") var stepTokens = 512
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (413 beyond).") var maxBody = 4 << 20
    @Option(name: .customLong("wellbeing-policy"),
            help: "A wellbeing policy JSON file (default: the built-in policy). Reloaded when it changes; an invalid edit is logged and the previous policy stays.")
    var wellbeingPolicy: String?
    @Option(name: .customLong("wellbeing-test-clock"), help: .hidden) var wellbeingTestClock: String?
    @Option(name: .customLong("embedding-model"),
            help: "A sentence-embedding model for /v1/embeddings: a sentence-transformers directory or a name under $PARLEY_HOME/embedding-models (all-MiniLM-L6-v2 is fetched on first use). Repeatable.")
    var embeddingModel: [String] = []
    @Option(name: .customLong("adapters"),
            help: "A directory of LoRA adapters requests may name as \"MODEL:NAME\": NAME.gguf, or NAME/current.gguf of an adapter line (`parley learn --registry`); changes apply from the next request, without a restart.")
    var adapters: String?

    func validate() throws {
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if let contextLength, contextLength < 16 { throw ValidationError("--ctx must be at least 16") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if queue < 0 { throw ValidationError("--queue must be at least 0") }
        if noAuth && !ServerOptions.isLoopback(host) {
            throw ValidationError("--no-auth serves everyone as the admin, so it only listens on loopback (127.0.0.1, ::1 or localhost), not on '\(host)'. Drop --no-auth to use accounts.")
        }
    }

    static func parleyHome() -> String {
        ProcessInfo.processInfo.environment["PARLEY_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".parley").path
    }

    /// `--database`, else `$PARLEY_HOME/parley.sqlite` (the directory is created).
    static func databaseURL(_ option: String?) throws -> String {
        if let option, !option.isEmpty { return option }
        let home = Self.parleyHome()
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return URL(fileURLWithPath: home).appendingPathComponent("parley.sqlite").path
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }

    func run() async throws {
        var options = ServerOptions()
        // Store names resolve to their files and are served under that name; the default model is pulled when
        // nothing is given. A path is served under its file name.
        let references = model.isEmpty ? [Catalog.defaultModelName] : model
        options.modelPaths = try references.map(resolveModelPath)
        options.modelIDs = references.map { FileManager.default.fileExists(atPath: $0) ? nil : $0 }
        options.host = host
        options.port = port
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["PARLEY_API_KEY"]
        options.maxBodyBytes = maxBody
        let databaseURL = try Self.databaseURL(database)
        options.databaseDescription = Self.redacted(databaseURL)
        options.openStore = { try await openStore(databaseURL) }
        // Provider API keys are sealed in the database with a key kept beside it, in PARLEY_HOME (0600).
        options.providerKeyFile = URL(fileURLWithPath: Self.parleyHome()).appendingPathComponent("provider-keys.secret").path
        options.noAuth = noAuth
        options.trustForwardedFor = trustProxy
        options.wellbeingPolicyPath = wellbeingPolicy
        options.wellbeingTestClockPath = wellbeingTestClock
        for reference in embeddingModel { options.embeddingModelPaths.append(try await resolveEmbeddingModel(reference)) }
        options.adapterDirectory = adapters
        if let systemPrompt { options.defaultSystemPrompt = systemPrompt }
        options.scheduler.parallel = parallel
        options.scheduler.contextLength = contextLength ?? 4096
        options.scheduler.threads = threads ?? Model.defaultThreads
        options.scheduler.maxQueue = queue
        options.scheduler.stepTokens = stepTokens
        options.scheduler.pinThreads = ProcessInfo.processInfo.environment["PARLEY_PIN_THREADS"] != "0"
        try await ParleyServer.run(options) { line in
            FileHandle.standardError.write(Data("parley serve: \(line)\n".utf8))
        }
    }
}
