import Foundation
import ParleyTokenizer
import Synchronization

/// A sentence-embedding model run by Parley's engine: a sentence-transformers directory (`config.json`,
/// `model.safetensors`, `vocab.txt`, `modules.json`, the pooling config) loaded into an encoder architecture,
/// its WordPiece tokenizer, and the pipeline the directory declares — CLS or mean pooling over the tokens, then
/// L2 normalisation when it has a Normalize module.
///
/// `embed` takes a batch; one batch is one packed forward pass spread over the worker pool. Calls from several
/// tasks are serialised (the pool runs one job at a time).
public final class SentenceEncoder: Sendable {
    /// The directory's name, the id the API serves it under.
    public let name: String
    public let configuration: EncoderConfiguration
    public let tokenizer: WordPieceTokenizer
    private let encoder: BertEncoder
    private let pool: Mutex<WorkerPool>

    /// The architectures this loader knows, keyed by `config.json`'s `model_type`.
    public static let supportedModelTypes = ["bert"]

    public var dimension: Int { configuration.hiddenSize }

    public init(directory: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError.invalidMetadata(key: directory, reason: "not a sentence-transformers model directory")
        }
        let configuration = try EncoderConfiguration(directory: directory)
        guard Self.supportedModelTypes.contains(configuration.modelType) else {
            throw EngineError.unsupportedArchitecture(configuration.modelType)
        }
        let weightsPath = (directory as NSString).appendingPathComponent("model.safetensors")
        let weights = try SafetensorsFile(path: weightsPath)
        let tokenizer: WordPieceTokenizer
        do {
            tokenizer = try WordPieceTokenizer(
                vocabularyFile: (directory as NSString).appendingPathComponent("vocab.txt"),
                splitter: BertTextSplitter(lowercase: configuration.lowercase, stripAccents: configuration.stripAccents))
        } catch let error as WordPieceTokenizer.LoadError {
            throw EngineError.invalidMetadata(key: "vocab.txt", reason: error.description)
        }
        guard tokenizer.vocabularySize == configuration.vocabularySize else {
            throw EngineError.invalidMetadata(key: "vocab.txt", reason:
                "\(tokenizer.vocabularySize) tokens, config.json says vocab_size \(configuration.vocabularySize)")
        }
        self.tokenizer = tokenizer
        encoder = try BertEncoder(weights: weights, config: configuration)
        self.configuration = configuration
        name = (directory as NSString).standardizingPath.split(separator: "/").last.map(String.init) ?? directory
        pool = Mutex(WorkerPool(threads: max(1, threads)))
    }

    /// The token ids `embed` runs for `text`: `[CLS] … [SEP]`, cut to the model's `max_seq_length`.
    public func tokens(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxTokens: configuration.maxSequenceLength)
    }

    /// One embedding per text, in order, each `dimension` floats (unit length when the model normalises).
    public func embed(_ texts: [String]) throws -> [[Float]] {
        try embed(tokenized: texts.map(tokens))
    }

    /// Embeddings of already tokenized inputs (ids from `tokens(_:)`, or a client's own ids).
    public func embed(tokenized sequences: [[Int32]]) throws -> [[Float]] {
        if sequences.isEmpty { return [] }
        let d = dimension
        let hidden = try pool.withLock { pool in try encoder.hiddenStates(sequences, pool: pool) }
        var results: [[Float]] = []
        results.reserveCapacity(sequences.count)
        var offset = 0
        for tokens in sequences {
            var pooled = [Float](repeating: 0, count: d)
            switch configuration.pooling {
            case .cls:
                for i in 0..<d { pooled[i] = hidden[offset * d + i] }
            case .mean:
                // Sum in Double: long inputs add hundreds of rows.
                var sum = [Double](repeating: 0, count: d)
                for t in offset..<(offset + tokens.count) {
                    for i in 0..<d { sum[i] += Double(hidden[t * d + i]) }
                }
                for i in 0..<d { pooled[i] = Float(sum[i] / Double(tokens.count)) }
            }
            guard pooled.allSatisfy(\.isFinite) else {
                throw EngineError.invalidMetadata(key: "embedding", reason: "non-finite hidden state")
            }
            if configuration.normalize {
                let norm = pooled.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { pooled = pooled.map { $0 / norm } }
            }
            results.append(pooled)
            offset += tokens.count
        }
        return results
    }
}
