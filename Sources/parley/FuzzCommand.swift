import ArgumentParser
import Foundation
import ParleyModels

struct FuzzGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-gguf",
        abstract: "Fuzz the GGUF reader with mutated and truncated copies of real model headers.",
        discussion: """
            Each case mutates a copy of a model's header and metadata (the tensor data is left sparse), loads \
            it, and restores it. The run fails on a crash, a hang, an error other than a clear GGUF error, or \
            peak memory beyond the limit. Models default to .models/*.gguf, else the store's models.
            """)

    @Argument(help: "GGUF files (or store names) to take headers from.")
    var models: [String] = []

    @Option(help: "Number of cases.")
    var cases = 10_000

    @Option(help: "Random seed (a run is reproducible from it).")
    var seed: UInt64 = 0x5EED

    @Option(help: "Parallel workers (default: the cores, at most 4).")
    var workers: Int?

    @Option(name: .customLong("case"), help: "Run only this case (to reproduce a failure).")
    var onlyCase: Int?

    @Option(help: "Seconds one case may take.")
    var caseTimeLimit: Double = 10

    @Option(help: "Peak memory limit in MB (default: the pristine load's peak plus 256 MB or 16× the header).")
    var memoryLimitMb: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if cases < 1 { throw ValidationError("--cases must be at least 1") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        var paths = try models.map { try resolveModelPath($0) }
        if paths.isEmpty {
            let local = [".models/SmolLM2-135M-Instruct.Q4_1.gguf", ".models/gemma-3-270m-Q4_K_M.gguf"]
                .filter { FileManager.default.fileExists(atPath: $0) }
            let store = ModelStore()
            paths = local.isEmpty ? try store.list().map { store.modelFile(of: $0.name).path } : local
        }
        guard !paths.isEmpty else {
            throw CLIError("no models to fuzz: give .gguf paths, or run scripts/fetch-test-models.sh, or parley pull smollm2")
        }
        var configuration = GGUFFuzzer.Configuration()
        configuration.cases = cases
        configuration.seed = seed
        if let workers { configuration.workers = workers }
        configuration.onlyCase = onlyCase
        configuration.caseTimeLimit = caseTimeLimit
        configuration.memoryLimitBytes = memoryLimitMb.map { $0 << 20 }
        let fuzzer = try GGUFFuzzer(models: paths, configuration: configuration)
        if !json {
            FileHandle.standardError.write(Data("fuzzing the GGUF reader: \(onlyCase.map { "case \($0)" } ?? "\(cases) cases"), seed \(seed), headers of \(fuzzer.seedDescriptions.joined(separator: "; "))\n".utf8))
        }
        let report = try fuzzer.run { done in
            if !json { FileHandle.standardError.write(Data("  \(done) cases…\n".utf8)) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            writeOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
            return
        }
        writeOut("""
            \(report.cases) cases passed in \(String(format: "%.1f", report.seconds)) s: \(report.loaded) loaded, \(report.rejected) rejected with a clear error; no crash, hang or runaway allocation
            slowest case: \(String(format: "%.3f", report.slowestCaseSeconds)) s (\(report.slowestCase))
            peak RSS: \(report.peakRSSBytes >> 20) MB (after loading the pristine headers: \(report.baselinePeakRSSBytes >> 20) MB; limit \(report.memoryLimitBytes >> 20) MB)
            mutations: \(report.mutations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            sample errors:
            \(report.sampleErrors.map { "  " + $0 }.joined(separator: "\n"))

            """)
    }
}
