import ParleyEngine
import ParleyGGUF
import ParleyTestSupport
import ParleyTokenizer
import ParleyTraining
import Testing

/// The trainer's F32 forward pass and the engine's quantized one compute the same model, with and without an
/// adapter: the mean cross-entropy of a sentence agrees to within the engine's activation quantization (measured:
/// 0.004–0.009 nats without an adapter, 0.02–0.04 with this one), while the adapter moves it by 1–10 nats. This
/// ties what training optimises to what inference serves.
@Suite(.serialized) struct EngineAgreementTests {
    static func adapter(_ hp: Hyperparameters, layers: [Int]) -> LoRAAdapter {
        var random = SeededRandom(seed: 42)
        let adapter = LoRAAdapter(hyperparameters: hp, rank: 4, alpha: 8, targets: Set(LoRATarget.allCases)) { count, inFeatures in
            (0..<count).map { _ in (2 * random.nextUnit() - 1) / Float(inFeatures).squareRoot() }
        }
        for (layer, _, weights) in adapter.orderedWeights where layers.contains(layer) {
            weights.b = (0..<weights.b.count).map { _ in (2 * random.nextUnit() - 1) }
        }
        return adapter
    }

    static func engineLoss(_ model: Model, _ tokens: [TokenID]) throws -> Double {
        let vocab = model.hyperparameters.vocabularySize
        let pool = model.makeKVPool(blocks: 8)
        let ws = model.makeWorkspace(threads: 2, maxBatch: tokens.count, maxLogitRows: tokens.count, maxSequenceLength: 64)
        let sequence = SequenceCache(pool: pool, capacity: 64)
        try model.run(tokens.enumerated().map { BatchEntry(token: $1, position: $0, sequence: sequence, wantsLogits: true) },
                      workspace: ws)
        var total: Double = 0
        let logProbabilities = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        defer { logProbabilities.deallocate() }
        for t in 0..<(tokens.count - 1) {
            logSoftmax(ws.logits + t * vocab, count: vocab, into: logProbabilities)
            total -= Double(logProbabilities[Int(tokens[t + 1])])
        }
        return total / Double(tokens.count - 1)
    }

    @Test(arguments: [TestModels.smolLM2, TestModels.gemma3])
    func trainerAndEngineComputeTheSameLoss(path: String) throws {
        let base = try Model(path: path)
        let tokens = base.tokenizer.encode("Paris is the capital of France, and Berlin is the capital of Germany.",
                                           addSpecial: true, parseSpecial: false)
        let hp = base.hyperparameters
        let adapter = Self.adapter(hp, layers: [0, hp.blockCount / 2, hp.blockCount - 1])
        let trainer = try LoRATrainer(file: base.file, adapter: adapter, threads: 2)
        let trained = try trainer.meanLoss([TrainingSequence(tokens: tokens)])
        let served = try Self.engineLoss(try Model(path: path, adapter: adapter), tokens)
        let plain = try Self.engineLoss(base, tokens)
        let gap = abs(trained - served), effect = abs(served - plain)
        #expect(gap < 0.1, "trainer \(trained) vs engine \(served)")
        #expect(effect > 10 * gap, "the adapter moves the loss by \(effect) (\(plain) → \(served)), the gap is \(gap)")
        // B = 0: the base model alone.
        for (_, _, weights) in adapter.orderedWeights { weights.b = [Float](repeating: 0, count: weights.b.count) }
        let trainedPlain = try trainer.meanLoss([TrainingSequence(tokens: tokens)])
        #expect(abs(trainedPlain - plain) < 0.03, "base model: trainer \(trainedPlain) vs engine \(plain)")
    }
}
