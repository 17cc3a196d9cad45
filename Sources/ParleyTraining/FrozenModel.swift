import CParleyKernels
import ParleyEngine
import ParleyGGUF

/// What distinguishes the architectures a trainer handles (see the engine's Llama.swift and Gemma3.swift).
struct ArchitectureTraits {
    /// Gemma scales embeddings by √d.
    let embeddingScale: Float
    /// RoPE pairs (i, i + d/2) (NeoX, Gemma) instead of adjacent pairs (llama's permuted layout).
    let neoxRoPE: Bool
    /// Gemma 3 normalises each query and key head before RoPE.
    let queryKeyNorm: Bool
    /// Gemma 3 normalises the attention and MLP outputs before adding them to the residual stream.
    let postNorms: Bool
    let activation: GatedActivation

    init(_ hp: Hyperparameters) throws {
        switch hp.architecture {
        case "llama":
            self.init(embeddingScale: 1, neoxRoPE: false, queryKeyNorm: false, postNorms: false, activation: .silu)
        case "gemma3":
            self.init(embeddingScale: Float(hp.embeddingLength).squareRoot(), neoxRoPE: true, queryKeyNorm: true,
                      postNorms: true, activation: .geluTanh)
        default:
            throw EngineError.unsupportedArchitecture(hp.architecture)
        }
    }

    private init(embeddingScale: Float, neoxRoPE: Bool, queryKeyNorm: Bool, postNorms: Bool, activation: GatedActivation) {
        self.embeddingScale = embeddingScale
        self.neoxRoPE = neoxRoPE
        self.queryKeyNorm = queryKeyNorm
        self.postNorms = postNorms
        self.activation = activation
    }
}

/// One decoder layer's frozen weights: the norms as F32, the projections as `FrozenMatrix`es.
struct FrozenLayer {
    let attentionNorm: [Float]  // [d]
    let projections: [LoRATarget: FrozenMatrix]  // each [out][in]
    let queryNorm: [Float]?  // [headDim], Gemma 3
    let keyNorm: [Float]?  // [headDim], Gemma 3
    let postAttentionNorm: [Float]?  // [d], Gemma 3
    let ffnNorm: [Float]  // [d]
    let postFFNNorm: [Float]?  // [d], Gemma 3
    let attention: LayerAttention

    func weight(_ target: LoRATarget) -> FrozenMatrix { projections[target]! }
}

/// The base model a LoRA adapter trains against: every weight frozen (float tensors as F32 copies, quantized
/// ones kept quantized; see `FrozenMatrix`).
final class FrozenModel: @unchecked Sendable {
    let hyperparameters: Hyperparameters
    let traits: ArchitectureTraits
    let embedding: FrozenMatrix  // [vocab][d]
    let head: FrozenMatrix  // [vocab][d]: the embedding when tied
    let outputNorm: [Float]  // [d]
    let layers: [FrozenLayer]

    init(file: GGUFFile) throws {
        let hp = try Hyperparameters(file: file)
        hyperparameters = hp
        traits = try ArchitectureTraits(hp)
        let d = hp.embeddingLength, hd = hp.headDim
        // Gemma-3 keeps F32 copies for now: with its weights quantized, the trainer's loss under a strong random
        // adapter came out 0.17–0.19 nats from the engine's (0.02–0.04 with F32 copies; EngineAgreementTests), and
        // the cause is not found yet. Llama models (SmolLM2) agree within 0.1 either way.
        let quantized = hp.architecture == "llama"
        let tied = file.tensor(named: "output.weight") == nil
        embedding = try FrozenMatrix(file: file, name: "token_embd.weight", rows: hp.vocabularySize, columns: d,
                                     forward: tied, transposed: tied, quantized: quantized)
        head = tied ? embedding : try FrozenMatrix(file: file, name: "output.weight", rows: hp.vocabularySize, columns: d,
                                                   quantized: quantized)
        outputNorm = try Self.vector(file, "output_norm.weight", count: d)
        let attention = LayerAttention.layers(of: file, hyperparameters: hp)
        let gemma = traits.postNorms
        layers = try (0..<hp.blockCount).map { i in
            let p = "blk.\(i)."
            var projections: [LoRATarget: FrozenMatrix] = [:]
            for target in LoRATarget.allCases {
                let (inFeatures, outFeatures) = target.shape(hp)
                projections[target] = try FrozenMatrix(file: file, name: p + target.rawValue + ".weight", rows: outFeatures,
                                                       columns: inFeatures, quantized: quantized)
            }
            return FrozenLayer(
                attentionNorm: try Self.vector(file, p + "attn_norm.weight", count: d),
                projections: projections,
                queryNorm: gemma ? try Self.vector(file, p + "attn_q_norm.weight", count: hd) : nil,
                keyNorm: gemma ? try Self.vector(file, p + "attn_k_norm.weight", count: hd) : nil,
                postAttentionNorm: gemma ? try Self.vector(file, p + "post_attention_norm.weight", count: d) : nil,
                ffnNorm: try Self.vector(file, p + "ffn_norm.weight", count: d),
                postFFNNorm: gemma ? try Self.vector(file, p + "post_ffw_norm.weight", count: d) : nil,
                attention: attention[i])
        }
    }

    private static func matrix(_ file: GGUFFile, _ name: String, rows: Int, columns: Int) throws -> Matrix {
        guard let info = file.tensor(named: name) else { throw EngineError.missingTensor(name) }
        let expected = rows == 1 ? [columns] : [columns, rows]
        guard info.dimensions == expected else {
            throw EngineError.badTensorShape(tensor: name, expected: expected, found: info.dimensions)
        }
        guard pk_type_supported(Int32(info.type.rawValue)) != 0 else {
            throw EngineError.unsupportedTensorType(tensor: name, type: info.type.description)
        }
        let m = Matrix(rows, columns)
        let bytes = file.bytes(of: info).baseAddress!
        for r in 0..<rows {
            pk_dequantize_row(pk_type(rawValue: info.type.rawValue), bytes + r * info.rowBytes, m[row: r], Int64(columns))
        }
        return m
    }

    private static func vector(_ file: GGUFFile, _ name: String, count: Int) throws -> [Float] {
        let m = try matrix(file, name, rows: 1, columns: count)
        return Array(UnsafeBufferPointer(start: m.pointer, count: count))
    }
}
