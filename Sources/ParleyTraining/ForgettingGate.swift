import Foundation
import ParleyTokenizer

/// A multiple-choice question of the regression set: the choice with the highest log-probability after the
/// question is the model's answer.
public struct MultipleChoiceItem: Codable, Sendable, Equatable {
    public var question: String
    public var choices: [String]
    /// Index of the correct choice.
    public var answer: Int

    public init(question: String, choices: [String], answer: Int) {
        self.question = question
        self.choices = choices
        self.answer = answer
    }
}

/// A question about the new data and its answer: the probe measures log p(answer | prompt).
public struct ProbeItem: Codable, Sendable, Equatable {
    public var prompt: String
    public var answer: String

    public init(prompt: String, answer: String) {
        self.prompt = prompt
        self.answer = answer
    }
}

/// What an update is measured on before it may be promoted: (a) the fixed regression set — perplexity on
/// held-out general text and a small multiple-choice task — and (b) a probe set for the new data.
public struct EvaluationSet: Sendable {
    public let regression: [TrainingSequence]
    /// Per question: one sequence per choice, the question's tokens then the choice's (the choice's are targets).
    public let multipleChoice: [(choices: [TrainingSequence], answer: Int)]
    /// prompt then answer, the answer's tokens the targets.
    public let probes: [TrainingSequence]

    /// Tokenizes the sets with `tokenizer`: the regression text in windows of `sequenceLength` tokens; choices and
    /// answers are appended to their question or prompt (give them their leading space).
    public init(tokenizer: Tokenizer, regressionText: [String], multipleChoice: [MultipleChoiceItem], probes: [ProbeItem],
                sequenceLength: Int = 256) throws {
        let documents = regressionText.map { tokenizer.encode($0, addSpecial: true, parseSpecial: false) }
        regression = TrainingCorpus.sequences(documents: documents, length: sequenceLength)
        func continuation(_ context: String, _ answer: String) -> TrainingSequence {
            let head = tokenizer.encode(context, addSpecial: true, parseSpecial: false)
            let tail = tokenizer.encode(answer, addSpecial: false, parseSpecial: false)
            return TrainingSequence(tokens: head + tail, lossMask: head.map { _ in false } + tail.map { _ in true })
        }
        self.multipleChoice = try multipleChoice.map { item in
            guard item.choices.count >= 2, item.choices.indices.contains(item.answer) else {
                throw TrainingError.invalidConfiguration("multiple-choice item '\(item.question)': needs ≥ 2 choices and a valid answer")
            }
            return (item.choices.map { continuation(item.question, $0) }, item.answer)
        }
        self.probes = probes.map { continuation($0.prompt, $0.answer) }
        guard !regression.isEmpty else { throw TrainingError.noTrainingData("the regression text is empty") }
        guard !self.probes.isEmpty else { throw TrainingError.noTrainingData("the probe set is empty") }
    }

    /// Reads the sets from files: plain text or .jsonl {"text"} for the regression text; .jsonl of
    /// {"question", "choices", "answer"} and of {"prompt", "answer"}.
    public init(tokenizer: Tokenizer, regressionPath: String, multipleChoicePath: String?, probePath: String,
                sequenceLength: Int = 256) throws {
        try self.init(tokenizer: tokenizer, regressionText: try TrainingCorpus.documents(atPath: regressionPath),
                      multipleChoice: try multipleChoicePath.map { try Self.jsonLines($0) } ?? [],
                      probes: try Self.jsonLines(probePath), sequenceLength: sequenceLength)
    }

    static func jsonLines<T: Decodable>(_ path: String) throws -> [T] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainingError.noTrainingData("cannot read \(path)")
        }
        return try text.split(separator: "\n").enumerated().compactMap { index, line in
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            do { return try JSONDecoder().decode(T.self, from: Data(line.utf8)) } catch {
                throw TrainingError.noTrainingData("\(path):\(index + 1): \(error)")
            }
        }
    }

    /// The metrics of the trainer's current adapter on this set.
    public func evaluate(_ trainer: LoRATrainer) throws -> EvaluationMetrics {
        let regressionLosses = try trainer.sequenceLosses(regression)
        let targets = regression.map(\.targetCount).reduce(0, +)
        let perplexity = Foundation.exp(regressionLosses.reduce(0, +) / Double(max(1, targets)))
        var correct = 0
        if !multipleChoice.isEmpty {
            let losses = try trainer.sequenceLosses(multipleChoice.flatMap(\.choices))
            var offset = 0
            for item in multipleChoice {
                let scores = losses[offset..<(offset + item.choices.count)]
                offset += item.choices.count
                // The highest log-probability is the lowest loss; ties go to the first.
                if scores.firstIndex(of: scores.min()!)! - scores.startIndex == item.answer { correct += 1 }
            }
        }
        let probeLosses = try trainer.sequenceLosses(probes)
        return EvaluationMetrics(
            regressionPerplexity: perplexity,
            multipleChoiceAccuracy: multipleChoice.isEmpty ? nil : 100 * Double(correct) / Double(multipleChoice.count),
            probeLogProbability: -probeLosses.reduce(0, +) / Double(probeLosses.count))
    }
}

