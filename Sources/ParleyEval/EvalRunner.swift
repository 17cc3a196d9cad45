import Foundation

/// A metric's value over a run with its bootstrap 95 % interval (percent for rates, raw for bits per byte).
public struct MetricSummary: Codable, Sendable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
}

/// A finished (or partial) run: the contract fields (`task`, `metric`, `value`, `n`) and the detail.
public struct RunSummary: Codable, Sendable {
    public var task: String
    public var metric: String
    public var value: Double
    public var n: Int
    public var metrics: [String: MetricSummary]
    public var model: String
    public var method: String
    public var harness: String
    public var datasetRows: Int
    public var seconds: Double
    public var runID: String
    public var date: String
}

/// Runs one task on one backend: items in dataset order up to `limit`, each appended to the run's log as it
/// finishes (so an interrupted run resumes where it stopped), then the metrics with bootstrap intervals.
public final class EvalRunner {
    public let task: TaskDefinition
    public let backend: EvalBackend
    public let store: DatasetStore
    public let runsDirectory: URL
    public var limit: Int?
    /// Code execution: samples per problem (1 is greedy; more sample at `temperature` for pass@k).
    public var samples = 1
    public var temperature = 0.8
    public var sandboxLimits = SandboxLimits()
    public var showProgress = true

    public init(task: TaskDefinition, backend: EvalBackend, store: DatasetStore, runsDirectory: URL) {
        self.task = task
        self.backend = backend
        self.store = store
        self.runsDirectory = runsDirectory
    }

    static let rateMetrics: Set<String> = ["acc", "acc_norm", "exact_match", "prompt_level_strict_acc", "inst_level_strict_acc",
                                           "prompt_level_loose_acc", "inst_level_loose_acc"]
    static func isRate(_ metric: String) -> Bool { rateMetrics.contains(metric) || metric.hasPrefix("pass@") }

    public func run() async throws -> RunSummary {
        guard let file = DatasetCatalog.file(task.dataset) else { throw EvalError("task \(task.name): unknown dataset \(task.dataset)") }
        let rows = try store.rows(file)
        let count = min(limit ?? rows.count, rows.count)
        let method: String
        switch task.kind {
        case .multipleChoice: method = backend.multipleChoiceMethod
        case .perplexity: method = "loglikelihood"
        case .generation: method = "greedy_generation"
        case .codeExecution: method = samples == 1 ? "greedy_generation" : "sampled_generation_t\(temperature)"
        case .instructionFollowing: method = "greedy_chat_generation"
        }
        let identity = RunIdentity(model: backend.modelName, modelFingerprint: backend.fingerprint, task: task.name,
                                   method: method, samples: samples)
        let log = try ResultsLog(directory: runsDirectory, identity: identity)
        let selected = Array(rows.prefix(count))
        var done = (0..<count).filter { log.results[$0] != nil }.count
        let progress = ProgressReporter(label: task.name, total: count, alreadyDone: done, enabled: showProgress)

        func record(_ index: Int, _ work: () async throws -> ItemResult) async throws {
            if log.results[index] != nil { return }
            let started = Date()
            var item = try await work()
            item.seconds = Date().timeIntervalSince(started)
            try log.append(item)
            done += 1
            progress.update(done: done)
        }
        progress.update(done: done)

        switch task.kind {
        case .multipleChoice:
            for item in try task.multipleChoiceItems(selected) {
                try await record(item.index) { try await scoreChoices(item) }
            }
        case .perplexity:
            for item in try task.textItems(selected) {
                try await record(item.index) {
                    let (ll, tokens) = try await backend.logLikelihood(of: item.text, after: item.context)
                    let bytes = item.text.utf8.count
                    let words = item.text.split(whereSeparator: \.isWhitespace).count
                    return ItemResult(index: item.index, scores: [
                        "loglikelihood": ll, "bytes": Double(bytes), "words": Double(words), "tokens": Double(tokens),
                        "bits_per_byte": Metrics.bitsPerByte(logLikelihood: ll, bytes: bytes),
                    ])
                }
            }
        case .generation:
            for item in try task.generationItems(selected) {
                try await record(item.index) { try await scoreGeneration(item) }
            }
        case .codeExecution:
            for item in try task.generationItems(selected) {
                try await record(item.index) { try await scoreCode(item) }
            }
        case .instructionFollowing:
            for item in try task.instructionItems(selected) {
                try await record(item.index) { try await scoreInstructions(item) }
            }
        }
        let results = (0..<count).compactMap { log.results[$0] }
        let summary = summarize(results, method: method, rows: rows.count, runID: identity.id)
        let summaryURL = runsDirectory.appending(path: identity.id + ".summary.json")
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting.insert(.prettyPrinted)
        try encoder.encode(summary).write(to: summaryURL, options: .atomic)
        return summary
    }

    private func scoreChoices(_ item: MultipleChoiceItem) async throws -> ItemResult {
        switch try await backend.answer(item) {
        case .logLikelihoods(let values):
            return ItemResult(index: item.index, scores: [
                "acc": Metrics.accuracy(logLikelihoods: values, gold: item.gold),
                "acc_norm": Metrics.normalizedAccuracy(logLikelihoods: values, choices: item.choices, gold: item.gold),
            ], logLikelihoods: values)
        case .lettered(let picked, let reply):
            return ItemResult(index: item.index, scores: ["acc": picked == item.gold ? 1 : 0],
                              output: String(reply.prefix(200)))
        }
    }

