import CParleyKernels
import ParleyGGUF

/// A weight matrix as stored in the file: `outFeatures` rows of `inFeatures` values in a block-quantized
/// type, zero-copy from the memory-mapped GGUF.
struct Linear: @unchecked Sendable {
    let name: String
    let type: pk_type
    let inFeatures: Int
    let outFeatures: Int
    let data: UnsafeRawPointer
    let rowBytes: Int
    /// The activation format its dot product consumes.
    let activationType: pk_type

    init(_ file: GGUFFile, _ name: String, inFeatures: Int, outFeatures: Int) throws {
        guard let info = file.tensor(named: name) else { throw EngineError.missingTensor(name) }
        guard info.dimensions == [inFeatures, outFeatures] else {
            throw EngineError.badTensorShape(tensor: name, expected: [inFeatures, outFeatures], found: info.dimensions)
        }
        guard pk_type_supported(Int32(info.type.rawValue)) != 0, info.type != .q8_1, info.type != .q8_K else {
            throw EngineError.unsupportedTensorType(tensor: name, type: info.type.description)
        }
        self.name = name
        self.type = pk_type(rawValue: info.type.rawValue)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.data = file.bytes(of: info).baseAddress!
        self.rowBytes = info.rowBytes
        self.activationType = pk_vec_dot_type(type)
    }

    /// Bytes one activation row takes once quantized for this matrix.
    var activationRowBytes: Int { Int(pk_row_bytes(activationType, Int64(inFeatures))) }

    /// Copies row `index` out as floats (embedding look-up).
    func dequantizeRow(_ index: Int, into out: FloatPointer) {
        pk_dequantize_row(type, data + index * rowBytes, out, Int64(inFeatures))
    }

    /// out[t] = W · x[t] for `count` rows of x (`inFeatures` apart) into out (`outStride` apart).
    func apply(_ x: UnsafePointer<Float>, count: Int, into out: FloatPointer, outStride: Int, workspace: Workspace) {
        let quantized = workspace.quantizedActivations
        let qStride = activationRowBytes
        let pool = workspace.pool
        // Quantize each activation row once per product; every output row then reuses it.
        if count >= 4 {
            pool.parallelFor(count) { rows in
                for t in rows {
                    pk_quantize_row(activationType, x + t * inFeatures, quantized + t * qStride, Int64(inFeatures))
                }
            }
        } else {
            for t in 0..<count {
                pk_quantize_row(activationType, x + t * inFeatures, quantized + t * qStride, Int64(inFeatures))
            }
        }
        multiply(quantized: UnsafeRawPointer(quantized), count: count, into: out, outStride: outStride, pool: pool)
    }

    /// The product with activations already quantized to `activationType` (several matrices can share one
    /// quantization when they read the same input).
    func multiply(quantized: UnsafeRawPointer, count: Int, into out: FloatPointer, outStride: Int, pool: WorkerPool) {
        let qStride = activationRowBytes
        let rows = outFeatures
        let n = Int64(inFeatures)
        pool.run { index, total in
            // Chunks of 16 rows keep the kernels' row blocking whole.
            let chunks = (rows + 15) / 16
            let begin = min(rows, chunks * index / total * 16)
            let end = min(rows, chunks * (index + 1) / total * 16)
            guard begin < end else { return }
            if count == 1 {
                pk_matvec(type, n, data, rowBytes, Int64(begin), Int64(end), quantized, out + begin)
            } else {
                pk_matmul(type, n, data, rowBytes, Int64(begin), Int64(end), quantized, qStride, Int64(count),
                          out, outStride)
            }
        }
    }
}

/// A float vector from the file (norm weights), copied out so it is F32 whatever the storage.
func loadVector(_ file: GGUFFile, _ name: String, count: Int) throws -> [Float] {
    guard let info = file.tensor(named: name) else { throw EngineError.missingTensor(name) }
    guard info.elementCount == count else {
        throw EngineError.badTensorShape(tensor: name, expected: [count], found: info.dimensions)
    }
    guard pk_type_supported(Int32(info.type.rawValue)) != 0 else {
        throw EngineError.unsupportedTensorType(tensor: name, type: info.type.description)
    }
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { buffer in
        pk_dequantize_row(pk_type(rawValue: info.type.rawValue), file.bytes(of: info).baseAddress!, buffer.baseAddress!,
                          Int64(count))
    }
    return out
}
