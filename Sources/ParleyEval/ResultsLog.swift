import Crypto
import Foundation

/// One scored item, as appended to a run's log.
public struct ItemResult: Codable, Sendable, Equatable {
    public var index: Int
    /// Per metric, this item's value (0/1 for accuracies; pass@k per problem; log-likelihood and bytes for bpb).
    public var scores: [String: Double]
    /// Multiple choice: each choice's log-likelihood (or nil for lettered answers).
    public var logLikelihoods: [Double]?
    /// What the model produced (generation, code, lettered choice), trimmed.
    public var output: String?
    /// Wall-clock seconds the item took (a resumed run's time is the sum over its items).
    public var seconds: Double?
}

/// Identifies a run: the same model, task and method resume the same log.
public struct RunIdentity: Codable, Sendable, Equatable {
    public var model: String
    /// The model file's size and modification time, or the provider's base URL, so a changed model starts over.
    public var modelFingerprint: String
    public var task: String
    public var method: String
    public var samples: Int

    public var id: String {
        let json = (try? JSONEncoder.sorted.encode(self)) ?? Data()
        let digest = SHA256.hash(data: json).prefix(6).map { String(format: "%02x", $0) }.joined()
        let readable = "\(model)-\(task)".map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        return String(readable) + "-" + digest
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A run's append-only log, `RUNS/ID.jsonl`: the identity on the first line, then one `ItemResult` per line,
/// each written and flushed as the item finishes. Reopening it resumes: items already there are skipped. A
/// line cut short by a crash is dropped (the file is truncated back to the last whole line).
public final class ResultsLog {
    public let url: URL
    public let identity: RunIdentity
    public private(set) var results: [Int: ItemResult] = [:]
    private let handle: FileHandle

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let runs = environment["PARLEY_EVAL_RUNS"], !runs.isEmpty { return URL(fileURLWithPath: runs) }
        if let home = environment["PARLEY_HOME"], !home.isEmpty { return URL(fileURLWithPath: home).appending(path: "eval/runs") }
        return FileManager.default.homeDirectoryForCurrentUser.appending(path: ".cache/parley/eval/runs")
    }

    public init(directory: URL, identity: RunIdentity) throws {
        self.identity = identity
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appending(path: identity.id + ".jsonl")
        let fileManager = FileManager.default
        if let data = fileManager.contents(atPath: url.path), !data.isEmpty {
            var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            // Everything after the last newline is an unfinished write.
            let complete = data.last == UInt8(ascii: "\n") ? data.count : (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
            lines.removeLast()
            let decoder = JSONDecoder()
            guard let first = lines.first, let stored = try? decoder.decode(RunIdentity.self, from: Data(first)),
                  stored == identity else {
                throw EvalError("\(url.path) belongs to another run; move it away to start over")
            }
            for line in lines.dropFirst() {
                guard let item = try? decoder.decode(ItemResult.self, from: Data(line)) else { continue }
                results[item.index] = item
            }
            handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(complete))
            try handle.seekToEnd()
        } else {
            _ = fileManager.createFile(atPath: url.path, contents: nil)
            handle = try FileHandle(forWritingTo: url)
            try handle.write(contentsOf: try JSONEncoder.sorted.encode(identity) + Data("\n".utf8))
        }
    }

    deinit { try? handle.close() }

    public func append(_ item: ItemResult) throws {
        try handle.write(contentsOf: try JSONEncoder.sorted.encode(item) + Data("\n".utf8))
        try handle.synchronize()
        results[item.index] = item
    }
}