public struct EvaluationMetrics: Codable, Sendable, Equatable {
    /// exp(mean cross-entropy) on the held-out general text.
    public var regressionPerplexity: Double
    /// Percent correct on the multiple-choice task (nil without one).
    public var multipleChoiceAccuracy: Double?
    /// Mean over the probes of log p(answer | prompt), in nats.
    public var probeLogProbability: Double

    public init(regressionPerplexity: Double, multipleChoiceAccuracy: Double?, probeLogProbability: Double) {
        self.regressionPerplexity = regressionPerplexity
        self.multipleChoiceAccuracy = multipleChoiceAccuracy
        self.probeLogProbability = probeLogProbability
    }

    enum CodingKeys: String, CodingKey {
        case regressionPerplexity = "regression_perplexity"
        case multipleChoiceAccuracy = "multiple_choice_accuracy"
        case probeLogProbability = "probe_log_probability"
    }
}

/// When an update may replace its parent.
public struct GatePolicy: Codable, Sendable, Equatable {
    /// Backward transfer (the multiple-choice accuracy's change, in percentage points) must be at least this.
    public var backwardTransferBound: Double
    /// The regression perplexity may rise by at most this fraction.
    public var maxPerplexityIncrease: Double
    /// The probe's mean log-probability must rise by more than this (nats).
    public var minimumProbeGain: Double

    public init(backwardTransferBound: Double = -1, maxPerplexityIncrease: Double = 0.02, minimumProbeGain: Double = 0) {
        self.backwardTransferBound = backwardTransferBound
        self.maxPerplexityIncrease = maxPerplexityIncrease
        self.minimumProbeGain = minimumProbeGain
    }

    enum CodingKeys: String, CodingKey {
        case backwardTransferBound = "backward_transfer_bound"
        case maxPerplexityIncrease = "max_perplexity_increase"
        case minimumProbeGain = "minimum_probe_gain"
    }
}

/// The gate's verdict on one update, with the measurements it rests on.
public struct GateReport: Codable, Sendable, Equatable {
    public var before: EvaluationMetrics
    public var after: EvaluationMetrics
    public var policy: GatePolicy
    /// after − before multiple-choice accuracy, in points (0 without a multiple-choice task).
    public var backwardTransfer: Double
    /// after / before − 1 of the regression perplexity.
    public var perplexityIncrease: Double
    /// after − before probe log-probability, in nats.
    public var probeGain: Double
    public var promoted: Bool
    /// Why it was rejected (empty when promoted).
    public var reasons: [String]

    public init(before: EvaluationMetrics, after: EvaluationMetrics, policy: GatePolicy) {
        self.before = before
        self.after = after
        self.policy = policy
        backwardTransfer = (after.multipleChoiceAccuracy ?? 0) - (before.multipleChoiceAccuracy ?? 0)
        perplexityIncrease = after.regressionPerplexity / before.regressionPerplexity - 1
        probeGain = after.probeLogProbability - before.probeLogProbability
        var reasons: [String] = []
        if backwardTransfer < policy.backwardTransferBound {
            reasons.append(String(format: "backward transfer %.2f points is below the bound %.2f", backwardTransfer,
                                  policy.backwardTransferBound))
        }
        if perplexityIncrease > policy.maxPerplexityIncrease {
            reasons.append(String(format: "regression perplexity rose %.2f %% (at most %.2f %% allowed)",
                                  100 * perplexityIncrease, 100 * policy.maxPerplexityIncrease))
        }
        if !(probeGain > policy.minimumProbeGain) {
            reasons.append(String(format: "the probe did not improve enough (%.3f nats, needs > %.3f)", probeGain,
                                  policy.minimumProbeGain))
        }
        self.reasons = reasons
        promoted = reasons.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case before, after, policy, promoted, reasons
        case backwardTransfer = "backward_transfer"
        case perplexityIncrease = "perplexity_increase"
        case probeGain = "probe_gain"
    }
}