    private func scoreGeneration(_ item: GenerationItem) async throws -> ItemResult {
        let output = try await backend.generate(item.prompt, stop: task.stop ?? [], maxTokens: task.maxTokens ?? 256,
                                                temperature: 0, seed: 0)
        let correct = try AnswerMatcher.matches(output: output, answer: item.answer ?? "", pattern: task.answerPattern,
                                                extract: task.extract)
        return ItemResult(index: item.index, scores: ["exact_match": correct ? 1 : 0], output: String(output.prefix(2000)))
    }

    private func scoreCode(_ item: GenerationItem) async throws -> ItemResult {
        guard let template = item.programTemplate else { throw EvalError("task \(task.name) has no program template") }
        var passed = 0
        var firstOutput = ""
        var limits = sandboxLimits
        if let timeout = task.timeoutSeconds { limits.wallSeconds = timeout; limits.cpuSeconds = max(1, Int(timeout)) }
        for sample in 0..<samples {
            let completion = try await backend.generate(item.prompt, stop: task.stop ?? [], maxTokens: task.maxTokens ?? 384,
                                                        temperature: samples == 1 ? 0 : temperature, seed: UInt64(sample))
            if sample == 0 { firstOutput = completion }
            let program = try TextTemplate.render(template, row: item.row, extra: ["completion": completion])
            if try Sandbox.runPython(program, limits: limits).passed { passed += 1 }
        }
        var scores: [String: Double] = ["correct": Double(passed), "samples": Double(samples)]
        for k in [1, 10, 100] where k <= samples {
            scores["pass@\(k)"] = Metrics.passAtK(samples: samples, correct: passed, k: k)
        }
        return ItemResult(index: item.index, scores: scores, output: String(firstOutput.prefix(2000)))
    }

    /// IFEval: the reply's strict and loose results, per prompt (all followed) and per instruction (the item's
    /// fraction, for the bootstrap; the headline is followed instructions over all instructions).
    private func scoreInstructions(_ item: InstructionItem) async throws -> ItemResult {
        let output = try await backend.chat(item.prompt, maxTokens: task.maxTokens ?? 1280)
        let strict = try IFEval.strict(item.instructions, response: output)
        let loose = try IFEval.loose(item.instructions, response: output)
        let n = Double(item.instructions.count)
        func followed(_ list: [Bool]) -> Double { Double(list.filter { $0 }.count) }
        return ItemResult(index: item.index, scores: [
            "prompt_level_strict_acc": strict.allSatisfy { $0 } ? 1 : 0, "prompt_level_loose_acc": loose.allSatisfy { $0 } ? 1 : 0,
            "inst_level_strict_acc": followed(strict) / n, "inst_level_loose_acc": followed(loose) / n,
            "instructions": n, "strict_followed": followed(strict), "loose_followed": followed(loose),
        ], output: String(output.prefix(2000)))
    }

    func summarize(_ results: [ItemResult], method: String, rows: Int, runID: String) -> RunSummary {
        var metrics: [String: MetricSummary] = [:]
        let names = Set(results.flatMap(\.scores.keys)).filter { $0 == "bits_per_byte" || Self.isRate($0) }
        for name in names {
            let values = results.compactMap { $0.scores[name] }
            let scale = Self.isRate(name) ? 100.0 : 1.0
            var value = Metrics.mean(values) * scale
            if name == "bits_per_byte" {
                // As lm-evaluation-harness: total log-likelihood over total bytes, not a mean of ratios.
                let ll = results.compactMap { $0.scores["loglikelihood"] }.reduce(0, +)
                let bytes = results.compactMap { $0.scores["bytes"] }.reduce(0, +)
                value = Metrics.bitsPerByte(logLikelihood: ll, bytes: Int(bytes))
            }
            if name.hasPrefix("inst_level_") {
                // As IFEval: followed instructions over all instructions (not a mean of per-prompt fractions).
                let followed = results.compactMap { $0.scores[name.contains("strict") ? "strict_followed" : "loose_followed"] }.reduce(0, +)
                let total = results.compactMap { $0.scores["instructions"] }.reduce(0, +)
                value = total > 0 ? followed / total * 100 : 0
            }
            let interval = Metrics.bootstrapInterval(values)
            metrics[name] = MetricSummary(value: value, low: interval.low * scale, high: interval.high * scale)
        }
        let headline = metrics[task.primaryMetric] != nil ? task.primaryMetric : (metrics["acc"] != nil ? "acc" : names.sorted().first ?? task.primaryMetric)
        let formatter = ISO8601DateFormatter()
        return RunSummary(task: task.name, metric: headline, value: metrics[headline]?.value ?? 0, n: results.count,
                          metrics: metrics, model: backend.modelName, method: method, harness: task.harness,
                          datasetRows: rows, seconds: results.compactMap(\.seconds).reduce(0, +), runID: runID,
                          date: formatter.string(from: Date()))
    }
}
