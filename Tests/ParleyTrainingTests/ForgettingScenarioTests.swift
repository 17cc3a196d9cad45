import Foundation
import ParleyEngine
import ParleyTestSupport
import ParleyTraining
import Testing

/// The continual-learning scenario on SmolLM2: a corpus of invented facts the base model cannot know is learned,
/// once with replay of general text in every batch and once without. On held-out questions about the facts the
/// mean log-probability of the correct answers must rise by ≥ 1 nat while the regression perplexity (held-out
/// general text) rises by ≤ 2 %, and the run without replay must forget more.
@Suite(.serialized) struct ForgettingScenarioTests {
    static let directory = TestModels.fixture("training/invented-facts")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Run {
        let after: EvaluationMetrics
        let report: GateReport
        let finalLoss: Double
    }

    static func train(_ model: Model, data: [TrainingSequence], replay: [TrainingSequence], evaluation: EvaluationSet,
                      before: EvaluationMetrics, steps: Int) throws -> Run {
        let optimizer = OptimizerConfiguration(learningRate: 3e-4, warmupSteps: 2, totalSteps: steps)
        let trainer = try LoRATrainer(file: model.file, lora: LoRAConfiguration(rank: 8, alpha: 16), optimizer: optimizer,
                                      seed: 11, threads: 2)
        var sampler = try BatchSampler(data: data, replay: replay, batchSize: 4, replayFraction: 0.5, seed: 11)
        var loss = Double.nan
        for _ in 0..<steps { loss = try trainer.step([sampler.nextBatch()]).loss }
        let after = try evaluation.evaluate(trainer)
        return Run(after: after, report: GateReport(before: before, after: after, policy: GatePolicy()), finalLoss: loss)
    }

    @Test func newFactsAreLearnedAndReplayKeepsWhatTheModelKnew() throws {
        let model = try Model(path: TestModels.smolLM2)
        let tokenizer = model.tokenizer
        func sequences(_ file: String, length: Int) throws -> [TrainingSequence] {
            let documents = try TrainingCorpus.documents(atPath: Self.path(file)).map {
                tokenizer.encode($0, addSpecial: true, parseSpecial: false) + (tokenizer.eos.map { [$0] } ?? [])
            }
            return TrainingCorpus.sequences(documents: documents, length: length)
        }
        let data = try sequences("corpus.jsonl", length: 64)
        let replay = try sequences("replay.txt", length: 64)
        let evaluation = try EvaluationSet(tokenizer: tokenizer, regressionPath: Self.path("regression.txt"),
                                           multipleChoicePath: Self.path("multiple-choice.jsonl"),
                                           probePath: Self.path("probes.jsonl"), sequenceLength: 128)
        // The base model: a fresh adapter's B is zero.
        let base = try evaluation.evaluate(try LoRATrainer(file: model.file, lora: LoRAConfiguration(rank: 8, alpha: 16),
                                                           threads: 2))
        let steps = 30
        let withReplay = try Self.train(model, data: data, replay: replay, evaluation: evaluation, before: base, steps: steps)
        let withoutReplay = try Self.train(model, data: data, replay: [], evaluation: evaluation, before: base, steps: steps)
        let summary = """
            base: perplexity \(base.regressionPerplexity), accuracy \(base.multipleChoiceAccuracy ?? -1), probe \(base.probeLogProbability)
            with replay: \(withReplay.after) gain \(withReplay.report.probeGain) perplexity \(100 * withReplay.report.perplexityIncrease) % bwt \(withReplay.report.backwardTransfer) promoted \(withReplay.report.promoted) \(withReplay.report.reasons)
            without replay: \(withoutReplay.after) gain \(withoutReplay.report.probeGain) perplexity \(100 * withoutReplay.report.perplexityIncrease) % bwt \(withoutReplay.report.backwardTransfer) promoted \(withoutReplay.report.promoted) \(withoutReplay.report.reasons)
            """
        print(summary)
        #expect(withReplay.report.probeGain >= 1, "\(summary)")
        #expect(withReplay.report.perplexityIncrease <= 0.02, "\(summary)")
        #expect(withoutReplay.report.perplexityIncrease > withReplay.report.perplexityIncrease, "\(summary)")
    }
}

