import CParleyKernels
import Foundation
import ParleyGGUF

// The GGUF LoRA adapter format llama.cpp's `--lora` loads (src/llama-adapter.cpp, convert_lora_to_gguf.py):
//   general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (f32), general.architecture = the base's
//   per adapted matrix W (ggml ne = [in, out]):  blk.N.<name>.weight.lora_a  ne = [in, rank]   (A: rank rows of in)
//                                                blk.N.<name>.weight.lora_b  ne = [rank, out]  (B: out rows of rank)
//   scale = alpha / rank, taken per matrix from lora_b's ne[0].
extension LoRAAdapter {
    /// The adapter as GGUF bytes (F32 tensors).
    public func ggufBytes() -> [UInt8] {
        var writer = GGUFWriter()
        writer.metadata = [
            ("general.architecture", .string(architecture)),
            ("general.type", .string("adapter")),
            ("general.name", .string("parley-lora")),
            ("adapter.type", .string("lora")),
            ("adapter.lora.alpha", .float32(alpha)),
        ]
        func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        for (layer, target, w) in orderedWeights {
            let base = "blk.\(layer).\(target.rawValue).weight"
            writer.tensors.append(.init(name: base + ".lora_a", dimensions: [w.inFeatures, w.rank], type: .f32, data: bytes(w.a)))
            writer.tensors.append(.init(name: base + ".lora_b", dimensions: [w.rank, w.outFeatures], type: .f32, data: bytes(w.b)))
        }
        return writer.serialize()
    }

    public func write(to path: String) throws {
        try Data(ggufBytes()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads an adapter file (F32, F16 or BF16 tensors), checking its type and every tensor's name and shape.
    public convenience init(path: String) throws {
        let file = try GGUFFile(path: path)
        guard file.metadata.string("general.type") == "adapter" else {
            throw LoRAError.notAnAdapter("\(path): general.type is not 'adapter'")
        }
        guard file.metadata.string("adapter.type") == "lora" else {
            throw LoRAError.notAnAdapter("\(path): adapter.type is not 'lora'")
        }
        guard let architecture = file.architecture else { throw LoRAError.notAnAdapter("\(path): no general.architecture") }
        let alpha = file.metadata.float("adapter.lora.alpha") ?? 0

        func floats(_ info: GGUFTensorInfo) throws -> [Float] {
            guard [GGMLType.f32, .f16, .bf16].contains(info.type) else {
                throw LoRAError.badTensor(tensor: info.name, reason: "type \(info.type) (expected F32, F16 or BF16)")
            }
            var out = [Float](repeating: 0, count: info.elementCount)
            out.withUnsafeMutableBufferPointer { buffer in
                pk_dequantize_row(pk_type(rawValue: info.type.rawValue), file.bytes(of: info).baseAddress!,
                                  buffer.baseAddress!, Int64(info.elementCount))
            }
            return out
        }
        var pairs: [Int: [LoRATarget: (a: GGUFTensorInfo?, b: GGUFTensorInfo?)]] = [:]
        for info in file.tensors {
            let parts = info.name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, layer < 4096,
                  let target = LoRATarget(rawValue: String(parts[2])), parts[3] == "weight",
                  parts[4] == "lora_a" || parts[4] == "lora_b"
            else { throw LoRAError.badTensor(tensor: info.name, reason: "not a LoRA tensor of a supported matrix") }
            guard info.dimensions.count == 2 else {
                throw LoRAError.badTensor(tensor: info.name, reason: "has \(info.dimensions.count) dimensions, expected 2")
            }
            if parts[4] == "lora_a" { pairs[layer, default: [:]][target, default: (nil, nil)].a = info }
            else { pairs[layer, default: [:]][target, default: (nil, nil)].b = info }
        }
        let layerCount = (pairs.keys.max() ?? -1) + 1
        var layers = [[LoRATarget: LoRAWeights]](repeating: [:], count: layerCount)
        for (layer, targets) in pairs {
            for (target, pair) in targets {
                let name = "blk.\(layer).\(target.rawValue).weight"
                guard let a = pair.a, let b = pair.b else {
                    throw LoRAError.badTensor(tensor: name, reason: "lora_a and lora_b must both be present")
                }
                let (inFeatures, rank, outFeatures) = (a.dimensions[0], a.dimensions[1], b.dimensions[1])
                guard b.dimensions[0] == rank, rank > 0 else {
                    throw LoRAError.badTensor(tensor: name, reason: "lora_a is \(a.dimensions), lora_b \(b.dimensions): ranks differ")
                }
                layers[layer][target] = LoRAWeights(inFeatures: inFeatures, outFeatures: outFeatures, rank: rank,
                                                    a: try floats(a), b: try floats(b))
            }
        }
        self.init(architecture: architecture, alpha: alpha, layers: layers)
    }
}
