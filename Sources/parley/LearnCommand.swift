import ArgumentParser
import Dispatch
import Foundation
import ParleyEngine
import ParleyGGUF
import ParleyTraining

struct Learn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a LoRA adapter on text (continued pre-training) and write it as a GGUF adapter.",
        discussion: """
            --data and --replay take a plain-text file (one document) or a .jsonl file of {"text": …} objects. \
            Replay sequences make up a quarter of every batch. The adapter loads with `--adapter` here and \
            with llama.cpp's `--lora`.
            """)

    @OptionGroup var options: ModelOptions  // with --adapter: continue training that adapter

    @Option(help: "Training text: a plain-text file or a .jsonl file of {\"text\": …} objects.")
    var data: String

    @Option(help: "Text to replay in every batch against forgetting (same formats as --data).")
    var replay: String?

    @Option(help: "Optimizer steps.")
    var steps: Int = 100

    @Option(help: "LoRA rank.")
    var rank: Int = 8

    @Option(help: "LoRA alpha (default: 2 × rank); the update is scaled by alpha / rank.")
    var alpha: Float?

    @Option(help: "Dropout on the LoRA branch's input.")
    var dropout: Float = 0

    @Option(help: "Adapted matrices, comma-separated from q,k,v,o,gate,up,down.")
    var targets: String = "q,k,v,o,gate,up,down"

    @Option(help: "Sequences per micro-batch.")
    var batch: Int = 4

    @Option(help: "Tokens per sequence.")
    var seqLen: Int = 256

    @Option(help: "Micro-batches per optimizer step (gradient accumulation).")
    var accumulate: Int = 1

    @Option(help: "Peak learning rate (AdamW).")
    var lr: Float = 1e-3

    @Option(help: "Warm-up steps before the cosine decay.")
    var warmup: Int = 0

    @Option(help: "Clip the gradient's global norm to this (0: no clipping).")
    var clip: Float = 1

    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Random seed: the same seed, data and threads give the same adapter.")
    var seed: UInt64 = 0

    @Option(help: "Where to write the adapter (GGUF).")
    var out: String

    @Flag(help: "Print {\"tokens_per_s\", \"peak_rss_mb\", \"final_loss\"} as JSON instead of progress lines.")
    var json = false

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if batch < 1 || seqLen < 2 || accumulate < 1 { throw ValidationError("--batch, --accumulate ≥ 1 and --seq-len ≥ 2") }
        for name in targets.split(separator: ",") where LoRATarget(shortName: String(name)) == nil {
            throw ValidationError("--targets: unknown module '\(name)' (use q,k,v,o,gate,up,down)")
        }
    }

    struct Output: Encodable {
        let tokens_per_s: Double
        let peak_rss_mb: Double
        let final_loss: Double
    }

    func run() throws {
        let model = try options.load()
        let threads = options.threads ?? Model.defaultThreads
        func load(_ path: String) throws -> [TrainingSequence] {
            let documents = try TrainingCorpus.documents(atPath: path).map { text in
                model.tokenizer.encode(text, addSpecial: true, parseSpecial: false) + (model.tokenizer.eos.map { [$0] } ?? [])
            }
            return TrainingCorpus.sequences(documents: documents, length: seqLen)
        }
        var sampler = try BatchSampler(data: try load(data), replay: try replay.map(load) ?? [], batchSize: batch, seed: seed)
        let lora = LoRAConfiguration(rank: rank, alpha: alpha ?? Float(2 * rank), dropout: dropout,
                                     targets: Set(targets.split(separator: ",").compactMap { LoRATarget(shortName: String($0)) }))
        let optimizer = OptimizerConfiguration(learningRate: lr, warmupSteps: warmup, totalSteps: steps, weightDecay: weightDecay,
                                               maxGradientNorm: clip, accumulationSteps: accumulate)
        // With --adapter, training continues from that adapter; otherwise a fresh one starts.
        let trainer = try options.adapter.map {
            try LoRATrainer(file: model.file, adapter: try LoRAAdapter(path: $0), dropout: dropout, optimizer: optimizer,
                            seed: seed, threads: threads)
        } ?? LoRATrainer(file: model.file, lora: lora, optimizer: optimizer, seed: seed, threads: threads)

        var tokens = 0
        var lastLoss = Double.nan
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps {
            let report = try trainer.step((0..<accumulate).map { _ in sampler.nextBatch() })
            tokens += report.tokens
            lastLoss = report.loss
            if !json {
                writeOut(String(format: "step %d  loss %.4f  grad-norm %.3f  lr %.2e\n", report.step, report.loss,
                                report.gradientNorm, report.learningRate))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try trainer.adapter.write(to: out)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let output = Output(tokens_per_s: Double(tokens) / seconds, peak_rss_mb: Double(usage.ru_maxrss) / 1024,
                            final_loss: lastLoss)
        if json {
            writeOut(try jsonString(output) + "\n")
        } else {
            writeOut(String(format: "%d tokens in %.1f s (%.0f tokens/s), peak RSS %.0f MB; ", tokens, seconds,
                            output.tokens_per_s, output.peak_rss_mb) + "adapter written to \(out)\n")
        }
    }
}
