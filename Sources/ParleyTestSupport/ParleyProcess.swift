import Foundation

/// What a run of the built `parley` binary printed and how it ended.
public struct CLIResult: Sendable {
    public let status: Int32
    /// false when the process died of a signal (a crash).
    public let exited: Bool
    public let stdout: String
    public let stderr: String
}

public struct CLIError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs the `parley` binary built next to the test runner, as outside checks do.
public func parley(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("parley")
    let candidates = [binary, Bundle.main.bundleURL.appendingPathComponent("parley")]
    guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CLIError(description: "parley binary not found next to the test runner (\(candidates.map(\.path)))")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting so a large output cannot block the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus, exited: process.terminationReason == .exit,
                     stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
}
