import CParleyKernels
import ParleyEngine
import ParleyGGUF

/// A frozen weight W [rows = out][columns = in] as training reads it: y = x·Wᵀ (forward) and dx += dy·W
/// (backward).
///
/// Float tensors (F32, F16, BF16) become an F32 copy multiplied by sgemm — exact, which the gradient oracle
/// needs. Quantized tensors stay quantized and run on the engine's integer kernels, as inference does: the
/// forward on W itself (Q4_0/Q4_1/Q5_0/Q8_0 interleaved, Q4_K rewritten as Q4_1 as the engine does; Q5_1, Q5_K
/// and Q6_K are F32 copies like float tensors: run in the file layout they put Gemma-3's loss 0.17 nats from the
/// engine's under a strong adapter),
/// the backward on a Q8_0 copy of Wᵀ built once at load (dy is quantized to Q8_0 per 32 values, as the forward's
/// inputs are). SmolLM2's frozen weights then take ~0.2 GB instead of ~0.54 GB of F32, and a product runs at the
/// engine's prefill speed instead of sgemm's.
final class FrozenMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    private let dense: Matrix?
    private let forwardWeights: QuantizedMatrix?
    /// Wᵀ in slices of W's rows (at most 16,384 each: the kernels' longest row): W rows [offset, offset + n).
    private let transposedSlices: [(offset: Int, matrix: QuantizedMatrix)]
    /// The tensor as stored, for row look-ups of a quantized embedding.
    private let stored: (type: pk_type, bytes: UnsafeRawPointer, rowBytes: Int)?

    var isQuantized: Bool { dense == nil }

    /// `forward` and `transposed`: whether y = x·Wᵀ and dx += dy·W will be asked for (an untied embedding is
    /// only looked up).
    /// `quantized`: false keeps every tensor as an F32 copy.
    init(file: GGUFFile, name: String, rows: Int, columns: Int, forward: Bool = true, transposed: Bool = true,
         quantized: Bool = true) throws {
        guard let info = file.tensor(named: name) else { throw EngineError.missingTensor(name) }
        let expected = rows == 1 ? [columns] : [columns, rows]
        guard info.dimensions == expected else {
            throw EngineError.badTensorShape(tensor: name, expected: expected, found: info.dimensions)
        }
        guard pk_type_supported(Int32(info.type.rawValue)) != 0 else {
            throw EngineError.unsupportedTensorType(tensor: name, type: info.type.description)
        }
        self.rows = rows
        self.columns = columns
        let type = pk_type(rawValue: info.type.rawValue)
        let bytes = UnsafeRawPointer(file.bytes(of: info).baseAddress!)
        let rowBytes = info.rowBytes
        func dequantize(_ r: Int, _ out: UnsafeMutablePointer<Float>) {
            pk_dequantize_row(type, bytes + r * rowBytes, out, Int64(columns))
        }
        // Float tensors, and quantized types the interleaved kernels cannot run (Q5_1, Q5_K, Q6_K), are F32.
        let interleavable = [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q8_0, PK_Q4_K].contains(type)
        // Q8_0 needs rows of whole 32-value blocks in both directions.
        guard quantized, interleavable, columns % 32 == 0, rows % 32 == 0, rows > 1 else {
            let m = Matrix(rows, columns)
            for r in 0..<rows { dequantize(r, m[row: r]) }
            dense = m
            forwardWeights = nil
            transposedSlices = []
            stored = nil
            return
        }
        dense = nil
        stored = (type, bytes, rowBytes)
        switch type {
        case _ where !forward:
            forwardWeights = nil
        case PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q8_0:
            forwardWeights = QuantizedMatrix(type: type, rows: rows, n: columns, copying: bytes, rowStride: rowBytes)
        case PK_Q4_K:
            let q41 = Int(pk_row_bytes(PK_Q4_1, Int64(columns)))
            let converted = UnsafeMutableRawPointer.allocate(byteCount: rows * q41, alignment: 64)
            defer { converted.deallocate() }
            for r in 0..<rows { pk_convert_q4_K_to_q4_1(bytes + r * rowBytes, converted + r * q41, Int64(columns)) }
            forwardWeights = QuantizedMatrix(type: PK_Q4_1, rows: rows, n: columns, copying: converted, rowStride: q41)
        default:
            preconditionFailure("unreachable: \(type)")
        }
        guard transposed else {
            transposedSlices = []
            return
        }
        // Wᵀ slice by slice of W's rows, built from bands of 256 W rows dequantized at a time.
        var slices: [(Int, QuantizedMatrix)] = []
        let band = 256
        let rowsBuffer = Matrix(band, columns), bandT = Matrix(columns, band)
        var offset = 0
        while offset < rows {
            let n = min(QuantizedMatrix.maxRow, rows - offset)
            let slice = QuantizedMatrix(emptyQ8_0Rows: columns, n: n)
            var first = 0
            while first < n {
                let count = min(band, n - first)
                for r in 0..<count { dequantize(offset + first + r, rowsBuffer[row: r]) }
                for r in 0..<count {
                    let source = rowsBuffer[row: r]
                    for c in 0..<columns { bandT.pointer[c * band + r] = source[c] }
                }
                for c in 0..<columns { slice.setQ8_0(row: c, from: first, bandT[row: c], count: count) }
                first += count
            }
            slice.finish()
            slices.append((offset, slice))
            offset += n
        }
        transposedSlices = slices
    }

    /// Row `r` of W as floats (embedding look-up).
    func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let dense {
            out.update(from: dense[row: r], count: columns)
        } else if let stored {
            pk_dequantize_row(stored.type, stored.bytes + r * stored.rowBytes, out, Int64(columns))
        }
    }

    /// y[t] = W·x[t] for `count` rows of x (`xStride` apart) into y (`yStride` apart), overwriting y.
    func forward(_ x: UnsafePointer<Float>, xStride: Int, count: Int, into y: UnsafeMutablePointer<Float>, yStride: Int,
                 context: ComputeContext) {
        if let dense {
            context.gemm(transposeB: true, m: count, n: rows, k: columns, x, lda: xStride, dense.pointer, ldb: columns, beta: 0,
                         y, ldc: yStride)
        } else {
            forwardWeights!.multiply(x, xStride: xStride, count: count, into: y, yStride: yStride, accumulate: false,
                                     context: context)
        }
    }

    /// dx[t] += dy[t]·W for `count` rows (dy rows `dyStride` apart, dx rows `columns` apart).
    func backward(_ dy: UnsafePointer<Float>, dyStride: Int, count: Int, into dx: UnsafeMutablePointer<Float>,
                  context: ComputeContext) {
        if let dense {
            context.gemm(m: count, n: columns, k: rows, dy, lda: dyStride, dense.pointer, ldb: columns, beta: 1, dx, ldc: columns)
            return
        }
        precondition(!transposedSlices.isEmpty, "this matrix was loaded without its transpose")
        for (offset, slice) in transposedSlices {
            slice.multiply(dy + offset, xStride: dyStride, count: count, into: dx, yStride: columns, accumulate: true,
                           context: context)
        }
    }
}

