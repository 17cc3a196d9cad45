import CParleyKernels
import Foundation
import Testing

// Tests for the prefill GEMM tiles (panel edges, column tails, column chunks, K chunks), the fused MLP activations
// and the F16 attention loops. They live in the serialized suite because they switch the process-wide ISA.

/// float epsilon (2^-23): one ulp of 1.0.
let floatEps = Double(Float.ulpOfOne)

/// Activation tolerance: relative error of (8 + |e|) ulps, where e is the argument of exp(). Evaluating the argument
/// in float costs ~|e| ulps of relative error in exp(e) (e.g. GELU at g = -9 has e = 64), whatever exp itself does;
/// the 8 cover exp, the division and the product with `up`. Below 1e-30 an absolute floor covers flushed underflow.
func activationTolerance(want: Double, expArgument e: Double) -> Double {
    (8 + abs(e)) * floatEps * abs(want) + 1e-30
}

func siluReference(_ g: Double) -> (Double, Double) { (g / (1 + exp(-g)), -g) }

/// GELU-tanh in double via the tanh form where it is well conditioned, the equal sigmoid form where 1 + tanh cancels.
func geluTanhReference(_ g: Double) -> (Double, Double) {
    let z = (2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)
    let v = g >= 0 ? 0.5 * g * (1 + tanh(z)) : g / (1 + exp(-2 * z))
    return (v, -2 * z)
}

extension ParleyKernelsTests {
    // MARK: - Prefill GEMM: tile shapes and tails, every ISA against the scalar reference

    /// Σ|w|·|x| over dequantized values: the scale of the rounding error of a dot product.
    static func absScale(_ w: [Float], _ x: [Float]) -> Double {
        var a = 0.0
        for i in 0..<w.count { a += Double(abs(w[i])) * Double(abs(x[i])) }
        return a
    }

