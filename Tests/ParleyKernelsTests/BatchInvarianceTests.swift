import CParleyKernels
import Testing

// Batch invariance: for a given ISA, the result for (weight row, activation column) is the same float, bit for bit,
// whichever path computes it — pk_vec_dot, pk_matvec, the register tiles or the panel GEMM of pk_matmul — and
// whatever else is in the call: the row range (thread split), the number of columns, the column's position.
// A continuous-batching server depends on it: a request must not get different logits under different load.

/// Activations like a transformer's residual stream: mostly O(1), with an occasional outlier of a few hundred.
func outlierActivations(_ n: Int, rng: inout Rng) -> [Float] {
    var x = (0..<n).map { _ in rng.float(-1, 1) }
    var i = Int(rng.next() % 64)
    while i < n {
        x[i] = (rng.next() & 1 == 0 ? 1 : -1) * rng.float(250, 320)
        i += 40 + Int(rng.next() % 90)
    }
    return x
}

extension ParleyKernelsTests {
    static let quantizedTypes: [pk_type] = [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q5_1, PK_Q8_0, PK_Q4_K, PK_Q5_K, PK_Q6_K]

    /// Fixture: `rows` weight rows and `cols` activation columns of n elements.
    struct BatchFixture {
        let t: pk_type, n: Int, rows: Int, cols: Int
        let W: [UInt8], X: [UInt8], rowBytes: Int, xBytes: Int

        init(_ t: pk_type, n: Int, rows: Int, cols: Int, seed: UInt64) {
            var rng = Rng(seed)
            self.t = t
            self.n = n
            self.rows = rows
            self.cols = cols
            W = randomWeights(t, n: n, rows: rows, rng: &rng)
            var x = [UInt8]()
            for _ in 0..<cols { x += cQuantize(pk_vec_dot_type(t), outlierActivations(n, rng: &rng)) }
            X = x
            rowBytes = Int(pk_row_bytes(t, Int64(n)))
            xBytes = Int(pk_row_bytes(pk_vec_dot_type(t), Int64(n)))
        }

        /// pk_matvec of column c over rows [rb, re), as bit patterns.
        func matvec(_ c: Int, _ rb: Int, _ re: Int) -> [UInt32] {
            var out = [Float](repeating: .nan, count: re - rb)
            W.withUnsafeBytes { wp in
                X.withUnsafeBytes { xp in
                    out.withUnsafeMutableBufferPointer { op in
                        pk_matvec(t, Int64(n), wp.baseAddress, rowBytes, Int64(rb), Int64(re), xp.baseAddress! + c * xBytes,
                                  op.baseAddress)
                    }
                }
            }
            return out.map(\.bitPattern)
        }

        /// pk_matmul of columns [c0, c0 + nc) over rows [rb, re); result[c][r - rb] as bit patterns.
        func matmul(_ c0: Int, _ nc: Int, _ rb: Int, _ re: Int) -> [[UInt32]] {
            let ys = rows + 3
            var Y = [Float](repeating: .nan, count: ys * nc)
            W.withUnsafeBytes { wp in
                X.withUnsafeBytes { xp in
                    Y.withUnsafeMutableBufferPointer { yp in
                        pk_matmul(t, Int64(n), wp.baseAddress, rowBytes, Int64(rb), Int64(re), xp.baseAddress! + c0 * xBytes,
                                  xBytes, Int64(nc), yp.baseAddress, ys)
                    }
                }
            }
            return (0..<nc).map { c in (rb..<re).map { Y[c * ys + $0].bitPattern } }
        }

        func vecDot(_ r: Int, _ c: Int) -> UInt32 {
            cVecDot(t, n, W, X, wOffset: r * rowBytes, xOffset: c * xBytes).bitPattern
        }
    }

    /// K lengths per type: a partial 4-block step, more than one panel K chunk (32 blocks / 8 super-blocks).
    static func batchLengths(_ t: pk_type) -> [Int] {
        blockElements(t) == 256 ? [256, 2304] : (blockElements(t) == 32 ? [96, 608, 1120] : [611])
    }