/// A block-quantized matrix [rows][n] for the engine's integer kernels, rows interleaved 16 at a time where the
/// kernels allow (whole groups of 16 rows, n ≤ 16,384).
final class QuantizedMatrix: @unchecked Sendable {
    static let maxRow = 16_384
    let type: pk_type
    let rows: Int
    let n: Int
    let rowBytes: Int
    private(set) var interleaved = false
    private var data: UnsafeMutableRawPointer

    private init(type: pk_type, rows: Int, n: Int) {
        self.type = type
        self.rows = rows
        self.n = n
        rowBytes = Int(pk_row_bytes(type, Int64(n)))
        data = .allocate(byteCount: max(1, rows * rowBytes), alignment: 64)
    }

    deinit { data.deallocate() }

    /// A copy of `rows` rows already in `type`'s layout (`rowStride` bytes apart).
    convenience init(type: pk_type, rows: Int, n: Int, copying source: UnsafeRawPointer, rowStride: Int) {
        self.init(type: type, rows: rows, n: n)
        for r in 0..<rows { (data + r * rowBytes).copyMemory(from: source + r * rowStride, byteCount: rowBytes) }
        finish()
    }

    /// Q8_0 rows to be filled with `setQ8_0`, then `finish`ed.
    convenience init(emptyQ8_0Rows rows: Int, n: Int) { self.init(type: PK_Q8_0, rows: rows, n: n) }

    /// Quantizes `count` values (a multiple of 32, or the row's tail) into row `row` from column `first` (a
    /// multiple of 32).
    func setQ8_0(row: Int, from first: Int, _ values: UnsafePointer<Float>, count: Int) {
        precondition(type == PK_Q8_0 && first % 32 == 0 && !interleaved)
        let blockBytes = Int(pk_block_bytes(PK_Q8_0))
        pk_quantize_row(PK_Q8_0, values, data + row * rowBytes + first / 32 * blockBytes, Int64(count))
    }

    /// Packs the rows 16 at a time when the kernels can run them so.
    func finish() {
        guard !interleaved, pk_interleavable(type, Int64(n), Int64(rows)) != 0 else { return }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
        pk_interleave_weights(type, Int64(n), data, rowBytes, Int64(rows), packed)
        data.deallocate()
        data = packed
        interleaved = true
    }

