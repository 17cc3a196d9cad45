import CParleyKernels
import Foundation
import Testing

/// Block-wise attention loops over F16 rows, on every instruction set, against a double-precision reference.
@Suite(.serialized) struct AttentionKernelTests {
    static let isas: [pk_isa] = [PK_ISA_SCALAR, PK_ISA_AVX2, PK_ISA_AVX512_VNNI]

    func halves(_ values: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { pk_f32_to_f16(src.baseAddress!, $0.baseAddress!, Int64(values.count)) } }
        return out
    }

    func floats(_ h: [UInt16]) -> [Float] {
        var out = [Float](repeating: 0, count: h.count)
        h.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { pk_f16_to_f32(src.baseAddress!, $0.baseAddress!, Int64(h.count)) } }
        return out
    }

    @Test(arguments: [64, 256, 40])
    func scoresAndAccumulationMatchTheReference(headDim n: Int) {
        var rng = SystemRandomNumberGenerator()
        let rows = 13, stride = n * 3 + 5
        let q = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
        let kv = halves((0..<(rows * stride)).map { _ in Float.random(in: -3...3, using: &rng) })
        let kvFloats = floats(kv)
        let weights = (0..<rows).map { _ in Float.random(in: 0...1, using: &rng) }
        let start = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        let previous = pk_active_isa()
        defer { _ = pk_force_isa(previous) }
        for isa in Self.isas {
            _ = pk_force_isa(isa)
            var scores = [Float](repeating: 0, count: rows)
            pk_attn_scores_f16(q, kv, stride, Int64(rows), Int64(n), 0.125, &scores)
            var y = start
            pk_attn_accumulate_f16(weights, kv, stride, Int64(rows), Int64(n), &y)
            for r in 0..<rows {
                let exact = 0.125 * (0..<n).reduce(0.0) { $0 + Double(q[$1]) * Double(kvFloats[r * stride + $1]) }
                #expect(abs(Double(scores[r]) - exact) <= 1e-4 * max(1, abs(exact)), "isa \(isa.rawValue) row \(r)")
            }
            for i in 0..<n {
                let exact = Double(start[i]) + (0..<rows).reduce(0.0) { $0 + Double(weights[$1]) * Double(kvFloats[$1 * stride + i]) }
                #expect(abs(Double(y[i]) - exact) <= 1e-4 * max(1, abs(exact)), "isa \(isa.rawValue) element \(i)")
            }
        }
    }

    /// The grouped-query kernels give each head exactly what the one-head kernels give it, on every ISA.
    @Test(arguments: [1, 2, 3, 4, 5, 8])
    func headGroupsMatchOneHeadAtATime(heads: Int) {
        var rng = SystemRandomNumberGenerator()
        let n = 64, rows = 11, stride = n * 2 + 3, capacity = rows + 5
        let q = (0..<(heads * n)).map { _ in Float.random(in: -2...2, using: &rng) }
        let kv = halves((0..<(rows * stride)).map { _ in Float.random(in: -3...3, using: &rng) })
        let weights = (0..<(heads * capacity)).map { _ in Float.random(in: 0...1, using: &rng) }
        let start = (0..<(heads * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let previous = pk_active_isa()
        defer { _ = pk_force_isa(previous) }
        for isa in Self.isas {
            _ = pk_force_isa(isa)
            var grouped = [Float](repeating: 0, count: heads * capacity)
            pk_attn_scores_f16_heads(q, n, Int64(heads), kv, stride, Int64(rows), Int64(n), 0.125, &grouped, capacity)
            var y = start
            pk_attn_accumulate_f16_heads(weights, capacity, Int64(heads), kv, stride, Int64(rows), Int64(n), &y, n)
            for h in 0..<heads {
                var single = [Float](repeating: 0, count: rows)
                q.withUnsafeBufferPointer { pk_attn_scores_f16($0.baseAddress! + h * n, kv, stride, Int64(rows), Int64(n), 0.125, &single) }
                #expect(Array(grouped[(h * capacity)..<(h * capacity + rows)]) == single, "isa \(isa.rawValue) head \(h) scores")
                var one = Array(start[(h * n)..<(h * n + n)])
                weights.withUnsafeBufferPointer { pk_attn_accumulate_f16($0.baseAddress! + h * capacity, kv, stride, Int64(rows), Int64(n), &one) }
                #expect(Array(y[(h * n)..<(h * n + n)]) == one, "isa \(isa.rawValue) head \(h) accumulation")
            }
        }
    }
}
