import Foundation
import ParleyEngine
import ParleyGGUF
import ParleyTestSupport
import ParleyTraining

/// A fixture of scripts/training-oracle.py: a tiny random model, a LoRA adapter, a batch, and PyTorch's loss
/// and gradients for them.
struct OracleFixture: Decodable {
    struct Tensor: Decodable {
        let name: String
        let dims: [Int]
        let data: [Float]
    }
    struct Matrix: Decodable {
        let layer: Int
        let target: String
        let a: [Float]
        let b: [Float]
    }
    struct Adapter: Decodable {
        let alpha: Float
        let rank: Int
        let matrices: [Matrix]
    }
    struct Sequence: Decodable {
        let tokens: [Int32]
        let loss_mask: [Bool]
    }
    struct Gradient: Decodable {
        let layer: Int
        let target: String
        let a: [Double]
        let b: [Double]
    }

    let architecture: String
    let uint32: [String: UInt32]
    let float32: [String: Float]
    let tensors: [Tensor]
    let lora: Adapter
    let sequences: [Sequence]
    let loss: Double
    let gradients: [Gradient]

    static func load(_ architecture: String) throws -> OracleFixture {
        let url = TestModels.fixture("training/oracle-\(architecture).json")
        return try JSONDecoder().decode(OracleFixture.self, from: Data(contentsOf: url))
    }

    /// The model as a GGUF file in a temporary directory (F32 tensors), opened.
    func writeModel() throws -> GGUFFile {
        var writer = GGUFWriter()
        writer.metadata = [("general.architecture", .string(architecture))]
        writer.metadata += uint32.keys.sorted().map { ($0, GGUFValue.uint32(uint32[$0]!)) }
        writer.metadata += float32.keys.sorted().map { ($0, GGUFValue.float32(float32[$0]!)) }
        writer.tensors = tensors.map { t in
            GGUFWriter.Tensor(name: t.name, dimensions: t.dims, type: .f32, data: t.data.withUnsafeBytes { Array($0) })
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(architecture).gguf").path
        try Data(writer.serialize()).write(to: URL(fileURLWithPath: path))
        return try GGUFFile(path: path)
    }

    /// A fresh copy of the fixture's adapter (training mutates adapters in place).
    func adapter(for hp: Hyperparameters) -> LoRAAdapter {
        var layers = [[LoRATarget: LoRAWeights]](repeating: [:], count: hp.blockCount)
        for m in lora.matrices {
            let target = LoRATarget(rawValue: m.target)!
            let (inFeatures, outFeatures) = target.shape(hp)
            layers[m.layer][target] = LoRAWeights(inFeatures: inFeatures, outFeatures: outFeatures, rank: lora.rank, a: m.a, b: m.b)
        }
        return LoRAAdapter(architecture: architecture, alpha: lora.alpha, layers: layers)
    }

    var trainingSequences: [TrainingSequence] {
        sequences.map { TrainingSequence(tokens: $0.tokens, lossMask: $0.loss_mask) }
    }
}

/// max |a − b| over max |b|: a tensor's error relative to its own scale.
func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    let scale = b.map(abs).max() ?? 0
    let error = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
    return scale > 0 ? error / scale : error
}
