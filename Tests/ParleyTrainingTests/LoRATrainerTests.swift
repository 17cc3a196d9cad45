import ParleyEngine
import ParleyTraining
import Testing

/// The optimizer loop on the tiny llama of the oracle fixture: determinism, learning, accumulation, schedule.
@Suite struct LoRATrainerTests {
    static let fixture = try! OracleFixture.load("llama")

    func freshTrainer(seed: UInt64, dropout: Float = 0, learningRate: Float = 1e-2) throws -> LoRATrainer {
        let optimizer = OptimizerConfiguration(learningRate: learningRate, warmupSteps: 2, totalSteps: 20)
        return try LoRATrainer(file: try Self.fixture.writeModel(), lora: LoRAConfiguration(rank: 4, alpha: 8, dropout: dropout),
                               optimizer: optimizer, seed: seed, threads: 1)
    }

    @Test func theSameSeedGivesTheSameAdapter() throws {
        let sequences = Self.fixture.trainingSequences
        func train(seed: UInt64) throws -> [UInt8] {
            let trainer = try freshTrainer(seed: seed, dropout: 0.1)
            for _ in 0..<3 { try trainer.step([sequences]) }
            return trainer.adapter.ggufBytes()
        }
        #expect(try train(seed: 7) == train(seed: 7))
        #expect(try train(seed: 7) != train(seed: 8))
    }

    @Test func trainingLowersTheLossOfWhatItSees() throws {
        let sequences = Self.fixture.trainingSequences
        let trainer = try freshTrainer(seed: 1)
        let before = try trainer.meanLoss(sequences)
        var reports: [StepReport] = []
        for _ in 0..<20 { reports.append(try trainer.step([sequences])) }
        let after = try trainer.meanLoss(sequences)
        #expect(abs(reports[0].loss - before) < 1e-9, "a fresh adapter (B = 0) leaves the base model's loss")
        #expect(after < 0.7 * before, "loss \(before) → \(after)")
        #expect(reports.map(\.tokens).allSatisfy { $0 == sequences.map { $0.tokens.count - 1 }.reduce(0, +) })
    }

    /// The loss is the mean over every target of a step, so a batch's gradient is the target-weighted mean of
    /// its sequences' gradients (what accumulating micro-batches relies on).
    @Test func microBatchGradientsAddUpToTheBatchGradient() throws {
        let file = try Self.fixture.writeModel()
        let hp = try Hyperparameters(file: file)
        let trainer = try LoRATrainer(file: file, adapter: Self.fixture.adapter(for: hp), threads: 1)
        let sequences = Self.fixture.trainingSequences
        let whole = try trainer.gradients(sequences).gradients
        let parts = try sequences.map { try trainer.gradients([$0]).gradients }
        let weights = sequences.map { Float($0.targetCount) / Float(sequences.map(\.targetCount).reduce(0, +)) }
        for (index, gradient) in whole.enumerated() {
            let combined = gradient.a.indices.map { i in Double(weights[0] * parts[0][index].a[i] + weights[1] * parts[1][index].a[i]) }
            #expect(relativeError(gradient.a, combined) < 1e-5)
        }
    }

    @Test func scheduleWarmsUpThenDecaysByCosine() {
        let c = OptimizerConfiguration(learningRate: 1, warmupSteps: 2, totalSteps: 10, finalLearningRateRatio: 0.1)
        #expect(c.learningRate(atStep: 0) == 0.5)
        #expect(c.learningRate(atStep: 1) == 1)
        #expect(c.learningRate(atStep: 2) == 1)
        #expect(abs(c.learningRate(atStep: 9) - 0.1) < 1e-6)
        let middle = c.learningRate(atStep: 5)
        #expect(middle < 1 && middle > 0.1)
    }

    @Test func badConfigurationsAreRefused() throws {
        let file = try Self.fixture.writeModel()
        #expect(throws: TrainingError.self) { try LoRATrainer(file: file, lora: LoRAConfiguration(rank: 0)) }
        #expect(throws: TrainingError.self) { try LoRATrainer(file: file, lora: LoRAConfiguration(dropout: 1)) }
        #expect(throws: TrainingError.self) {
            try LoRATrainer(file: file, lora: LoRAConfiguration(), optimizer: OptimizerConfiguration(accumulationSteps: 0))
        }
        let trainer = try freshTrainer(seed: 0)
        #expect(throws: EngineError.tokenOutOfRange(999, vocabulary: 64)) {
            try trainer.step([[TrainingSequence(tokens: [1, 999, 2])]])
        }
        #expect(throws: TrainingError.self) { try trainer.step([[TrainingSequence(tokens: [1])]]) }
    }
}
