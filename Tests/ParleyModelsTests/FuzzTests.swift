import Foundation
import ParleyTestSupport
import Testing

/// The GGUF reader under 10,000 mutated and truncated real headers, run as `parley fuzz-gguf` in a child
/// process so a crash or hang shows up as a failed test instead of taking the runner down.
@Suite struct FuzzTests {
    struct Report: Decodable {
        let cases: Int
        let loaded: Int
        let rejected: Int
        let seconds: Double
        let slowestCaseSeconds: Double
        let peakRSSBytes: Int
        let memoryLimitBytes: Int
        let mutations: [String: Int]
    }

    @Test func tenThousandMutatedHeadersLoadOrFailCleanly() throws {
        let run = try parley(["fuzz-gguf", "--cases", "10000", "--json", TestModels.smolLM2, TestModels.gemma3])
        #expect(run.exited, "the fuzzer died of a signal: \(run.stderr)")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
        #expect(report.cases == 10_000)
        #expect(report.loaded + report.rejected == report.cases)
        #expect(report.loaded > 0 && report.rejected > 0)
        #expect(report.peakRSSBytes <= report.memoryLimitBytes)
        #expect(report.slowestCaseSeconds < 10)
        for kind in ["truncate", "bitflip", "arrayCount", "stringLength", "tensorOffset", "dimension", "insert", "delete"] {
            #expect((report.mutations[kind] ?? 0) > 0, "no \(kind) mutations")
        }
    }
}
