import ParleyGGUF

/// The shape of a decoder-only transformer, decoded from `<arch>.*` GGUF metadata.
public struct Hyperparameters: Sendable, Equatable {
    public var architecture: String
    public var embeddingLength: Int
    public var blockCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var feedForwardLength: Int
    public var vocabularySize: Int
    public var trainedContextLength: Int
    public var rmsEpsilon: Float
    public var ropeBase: Float
    public var ropeDimensions: Int

    public var queryLength: Int { headCount * headDim }
    public var kvLength: Int { kvHeadCount * headDim }

    /// Reads the keys every llama-like architecture shares; model files add their own on top.
    init(_ file: GGUFFile, architecture arch: String) throws {
        let m = file.metadata
        func int(_ key: String) throws -> Int {
            guard let v = m.int("\(arch).\(key)") else { throw EngineError.missingMetadata("\(arch).\(key)") }
            guard v > 0 else { throw EngineError.invalidMetadata(key: "\(arch).\(key)", reason: "must be positive, got \(v)") }
            return v
        }
        architecture = arch
        embeddingLength = try int("embedding_length")
        blockCount = try int("block_count")
        headCount = try int("attention.head_count")
        kvHeadCount = m.int("\(arch).attention.head_count_kv") ?? headCount
        headDim = m.int("\(arch).attention.key_length") ?? embeddingLength / headCount
        feedForwardLength = try int("feed_forward_length")
        trainedContextLength = m.int("\(arch).context_length") ?? 2048
        rmsEpsilon = m.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5
        ropeBase = m.float("\(arch).rope.freq_base") ?? 10000
        ropeDimensions = m.int("\(arch).rope.dimension_count") ?? headDim
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 else {
            throw EngineError.missingTensor("token_embd.weight")
        }
        vocabularySize = embedding.dimensions[1]
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw EngineError.invalidMetadata(key: "\(arch).attention.head_count_kv",
                                              reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        guard headDim % 2 == 0, ropeDimensions <= headDim, ropeDimensions % 2 == 0 else {
            throw EngineError.invalidMetadata(key: "\(arch).rope.dimension_count",
                                              reason: "\(ropeDimensions) does not fit head dimension \(headDim)")
        }
    }
}
