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

    static func fixture(_ name: String) -> String { TestModels.fixture("training/invented-facts/" + name).path }

    struct GatedOutput: Decodable {
        struct Gate: Decodable {
            let promoted: Bool
            let probe_gain: Double
            let perplexity_increase: Double
            let reasons: [String]
        }
        let final_loss: Double
        let gate: Gate
        let version: String
    }

    /// `learn --registry` with a gate: the candidate is measured, recorded with its lineage, promoted or kept as a
    /// rejected candidate; the next run continues from the current version; `adapters rollback` moves back.
    @Test func gatedRunsRecordLineageAndRollBack() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let line = directory.appendingPathComponent("team-notes").path
        func learn(_ extra: [String]) throws -> GatedOutput {
            let result = try parley(["learn", "-m", TestModels.smolLM2, "-t", "2", "--data", Self.fixture("corpus.jsonl"),
                                     "--replay", Self.fixture("replay.txt"), "--replay-fraction", "0.5",
                                     "--regression", Self.fixture("regression.txt"),
                                     "--multiple-choice", Self.fixture("multiple-choice.jsonl"),
                                     "--probe", Self.fixture("probes.jsonl"), "--registry", line, "--seq-len", "64",
                                     "--out", directory.appendingPathComponent("candidate.gguf").path, "--json"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONDecoder().decode(GatedOutput.self, from: Data(result.stdout.utf8))
        }
        // Learns: the probe gains; a bound nothing can meet rejects the same kind of run.
        let first = try learn(["--steps", "8", "--lr", "2e-3", "--bwt-bound=-100", "--max-perplexity-increase", "1"])
        #expect(first.gate.promoted && first.gate.probe_gain > 0 && first.version == "v1", "\(first.gate)")
        let second = try learn(["--steps", "2", "--lr", "2e-3", "--max-perplexity-increase=-1"])
        #expect(!second.gate.promoted && second.version == "v2", "\(second.gate)")
        #expect(second.gate.reasons.contains { $0.contains("perplexity") })

        let listed = try parley(["adapters", "list", line, "--json"])
        struct Version: Decodable { let id: String; let parent: String?; let status: String }
        let versions = try JSONDecoder().decode([Version].self, from: Data(listed.stdout.utf8))
        #expect(versions.map(\.id) == ["v1", "v2"] && versions.map(\.status) == ["promoted", "rejected"])
        #expect(versions[1].parent == "v1", "the second run continued from the current version")
        let rolled = try parley(["adapters", "rollback", line])
        #expect(rolled.status == 0 && rolled.stdout.contains("none (the base model)"), "\(rolled.stdout) \(rolled.stderr)")
        let back = try parley(["adapters", "rollback", line, "--to", "v1"])
        #expect(back.status == 0 && back.stdout.contains("v1"), "\(back.stdout)")
        let refused = try parley(["adapters", "rollback", line, "--to", "v2"])
        #expect(refused.status != 0 && refused.stderr.contains("rejected"), "\(refused.stderr)")
    }

    /// An adapter exported by `parley learn` loads in llama.cpp (`llama-server --lora`) and gives the same top-1
    /// tokens as Parley on reference prompts (`scripts/parity-vs-llama-cpp.py --check`). Runs when llama.cpp is
    /// built (scripts/build-llama-cpp.sh; PARLEY_REQUIRE_LLAMA_CPP=1 makes its absence a failure).
    @Test func anExportedAdapterAgreesWithLlamaCpp() throws {
        let cache = ProcessInfo.processInfo.environment["LLAMA_CPP_CACHE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/parley/llama.cpp").path
        guard FileManager.default.isExecutableFile(atPath: cache + "/build/bin/llama-server") else {
            #expect(ProcessInfo.processInfo.environment["PARLEY_REQUIRE_LLAMA_CPP"] != "1", "llama-server is not built")
            return
        }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let adapter = directory.appendingPathComponent("facts.gguf").path
        let learned = try parley(["learn", "-m", TestModels.smolLM2, "-t", "2", "--data", Self.fixture("corpus.jsonl"),
                                  "--steps", "10", "--seq-len", "64", "--lr", "3e-3", "--out", adapter])
        #expect(learned.status == 0, "\(learned.stderr)")
        // The adapter changes what the model says about the facts (else agreeing would prove nothing).
        let prompt = "Question: What is the capital of Veltrana?\nAnswer:"
        let plain = try parley(["complete", "-m", TestModels.smolLM2, "--max-tokens", "8", prompt])
        let adapted = try parley(["complete", "-m", TestModels.smolLM2, "--max-tokens", "8", "--adapter", adapter, prompt])
        #expect(plain.stdout != adapted.stdout, "\(plain.stdout) / \(adapted.stdout)")
        let script = TestModels.repositoryRoot.appendingPathComponent("scripts/parity-vs-llama-cpp.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--model", TestModels.smolLM2, "--adapter", adapter, "--extra-prompts",
                             Self.fixture("reference-prompts.jsonl"), "--prompts", "8", "--tokens", "16", "--check"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(text)
        #expect(process.terminationStatus == 0, "\(text)")
    }
}
