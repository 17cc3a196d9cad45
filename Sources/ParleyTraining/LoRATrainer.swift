import ParleyEngine
import ParleyGGUF

/// Trains a LoRA adapter on a frozen GGUF model: loss and gradients of batches of token sequences, AdamW
/// steps with the configured schedule, clipping and accumulation. The same seed, data and thread count give
/// the same adapter bit for bit.
public final class LoRATrainer: @unchecked Sendable {
    public let hyperparameters: Hyperparameters
    public let adapter: LoRAAdapter
    public let lora: LoRAConfiguration
    public let optimizer: OptimizerConfiguration
    public let seed: UInt64
    private let network: LoRANetwork
    private let adam: AdamW
    public private(set) var step = 0

    /// A trainer for a fresh adapter: A Kaiming-uniform (PEFT's init, bound 1/√in) from `seed`, B zero.
    public convenience init(file: GGUFFile, lora: LoRAConfiguration, optimizer: OptimizerConfiguration = .init(),
                            seed: UInt64 = 0, threads: Int = 1) throws {
        try lora.validate()
        let hp = try Hyperparameters(file: file)
        var random = SeededRandom(seed: seed, stream: 0xADA9)
        let adapter = LoRAAdapter(hyperparameters: hp, rank: lora.rank, alpha: lora.alpha, targets: lora.targets) { count, inFeatures in
            let bound = 1 / Float(inFeatures).squareRoot()
            return (0..<count).map { _ in (2 * random.nextUnit() - 1) * bound }
        }
        try self.init(file: file, adapter: adapter, dropout: lora.dropout, optimizer: optimizer, seed: seed, threads: threads)
    }

    /// A trainer that continues training `adapter` (whose matrices it updates in place).
    public init(file: GGUFFile, adapter: LoRAAdapter, dropout: Float = 0, optimizer: OptimizerConfiguration = .init(),
                seed: UInt64 = 0, threads: Int = 1) throws {
        try optimizer.validate()
        let base = try FrozenModel(file: file)
        hyperparameters = base.hyperparameters
        self.adapter = adapter
        let ranks = adapter.orderedWeights.map(\.weights.rank)
        let configuration = LoRAConfiguration(rank: ranks.max() ?? 0, alpha: adapter.alpha, dropout: dropout,
                                              targets: Set(adapter.orderedWeights.map(\.target)))
        try configuration.validate()
        lora = configuration
        self.optimizer = optimizer
        self.seed = seed
        network = try LoRANetwork(base: base, adapter: adapter, dropout: dropout, context: ComputeContext(threads: threads))
        adam = AdamW(parameterSizes: adapter.orderedWeights.flatMap { [$0.weights.a.count, $0.weights.b.count] })
    }

    /// Mean cross-entropy of `sequences`' targets and its gradient for every adapted matrix (dropout as
    /// configured, with the masks of step 0). The gradients are those the next `step` would start from.
    public func gradients(_ sequences: [TrainingSequence]) throws -> (loss: Double, gradients: [LoRAGradient]) {
        let targets = sequences.map(\.targetCount).reduce(0, +)
        guard targets > 0 else { throw TrainingError.noTrainingData("the sequences have no targets") }
        network.zeroGradients()
        let result = try network.accumulateGradients(sequences, gradientScale: 1 / Float(targets), seed: stepSeed(0, 0))
        return (result.lossSum / Double(targets), currentGradients())
    }

    /// Mean cross-entropy of `sequences`' targets, dropout off, no gradients.
    public func meanLoss(_ sequences: [TrainingSequence]) throws -> Double {
        let result = try network.loss(sequences)
        guard result.targets > 0 else { throw TrainingError.noTrainingData("the sequences have no targets") }
        return result.lossSum / Double(result.targets)
    }

