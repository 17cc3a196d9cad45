import ArgumentParser
import Foundation
import ParleyModels

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a model into the store: a catalog name, hf:OWNER/REPO/FILE.gguf, an https URL or a local .gguf.",
        discussion: """
            Known names: \(Catalog.entries.map(\.name).joined(separator: ", ")) (the default model is \(Catalog.defaultModelName)). \
            The store is $PARLEY_HOME (default ~/.parley). A catalog model is checked against its sha256; an \
            interrupted download resumes; pulling an installed model does nothing.
            """)

    @Argument(help: "What to pull.")
    var model: String

    @Option(help: "The name to store it under (default: the catalog name, or derived from the file name).")
    var name: String?

    @Flag(help: "Fetch and install again even if the model is already installed.")
    var force = false

    func run() throws {
        let request = try PullRequest(parsing: model, name: name)
        let store = ModelStore()
        let outcome = try pullWithProgress(request, store: store, force: force)
        let m = outcome.manifest
        if outcome.alreadyInstalled {
            writeOut("\(m.name) is already installed (\(Format.bytes(m.size)), sha256 \(m.sha256.prefix(12))…): nothing to do\n")
        } else {
            writeOut("\(m.name): installed \(Format.bytes(m.size)) from \(m.source) (sha256 \(m.sha256.prefix(12))…)\n")
        }
    }
}

/// Pulls with progress on stderr (a bar on a terminal, lines otherwise).
func pullWithProgress(_ request: PullRequest, store: ModelStore, force: Bool = false) throws -> PullOutcome {
    let printer = PullProgressPrinter()
    var options = PullOptions()
    options.force = force
    if isatty(STDERR_FILENO) != 0 { options.pipOutput = FileHandle.standardError }
    if let pip = ProcessInfo.processInfo.environment["PARLEY_PIP"], !pip.isEmpty {
        options.pip = pip.split(separator: " ").map(String.init)
    }
    let puller = ModelPuller(store: store, options: options) { printer.handle($0) }
    defer { printer.finish() }
    return try runBlocking { try await puller.pull(request) }
}

/// The GGUF path `-m` names: a file, an installed model, or a catalog model pulled now (progress on stderr).
func resolveModelPath(_ reference: String) throws -> String {
    let store = ModelStore()
    switch try store.resolve(reference) {
    case .file(let path):
        return path
    case .installed(_, let path):
        return path
    case .pullable(let request):
        FileHandle.standardError.write(Data("\(request.name) is not in the store yet (\(store.root.path)): pulling it\n".utf8))
        let outcome = try pullWithProgress(request, store: store)
        return store.modelFile(of: outcome.manifest.name).path
    }
}

/// Runs async work from a synchronous command (the main thread waits; the work runs on the global executor).
func runBlocking<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
