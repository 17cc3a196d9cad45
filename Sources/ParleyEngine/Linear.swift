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
    /// Rows stored 16 at a time side by side (pk_interleave_weights) rather than in the file's layout: `data` is
    /// then only readable through the interleaved kernels; `rowBytes` is still the bytes per row (16 rows start
    /// 16 · rowBytes apart).
    let interleaved: Bool

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
        self.interleaved = false
    }

    /// A matrix in memory the caller keeps alive (a converted copy of a file's tensor).
    init(name: String, type: pk_type, inFeatures: Int, outFeatures: Int, data: UnsafeRawPointer, rowBytes: Int,
         interleaved: Bool = false) {
        self.name = name
        self.type = type
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.data = data
        self.rowBytes = rowBytes
        self.activationType = pk_vec_dot_type(type)
        self.interleaved = interleaved
    }

    /// Bytes one activation row takes once quantized for this matrix.
    var activationRowBytes: Int { Int(pk_row_bytes(activationType, Int64(inFeatures))) }

    /// Copies row `index` out as floats (embedding look-up).
    func dequantizeRow(_ index: Int, into out: FloatPointer) {
        if interleaved {
            pk_interleaved_dequantize_row(type, Int64(inFeatures), data, Int64(index), out)
        } else {
            pk_dequantize_row(type, data + index * rowBytes, out, Int64(inFeatures))
        }
    }

    /// out[t] = W · x[t] for `count` rows of x (`inFeatures` apart) into out (`outStride` apart).
    func apply(_ x: UnsafePointer<Float>, count: Int, into out: FloatPointer, outStride: Int, workspace: Workspace) {
        project(x, count: count, Projection(self, out, outStride), workspace: workspace)
    }
}

/// One matrix product's destination: out[t] = W · x[t], rows of out `stride` floats apart.
struct Projection {
    let weight: Linear
    let out: FloatPointer
    let stride: Int

    init(_ weight: Linear, _ out: FloatPointer, _ stride: Int) {
        self.weight = weight
        self.out = out
        self.stride = stride
    }
}

/// Multiplies up to three matrices that read the same input (Q/K/V, gate/up): the input is quantized once and
/// one parallel dispatch covers all their rows, so threads stay evenly loaded and meet once, not three times.
func project(_ x: UnsafePointer<Float>, count: Int, _ a: Projection, _ b: Projection? = nil, _ c: Projection? = nil,
             workspace: Workspace) {
    let inFeatures = a.weight.inFeatures
    let type = a.weight.activationType
    guard (b?.weight.activationType ?? type) == type, (c?.weight.activationType ?? type) == type else {
        // Different activation formats: one product at a time.
        project(x, count: count, a, workspace: workspace)
        if let b { project(x, count: count, b, workspace: workspace) }
        if let c { project(x, count: count, c, workspace: workspace) }
        return
    }
    let quantized = workspace.quantizedActivations
    let qStride = Int(pk_row_bytes(type, Int64(inFeatures)))
    let pool = workspace.pool
    if count >= 4 {
        pool.parallelFor(count) { rows in
            for t in rows { pk_quantize_row(type, x + t * inFeatures, quantized + t * qStride, Int64(inFeatures)) }
        }
    } else {
        for t in 0..<count { pk_quantize_row(type, x + t * inFeatures, quantized + t * qStride, Int64(inFeatures)) }
    }
    // Rows are dealt in chunks (whole 16-row kernel blocks) across the concatenated matrices: small chunks for
    // decode, where threads stream weights, larger for batches, where each call packs its rows once. Decode
    // chunks are about 4 per thread (at least 64 rows): every claim is an atomic on a line the cores pass back
    // and forth, and fixed 64-row chunks of Gemma-3's 262k-row head cost ~4k of them a token — 2 threads decoded
    // slower than 1 (141 vs 170 tok/s; now ~250).
    let rowsTotal = a.weight.outFeatures + (b?.weight.outFeatures ?? 0) + (c?.weight.outFeatures ?? 0)
    let chunkRows = count == 1 ? max(64, (rowsTotal / (pool.threadCount * 4) + 15) / 16 * 16)
        : max(64, (rowsTotal / (pool.threadCount * 2) + 15) / 16 * 16)
    let chunksA = (a.weight.outFeatures + chunkRows - 1) / chunkRows
    let chunksB = b.map { ($0.weight.outFeatures + chunkRows - 1) / chunkRows } ?? 0
    let chunksC = c.map { ($0.weight.outFeatures + chunkRows - 1) / chunkRows } ?? 0
    let job = workspace.projectionJob
    job.projections = (a, b, c)
    job.chunks = (chunksA, chunksB)
    job.chunkRows = chunkRows
    job.input = UnsafeRawPointer(quantized)
    job.inputStride = qStride
    job.count = count
    pool.run(chunks: chunksA + chunksB + chunksC, job: job)
}

/// The parallel part of `project`, kept in the workspace so a dispatch allocates nothing.
final class ProjectionJob: PoolJob {
    var projections: (Projection?, Projection?, Projection?) = (nil, nil, nil)
    /// Chunks of the first and second matrix; the rest belong to the third.
    var chunks = (0, 0)
    var chunkRows = 0
    var input = UnsafeRawPointer(bitPattern: 1)!
    var inputStride = 0
    var count = 0

    func run(chunk: Int, thread: Int) {
        let (p, local) = chunk < chunks.0 ? (projections.0!, chunk)
            : chunk < chunks.0 + chunks.1 ? (projections.1!, chunk - chunks.0) : (projections.2!, chunk - chunks.0 - chunks.1)
        let begin = local * chunkRows, end = min(begin + chunkRows, p.weight.outFeatures)
        p.weight.multiplyRows(begin..<end, input: input, inputStride: inputStride, count: count, out: p.out, outStride: p.stride)
    }
}

extension Linear {
    /// Rows `rows` of W times `count` quantized activation rows.
    @inline(__always)
    func multiplyRows(_ rows: Range<Int>, input: UnsafeRawPointer, inputStride: Int, count: Int, out: FloatPointer,
                      outStride: Int) {
        if interleaved {  // row ranges are whole 16-row groups: chunks are multiples of 16, outFeatures too
            pk_interleaved_matmul(type, Int64(inFeatures), data, Int64(rows.lowerBound), Int64(rows.upperBound), input,
                                  inputStride, Int64(count), out, outStride)
        } else if count == 1 {
            pk_matvec(type, Int64(inFeatures), data, rowBytes, Int64(rows.lowerBound), Int64(rows.upperBound), input,
                      out + rows.lowerBound)
        } else {
            pk_matmul(type, Int64(inFeatures), data, rowBytes, Int64(rows.lowerBound), Int64(rows.upperBound), input,
                      inputStride, Int64(count), out, outStride)
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
