/// Errors a user can meet when loading or running a model; each says what is wrong in one line.
public enum EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    case unsupportedArchitecture(String)
    case unsupportedTensorType(tensor: String, type: String)
    case missingTensor(String)
    case badTensorShape(tensor: String, expected: [Int], found: [Int])
    case missingMetadata(String)
    case invalidMetadata(key: String, reason: String)
    case contextFull(capacity: Int)
    case cacheExhausted(blocks: Int)
    case tokenOutOfRange(Int32, vocabulary: Int)
    case emptyPrompt

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            "unsupported model architecture '\(a)' (supported: \(ModelRegistry.supportedArchitectures.joined(separator: ", ")))"
        case .unsupportedTensorType(let t, let type):
            "tensor '\(t)' has type \(type), which this engine cannot compute with"
        case .missingTensor(let t): "the model file lacks tensor '\(t)'"
        case .badTensorShape(let t, let e, let f): "tensor '\(t)' has shape \(f), expected \(e)"
        case .missingMetadata(let k): "the model file lacks metadata key '\(k)'"
        case .invalidMetadata(let k, let r): "metadata '\(k)': \(r)"
        case .contextFull(let c): "the context is full (\(c) tokens)"
        case .cacheExhausted(let b): "the KV cache is full (all \(b) blocks in use)"
        case .tokenOutOfRange(let t, let v): "token id \(t) is outside the vocabulary (0..<\(v))"
        case .emptyPrompt: "the prompt is empty"
        }
    }
}
