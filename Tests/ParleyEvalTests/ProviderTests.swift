import Foundation
import ParleyEval
import ParleyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A second `parley serve` on a free port, standing in for a provider.
struct StandInServer {
    let process: Process
    let port: Int

    static func start(home: URL, apiKey: String) throws -> StandInServer {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "parley")
        let candidates = [binary, Bundle.main.bundleURL.appending(path: "parley")]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw EvalError("parley binary not found next to the test runner")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--no-auth", "-m", TestModels.smolLM2, "--host", "127.0.0.1", "--port", "0",
                             "--parallel", "2", "--ctx", "2048", "-t", "2", "--api-key", apiKey]
        process.environment = ProcessInfo.processInfo.environment.merging(["PARLEY_HOME": home.path, "PARLEY_PIN_THREADS": "0"]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var log = "", port: Int?
        let deadline = Date().addingTimeInterval(180)
        let handle = errors.fileHandleForReading
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
            if port == nil, let range = log.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            }
            if port != nil, log.contains("ready:") { break }
        }
        guard let port, log.contains("ready:") else {
            process.terminate()
            throw EvalError("parley serve did not start: \(log)")
        }
        DispatchQueue.global().async { while !handle.availableData.isEmpty {} }
        return StandInServer(process: process, port: port)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
}

/// A provider run end to end against `parley serve`: it reports no prompt log-probabilities, so multiple
/// choice falls back to a lettered prompt and the results say so; generation goes through its completions.
@Suite(.serialized) struct ProviderTests {
    @Test func providerRunAgainstParleyServe() throws {
        _ = try PulledDatasets.store()
        let home = try temporaryDirectory("provider-home")
        let runs = try temporaryDirectory("provider-runs")
        defer {
            try? FileManager.default.removeItem(at: home)
            try? FileManager.default.removeItem(at: runs)
        }
        let key = "pk-eval-test-\(UUID().uuidString.prefix(8))"
        let server = try StandInServer.start(home: home, apiKey: key)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)/v1"
        let model = "SmolLM2-135M-Instruct.Q4_1"

        let run = try parley(["eval", "run", "-m", model, "--base-url", base, "--task", "arc_easy", "--limit", "3",
                              "--json", "--runs", runs.path], environment: ["PARLEY_PROVIDER_API_KEY": key])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(ContractOutput.self, from: Data(run.stdout.utf8))
        #expect(output.task == "arc_easy" && output.n == 3)
        // Lettered answers have no length normalisation: the headline is plain accuracy.
        #expect(output.metric == "acc")
        let summaries = try HTMLReport.summaries(in: runs)
        #expect(summaries.count == 1)
        #expect(summaries.first?.method == "lettered_choice")
        #expect(summaries.first?.model == "127.0.0.1:\(model)")
        // The key never lands in the results.
        for file in try FileManager.default.contentsOfDirectory(at: runs, includingPropertiesForKeys: nil) {
            #expect(!(try String(contentsOf: file, encoding: .utf8)).contains(key))
        }

        let generation = try parley(["eval", "run", "-m", model, "--base-url", base, "--task", "gsm8k", "--limit", "1",
                                     "--json", "--runs", runs.path], environment: ["PARLEY_PROVIDER_API_KEY": key])
        #expect(generation.status == 0, "\(generation.stderr)")
        #expect(try JSONDecoder().decode(ContractOutput.self, from: Data(generation.stdout.utf8)).n == 1)

        let wrongKey = try parley(["eval", "run", "-m", model, "--base-url", base, "--task", "arc_easy", "--limit", "1",
                                   "--json", "--runs", runs.path], environment: ["PARLEY_PROVIDER_API_KEY": "pk-wrong"])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("HTTP 401"))
    }
}
