import Foundation
import ParleyEngine

/// Which matrices get a LoRA adapter, and its shape.
public struct LoRAConfiguration: Sendable, Equatable {
    public var rank: Int
    /// scale = alpha / rank.
    public var alpha: Float
    /// Dropout on the LoRA branch's input (PEFT's lora_dropout), in [0, 1).
    public var dropout: Float
    public var targets: Set<LoRATarget>

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: Set<LoRATarget> = Set(LoRATarget.allCases)) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
    }

    public func validate() throws {
        guard rank >= 1, rank <= 1024 else { throw TrainingError.invalidConfiguration("rank must be in 1...1024, got \(rank)") }
        guard alpha.isFinite, alpha >= 0 else { throw TrainingError.invalidConfiguration("alpha must be ≥ 0, got \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw TrainingError.invalidConfiguration("dropout must be in [0, 1), got \(dropout)") }
        guard !targets.isEmpty else { throw TrainingError.invalidConfiguration("no target modules") }
    }
}

/// AdamW with linear warm-up then cosine decay, global-norm gradient clipping and gradient accumulation.
public struct OptimizerConfiguration: Sendable, Equatable {
    public var learningRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    /// The cosine ends at learningRate · this.
    public var finalLearningRateRatio: Float
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Gradients whose global L2 norm exceeds this are scaled down to it; 0 turns clipping off.
    public var maxGradientNorm: Float
    /// Micro-batches whose gradients add up to one optimizer step.
    public var accumulationSteps: Int

    public init(learningRate: Float = 2e-4, warmupSteps: Int = 0, totalSteps: Int = 100, finalLearningRateRatio: Float = 0.1,
                weightDecay: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                maxGradientNorm: Float = 1, accumulationSteps: Int = 1) {
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.finalLearningRateRatio = finalLearningRateRatio
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.maxGradientNorm = maxGradientNorm
        self.accumulationSteps = accumulationSteps
    }

    public func validate() throws {
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError.invalidConfiguration("learning rate must be > 0") }
        guard warmupSteps >= 0, totalSteps >= 1 else { throw TrainingError.invalidConfiguration("steps must be ≥ 1 and warm-up ≥ 0") }
        guard accumulationSteps >= 1 else { throw TrainingError.invalidConfiguration("accumulation steps must be ≥ 1") }
        guard maxGradientNorm >= 0, weightDecay >= 0 else {
            throw TrainingError.invalidConfiguration("gradient clip and weight decay must be ≥ 0")
        }
    }

    /// The learning rate of optimizer step `step` (0-based): rising linearly over the warm-up, then a half
    /// cosine down to learningRate · finalLearningRateRatio at the last step.
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps - 1)
        let progress = min(1, Float(step - warmupSteps) / Float(decaySteps))
        let cosine = Float(0.5 * (1 + Foundation.cos(Double.pi * Double(progress))))
        return learningRate * (finalLearningRateRatio + (1 - finalLearningRateRatio) * cosine)
    }
}

/// A training request that cannot run, in one line.
public enum TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidConfiguration(String)
    case noTrainingData(String)
    case nonFiniteLoss(step: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid training configuration: \(reason)"
        case .noTrainingData(let reason): "no training data: \(reason)"
        case .nonFiniteLoss(let step): "the loss became non-finite at step \(step)"
        }
    }
}
