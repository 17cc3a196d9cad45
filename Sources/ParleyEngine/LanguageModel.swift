import ParleyGGUF

/// A decoder-only language model that can run a batch of tokens (from one or several sequences) through its
/// layers, extending each sequence's KV cache, and produce next-token logits where asked.
public protocol LanguageModel: AnyObject, Sendable {
    var hyperparameters: Hyperparameters { get }
    /// The final norm's weights: `rmsNorm(hidden) · outputNorm` is what the LM head reads (and what embeddings pool).
    var outputNorm: [Float] { get }
    /// Runs `batch`. Logit rows for the entries with `wantsLogits` are written, in batch order, to
    /// `workspace.logits` (at most `workspace.maxLogitRows` of them). Each entry's position must be at most
    /// its sequence's current length, and its sequence must have reserved blocks for it.
    func forward(_ batch: UnsafeBufferPointer<BatchEntry>, workspace: Workspace)
}

/// A model whose LM head has a 4-bit sketch for greedy decoding (see `HeadSketch`).
protocol SketchedHead {
    var headSketch: HeadSketch? { get }
}

extension Model {
    /// Whether greedy decoding ranks the vocabulary with a head sketch, and how many logit rows have had to
    /// fall back to the exact head so far (nil without a sketch).
    public var headSketchFallbacks: Int? {
        (network as? SketchedHead)?.headSketch.map { $0.fallbackCount.load(ordering: .relaxed) }
    }
}

/// Architectures this engine runs, keyed by `general.architecture`.
public enum ModelRegistry {
    static let loaders: [String: (GGUFFile, LoRAAdapter?) throws -> LanguageModel] = [
        "llama": { try LlamaModel(file: $0, adapter: $1) },
        "gemma3": { try Gemma3Model(file: $0, adapter: $1) },
    ]

    public static var supportedArchitectures: [String] { loaders.keys.sorted() }

    /// The network of `file`, with `adapter`'s low-rank updates applied in its forward pass when given.
    public static func load(_ file: GGUFFile, adapter: LoRAAdapter? = nil) throws -> LanguageModel {
        guard let arch = file.architecture else { throw EngineError.missingMetadata("general.architecture") }
        guard let loader = loaders[arch] else { throw EngineError.unsupportedArchitecture(arch) }
        return try loader(file, adapter)
    }
}

/// Helpers every architecture's forward pass shares.
extension LanguageModel {
    /// Normalises each of `count` rows of `x` (`width` apart) into `out`.
    func rmsNormRows(_ x: UnsafePointer<Float>, weight: [Float], count: Int, width: Int, eps: Float, into out: FloatPointer,
                     workspace: Workspace) {
        weight.withUnsafeBufferPointer { w in
            workspace.forEachToken(count) { t in
                rmsNorm(x + t * width, weight: w.baseAddress!, eps: eps, count: width, into: out + t * width)
            }
        }
    }

    /// Final norm and LM head for the entries that want logits.
    func computeLogits(batch: UnsafeBufferPointer<BatchEntry>, hidden: UnsafePointer<Float>, outputNorm: [Float],
                       head: Linear, sketch: HeadSketch?, workspace: Workspace) {
        let d = hyperparameters.embeddingLength
        var rows = 0
        // The sketch serves the step only when every row can do with candidates.
        var candidatesOnly = sketch != nil
        outputNorm.withUnsafeBufferPointer { w in
            for (t, entry) in batch.enumerated() where entry.wantsLogits {
                precondition(rows < workspace.maxLogitRows, "more logit rows than the workspace holds")
                rmsNorm(hidden + t * d, weight: w.baseAddress!, eps: hyperparameters.rmsEpsilon, count: d,
                        into: workspace.normed + rows * d)
                workspace.candidateCounts[rows] = entry.candidatesNeeded
                if entry.candidatesNeeded <= 0 { candidatesOnly = false }
                rows += 1
            }
        }
        guard rows > 0 else { return }
        if candidatesOnly, let sketch {
            sketch.logits(workspace.normed, rows: rows, needed: workspace.candidateCounts, into: workspace.logits,
                          workspace: workspace)
        } else {
            head.apply(workspace.normed, count: rows, into: workspace.logits, outStride: hyperparameters.vocabularySize,
                       workspace: workspace)
        }
    }

    /// Marks the batch's positions as written in each sequence.
    func advanceSequences(_ batch: UnsafeBufferPointer<BatchEntry>) {
        for entry in batch {
            entry.sequence.recordToken(entry.token, at: entry.position)
            if entry.sequence.length < entry.position + 1 { entry.sequence.length = entry.position + 1 }
        }
    }
}
