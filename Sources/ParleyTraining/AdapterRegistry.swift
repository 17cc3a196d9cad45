import Crypto
import Foundation

/// One line of adapters (say "team-notes" on SmolLM2) kept in a directory: every trained candidate as
/// `<id>.gguf` beside `registry.json`, which records each version's lineage (parent, the data it learned from,
/// its metrics and gate report), whether the gate promoted or rejected it, which version is current, and every
/// promotion and rollback. The current version is also at `current.gguf` (absent while the base model alone is
/// current), which `parley serve --adapters` serves as "model:<line>" and re-reads when it changes.
public final class AdapterRegistry: @unchecked Sendable {
    public struct DataFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int
    }

    public struct Version: Codable, Sendable, Equatable {
        public var id: String
        public var parent: String?
        public var created: String
        public var file: String
        public var data: [DataFile]
        public var replay: [DataFile]
        public var steps: Int
        public var finalLoss: Double
        public var report: GateReport?
        /// "promoted" or "rejected".
        public var status: String

        enum CodingKeys: String, CodingKey {
            case id, parent, created, file, data, replay, steps, report, status
            case finalLoss = "final_loss"
        }
    }

    public struct Event: Codable, Sendable, Equatable {
        /// "promote" or "rollback".
        public var action: String
        public var version: String?
        public var at: String
    }

    struct State: Codable {
        var current: String?
        var versions: [Version] = []
        var history: [Event] = []
    }

    public let directory: String
    private var state: State
    private var statePath: String { directory + "/registry.json" }

    /// Opens (creating when needed) the registry in `directory`.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/registry.json"
        if let data = FileManager.default.contents(atPath: path) {
            do { state = try JSONDecoder().decode(State.self, from: data) } catch {
                throw TrainingError.invalidConfiguration("\(path) is not a valid adapter registry: \(error)")
            }
        } else {
            state = State()
        }
    }

    public var versions: [Version] { state.versions }
    public var history: [Event] { state.history }
    public var current: Version? { state.current.flatMap(version) }

    public func version(_ id: String) -> Version? { state.versions.first { $0.id == id } }

    /// The adapter file of a version.
    public func path(of version: Version) -> String { directory + "/" + version.file }

    /// Records a trained candidate (copied in from `candidatePath`) with its lineage; it becomes current when
    /// its gate report promoted it (or when there is no report), and stays a rejected candidate otherwise.
    @discardableResult
    public func register(candidatePath: String, parent: String?, data: [String], replay: [String], steps: Int,
                         finalLoss: Double, report: GateReport?) throws -> Version {
        let id = "v\(state.versions.count + 1)"
        let file = id + ".gguf"
        let destination = directory + "/" + file
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: candidatePath, toPath: destination)
        let promoted = report?.promoted ?? true
        let version = Version(id: id, parent: parent, created: Self.now(), file: file, data: try data.map(Self.describe),
                              replay: try replay.map(Self.describe), steps: steps, finalLoss: finalLoss, report: report,
                              status: promoted ? "promoted" : "rejected")
        state.versions.append(version)
        if promoted {
            state.current = id
            state.history.append(Event(action: "promote", version: id, at: Self.now()))
        }
        try save()
        return version
    }

    /// Makes `id` current again (a promoted version), or, without an id, the current version's parent (none:
    /// the base model alone). Returns the new current version.
    @discardableResult
    public func rollback(to id: String? = nil) throws -> Version? {
        let target: String?
        if let id {
            guard let v = version(id) else { throw TrainingError.invalidConfiguration("no adapter version '\(id)'") }
            guard v.status == "promoted" else {
                throw TrainingError.invalidConfiguration("version '\(id)' was rejected by its gate and cannot become current")
            }
            target = id
        } else {
            guard let current else { throw TrainingError.invalidConfiguration("nothing to roll back: no current version") }
            target = current.parent
        }
        state.current = target
        state.history.append(Event(action: "rollback", version: target, at: Self.now()))
        try save()
        return current
    }

    private func save() throws {
        // current.gguf first, replaced by a rename so a server reading it never sees half a file.
        let currentPath = directory + "/current.gguf"
        if let current {
            let temporary = directory + "/.current.gguf.tmp"
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: path(of: current), toPath: temporary)
            guard rename(temporary, currentPath) == 0 else { throw TrainingError.invalidConfiguration("cannot replace \(currentPath)") }
        } else {
            try? FileManager.default.removeItem(atPath: currentPath)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(state)
        let temporary = statePath + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw TrainingError.invalidConfiguration("cannot write \(temporary)")
        }
        guard rename(temporary, statePath) == 0 else { throw TrainingError.invalidConfiguration("cannot replace \(statePath)") }
    }

    private static func describe(_ path: String) throws -> DataFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.noTrainingData("cannot read \(path)") }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return DataFile(path: path, sha256: digest, bytes: data.count)
    }

    private static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