    @Test(arguments: [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q5_1, PK_Q8_0, PK_Q4_K, PK_Q5_K, PK_Q6_K].map { $0.rawValue })
    func matmulTileEdgesAgreeAcrossISAs(rawType: UInt32) {
        let t = pk_type(rawValue: rawType)
        let is256 = blockElements(t) == 256
        // (n, rows, row_begin, row_end, cols): rows not multiples of 16 (masked panel rows), a row range starting
        // mid-panel, columns that leave 1..7-column tails, more columns than one column chunk (256 for 32-element
        // blocks, 512 for K-quants), and K longer than one K chunk (1024 / 2048 elements) so partial sums are
        // accumulated into Y.
        let shapes: [(Int, Int, Int, Int, Int)] = is256
            ? [(256, 17, 0, 17, 9), (512, 40, 3, 37, 70), (2304, 16, 0, 16, 8), (4608, 21, 2, 21, 13), (1024, 33, 0, 33, 515)]
            : [(32, 5, 0, 5, 8), (608, 40, 3, 37, 70), (2112, 16, 0, 16, 15), (4160, 18, 1, 18, 12), (640, 33, 0, 33, 263), (1536, 16, 0, 16, 9)]
        var rng = Rng(UInt64(rawType) + 700)
        let dt = pk_vec_dot_type(t)
        for (n, rows, rb, re, cols) in shapes {
            let rowBytes = Int(pk_row_bytes(t, Int64(n)))
            let xBytes = Int(pk_row_bytes(dt, Int64(n)))
            let W = randomWeights(t, n: n, rows: rows, rng: &rng)
            var X = [UInt8]()
            for _ in 0..<cols { X += cQuantize(dt, randomFloats(n, rng: &rng)) }
            let wd = (0..<rows).map { r in cDequantize(t, Array(W[(r * rowBytes)..<((r + 1) * rowBytes)]), n) }
            let xd = (0..<cols).map { c in cDequantize(dt, Array(X[(c * xBytes)..<((c + 1) * xBytes)]), n) }
            let yStride = rows + 5
            var results = [[Float]]()
            forEachISA { isa in
                var Y = [Float](repeating: .nan, count: yStride * cols)
                W.withUnsafeBytes { wp in
                    X.withUnsafeBytes { xp in
                        Y.withUnsafeMutableBufferPointer { yp in
                            pk_matmul(t, Int64(n), wp.baseAddress, rowBytes, Int64(rb), Int64(re), xp.baseAddress, xBytes,
                                      Int64(cols), yp.baseAddress, yStride)
                        }
                    }
                }
                for c in 0..<cols {
                    for r in 0..<yStride where r < rb || r >= re {
                        #expect(Y[c * yStride + r].isNaN, "type \(rawType) isa \(isa.rawValue) n \(n): wrote row \(r) col \(c)")
                    }
                }
                results.append(Y)
            }
            for other in results.dropFirst() {
                for c in 0..<cols {
                    for r in rb..<re {
                        let i = c * yStride + r
                        let tol = 2e-6 * Self.absScale(wd[r], xd[c]) + 1e-6
                        #expect(abs(Double(other[i]) - Double(results[0][i])) <= tol,
                                "type \(rawType) n \(n) rows \(rows) cols \(cols): r \(r) c \(c) \(other[i]) vs \(results[0][i])")
                    }
                }
            }
            // the tile results are the vec_dot of the same row and column (checked on the widest ISA)
            for c in [0, cols / 2, cols - 1] {
                for r in [rb, (rb + re) / 2, re - 1] {
                    let d = cVecDot(t, n, W, X, wOffset: r * rowBytes, xOffset: c * xBytes)
                    let tol = 2e-6 * Self.absScale(wd[r], xd[c]) + 1e-6
                    #expect(abs(Double(d) - Double(results.last![c * yStride + r])) <= tol)
                }
            }
        }
    }

    @Test func matmulOverLessThanOneBlockWritesZeros() {
        var rng = Rng(9)
        let W = randomWeights(PK_Q4_0, n: 32, rows: 3, rng: &rng)
        let X = [UInt8](repeating: 1, count: 34 * 12)
        forEachISA { isa in
            var Y = [Float](repeating: .nan, count: 3 * 12)
            W.withUnsafeBytes { wp in
                X.withUnsafeBytes { xp in
                    Y.withUnsafeMutableBufferPointer { yp in
                        pk_matmul(PK_Q4_0, 16, wp.baseAddress, 18, 0, 3, xp.baseAddress, 34, 12, yp.baseAddress, 3)
                    }
                }
            }
            #expect(Y.allSatisfy { $0 == 0 }, "isa \(isa.rawValue)")
        }
    }

    // MARK: - Fused activations

    static func activationInputs() -> [Float] {
        var g: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, 20, -20, 100, -100, 88.6, -88.6, 87.5, -87.5, 89, -89, 1e-30, -1e-30,
                          1e-7, 3.5, -3.5, 8, -8, 9, -9, 10, -10, 1e20, -1e20, Float.greatestFiniteMagnitude,
                          -Float.greatestFiniteMagnitude]
        var rng = Rng(4242)
        for i in 0..<400 { g.append(rng.float(-12, 12) * (i % 5 == 0 ? 4 : 1)) }
        return g
    }

    func checkActivation(_ name: String, _ f: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int64) -> Void,
                         _ reference: (Double) -> (Double, Double)) {
        let g = Self.activationInputs()
        var rng = Rng(77)
        let up = (0..<g.count).map { i in i < 40 ? Float(1) : rng.float(-2, 2) }
        forEachISA { isa in
            // several lengths so every vector width sees full vectors and every tail length
            for n in [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, g.count] {
                var out = Array(g[0..<n])
                out.withUnsafeMutableBufferPointer { op in up.withUnsafeBufferPointer { f(op.baseAddress!, $0.baseAddress!, Int64(n)) } }
                for i in 0..<n {
                    let (a, e) = reference(Double(g[i]))
                    let want = a * Double(up[i])
                    #expect(out[i].isFinite || !want.magnitude.isFinite, "\(name) isa \(isa.rawValue) g \(g[i]) -> \(out[i])")
                    #expect(abs(Double(out[i]) - want) <= activationTolerance(want: want, expArgument: e),
                            "\(name) isa \(isa.rawValue) n \(n) g \(g[i]) up \(up[i]): \(out[i]) vs \(want)")
                }
            }
        }
    }

    @Test func siluMulMatchesDouble() {
        checkActivation("silu", { pk_silu_mul($0, $1, $2) }, siluReference)
        // the edge cases the engine relies on, by value
        forEachISA { _ in
            var g: [Float] = [-100, 100, 0, -20]
            pk_silu_mul(&g, [1, 1, 1, 2], 4)
            #expect(g[0] <= 0 && g[0] > -1e-30)
            #expect(g[1] == 100)
            #expect(g[2] == 0)
            #expect(abs(g[3] - Float(2 * -20 / (1 + exp(20.0)))) <= 1e-13)
        }
    }

    @Test func geluTanhMulMatchesDouble() {
        checkActivation("gelu", { pk_gelu_tanh_mul($0, $1, $2) }, geluTanhReference)
        forEachISA { _ in
            var g: [Float] = [20, -20, 0, 1]
            pk_gelu_tanh_mul(&g, [1, 1, 1, 1], 4)
            #expect(g[0] == 20)
            #expect(g[1] <= 0 && g[1] > -1e-30)
            #expect(g[2] == 0)
            #expect(abs(Double(g[3]) - 0.8411919906082768) <= 4 * floatEps)
        }
    }

    @Test func activationsLeaveUpAndNeighboursAlone() {
        forEachISA { _ in
            var buf = [Float](repeating: 7, count: 21)
            let up = [Float](repeating: 3, count: 21)
            buf.withUnsafeMutableBufferPointer { p in pk_silu_mul(p.baseAddress! + 2, up, 17) }
            #expect(buf[0] == 7 && buf[1] == 7 && buf[19] == 7 && buf[20] == 7)
            #expect(abs(Double(buf[2]) - 3 * 7 / (1 + exp(-7.0))) <= 1e-5)
            #expect(up.allSatisfy { $0 == 3 })
        }
    }

    // MARK: - F16 attention loops

    @Test func f16DotAndAxpyMatchDouble() {
        var rng = Rng(31337)
        forEachISA { isa in
            for n in [1, 5, 8, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
                let q = (0..<n).map { _ in rng.float(-2, 2) }
                let kf = (0..<n).map { i in i % 11 == 3 ? rng.float(-1, 1) * 1e-6 : rng.float(-3, 3) }  // some subnormal halves
                let k = kf.map { f16bits($0) }
                var want = 0.0, scale = 0.0
                for i in 0..<n {
                    let p = Double(q[i]) * Double(f16value(k[i]))
                    want += p
                    scale += abs(p)
                }
                let got = q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { pk_dot_f32_f16(qp.baseAddress, $0.baseAddress, Int64(n)) } }
                // float summation of n terms: error below n·eps·Σ|q·k| in the worst case; 2e-6 covers n ≤ 257 here
                // because the SIMD code keeps 8-32 independent partial sums.
                #expect(abs(Double(got) - want) <= 2e-6 * scale + 1e-30, "dot isa \(isa.rawValue) n \(n): \(got) vs \(want)")

                let a = rng.float(-1.5, 1.5)
                let y0 = (0..<(n + 2)).map { _ in rng.float(-1, 1) }
                var y = y0
                y.withUnsafeMutableBufferPointer { yp in k.withUnsafeBufferPointer { pk_axpy_f16(a, $0.baseAddress, yp.baseAddress, Int64(n)) } }
                for i in 0..<n {
                    let av = Double(a) * Double(f16value(k[i]))
                    let w = Double(y0[i]) + av
                    #expect(abs(Double(y[i]) - w) <= floatEps * (abs(av) + abs(Double(y0[i]))), "axpy isa \(isa.rawValue) n \(n) i \(i)")
                }
                #expect(y[n] == y0[n] && y[n + 1] == y0[n + 1], "axpy wrote past n")
            }
            #expect(pk_dot_f32_f16([1], [0x3C00], 0) == 0)
        }
    }
}