    @Test(arguments: allWeightTypes.map { $0.rawValue })
    func resultsAreBitIdenticalWhateverTheBatch(rawType: UInt32) {
        let t = pk_type(rawValue: rawType)
        let rows = 37, cols = 300
        for n in Self.batchLengths(t) {
            let f = BatchFixture(t, n: n, rows: rows, cols: cols, seed: UInt64(rawType) * 31 + UInt64(n))
            forEachISA { isa in
                let where_ = "type \(rawType) n \(n) isa \(pk_isa_name(isa).map { String(cString: $0) } ?? "?")"
                // the canonical values: one matvec per column over all rows
                let ref = (0..<cols).map { f.matvec($0, 0, rows) }
                #expect(ref.allSatisfy { $0.allSatisfy { !Float(bitPattern: $0).isNaN } }, "\(where_): matvec left NaN")
                // matmul with every column count, at several positions in the batch, with several row ranges
                let rowRanges = [(0, rows), (3, rows - 2), (17, 30), (rows - 1, rows), (5, 6)]
                var k = 0
                for nc in [1, 2, 3, 5, 7, 8, 12, 13, 16, 64, 300] {
                    for c0 in Set([0, cols - nc, (nc * 37 + 11) % (cols - nc + 1)]).sorted() {
                        let (rb, re) = rowRanges[k % rowRanges.count]
                        k += 1
                        let y = f.matmul(c0, nc, rb, re)
                        var bad = 0
                        for c in 0..<nc {
                            for r in rb..<re where y[c][r - rb] != ref[c0 + c][r] {
                                if bad < 3 {
                                    Issue.record("\(where_): matmul \(nc) cols from \(c0), rows \(rb)..<\(re): (r \(r), c \(c0 + c)) \(Float(bitPattern: y[c][r - rb])) vs matvec \(Float(bitPattern: ref[c0 + c][r]))")
                                }
                                bad += 1
                            }
                        }
                        #expect(bad == 0, "\(where_): \(bad) differences at \(nc) columns")
                    }
                }
                // matvec over row sub-ranges (thread splits) and single rows, and vec_dot
                for (rb, re) in [(1, rows), (0, 5), (4, 21), (16, 33), (36, 37)] {
                    for c in [0, 151, cols - 1] {
                        #expect(f.matvec(c, rb, re) == Array(ref[c][rb..<re]), "\(where_): matvec rows \(rb)..<\(re) col \(c)")
                    }
                }
                for r in [0, 13, rows - 1] {
                    for c in [0, 77, cols - 1] {
                        #expect(f.vecDot(r, c) == ref[c][r], "\(where_): vec_dot (\(r), \(c))")
                    }
                }
            }
        }
    }

    /// The SIMD paths follow the scalar reference's float order exactly, so (with FMA hardware) the quantized
    /// products are even bit-identical across instruction sets.
    @Test(arguments: quantizedTypes.map { $0.rawValue })
    func quantizedResultsAreBitIdenticalAcrossISAs(rawType: UInt32) {
        let t = pk_type(rawValue: rawType)
        for n in Self.batchLengths(t) {
            let f = BatchFixture(t, n: n, rows: 21, cols: 20, seed: UInt64(rawType) + 5 * UInt64(n))
            var results = [[[UInt32]]]()
            forEachISA { _ in results.append(f.matmul(0, 20, 0, 21) + f.matmul(0, 3, 0, 21) + [f.matvec(7, 0, 21)]) }
            for other in results.dropFirst() {
                #expect(other == results[0], "type \(rawType) n \(n): an ISA differs from the scalar reference")
            }
        }
    }

    /// A decode step of one sequence alone equals the same sequence's column in a batch of many (the serving case),
    /// with activation magnitudes where rounding differences used to be amplified.
    @Test func decodeAloneEqualsDecodeInABatch() {
        let t = PK_Q8_0, n = 576, rows = 200
        let f = BatchFixture(t, n: n, rows: rows, cols: 48, seed: 4242)
        forEachISA { isa in
            let alone = f.matvec(30, 0, rows)
            for (c0, nc) in [(30, 1), (29, 2), (28, 4), (26, 6), (23, 9), (0, 48)] {
                // split the rows like a thread pool would
                var batched = [UInt32]()
                for (rb, re) in [(0, 53), (53, 128), (128, rows)] { batched += f.matmul(c0, nc, rb, re)[30 - c0] }
                #expect(batched == alone, "isa \(isa.rawValue): \(nc) columns")
            }
        }
    }
}
