import Foundation
import ParleyEngine
import ParleyGGUF
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// LoRA adapters at inference: the GGUF adapter format llama.cpp loads, and W·x + scale·B·A·x in the forward pass.
@Suite(.serialized) struct LoRAAdapterTests {
    static let path = TestModels.smolLM2
    static let base = try! Model(path: path)

    static func randomAdapter(layers: Int, seed: UInt64, bScale: Float) -> LoRAAdapter {
        var state = seed
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        var hp = base.hyperparameters
        hp.blockCount = layers
        return LoRAAdapter(hyperparameters: hp, rank: 4, alpha: 8, targets: Set(LoRATarget.allCases)) { count, inFeatures in
            (0..<count).map { _ in next() / Float(inFeatures).squareRoot() }
        }.withB { count in (0..<count).map { _ in next() * bScale } }
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("parley-lora-\(UUID().uuidString)-\(name)").path
    }

    /// Logits after every token of `tokens`.
    static func logits(_ model: Model, _ tokens: [TokenID]) throws -> [Float] {
        let pool = model.makeKVPool(blocks: 8)
        let ws = model.makeWorkspace(threads: 2, maxBatch: tokens.count, maxLogitRows: tokens.count, maxSequenceLength: 64)
        let sequence = SequenceCache(pool: pool, capacity: 64)
        try model.run(tokens.enumerated().map { BatchEntry(token: $1, position: $0, sequence: sequence, wantsLogits: true) },
                      workspace: ws)
        return Array(UnsafeBufferPointer(start: ws.logits, count: tokens.count * model.hyperparameters.vocabularySize))
    }

    @Test func exportedAdapterReadsBackInLlamaCppsLayout() throws {
        let adapter = Self.randomAdapter(layers: 2, seed: 1, bScale: 0.01)
        let path = Self.temporaryPath("roundtrip.gguf")
        try adapter.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.metadata.string("general.type") == "adapter")
        #expect(file.metadata.string("adapter.type") == "lora")
        #expect(file.metadata.float("adapter.lora.alpha") == 8)
        #expect(file.architecture == "llama")
        let q = try #require(file.tensor(named: "blk.1.attn_q.weight.lora_a"))
        let down = try #require(file.tensor(named: "blk.1.ffn_down.weight.lora_b"))
        #expect(q.dimensions == [576, 4] && q.type == .f32)  // ne = [in, rank]
        #expect(down.dimensions == [4, 576])  // ne = [rank, out]
        let read = try LoRAAdapter(path: path)
        #expect(read.alpha == 8 && read.architecture == "llama" && read.layers.count == 2)
        for (layer, target, weights) in adapter.orderedWeights {
            let other = try #require(read.weights(layer: layer, target))
            #expect(other.a == weights.a && other.b == weights.b && other.rank == 4)
        }
    }

    @Test func filesThatAreNotAdaptersOrDoNotFitAreRefused() throws {
        #expect(throws: LoRAError.self) { try LoRAAdapter(path: Self.path) }
        var hp = Self.base.hyperparameters
        hp.architecture = "gemma3"
        let foreign = LoRAAdapter(hyperparameters: hp, rank: 2, alpha: 4, targets: [.query]) { count, _ in
            [Float](repeating: 0, count: count)
        }
        let path = Self.temporaryPath("foreign.gguf")
        try foreign.write(to: path)
        #expect(throws: LoRAError.incompatible("adapter is for 'gemma3', the model is 'llama'")) {
            try Model(path: Self.path, adapter: try LoRAAdapter(path: path))
        }
    }

    @Test func aZeroUpdateLeavesTheLogitsAndARealOneChangesThem() throws {
        let tokens = Self.base.tokenizer.encode("The capital of France is Paris.", addSpecial: true, parseSpecial: false)
        let plain = try Self.logits(Self.base, tokens)
        let zero = Self.randomAdapter(layers: Self.base.hyperparameters.blockCount, seed: 2, bScale: 0)
        #expect(try Self.logits(Model(path: Self.path, adapter: zero), tokens) == plain)
        let real = Self.randomAdapter(layers: 3, seed: 3, bScale: 0.05)
        let adapted = try Self.logits(Model(path: Self.path, adapter: real), tokens)
        let change = zip(adapted, plain).map { abs($0 - $1) }.max() ?? 0
        #expect(change > 0.01, "largest logit change \(change)")
    }
}

extension LoRAAdapter {
    /// The same adapter with every B drawn from `values`.
    func withB(_ values: (Int) -> [Float]) -> LoRAAdapter {
        for (_, _, weights) in orderedWeights { weights.b = values(weights.b.count) }
        return self
    }
}
