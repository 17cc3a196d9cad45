import Foundation
import ParleyEngine
import ParleyTestSupport
import Testing

/// The engine's sentence encoder against sentence-transformers on PyTorch (`scripts/embedding-reference.py`
/// wrote the fixture): the same word pieces, and embeddings within cosine 0.999 of the reference.
@Suite("Sentence encoder (all-MiniLM-L6-v2 vs sentence-transformers)", .serialized)
struct SentenceEncoderTests {
    struct Reference: Decodable {
        struct Item: Decodable {
            let text: String
            let token_ids: [Int32]
            let embedding: [Float]
        }
        let model: String
        let max_seq_length: Int
        let items: [Item]
    }

    static let minimumCosine: Float = 0.999
    static let encoder: SentenceEncoder = try! SentenceEncoder(
        directory: try! TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)
    static let reference: Reference = try! JSONDecoder().decode(
        Reference.self, from: Data(contentsOf: TestModels.fixture("embeddings/all-MiniLM-L6-v2.json")))

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    @Test func configurationComesFromTheDirectory() {
        let configuration = Self.encoder.configuration
        #expect(configuration.modelType == "bert" && configuration.layerCount == 6 && configuration.hiddenSize == 384)
        #expect(configuration.pooling == .mean && configuration.normalize)
        #expect(configuration.maxSequenceLength == Self.reference.max_seq_length)
    }

    @Test func wordPiecesMatchTheReferenceTokenizer() {
        for item in Self.reference.items {
            #expect(Self.encoder.tokens(item.text) == item.token_ids, "\(item.text)")
        }
    }

    @Test func embeddingsMatchTheReference() throws {
        let items = Self.reference.items
        #expect(items.count >= 30)
        let vectors = try Self.encoder.embed(items.map(\.text))
        var worst: Float = 1
        for (item, vector) in zip(items, vectors) {
            #expect(vector.count == item.embedding.count)
            let similarity = Self.cosine(vector, item.embedding)
            worst = min(worst, similarity)
            #expect(similarity >= Self.minimumCosine, "cosine \(similarity) for \(item.text)")
        }
        print("sentence encoder: worst cosine vs sentence-transformers \(worst) over \(items.count) sentences")
    }

    @Test func aBatchGivesWhatEachTextGivesAlone() throws {
        let texts = ["short", "a somewhat longer sentence about the weather", "我喜欢喝绿茶。"]
        let batched = try Self.encoder.embed(texts)
        for (text, vector) in zip(texts, batched) {
            let alone = try Self.encoder.embed([text])[0]
            #expect(Self.cosine(alone, vector) > 0.99999)
        }
        let norm = batched[1].reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-4, "the model's Normalize module makes unit vectors")
    }

    @Test func paraphrasesAreCloserThanUnrelatedText() throws {
        let v = try Self.encoder.embed([
            "I am a vegetarian.", "I don't eat meat.", "The stock market fell sharply today."])
        #expect(Self.cosine(v[0], v[1]) > Self.cosine(v[0], v[2]) + 0.2)
    }

    @Test func badInputIsAClearError() throws {
        #expect(throws: EngineError.self) { try SentenceEncoder(directory: "/nonexistent/model") }
        #expect(throws: EngineError.self) { try Self.encoder.embed(tokenized: [[101, 999_999, 102]]) }
        #expect(throws: EngineError.self) { try Self.encoder.embed(tokenized: [[]]) }

        // A directory whose weights file is truncated names the file and the problem.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-encoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = URL(fileURLWithPath: try TestModels.path(named: "all-MiniLM-L6-v2"))
        for file in ["config.json", "modules.json", "vocab.txt", "sentence_bert_config.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        try FileManager.default.copyItem(at: source.appendingPathComponent("1_Pooling"), to: directory.appendingPathComponent("1_Pooling"))
        let weights = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        try weights.prefix(4096).write(to: directory.appendingPathComponent("model.safetensors"))
        do {
            _ = try SentenceEncoder(directory: directory.path)
            Issue.record("a truncated safetensors file loaded")
        } catch let error as EngineError {
            #expect("\(error)".contains("model.safetensors"), "\(error)")
        }
    }
}
