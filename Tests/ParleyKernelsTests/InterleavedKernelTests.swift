import CParleyKernels
import Testing

// Row-interleaved weights (pk_interleave_weights) must give, on every ISA, exactly the bits pk_matmul gives on the
// file layout — for any column count, any 16-row-aligned row range — and dequantize to the same rows.
extension ParleyKernelsTests {
    static let interleavableTypes: [pk_type] = [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q8_0, PK_Q6_K]

    @Test(arguments: interleavableTypes.map { $0.rawValue })
    func interleavedWeightsGiveTheFileLayoutsBits(rawType: UInt32) {
        let t = pk_type(rawValue: rawType)
        for n in t == PK_Q6_K ? [256, 768] : [96, 608] {
            let rows = 48, cols = 19
            let f = BatchFixture(t, n: n, rows: rows, cols: cols, seed: UInt64(rawType) * 31 + UInt64(n))
            #expect(pk_interleavable(t, Int64(n), Int64(rows)) == 1)
            var packed = [UInt8](repeating: 0, count: f.W.count)
            f.W.withUnsafeBytes { wp in
                packed.withUnsafeMutableBytes { pp in
                    pk_interleave_weights(t, Int64(n), wp.baseAddress, f.rowBytes, Int64(rows), pp.baseAddress)
                }
            }
            #expect(packed != f.W, "the layout changes")
            func interleaved(_ c0: Int, _ nc: Int, _ rb: Int, _ re: Int) -> [[UInt32]] {
                let ys = rows + 5
                var Y = [Float](repeating: .nan, count: ys * nc)
                packed.withUnsafeBytes { pp in
                    f.X.withUnsafeBytes { xp in
                        Y.withUnsafeMutableBufferPointer { yp in
                            pk_interleaved_matmul(t, Int64(n), pp.baseAddress, Int64(rb), Int64(re),
                                                  xp.baseAddress! + c0 * f.xBytes, f.xBytes, Int64(nc), yp.baseAddress, ys)
                        }
                    }
                }
                return (0..<nc).map { c in (rb..<re).map { Y[c * ys + $0].bitPattern } }
            }
            forEachISA { isa in
                for nc in [1, 2, 3, 4, 5, 8, 9, 16, 19] {
                    #expect(interleaved(0, nc, 0, rows) == f.matmul(0, nc, 0, rows), "isa \(isa) type \(rawType) n \(n) cols \(nc)")
                }
                #expect(interleaved(3, 7, 16, 48) == f.matmul(3, 7, 16, 48), "isa \(isa): a row range, later columns")
                #expect(interleaved(5, 1, 32, 48) == [f.matvec(5, 32, 48)], "isa \(isa): one column is the matvec")
            }
            var fromFile = [Float](repeating: 0, count: n), fromPacked = [Float](repeating: 1, count: n)
            for row in [0, 7, 15, 16, 33, 47] {
                f.W.withUnsafeBytes { pk_dequantize_row(t, $0.baseAddress! + row * f.rowBytes, &fromFile, Int64(n)) }
                packed.withUnsafeBytes { pk_interleaved_dequantize_row(t, Int64(n), $0.baseAddress, Int64(row), &fromPacked) }
                #expect(fromFile.map(\.bitPattern) == fromPacked.map(\.bitPattern), "row \(row)")
            }
        }
    }

    @Test func onlyWholeRowGroupsOfSupportedTypesInterleave() {
        #expect(pk_interleavable(PK_Q4_1, 576, 1536) == 1)
        #expect(pk_interleavable(PK_Q4_1, 576, 1530) == 0)
        #expect(pk_interleavable(PK_Q4_K, 2048, 1536) == 0)
        #expect(pk_interleavable(PK_Q8_0, 100, 32) == 0)
    }

    /// Q4_K rewritten as Q4_1 keeps every 4-bit code; only the per-sub-block scale and offset round to f16.
    @Test func q4KRewrittenAsQ41DequantizesToTheSameWeights() {
        var rng = Rng(99)
        let n = 512
        let source = randomWeights(PK_Q4_K, n: n, rows: 1, rng: &rng)
        var converted = [UInt8](repeating: 0, count: Int(pk_row_bytes(PK_Q4_1, Int64(n))))
        source.withUnsafeBytes { s in converted.withUnsafeMutableBytes { pk_convert_q4_K_to_q4_1(s.baseAddress, $0.baseAddress, Int64(n)) } }
        var exact = [Float](repeating: 0, count: n), rewritten = [Float](repeating: 0, count: n)
        source.withUnsafeBytes { pk_dequantize_row(PK_Q4_K, $0.baseAddress, &exact, Int64(n)) }
        converted.withUnsafeBytes { pk_dequantize_row(PK_Q4_1, $0.baseAddress, &rewritten, Int64(n)) }
        let scale = exact.map(abs).max()!
        #expect(scale > 0)
        for i in 0..<n {
            #expect(abs(exact[i] - rewritten[i]) <= scale * 0x1p-9, "element \(i): \(exact[i]) vs \(rewritten[i])")
        }
    }
}
