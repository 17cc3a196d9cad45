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
            --data and --replay take a plain-text file (one document) or a .jsonl file of {"text": …} objects; \
            --replay may be repeated (earlier training data, a general-text sample). Replay sequences make up \
            --replay-fraction of every batch. The adapter loads with `--adapter` here and with llama.cpp's `--lora`.

            With --regression and --probe the update is gated: before and after training it measures the \
            regression perplexity (held-out general text), the --multiple-choice accuracy and the probe's mean \
            log p(answer | prompt); it passes when backward transfer (the accuracy's change, in points) is at \
            least --bwt-bound, the perplexity rises by at most --max-perplexity-increase, and the probe improves. \
            With --registry DIR the adapter line in DIR continues from its current version, and the candidate is \
            recorded there with its lineage and report: promoted to current when it passed, kept as a rejected \
            candidate otherwise (`parley adapters` lists and rolls back).
            """)

    @OptionGroup var options: ModelOptions  // with --adapter: continue training that adapter

    @Option(help: "Training text: a plain-text file or a .jsonl file of {\"text\": …} objects.")
    var data: String

    @Option(help: "Text to replay in every batch against forgetting (same formats as --data); repeatable.")
    var replay: [String] = []

    @Option(help: "Share of every batch taken from the replay text.")
    var replayFraction: Double = 0.25

    @Option(help: "Held-out general text for the gate's regression perplexity.")
    var regression: String?

    @Option(help: "The gate's multiple-choice task: .jsonl of {\"question\", \"choices\", \"answer\"}.")
    var multipleChoice: String?

    @Option(help: "The gate's probe set for the new data: .jsonl of {\"prompt\", \"answer\"}.")
    var probe: String?

    @Option(help: "Least backward transfer (multiple-choice accuracy change, in points) the gate accepts (a negative value as --bwt-bound=-2).")
    var bwtBound: Double = -1

    @Option(help: "Largest relative rise of the regression perplexity the gate accepts.")
    var maxPerplexityIncrease: Double = 0.02

    @Option(help: "An adapter line's directory: continue from its current version and record the result there.")
    var registry: String?

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
        if (regression == nil) != (probe == nil) { throw ValidationError("--regression and --probe go together") }
        if multipleChoice != nil, regression == nil { throw ValidationError("--multiple-choice needs --regression and --probe") }
        if !(0..<1).contains(replayFraction) { throw ValidationError("--replay-fraction must be in [0, 1)") }
        if registry != nil, options.adapter != nil {
            throw ValidationError("--registry continues from its current version; leave out --adapter")
        }
        if batch < 1 || seqLen < 2 || accumulate < 1 { throw ValidationError("--batch, --accumulate ≥ 1 and --seq-len ≥ 2") }
        for name in targets.split(separator: ",") where LoRATarget(shortName: String(name)) == nil {
            throw ValidationError("--targets: unknown module '\(name)' (use q,k,v,o,gate,up,down)")
        }
    }

    struct Output: Encodable {
        let tokens_per_s: Double
        let peak_rss_mb: Double
        let final_loss: Double
        /// With a gate: its report; with a registry: the version recorded.
        var gate: GateReport?
        var version: String?
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
        var sampler = try BatchSampler(data: try load(data), replay: try replay.flatMap(load), batchSize: batch,
                                       replayFraction: replayFraction, seed: seed)
        let evaluation = try regression.map {
            try EvaluationSet(tokenizer: model.tokenizer, regressionPath: $0, multipleChoicePath: multipleChoice,
                              probePath: probe!, sequenceLength: seqLen)
        }
        let line = try registry.map { try AdapterRegistry(directory: $0) }
        let parent = line?.current
        let lora = LoRAConfiguration(rank: rank, alpha: alpha ?? Float(2 * rank), dropout: dropout,
                                     targets: Set(targets.split(separator: ",").compactMap { LoRATarget(shortName: String($0)) }))
        let optimizer = OptimizerConfiguration(learningRate: lr, warmupSteps: warmup, totalSteps: steps, weightDecay: weightDecay,
                                               maxGradientNorm: clip, accumulationSteps: accumulate)
        // With --adapter, training continues from that adapter; otherwise a fresh one starts.
        let trainer = try (options.adapter ?? parent.map { line!.path(of: $0) }).map {
            try LoRATrainer(file: model.file, adapter: try LoRAAdapter(path: $0), dropout: dropout, optimizer: optimizer,
                            seed: seed, threads: threads)
        } ?? LoRATrainer(file: model.file, lora: lora, optimizer: optimizer, seed: seed, threads: threads)

        let before = try evaluation?.evaluate(trainer)
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
        var output = Output(tokens_per_s: Double(tokens) / seconds, peak_rss_mb: Double(usage.ru_maxrss) / 1024,
                            final_loss: lastLoss)
        if let evaluation, let before {
            output.gate = GateReport(before: before, after: try evaluation.evaluate(trainer),
                                     policy: GatePolicy(backwardTransferBound: bwtBound, maxPerplexityIncrease: maxPerplexityIncrease))
        }
        if let line {
            output.version = try line.register(candidatePath: out, parent: parent?.id, data: [data], replay: replay, steps: steps,
                                               finalLoss: lastLoss, report: output.gate).id
        }
        if json {
            writeOut(try jsonString(output) + "\n")
        } else {
            writeOut(String(format: "%d tokens in %.1f s (%.0f tokens/s), peak RSS %.0f MB; ", tokens, seconds,
                            output.tokens_per_s, output.peak_rss_mb) + "adapter written to \(out)\n")
            if let gate = output.gate {
                writeOut(String(format: "gate: perplexity %.3f -> %.3f (%+.2f %%), backward transfer %+.1f points, probe %+.3f nats: ",
                                gate.before.regressionPerplexity, gate.after.regressionPerplexity, 100 * gate.perplexityIncrease,
                                gate.backwardTransfer, gate.probeGain)
                         + (gate.promoted ? "passed\n" : "rejected (" + gate.reasons.joined(separator: "; ") + ")\n"))
            }
            if let version = output.version, let line {
                writeOut("recorded as \(version) in \(line.directory)" + (line.current?.id == version ? " (current)\n" : " (rejected candidate)\n"))
            }
        }
    }
}

struct Adapters: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An adapter line's versions (from `parley learn --registry`): list them, or roll back.",
        subcommands: [List.self, Rollback.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Versions with parent, status and gate figures; * marks the current one.")
        @Argument(help: "The adapter line's directory.") var directory: String
        @Flag(help: "Print the registry as JSON.") var json = false

        func run() throws {
            let line = try AdapterRegistry(directory: directory)
            if json {
                writeOut(try jsonString(line.versions) + "\n")
                return
            }
            for v in line.versions {
                var text = (line.current?.id == v.id ? "* " : "  ") + "\(v.id)\tparent \(v.parent ?? "-")\t\(v.status)\t" + v.created
                if let r = v.report {
                    text += String(format: "\tperplexity %+.2f %%, bwt %+.1f, probe %+.3f", 100 * r.perplexityIncrease,
                                   r.backwardTransfer, r.probeGain)
                }
                writeOut(text + "\t" + line.path(of: v) + "\n")
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the current version's parent (or --to VERSION) current.")
        @Argument(help: "The adapter line's directory.") var directory: String
        @Option(help: "A promoted version to make current.") var to: String?

        func run() throws {
            let line = try AdapterRegistry(directory: directory)
            let current = try line.rollback(to: to)
            writeOut("current: " + (current.map { "\($0.id) (\(line.path(of: $0)))" } ?? "none (the base model)") + "\n")
        }
    }
}
