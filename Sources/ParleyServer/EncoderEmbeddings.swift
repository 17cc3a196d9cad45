import Foundation
import Hummingbird
import ParleyEngine
import ParleyTokenizer

/// The sentence-embedding models `/v1/embeddings` serves (`parley serve --embedding-model`), by id: loaded before
/// the server starts (a small encoder loads in about a second), immutable afterwards.
public struct EncoderCatalog: Sendable {
    public let encoders: [SentenceEncoder]

    public init(_ encoders: [SentenceEncoder] = []) { self.encoders = encoders }

    public func encoder(_ id: String) -> SentenceEncoder? { encoders.first { $0.name == id } }
}

extension ParleyAPI {
    /// OpenAI's `/v1/embeddings` answered by a sentence-embedding model: `input` is a string, an array of strings
    /// (a batch, one forward pass), token ids or arrays of token ids; strings longer than the model's
    /// `max_seq_length` are cut as sentence-transformers cuts them, token-id inputs that long are refused.
    func encoderEmbeddings(_ f: RequestFields, encoder: SentenceEncoder) async throws -> Response {
        let maxTokens = encoder.configuration.maxSequenceLength
        let vocabulary = encoder.configuration.vocabularySize
        func ids(_ items: [TemplateValue], _ path: String) throws -> [Int32] {
            guard !items.isEmpty else { throw OpenAIError.invalid(path, "An input is empty.") }
            guard items.count <= maxTokens else {
                throw OpenAIError.invalid(path, "\(path) has \(items.count) tokens; the model takes at most \(maxTokens).",
                                          code: "context_length_exceeded")
            }
            return try items.map {
                guard case .int(let i) = $0, i >= 0, i < vocabulary else {
                    throw OpenAIError.invalid(path, "Token ids must lie within the vocabulary (0..<\(vocabulary)).")
                }
                return Int32(i)
            }
        }
        func isTokenList(_ items: [TemplateValue]) -> Bool {
            items.allSatisfy { if case .int = $0 { return true }; return false }
        }
        let inputs: [[Int32]]
        switch f.value("input") {
        case nil: throw OpenAIError.invalid("input", "'input' is required.", code: "missing_required_parameter")
        case .string(let s)?: inputs = [encoder.tokens(s)]
        case .array(let items)? where !items.isEmpty:
            if isTokenList(items) {
                inputs = [try ids(items, "input")]
            } else {
                guard items.count <= 2048 else { throw OpenAIError.invalid("input", "At most 2048 inputs per request.") }
                inputs = try items.enumerated().map { index, item in
                    switch item {
                    case .string(let s): return encoder.tokens(s)
                    case .array(let list) where isTokenList(list): return try ids(list, "input[\(index)]")
                    default:
                        throw OpenAIError.invalid("input[\(index)]", "'input[\(index)]' must be a string or token ids.", code: "invalid_type")
                    }
                }
            }
        default: throw OpenAIError.invalid("input", "'input' must be a non-empty string or array.", code: "invalid_type")
        }
        let format = try f.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw OpenAIError.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.")
        }
        if let dimensions = try f.int("dimensions", in: 1...Int.max), dimensions != encoder.dimension {
            throw OpenAIError.invalid("dimensions", "This model's embeddings have \(encoder.dimension) dimensions.")
        }
        // The forward pass is CPU-bound: run it off the cooperative pool, which serves every other request.
        let vectors: [[Float]] = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try encoder.embed(tokenized: inputs) })
            }
        }
        let total = inputs.reduce(0) { $0 + $1.count }
        let data: [TemplateValue] = vectors.enumerated().map { index, vector in
            let embedding: TemplateValue
            if format == "base64" {
                var bytes = Data(capacity: vector.count * 4)
                for v in vector { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                embedding = .string(bytes.base64EncodedString())
            } else {
                embedding = .array(vector.map { .double(Double($0)) })
            }
            return .obj([("object", "embedding"), ("index", .int(index)), ("embedding", embedding)])
        }
        metrics.countTokens(prompt: total, completion: 0)
        return Self.json(.obj([("object", "list"), ("data", .array(data)), ("model", .string(encoder.name)),
                               ("usage", .obj([("prompt_tokens", .int(total)), ("total_tokens", .int(total))]))]))
    }

    /// The embedding models as `/v1/models` lists them.
    var encoderModelObjects: [TemplateValue] {
        encoders.encoders.map {
            .obj([("id", .string($0.name)), ("object", "model"), ("created", .int(0)), ("owned_by", "parley"),
                  ("context_length", .int($0.configuration.maxSequenceLength))])
        }
    }
}
