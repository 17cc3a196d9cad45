import ArgumentParser
import Foundation
import ParleyEngine
import ParleyModels
import ParleyServer

/// `parley serve`: the OpenAI-compatible HTTP server with continuous batching.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over an OpenAI-compatible HTTP API (chat, completions, embeddings, models).")

    @Option(name: [.customShort("m"), .long],
            help: "A .gguf file or a store name (repeat to serve several; the id is the file name). Default: the default model, pulled on first use.")
    var model: [String] = []

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Sequences generated at once (continuous batching slots).") var parallel = 8
    @Option(name: .customLong("ctx"), help: "Context length per sequence (default: the model's, at most 4096).")
    var contextLength: Int?
    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1 requests (or set PARLEY_API_KEY).")
    var apiKey: String?
    @Option(name: .customLong("queue"), help: "Requests that may wait for a slot before 429.") var queue = 64
    @Option(name: .customLong("step-tokens"), help: "Most tokens in one batched forward step.") var stepTokens = 512
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (413 beyond).") var maxBody = 4 << 20

    func validate() throws {
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if let contextLength, contextLength < 16 { throw ValidationError("--ctx must be at least 16") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if queue < 0 { throw ValidationError("--queue must be at least 0") }
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