/// The gate's verdicts and the adapter line's lineage and rollback, on measurements given directly.
@Suite struct GateAndRegistryTests {
    static func metrics(_ perplexity: Double, _ accuracy: Double, _ probe: Double) -> EvaluationMetrics {
        EvaluationMetrics(regressionPerplexity: perplexity, multipleChoiceAccuracy: accuracy, probeLogProbability: probe)
    }

    @Test func theGatePromotesOnlyWithinItsBoundsAndWithAProbeGain() {
        let before = Self.metrics(10, 60, -8)
        let good = GateReport(before: before, after: Self.metrics(10.1, 60, -5), policy: GatePolicy())
        #expect(good.promoted && good.reasons.isEmpty)
        #expect(abs(good.perplexityIncrease - 0.01) < 1e-12 && good.probeGain == 3 && good.backwardTransfer == 0)
        let forgot = GateReport(before: before, after: Self.metrics(10, 55, -5), policy: GatePolicy())
        #expect(!forgot.promoted && forgot.reasons.count == 1 && forgot.backwardTransfer == -5)
        let perplexity = GateReport(before: before, after: Self.metrics(10.3, 60, -5), policy: GatePolicy())
        #expect(!perplexity.promoted && perplexity.reasons.count == 1)
        let learnedNothing = GateReport(before: before, after: Self.metrics(10, 60, -8), policy: GatePolicy())
        #expect(!learnedNothing.promoted && learnedNothing.reasons.count == 1)
        let lenient = GateReport(before: before, after: Self.metrics(10, 55, -5),
                                 policy: GatePolicy(backwardTransferBound: -10))
        #expect(lenient.promoted)
    }

    @Test func theRegistryKeepsLineageRejectedCandidatesAndRollsBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-registry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let candidate = directory + "-candidate.gguf", data = directory + "-data.txt"
        defer { try? FileManager.default.removeItem(atPath: candidate); try? FileManager.default.removeItem(atPath: data) }
        FileManager.default.createFile(atPath: candidate, contents: Data("adapter bytes".utf8))
        FileManager.default.createFile(atPath: data, contents: Data("abc".utf8))
        let before = Self.metrics(10, 60, -8)
        let pass = GateReport(before: before, after: Self.metrics(10, 60, -5), policy: GatePolicy())
        let fail = GateReport(before: before, after: Self.metrics(12, 60, -5), policy: GatePolicy())

        let line = try AdapterRegistry(directory: directory)
        #expect(line.current == nil)
        let v1 = try line.register(candidatePath: candidate, parent: nil, data: [data], replay: [], steps: 5, finalLoss: 1,
                                   report: pass)
        let v2 = try line.register(candidatePath: candidate, parent: v1.id, data: [data], replay: [], steps: 5, finalLoss: 1,
                                   report: fail)
        let v3 = try line.register(candidatePath: candidate, parent: v1.id, data: [data], replay: [], steps: 5, finalLoss: 1,
                                   report: pass)
        #expect(v2.status == "rejected" && v3.status == "promoted")
        #expect(v1.data[0].sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  // SHA-256("abc")
        // Reopened from disk: the same state.
        let reopened = try AdapterRegistry(directory: directory)
        #expect(reopened.current?.id == v3.id && reopened.versions.count == 3)
        #expect(FileManager.default.contents(atPath: reopened.path(of: v2)) == Data("adapter bytes".utf8))
        let current = directory + "/current.gguf"
        #expect(FileManager.default.fileExists(atPath: current))
        #expect(try reopened.rollback()?.id == v1.id)
        #expect(try reopened.rollback() == nil)  // v1 has no parent: the base model
        #expect(!FileManager.default.fileExists(atPath: current), "no current.gguf while the base model is current")
        #expect(throws: TrainingError.self) { try reopened.rollback(to: v2.id) }  // rejected candidates stay out
        #expect(try reopened.rollback(to: v3.id)?.id == v3.id)
        #expect(reopened.history.map(\.action) == ["promote", "promote", "rollback", "rollback", "rollback"])
    }
}
