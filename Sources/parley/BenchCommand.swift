import ArgumentParser
import Foundation
import ParleyEngine
import ParleyTokenizer

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill and decode speed (tokens/s), as llama-bench does: pp = one batch of P prompt "
            + "tokens from an empty cache, tg = N tokens decoded greedily one at a time from an empty cache.")

    @Option(name: [.customShort("m"), .long], help: "A .gguf model file.")
    var model: String

    @Option(name: [.customShort("p"), .long], help: "Prompt tokens for the prefill test (0: skip).")
    var prompt: Int = 512

    @Option(name: [.customShort("n"), .long], help: "Tokens for the decode test (0: skip).")
    var generate: Int = 128

    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: [.customShort("r"), .long], help: "Measured repetitions (after one warm-up).")
    var repetitions: Int = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(name: .customLong("exact-logits"),
          help: "Compute every logit exactly, as requests for logprobs do (default: what greedy and top-k sampling need: the head sketch's candidates rescored exactly).")
    var exactLogits = false

    func validate() throws {
        if prompt < 0 || generate < 0 { throw ValidationError("-p and -n must be ≥ 0") }
        if repetitions < 1 { throw ValidationError("-r must be ≥ 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    struct Figures: Encodable {
        let median: Double
        let min: Double
        let max: Double
    }

    struct Output: Encodable {
        let model: String
        let threads: Int
        let isa: String
        let prompt_tokens: Int
        let generated_tokens: Int
        let prefill_tok_s: Double?
        let decode_tok_s: Double?
        let prefill: Figures?
        let decode: Figures?
        let peak_rss_mib: Double
        /// "candidates" (greedy decoding's logits, from the head sketch) or "exact" (every logit, as for logprobs).
        let logits: String
        /// Logit rows whose sketch candidates could not be vouched for and were recomputed exactly.
        let sketch_fallbacks: Int?
    }

    func run() throws {
        let loaded = try ModelOptions(model: model, threads: threads).load()
        let threadCount = threads ?? Model.defaultThreads
        let vocab = loaded.hyperparameters.vocabularySize
        let candidates = exactLogits ? 0 : 1
        let length = max(prompt, generate) + 1
        // Prompts run in chunks of at most 128 tokens, as sessions do: the interleaved kernels reach full speed from
        // 8 columns, and smaller scratch keeps the footprint down (~3.5 MB less than 256 on SmolLM2).
        let workspace = loaded.makeWorkspace(threads: threadCount, maxBatch: min(max(prompt, 1), 128), maxLogitRows: 1,
                                             maxSequenceLength: length)
        let pool = loaded.makeKVPool(blocks: (length + KVBlockPool.blockSize - 1) / KVBlockPool.blockSize)
        // Deterministic pseudo-random tokens, as llama-bench uses random ids.
        var rng = SeededGenerator(seed: 1234)
        let tokens = (0..<max(prompt, generate)).map { _ in TokenID(Int.random(in: 0..<vocab, using: &rng)) }

        func timePrefill() throws -> Double {
            let sequence = SequenceCache(pool: pool, capacity: length)
            let batch = tokens.prefix(prompt).enumerated().map {
                BatchEntry(token: $1, position: $0, sequence: sequence, wantsLogits: $0 == prompt - 1,
                           candidatesNeeded: candidates)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            for chunk in stride(from: 0, to: batch.count, by: workspace.maxBatch) {
                try loaded.run(Array(batch[chunk..<min(chunk + workspace.maxBatch, batch.count)]), workspace: workspace)
            }
            return Double(prompt) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }

        func timeDecode() throws -> Double {
            let sequence = SequenceCache(pool: pool, capacity: length)
            var entry = [BatchEntry(token: tokens[0], position: 0, sequence: sequence, wantsLogits: true,
                                    candidatesNeeded: candidates)]
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<generate {
                // A real greedy decode: after the first (random) token, each input is the previous step's pick.
                // (The tokens fed do not change llama.cpp's cost; they can change whether the head sketch's
                // candidates are vouched for, so they must be the model's own.)
                entry[0].token = i == 0 ? tokens[0] : argmax(workspace.logits, vocab)
                entry[0].position = i
                try loaded.run(entry, workspace: workspace)
            }
            return Double(generate) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }

        func argmax(_ row: UnsafePointer<Float>, _ n: Int) -> TokenID {
            var best = 0
            for i in 1..<n where row[i] > row[best] { best = i }
            return TokenID(best)
        }

        func measure(_ body: () throws -> Double) throws -> Figures {
            _ = try body()  // warm-up: page in the weights, settle the threads
            let runs = try (0..<repetitions).map { _ in try body() }.sorted()
            return Figures(median: runs[runs.count / 2], min: runs.first!, max: runs.last!)
        }

        let prefill = prompt > 0 ? try measure(timePrefill) : nil
        let decode = generate > 0 ? try measure(timeDecode) : nil
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let output = Output(
            model: URL(fileURLWithPath: model).lastPathComponent, threads: threadCount, isa: activeKernelISA(),
            prompt_tokens: prompt, generated_tokens: generate, prefill_tok_s: prefill?.median,
            decode_tok_s: decode?.median, prefill: prefill, decode: decode,
            peak_rss_mib: Double(usage.ru_maxrss) / 1024, logits: exactLogits ? "exact" : "candidates",
            sketch_fallbacks: loaded.headSketchFallbacks)
        if json {
            writeOut(try jsonString(output) + "\n")
            return
        }
        func line(_ name: String, _ f: Figures?) -> String {
            guard let f else { return "" }
            return String(format: "%-6@ %9.1f tok/s  (min %.1f, max %.1f, %d runs)\n", name, f.median, f.min, f.max,
                          repetitions)
        }
        writeOut("\(output.model)  threads \(threadCount)  kernels \(output.isa)\n")
        writeOut(line("pp\(prompt)", prefill) + line("tg\(generate)", decode))
        writeOut(String(format: "peak RSS %.1f MiB\n", output.peak_rss_mib))
    }
}
