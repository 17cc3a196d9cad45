import Foundation
import ParleyTestSupport
import Testing

/// `parley learn` end to end on SmolLM2: it trains an adapter on an invented fact, prints the contract's JSON,
/// and `complete --adapter` then finds the fact far more likely than the base model does.
@Suite(.serialized) struct LearnCommandTests {
    struct LearnOutput: Decodable {
        let tokens_per_s: Double
        let peak_rss_mb: Double
        let final_loss: Double
    }

    static let fact = "The harbour master of Quillon Bay is Odalys Verrin, who keeps a green lantern on the pier."

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-learn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Mean log-probability of the fact's tokens after its first few, scored with `complete --echo`.
    static func factLogProbability(_ extra: [String]) throws -> Double {
        let result = try parley(["complete", "-m", TestModels.smolLM2, "-t", "2", "--max-tokens", "0", "--echo", "--json",
                                 fact] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(CompleteOutput.self, from: Data(result.stdout.utf8))
        let scored = (output.prompt_logprobs ?? []).compactMap { $0?.logprob }.suffix(12)
        return scored.map(Double.init).reduce(0, +) / Double(max(1, scored.count))
    }

    @Test func learnsAnInventedFactAndServesItThroughTheAdapter() throws {
        let directory = try Self.temporaryDirectory()
        let data = directory.appendingPathComponent("fact.txt"), adapter = directory.appendingPathComponent("fact.gguf")
        try Data(Self.fact.utf8).write(to: data)
        let result = try parley(["learn", "-m", TestModels.smolLM2, "-t", "2", "--data", data.path, "--steps", "12",
                                 "--rank", "4", "--batch", "1", "--seq-len", "64", "--lr", "3e-3", "--out", adapter.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(LearnOutput.self, from: Data(result.stdout.utf8))
        #expect(output.tokens_per_s > 0 && output.peak_rss_mb > 0 && output.final_loss.isFinite)
        #expect(FileManager.default.fileExists(atPath: adapter.path))
        let before = try Self.factLogProbability([])
        let after = try Self.factLogProbability(["--adapter", adapter.path])
        #expect(after > before + 1, "mean log-probability of the fact \(before) → \(after)")
    }

    @Test func badArgumentsFailWithOneLine() throws {
        let directory = try Self.temporaryDirectory()
        let out = directory.appendingPathComponent("x.gguf").path
        let targets = try parley(["learn", "-m", TestModels.smolLM2, "--data", "/dev/null", "--targets", "q,attn", "--out", out])
        #expect(targets.status != 0 && targets.stderr.contains("unknown module 'attn'"), "\(targets.stderr)")
        let missing = try parley(["learn", "-m", TestModels.smolLM2, "--data", directory.appendingPathComponent("none").path,
                                  "--out", out])
        #expect(missing.status != 0 && missing.stderr.contains("no training data"), "\(missing.stderr)")
        let notAdapter = try parley(["complete", "-m", TestModels.smolLM2, "--adapter", TestModels.smolLM2, "Hi"])
        #expect(notAdapter.status != 0 && notAdapter.stderr.contains("not a LoRA adapter"), "\(notAdapter.stderr)")
    }
}
