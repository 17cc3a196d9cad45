import Synchronization
/// The weight matrices a LoRA adapter can adapt, named as in GGUF tensor names (`blk.N.<rawValue>.weight`).
public enum LoRATarget: String, CaseIterable, Sendable, Codable {
    case query = "attn_q", key = "attn_k", value = "attn_v", output = "attn_output"
    case gate = "ffn_gate", up = "ffn_up", down = "ffn_down"

    /// The short names PEFT and the CLI use: q, k, v, o, gate, up, down.
    public var shortName: String {
        switch self {
        case .query: "q"
        case .key: "k"
        case .value: "v"
        case .output: "o"
        case .gate: "gate"
        case .up: "up"
        case .down: "down"
        }
    }

    public init?(shortName: String) {
        guard let target = Self.allCases.first(where: { $0.shortName == shortName || $0.rawValue == shortName }) else {
            return nil
        }
        self = target
    }

    /// (inFeatures, outFeatures) of the adapted matrix.
    public func shape(_ hp: Hyperparameters) -> (inFeatures: Int, outFeatures: Int) {
        let d = hp.embeddingLength
        switch self {
        case .query: return (d, hp.queryLength)
        case .key, .value: return (d, hp.kvLength)
        case .output: return (hp.queryLength, d)
        case .gate, .up: return (d, hp.feedForwardLength)
        case .down: return (hp.feedForwardLength, d)
        }
    }
}

/// The low-rank update of one matrix: W·x becomes W·x + scale·B·(A·x). Layouts are PyTorch's (and the GGUF
/// adapter's): A is `rank` rows of `inFeatures`, B is `outFeatures` rows of `rank`.
public final class LoRAWeights: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let rank: Int
    public var a: [Float]  // [rank][inFeatures]
    public var b: [Float]  // [outFeatures][rank]

    public init(inFeatures: Int, outFeatures: Int, rank: Int, a: [Float], b: [Float]) {
        precondition(a.count == rank * inFeatures && b.count == outFeatures * rank, "LoRA matrices of the wrong size")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.rank = rank
        self.a = a
        self.b = b
    }
}

/// A LoRA adapter for a model: per layer, the adapted matrices. Applied at inference without merging into the
/// (quantized) base weights; scale = alpha / rank, as llama.cpp and PEFT define it (alpha 0 means scale 1).
public final class LoRAAdapter: @unchecked Sendable {
    public let architecture: String
    public let alpha: Float
    /// [layer][target]
    public let layers: [[LoRATarget: LoRAWeights]]

    /// Distinguishes this adapter's cached KV blocks from the base model's and other adapters' (a sequence's
    /// prefix hashes start from it), unique for the process's lifetime.
    public let cacheIdentity: UInt64 = LoRAAdapter.identities.add(1, ordering: .relaxed).newValue

    private static let identities = Atomic<UInt64>(0)

    public init(architecture: String, alpha: Float, layers: [[LoRATarget: LoRAWeights]]) {
        self.architecture = architecture
        self.alpha = alpha
        self.layers = layers
    }

    /// A fresh adapter for `hp`: A from `initialA` (PEFT draws it Kaiming-uniform), B zero, so it starts as
    /// the identity update.
    public convenience init(hyperparameters hp: Hyperparameters, rank: Int, alpha: Float, targets: Set<LoRATarget>,
                            initialA: (_ count: Int, _ inFeatures: Int) -> [Float]) {
        let layers = (0..<hp.blockCount).map { _ in
            var adapted: [LoRATarget: LoRAWeights] = [:]
            for target in LoRATarget.allCases where targets.contains(target) {
                let (inFeatures, outFeatures) = target.shape(hp)
                adapted[target] = LoRAWeights(inFeatures: inFeatures, outFeatures: outFeatures, rank: rank,
                                              a: initialA(rank * inFeatures, inFeatures),
                                              b: [Float](repeating: 0, count: outFeatures * rank))
            }
            return adapted
        }
        self.init(architecture: hp.architecture, alpha: alpha, layers: layers)
    }

    public func weights(layer: Int, _ target: LoRATarget) -> LoRAWeights? {
        layer < layers.count ? layers[layer][target] : nil
    }

    /// The factor on B·A·x for a matrix of rank `rank`.
    public func scale(rank: Int) -> Float { alpha == 0 ? 1 : alpha / Float(rank) }

    /// Every adapted matrix in a fixed order (layer, then `LoRATarget.allCases`): the order of parameters in
    /// training and of tensors in the exported file.
    public var orderedWeights: [(layer: Int, target: LoRATarget, weights: LoRAWeights)] {
        layers.enumerated().flatMap { layer, adapted in
            LoRATarget.allCases.compactMap { target in adapted[target].map { (layer: layer, target: target, weights: $0) } }
        }
    }

    /// Checks that the adapter fits a model: same architecture, layers within the model, matrix shapes.
    public func validate(for hp: Hyperparameters) throws {
        guard architecture == hp.architecture else {
            throw LoRAError.incompatible("adapter is for '\(architecture)', the model is '\(hp.architecture)'")
        }
        guard layers.count <= hp.blockCount else {
            throw LoRAError.incompatible("adapter has \(layers.count) layers, the model \(hp.blockCount)")
        }
        for (layer, target, w) in orderedWeights {
            let (inFeatures, outFeatures) = target.shape(hp)
            guard w.inFeatures == inFeatures, w.outFeatures == outFeatures else {
                throw LoRAError.incompatible(
                    "blk.\(layer).\(target.rawValue) is \(w.inFeatures)→\(w.outFeatures), the model's \(inFeatures)→\(outFeatures)")
            }
        }
    }
}

/// A LoRA adapter file or adapter that cannot be used, in one line.
public enum LoRAError: Error, CustomStringConvertible, Sendable, Equatable {
    case notAnAdapter(String)
    case badTensor(tensor: String, reason: String)
    case incompatible(String)

    public var description: String {
        switch self {
        case .notAnAdapter(let reason): "not a LoRA adapter: \(reason)"
        case .badTensor(let tensor, let reason): "LoRA tensor '\(tensor)': \(reason)"
        case .incompatible(let reason): "LoRA adapter does not fit the model: \(reason)"
        }
    }
}