    /// y[t][r] (+)= dot(row r, x[t]) for every row r and `count` inputs x[t] (n floats each, `xStride` apart).
    func multiply(_ x: UnsafePointer<Float>, xStride: Int, count: Int, into y: UnsafeMutablePointer<Float>, yStride: Int,
                  accumulate: Bool, context: ComputeContext) {
        guard count > 0 else { return }
        let data = UnsafeRawPointer(self.data), type = self.type, n = self.n, rowBytes = self.rowBytes
        let rows = self.rows, interleaved = self.interleaved
        let activation = pk_vec_dot_type(type)
        let qStride = Int(pk_row_bytes(activation, Int64(n)))
        let quantized = context.bytes(count * qStride)
        let pool = context.pool
        pool.parallelFor(count) { range in
            for t in range { pk_quantize_row(activation, x + t * xStride, quantized + t * qStride, Int64(n)) }
        }
        // The products land in scratch when they add to y.
        let target = accumulate ? context.floats(count * rows) : y
        let targetStride = accumulate ? rows : yStride
        let rowChunk = max(16, (rows / (pool.threadCount * 4) + 15) / 16 * 16)
        let rowChunks = (rows + rowChunk - 1) / rowChunk
        let columnBlock = 128
        let columnBlocks = (count + columnBlock - 1) / columnBlock
        pool.run(chunks: rowChunks * columnBlocks) { chunk, _ in
            let r0 = (chunk % rowChunks) * rowChunk, r1 = min(rows, r0 + rowChunk)
            let c0 = (chunk / rowChunks) * columnBlock, c1 = min(count, c0 + columnBlock)
            let input = UnsafeRawPointer(quantized + c0 * qStride), out = target + c0 * targetStride
            if interleaved {
                pk_interleaved_matmul(type, Int64(n), data, Int64(r0), Int64(r1), input, qStride, Int64(c1 - c0), out,
                                      targetStride)
            } else {
                pk_matmul(type, Int64(n), data, rowBytes, Int64(r0), Int64(r1), input, qStride, Int64(c1 - c0), out,
                          targetStride)
            }
        }
        guard accumulate else { return }
        pool.parallelFor(count) { range in
            for t in range {
                let source = target + t * rows, destination = y + t * yStride
                for r in 0..<rows { destination[r] += source[r] }
            }
        }
    }
}

/// The thread pool and reusable scratch of one trainer: every parallel loop of a step runs on `pool` (OpenBLAS
/// itself runs single-threaded, called from the pool's threads on disjoint blocks).
final class ComputeContext: @unchecked Sendable {
    let pool: WorkerPool
    private var byteScratch: UnsafeMutableRawPointer
    private var byteCapacity = 0
    private var floatScratch: UnsafeMutablePointer<Float>
    private var floatCapacity = 0

    init(threads: Int) {
        pool = WorkerPool(threads: threads)
        setMatrixThreads(1)
        byteScratch = .allocate(byteCount: 64, alignment: 64)
        floatScratch = .allocate(capacity: 16)
    }

    deinit {
        byteScratch.deallocate()
        floatScratch.deallocate()
    }

    /// Scratch bytes, valid until the next call.
    func bytes(_ count: Int) -> UnsafeMutableRawPointer {
        if count > byteCapacity {
            byteScratch.deallocate()
            byteScratch = .allocate(byteCount: count, alignment: 64)
            byteCapacity = count
        }
        return byteScratch
    }

    /// Scratch floats, valid until the next call.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > floatCapacity {
            floatScratch.deallocate()
            floatScratch = .allocate(capacity: count)
            floatCapacity = count
        }
        return floatScratch
    }

    /// `gemm` split over the pool: C's rows (or columns, when it has more of them) in contiguous blocks, one
    /// single-threaded sgemm each. The split depends only on the shape and the thread count, so results do too.
    func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
              _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
              _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        let threads = pool.threadCount
        guard threads > 1, m * n * max(k, 1) >= 1 << 16 else {
            ParleyTraining.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a, lda: lda,
                                b, ldb: ldb, beta: beta, c, ldc: ldc)
            return
        }
        let splitRows = m >= n
        let total = splitRows ? m : n
        let chunks = min(total, threads * 2)
        pool.run(chunks: chunks) { chunk, _ in
            let begin = total * chunk / chunks, end = total * (chunk + 1) / chunks
            guard begin < end else { return }
            if splitRows {
                ParleyTraining.gemm(transposeA: transposeA, transposeB: transposeB, m: end - begin, n: n, k: k, alpha: alpha,
                                    a + (transposeA ? begin : begin * lda), lda: lda, b, ldb: ldb, beta: beta,
                                    c + begin * ldc, ldc: ldc)
            } else {
                ParleyTraining.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: end - begin, k: k, alpha: alpha,
                                    a, lda: lda, b + (transposeB ? begin * ldb : begin), ldb: ldb, beta: beta, c + begin,
                                    ldc: ldc)
            }
        }
    }
}
