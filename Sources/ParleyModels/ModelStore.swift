import Crypto
import Foundation
import ParleyGGUF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a store operation failed, in words for the user.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    public struct SourceFailure: Sendable, Equatable {
        public var source: String
        public var reason: String
    }

    case badReference(String, String)
    case badName(String)
    case notInstalled(String)
    case allSourcesFailed(name: String, failures: [SourceFailure])
    case io(String)

    public var description: String {
        switch self {
        case .badReference(let reference, let why):
            "'\(reference)': \(why)"
        case .badName(let name):
            "'\(name)' is not a valid model name (lowercase letters, digits, '.', '_' and '-'; it starts with a letter or digit)"
        case .notInstalled(let name):
            "no model named '\(name)' in the store (parley models lists them; parley pull \(name) fetches a known one)"
        case .allSourcesFailed(let name, let failures):
            "could not pull \(name): " + failures.enumerated()
                .map { "[\($0.offset + 1)] \($0.element.source): \($0.element.reason)" }.joined(separator: "; ")
        case .io(let message):
            message
        }
    }
}

/// The model store: one directory per model under `$PARLEY_HOME/models`, each with the GGUF file and its
/// manifest. A model is installed exactly when its directory (with `manifest.json`) exists; installs build the
/// directory under `tmp/` and rename it into place, so readers never see half a model.
///
///     $PARLEY_HOME/models/NAME/{model.gguf,manifest.json}
///     $PARLEY_HOME/downloads/   partial HTTP downloads, kept for resuming
///     $PARLEY_HOME/tmp/         staging (same file system as models/)
///     $PARLEY_HOME/locks/NAME.lock
public struct ModelStore: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// `$PARLEY_HOME`, else `~/.parley`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(root: Self.defaultRoot(environment: environment))
    }

    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["PARLEY_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: (home as NSString).expandingTildeInPath)
        }
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: userHome).appendingPathComponent(".parley")
    }

    public var modelsDirectory: URL { root.appendingPathComponent("models") }
    public var downloadsDirectory: URL { root.appendingPathComponent("downloads") }
    public var tempDirectory: URL { root.appendingPathComponent("tmp") }
    var locksDirectory: URL { root.appendingPathComponent("locks") }

    public func directory(of name: String) -> URL { modelsDirectory.appendingPathComponent(name) }
    public func modelFile(of name: String) -> URL { directory(of: name).appendingPathComponent("model.gguf") }
    public func manifestFile(of name: String) -> URL { directory(of: name).appendingPathComponent("manifest.json") }

    /// Creates the store's directories.
    public func prepare() throws {
        for dir in [modelsDirectory, downloadsDirectory, tempDirectory, locksDirectory] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            } catch {
                throw StoreError.io("cannot create \(dir.path): \(error.localizedDescription)")
            }
        }
    }

    /// The manifest of an installed model, or nil when there is none by that name.
    public func manifest(of name: String) throws -> Manifest? {
        guard ModelName.isValid(name) else { return nil }
        let url = manifestFile(of: name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Self.decoder.decode(Manifest.self, from: Data(contentsOf: url))
        } catch {
            throw StoreError.io("the manifest of '\(name)' (\(url.path)) is unreadable: \(error)")
        }
    }

    public func isInstalled(_ name: String) -> Bool {
        (try? manifest(of: name)) != nil
    }

    /// Every installed model, by name.
    public func list() throws -> [Manifest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        return try names.sorted().compactMap { name in try manifest(of: name) }
    }

    /// The GGUF path of an installed model.
    public func path(of name: String) throws -> String {
        guard try manifest(of: name) != nil else { throw StoreError.notInstalled(name) }
        return modelFile(of: name).path
    }

    /// Deletes an installed model (under its lock, so a pull in progress finishes first).
    public func remove(_ name: String) async throws {
        guard ModelName.isValid(name), try manifest(of: name) != nil else { throw StoreError.notInstalled(name) }
        try prepare()
        let lock = try await FileLock.acquire(locksDirectory.appendingPathComponent("\(name).lock").path)
        defer { lock.release() }
        let trash = tempDirectory.appendingPathComponent("removed-\(name)-\(UUID().uuidString)")
        do {
            try FileManager.default.moveItem(at: directory(of: name), to: trash)
        } catch {
            throw StoreError.io("cannot remove \(directory(of: name).path): \(error.localizedDescription)")
        }
        try? FileManager.default.removeItem(at: trash)
    }

    /// Installs `file` (which must be inside `tempDirectory`) as `name`: checks it is a readable GGUF, records
    /// its manifest and moves both into place with one rename. The caller holds the name's lock.
    func install(name: String, file: URL, source: String, sha256: String) throws -> Manifest {
        let gguf: GGUFFile
        do {
            gguf = try GGUFFile(path: file.path)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw StoreError.io("not a usable GGUF file: \(error)")
        }
        let size = gguf.fileSize
        let manifest = Manifest(name: name, source: source, sha256: sha256, size: size, facts: ModelFacts(file: gguf))
        let staging = tempDirectory.appendingPathComponent("install-\(name)-\(UUID().uuidString)")
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try fm.moveItem(at: file, to: staging.appendingPathComponent("model.gguf"))
            let data = try Self.encoder.encode(manifest)
            try data.write(to: staging.appendingPathComponent("manifest.json"), options: .atomic)
            let target = directory(of: name)
            var old: URL?
            if fm.fileExists(atPath: target.path) {
                old = tempDirectory.appendingPathComponent("replaced-\(name)-\(UUID().uuidString)")
                try fm.moveItem(at: target, to: old!)
            }
            try fm.moveItem(at: staging, to: target)
            if let old { try? fm.removeItem(at: old) }
        } catch {
            try? fm.removeItem(at: staging)
            throw StoreError.io("cannot install \(name) into \(modelsDirectory.path): \(error.localizedDescription)")
        }
        return manifest
    }

    func lock(_ name: String, onWait: @Sendable () -> Void = {}) async throws -> FileLock {
        try await FileLock.acquire(locksDirectory.appendingPathComponent("\(name).lock").path, onWait: onWait)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

/// An exclusive advisory lock (flock) on a file; released on `release()` or when the process exits.
final class FileLock: @unchecked Sendable {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Waits (polling, so no thread is blocked in the kernel) until the lock is ours; `onWait` runs once if
    /// another process holds it.
    static func acquire(_ path: String, onWait: @Sendable () -> Void = {}) async throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.io("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw StoreError.io("cannot lock \(path): \(message)")
            }
            if !told {
                onWait()
                told = true
            }
            do {
                try await Task.sleep(nanoseconds: 100_000_000)
            } catch {
                close(fd)
                throw error
            }
        }
        return FileLock(fd: fd)
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

/// Streaming SHA-256 of a file.
enum FileHash {
    static func sha256(of url: URL, progress: (Int) -> Void = { _ in }) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw StoreError.io("cannot read \(url.path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var done = 0
        while true {
            let chunk = try handle.read(upToCount: 4 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            done += chunk.count
            progress(done)
        }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
