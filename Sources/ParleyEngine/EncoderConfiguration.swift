import Foundation

/// What a sentence-transformers model directory says about itself, decoded from its JSON files:
///
/// - `config.json` (the transformer: `model_type`, sizes, `layer_norm_eps`, `hidden_act`),
/// - `modules.json` (the pipeline: Transformer → Pooling → optional Normalize),
/// - the Pooling module's `config.json` (CLS or mean),
/// - `sentence_bert_config.json` (`max_seq_length`), `tokenizer_config.json` (`do_lower_case`, `strip_accents`).
///
/// A missing or contradictory value is an error that names the file and the key.
public struct EncoderConfiguration: Sendable, Equatable {
    public enum Pooling: String, Sendable { case mean, cls }

    public var modelType: String
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var pooling: Pooling
    public var normalize: Bool
    /// Longest input in tokens, `[CLS]` and `[SEP]` included; longer texts are cut (as sentence-transformers does).
    public var maxSequenceLength: Int
    public var lowercase: Bool
    public var stripAccents: Bool?

    public var headDimension: Int { hiddenSize / headCount }

    public init(directory: String) throws {
        let config = try Self.object(directory, "config.json")
        func int(_ key: String) throws -> Int {
            guard let value = (config[key] as? NSNumber)?.intValue, value > 0 else {
                throw EngineError.invalidMetadata(key: "config.json: \(key)", reason: "missing or not a positive integer")
            }
            return value
        }
        guard let modelType = config["model_type"] as? String else {
            throw EngineError.invalidMetadata(key: "config.json: model_type", reason: "missing")
        }
        self.modelType = modelType
        vocabularySize = try int("vocab_size")
        let hiddenSize = try int("hidden_size")
        let headCount = try int("num_attention_heads")
        let maxPositions = try int("max_position_embeddings")
        self.hiddenSize = hiddenSize
        self.headCount = headCount
        self.maxPositions = maxPositions
        layerCount = try int("num_hidden_layers")
        intermediateSize = try int("intermediate_size")
        typeVocabularySize = try int("type_vocab_size")
        layerNormEpsilon = (config["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12
        guard hiddenSize % headCount == 0 else {
            throw EngineError.invalidMetadata(key: "config.json: num_attention_heads",
                                              reason: "\(headCount) does not divide hidden_size \(hiddenSize)")
        }
        let activation = config["hidden_act"] as? String ?? "gelu"
        guard activation == "gelu" else {
            throw EngineError.invalidMetadata(key: "config.json: hidden_act", reason: "\(activation) is not supported (gelu)")
        }
        if let embeddingType = config["position_embedding_type"] as? String, embeddingType != "absolute" {
            throw EngineError.invalidMetadata(key: "config.json: position_embedding_type",
                                              reason: "\(embeddingType) is not supported (absolute)")
        }

        // The pipeline; a bare transformer directory (no modules.json) is mean-pooled and normalised, the
        // sentence-transformers default for BERT checkpoints.
        var pooling = Pooling.mean
        var normalize = true
        if let modules = try Self.optionalArray(directory, "modules.json") {
            let types = modules.compactMap { $0["type"] as? String }
            normalize = types.contains { $0.hasSuffix(".Normalize") }
            if let poolingModule = modules.first(where: { ($0["type"] as? String)?.hasSuffix(".Pooling") == true }),
               let path = poolingModule["path"] as? String {
                let file = (path as NSString).appendingPathComponent("config.json")
                let poolingConfig = try Self.object(directory, file)
                let modes = ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                             "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
                    .filter { (poolingConfig[$0] as? Bool) == true }
                switch modes {
                case ["pooling_mode_cls_token"]: pooling = .cls
                case ["pooling_mode_mean_tokens"]: pooling = .mean
                default:
                    throw EngineError.invalidMetadata(key: "\(file): pooling_mode_*",
                                                      reason: "\(modes) is not supported (exactly one of CLS or mean)")
                }
            }
        }
        self.pooling = pooling
        self.normalize = normalize

        let sentenceConfig = try Self.optionalObject(directory, "sentence_bert_config.json") ?? [:]
        let declaredLength = (sentenceConfig["max_seq_length"] as? NSNumber)?.intValue ?? maxPositions
        maxSequenceLength = min(max(2, declaredLength), maxPositions)
        let tokenizerConfig = try Self.optionalObject(directory, "tokenizer_config.json") ?? [:]
        lowercase = (tokenizerConfig["do_lower_case"] as? Bool) ?? true
        stripAccents = tokenizerConfig["strip_accents"] as? Bool
    }

    private static func data(_ directory: String, _ file: String) throws -> Data? {
        let path = (directory as NSString).appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError.invalidMetadata(key: file, reason: "cannot read \(path): \(error.localizedDescription)")
        }
    }

    private static func optionalObject(_ directory: String, _ file: String) throws -> [String: Any]? {
        guard let data = try data(directory, file) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EngineError.invalidMetadata(key: file, reason: "not a JSON object")
        }
        return object
    }

    private static func object(_ directory: String, _ file: String) throws -> [String: Any] {
        guard let object = try optionalObject(directory, file) else {
            throw EngineError.invalidMetadata(key: file, reason: "missing from the model directory \(directory)")
        }
        return object
    }

    private static func optionalArray(_ directory: String, _ file: String) throws -> [[String: Any]]? {
        guard let data = try data(directory, file) else { return nil }
        guard let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw EngineError.invalidMetadata(key: file, reason: "not a JSON list of objects")
        }
        return array
    }
}