    /// Summed cross-entropy of each sequence's targets (dropout off, no gradients): minus the log-probability
    /// the model gives the targets. Sequences are run `batchSize` at a time.
    public func sequenceLosses(_ sequences: [TrainingSequence], batchSize: Int = 16) throws -> [Double] {
        var losses: [Double] = []
        for first in stride(from: 0, to: sequences.count, by: max(1, batchSize)) {
            losses += try network.loss(Array(sequences[first..<min(sequences.count, first + max(1, batchSize))])).perSequence
        }
        return losses
    }

    /// One optimizer step over `microBatches` (accumulated; the loss is the mean over all their targets).
    @discardableResult
    public func step(_ microBatches: [[TrainingSequence]]) throws -> StepReport {
        let targets = microBatches.joined().map(\.targetCount).reduce(0, +)
        guard targets > 0 else { throw TrainingError.noTrainingData("the step's sequences have no targets") }
        network.zeroGradients()
        var lossSum: Double = 0
        for (index, batch) in microBatches.enumerated() {
            lossSum += try network.accumulateGradients(batch, gradientScale: 1 / Float(targets),
                                                       seed: stepSeed(step, index)).lossSum
        }
        let loss = lossSum / Double(targets)
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
        let parameters = network.orderedParameters
        var squares: Double = 0
        for p in parameters {
            for i in 0..<p.gradA.count { squares += Double(p.gradA.pointer[i] * p.gradA.pointer[i]) }
            for i in 0..<p.gradB.count { squares += Double(p.gradB.pointer[i] * p.gradB.pointer[i]) }
        }
        let norm = Float(squares.squareRoot())
        if optimizer.maxGradientNorm > 0, norm > optimizer.maxGradientNorm {
            let factor = optimizer.maxGradientNorm / (norm + 1e-6)
            for p in parameters {
                for i in 0..<p.gradA.count { p.gradA.pointer[i] *= factor }
                for i in 0..<p.gradB.count { p.gradB.pointer[i] *= factor }
            }
        }
        let learningRate = optimizer.learningRate(atStep: step)
        adam.beginStep()
        for (index, p) in parameters.enumerated() {
            p.weights.a.withUnsafeMutableBufferPointer {
                adam.update(2 * index, values: $0, gradient: p.gradA.pointer, learningRate: learningRate, configuration: optimizer)
            }
            p.weights.b.withUnsafeMutableBufferPointer {
                adam.update(2 * index + 1, values: $0, gradient: p.gradB.pointer, learningRate: learningRate,
                            configuration: optimizer)
            }
        }
        step += 1
        return StepReport(step: step, loss: loss, gradientNorm: norm, learningRate: learningRate,
                          tokens: microBatches.joined().map { max(0, $0.tokens.count - 1) }.reduce(0, +))
    }

    private func stepSeed(_ step: Int, _ microBatch: Int) -> UInt64 {
        var random = SeededRandom(seed: seed, stream: 0xD809, UInt64(step), UInt64(microBatch))
        return random.next()
    }

    private func currentGradients() -> [LoRAGradient] {
        adapter.orderedWeights.map { layer, target, _ in
            let p = network.parameters[layer][target]!
            return LoRAGradient(layer: layer, target: target, a: Array(UnsafeBufferPointer(start: p.gradA.pointer, count: p.gradA.count)),
                                b: Array(UnsafeBufferPointer(start: p.gradB.pointer, count: p.gradB.count)))
        }
    }
}

/// dL/dA and dL/dB of one adapted matrix, in the adapter's layouts.
public struct LoRAGradient: Sendable {
    public let layer: Int
    public let target: LoRATarget
    public let a: [Float]
    public let b: [Float]
}

/// What one optimizer step did.
public struct StepReport: Sendable {
    public let step: Int
    /// Mean cross-entropy of the step's targets before the update.
    public let loss: Double
    /// Global L2 norm of the gradient before clipping.
    public let gradientNorm: Float
    public let learningRate: Float
    /// Input tokens the step ran forward and backward.
    public let tokens: Int
}
