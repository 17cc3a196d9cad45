import CParleyKernels
import Testing

// All kernel tests share the process-wide ISA choice, so they run one at a time.
@Suite(.serialized) struct ParleyKernelsTests {
    // MARK: - Type metadata

    @Test func blockGeometry() {
        let expected: [(pk_type, Int64, Int64)] = [
            (PK_F32, 1, 4), (PK_F16, 1, 2), (PK_BF16, 1, 2), (PK_Q4_0, 32, 18), (PK_Q4_1, 32, 20), (PK_Q5_0, 32, 22),
            (PK_Q5_1, 32, 24), (PK_Q8_0, 32, 34), (PK_Q8_1, 32, 36), (PK_Q4_K, 256, 144), (PK_Q5_K, 256, 176),
            (PK_Q6_K, 256, 210), (PK_Q8_K, 256, 292),
        ]
        for (t, e, b) in expected {
            #expect(pk_block_elements(t) == e)
            #expect(pk_block_bytes(t) == b)
            #expect(pk_type_supported(Int32(t.rawValue)) == 1)
        }
        #expect(pk_row_bytes(PK_Q4_1, 576) == 18 * 20)
        #expect(pk_row_bytes(PK_Q6_K, 2048) == 8 * 210)
        #expect(pk_row_bytes(PK_F16, 7) == 14)
        #expect(pk_type_supported(10) == 0)  // Q2_K
        #expect(pk_type_supported(16) == 0)
        #expect(pk_vec_dot_type(PK_Q4_0) == PK_Q8_0)
        #expect(pk_vec_dot_type(PK_Q5_0) == PK_Q8_0)
        #expect(pk_vec_dot_type(PK_Q8_0) == PK_Q8_0)
        #expect(pk_vec_dot_type(PK_Q4_1) == PK_Q8_1)
        #expect(pk_vec_dot_type(PK_Q5_1) == PK_Q8_1)
        #expect(pk_vec_dot_type(PK_Q4_K) == PK_Q8_K)
        #expect(pk_vec_dot_type(PK_Q5_K) == PK_Q8_K)
        #expect(pk_vec_dot_type(PK_Q6_K) == PK_Q8_K)
        #expect(pk_vec_dot_type(PK_F16) == PK_F32)
        #expect(pk_vec_dot_type(PK_BF16) == PK_F32)
        #expect(pk_vec_dot_type(PK_F32) == PK_F32)
    }

    @Test func isaSelection() {
        let saved = pk_active_isa()
        defer { _ = pk_force_isa(saved) }
        #expect(pk_force_isa(PK_ISA_SCALAR) == PK_ISA_SCALAR)
        #expect(pk_active_isa() == PK_ISA_SCALAR)
        let best = pk_force_isa(PK_ISA_AVX512_VNNI)
        #expect(pk_active_isa() == best)
        #expect(String(cString: pk_isa_name(PK_ISA_SCALAR)) == "scalar")
        #expect(String(cString: pk_isa_name(PK_ISA_AVX2)) == "avx2")
        #expect(String(cString: pk_isa_name(PK_ISA_AVX512_VNNI)) == "avx512")
        #if arch(x86_64)
        // Every x86 host this project runs on has at least AVX2 (the Swift code is built for x86-64-v3).
        #expect(best.rawValue >= PK_ISA_AVX2.rawValue)
        #else
        #expect(best == PK_ISA_SCALAR)
        #endif
    }

    // MARK: - Half precision

    @Test func halfConversions() {
        forEachISA { isa in
            let known: [(Float, UInt16)] = [
                (1.0, 0x3C00), (-2.0, 0xC000), (65504, 0x7BFF), (0.5, 0x3800), (0.1, 0x2E66), (0, 0x0000),
                (-0.0, 0x8000), (5.960_464_5e-8, 0x0001), (6.103_515_6e-5, 0x0400), (70000, 0x7C00),
                (Float.infinity, 0x7C00), (-Float.infinity, 0xFC00),
                (1.000_488_3, 0x3C00),  // exactly halfway between 1 and 1+2^-10: ties to even
                (1.001_464_8, 0x3C02),  // halfway between 1+2^-10 and 1+2^-9: ties to even (up)
            ]
            var src = known.map { $0.0 }
            var out = [UInt16](repeating: 0, count: src.count)
            pk_f32_to_f16(&src, &out, Int64(src.count))
            for (i, k) in known.enumerated() { #expect(out[i] == k.1, "isa \(isa.rawValue): \(k.0)") }

            var rng = Rng(7)
            var many: [Float] = (0..<4099).map { i in
                let m = rng.float(-1, 1)
                return m * Float(pow2(Int(i % 40) - 26))
            }
            many.append(65519.99); many.append(65520); many.append(-1e-8); many.append(3e-8)
            var halves = [UInt16](repeating: 0, count: many.count)
            pk_f32_to_f16(&many, &halves, Int64(many.count))
            for i in 0..<many.count { #expect(halves[i] == Float16(many[i]).bitPattern, "value \(many[i])") }

            var all = (0...0xFFFF).map { UInt16($0) }
            var back = [Float](repeating: 0, count: all.count)
            pk_f16_to_f32(&all, &back, Int64(all.count))
            var mismatches = 0
            for h in all {
                let want = Float(Float16(bitPattern: h))
                let got = back[Int(h)]
                if want.isNaN ? !got.isNaN : want.bitPattern != got.bitPattern { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }
    }

    // MARK: - Hand-built blocks: dequantization

    @Test func q4_0Dequant() {
        var w = BlockWriter()
        w.f16(0.5)
        w.u8s((0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 })
        let y = cDequantize(PK_Q4_0, w.bytes, 32)
        #expect(y[0] == -4.0)
        #expect(y[15] == 3.5)
        #expect(y[16] == 3.5)
        #expect(y[31] == -4.0)
        for j in 0..<16 {
            #expect(y[j] == Float(j - 8) * 0.5)
            #expect(y[j + 16] == Float(7 - j) * 0.5)
        }
        #expect(y == swiftDequantize(PK_Q4_0, w.bytes, 32))
    }

    @Test func q4_1Dequant() {
        var w = BlockWriter()
        w.f16(0.25); w.f16(-1)
        w.u8s((0..<16).map { UInt8($0) | UInt8($0) << 4 })
        let y = cDequantize(PK_Q4_1, w.bytes, 32)
        #expect(y[0] == -1.0)
        #expect(y[15] == 2.75)
        for j in 0..<16 {
            #expect(y[j] == Float(j) * 0.25 - 1)
            #expect(y[j + 16] == Float(j) * 0.25 - 1)
        }
        #expect(y == swiftDequantize(PK_Q4_1, w.bytes, 32))
    }

    static func q5Quants() -> (UInt32, [UInt8]) {
        (0xF0F0_0F0F, (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 })
    }

    @Test func q5_0Dequant() {
        let (qh, qs) = Self.q5Quants()
        var w = BlockWriter()
        w.f16(2); w.u32(qh); w.u8s(qs)
        let y = cDequantize(PK_Q5_0, w.bytes, 32)
        #expect(y[0] == 0)      // nibble 0, high bit set: 16 - 16
        #expect(y[4] == -24)    // nibble 4, no high bit: (4 - 16) * 2
        #expect(y[16] == -2)    // nibble 15, bit 16 clear
        #expect(y[20] == 22)    // nibble 11, bit 20 set: (27 - 16) * 2
        #expect(y == swiftDequantize(PK_Q5_0, w.bytes, 32))
    }

    @Test func q5_1Dequant() {
        let (qh, qs) = Self.q5Quants()
        var w = BlockWriter()
        w.f16(0.5); w.f16(1); w.u32(qh); w.u8s(qs)
        let y = cDequantize(PK_Q5_1, w.bytes, 32)
        #expect(y[0] == 9)
        #expect(y[4] == 3)
        #expect(y[16] == 8.5)
        #expect(y[20] == 14.5)
        #expect(y == swiftDequantize(PK_Q5_1, w.bytes, 32))
    }

    @Test func q8Dequant() {
        var w = BlockWriter()
        w.f16(0.125); w.i8s((0..<32).map { Int8($0 * 8 - 128) })
        let y = cDequantize(PK_Q8_0, w.bytes, 32)
        #expect(y[0] == -16)
        #expect(y[31] == 15)
        #expect(y == swiftDequantize(PK_Q8_0, w.bytes, 32))

        var a = BlockWriter()
        a.f16(0.25); a.f16(123); a.i8s((0..<32).map { Int8($0 - 16) })
        let z = cDequantize(PK_Q8_1, a.bytes, 32)
        #expect(z[0] == -4)
        #expect(z[31] == 3.75)

        var k = BlockWriter()
        k.f32(0.5); k.i8s((0..<256).map { Int8($0 - 128) })
        for _ in 0..<16 { k.i16(0) }
        let q = cDequantize(PK_Q8_K, k.bytes, 256)
        #expect(q[0] == -64)
        #expect(q[255] == 63.5)
        #expect(q == swiftDequantize(PK_Q8_K, k.bytes, 256))
    }

    static let k4sc: [UInt8] = [1, 2, 3, 63, 17, 32, 47, 5]
    static let k4mn: [UInt8] = [0, 63, 5, 10, 33, 48, 16, 2]

    @Test func k4ScalePacking() {
        let packed = packK4Scales(Self.k4sc, Self.k4mn)
        #expect(packed[0] == 65)   // sc0 = 1 plus the top bits (01) of sc4 = 17
        #expect(packed[8] == 17)   // low nibbles of sc4 (1) and mn4 (33 -> 1)
        let (sc, mn) = unpackK4Scales(packed)
        #expect(sc == Self.k4sc.map { Int($0) })
        #expect(mn == Self.k4mn.map { Int($0) })
    }

    static func k4Quants() -> [UInt8] { (0..<128).map { UInt8($0 % 16) | UInt8(15 - $0 % 16) << 4 } }

    @Test func q4_KDequant() {
        var w = BlockWriter()
        w.f16(0.5); w.f16(0.25); w.u8s(packK4Scales(Self.k4sc, Self.k4mn)); w.u8s(Self.k4Quants())
        let y = cDequantize(PK_Q4_K, w.bytes, 256)
        #expect(y[0] == 0)
        #expect(y[1] == 0.5)
        #expect(y[32] == -0.75)         // sub-block 1: 0.5*2*15 - 0.25*63
        #expect(y[128 + 32 + 3] == 180) // sub-block 5: 0.5*32*12 - 0.25*48
        for e in 0..<256 {
            let sub = e / 32, l = e % 32
            let q = sub % 2 == 0 ? l % 16 : 15 - l % 16
            #expect(y[e] == 0.5 * Float(Self.k4sc[sub]) * Float(q) - 0.25 * Float(Self.k4mn[sub]))
        }
        #expect(y == swiftDequantize(PK_Q4_K, w.bytes, 256))
    }

    @Test func q5_KDequant() {
        var w = BlockWriter()
        w.f16(0.5); w.f16(0.25); w.u8s(packK4Scales(Self.k4sc, Self.k4mn))
        w.u8s([UInt8](repeating: 0b1010_0101, count: 32))  // high bit for sub-blocks 0, 2, 5, 7
        w.u8s(Self.k4Quants())
        let y = cDequantize(PK_Q5_K, w.bytes, 256)
        #expect(y[0] == 8)
        #expect(y[32] == -0.75)
        #expect(y[128 + 32 + 3] == 436)  // 0.5*32*(12+16) - 0.25*48
        for e in 0..<256 {
            let sub = e / 32, l = e % 32
            let high = [0, 2, 5, 7].contains(sub) ? 16 : 0
            let q = (sub % 2 == 0 ? l % 16 : 15 - l % 16) + high
            #expect(y[e] == 0.5 * Float(Self.k4sc[sub]) * Float(q) - 0.25 * Float(Self.k4mn[sub]))
        }
        #expect(y == swiftDequantize(PK_Q5_K, w.bytes, 256))
    }

    @Test func q6_KDequant() {
        let scales: [Int8] = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16]
        var w = BlockWriter()
        w.u8s((0..<128).map { UInt8($0 % 16) | UInt8(15 - $0 % 16) << 4 })
        w.u8s([UInt8](repeating: 0xE4, count: 64))  // 2-bit fields 0,1,2,3 for the four quarters
        w.i8s(scales)
        w.f16(0.5)
        let y = cDequantize(PK_Q6_K, w.bytes, 256)
        #expect(y[0] == -16)              // (0 | 0<<4) - 32 = -32, scale 1
        #expect(y[32] == -24)             // (0 | 1<<4) - 32 = -16, scale 3
        #expect(y[64 + 17] == -42)        // (14 | 2<<4) - 32 = 14, scale -6
        #expect(y[128 + 96 + 31] == -128) // (0 | 3<<4) - 32 = 16, scale -16
        #expect(y == swiftDequantize(PK_Q6_K, w.bytes, 256))
    }

    @Test func floatDequant() {
        let vals: [Float] = [1, -2.5, 0.333, 1e-3, -65504, 7]
        var f16 = BlockWriter(), bf = BlockWriter(), f32 = BlockWriter()
        for v in vals { f16.f16(v); bf.u16(UInt16(v.bitPattern >> 16)); f32.f32(v) }
        #expect(cDequantize(PK_F32, f32.bytes, vals.count) == vals)
        #expect(cDequantize(PK_F16, f16.bytes, vals.count) == vals.map { Float(Float16($0)) })
        #expect(cDequantize(PK_BF16, bf.bytes, vals.count) == vals.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
    }

    @Test func randomBlocksDequantizeLikeSwiftModel() {
        var rng = Rng(11)
        for t in allWeightTypes {
            let n = 512
            let w = randomWeights(t, n: n, rows: 1, rng: &rng)
            #expect(cDequantize(t, w, n) == swiftDequantize(t, w, n), "type \(t.rawValue)")
        }
    }

    // MARK: - Hand-built dot products

    @Test func handDotProducts() {
        forEachISA { isa in
            var w = BlockWriter()
            w.f16(0.5); w.u8s((0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 })
            var x = BlockWriter()
            x.f16(1); x.i8s([Int8](repeating: 1, count: 32))
            #expect(cVecDot(PK_Q4_0, 32, w.bytes, x.bytes) == -8, "isa \(isa.rawValue)")

            var w1 = BlockWriter()
            w1.f16(0.25); w1.f16(-1); w1.u8s((0..<16).map { UInt8($0) | UInt8($0) << 4 })
            var x1 = BlockWriter()
            x1.f16(0.5); x1.f16(32); x1.i8s([Int8](repeating: 2, count: 32))
            #expect(cVecDot(PK_Q4_1, 32, w1.bytes, x1.bytes) == 28, "isa \(isa.rawValue)")

            // Q8_0 · Q8_0 including the extreme -128 weight: Σ (8j-128)*(j-16) * 0.125 * 0.5
            var w8 = BlockWriter()
            w8.f16(0.125); w8.i8s((0..<32).map { Int8($0 * 8 - 128) })
            var x8 = BlockWriter()
            x8.f16(0.5); x8.i8s((0..<32).map { Int8($0 - 16) })
            var s = 0
            for j in 0..<32 { s += (8 * j - 128) * (j - 16) }
            #expect(cVecDot(PK_Q8_0, 32, w8.bytes, x8.bytes) == Float(s) * 0.0625, "isa \(isa.rawValue)")

            // Q6_K against constant activations: every element times 1 * d_x
            let scales: [Int8] = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16]
            var w6 = BlockWriter()
            w6.u8s((0..<128).map { UInt8($0 % 16) | UInt8(15 - $0 % 16) << 4 })
            w6.u8s([UInt8](repeating: 0xE4, count: 64))
            w6.i8s(scales); w6.f16(0.5)
            var xk = BlockWriter()
            xk.f32(0.25); xk.i8s([Int8](repeating: 1, count: 256))
            for _ in 0..<16 { xk.i16(16) }
            let deq = swiftDequantize(PK_Q6_K, w6.bytes, 256)
            let want = deq.reduce(0, +) * 0.25
            #expect(abs(cVecDot(PK_Q6_K, 256, w6.bytes, xk.bytes) - want) <= 1e-3, "isa \(isa.rawValue)")

            // Q4_K: bsums drive the min term; with x = 1 everywhere the dot is Σ y * d_x
            var w4 = BlockWriter()
            w4.f16(0.5); w4.f16(0.25); w4.u8s(packK4Scales(Self.k4sc, Self.k4mn)); w4.u8s(Self.k4Quants())
            let want4 = swiftDequantize(PK_Q4_K, w4.bytes, 256).reduce(0, +) * 0.25
            #expect(abs(cVecDot(PK_Q4_K, 256, w4.bytes, xk.bytes) - want4) <= 1e-3, "isa \(isa.rawValue)")
        }
    }

    // MARK: - Quantizers (ggml reference semantics, bit exact)

    static func swiftQ8(_ x: [Float], withSum: Bool) -> [UInt8] {
        var w = BlockWriter()
        for b in 0..<(x.count / 32) {
            let xs = Array(x[(32 * b)..<(32 * b + 32)])
            let amax = xs.reduce(Float(0)) { max($0, abs($1)) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            let q = xs.map { Int8(($0 * id).rounded()) }  // roundf: half away from zero
            w.f16(d)
            if withSum {
                let sum = q.reduce(0) { $0 + Int($1) }
                w.f16(Float(sum) * d)
            }
            w.i8s(q)
        }
        return w.bytes
    }

    static func swiftQ8K(_ x: [Float]) -> [UInt8] {
        var w = BlockWriter()
        for b in 0..<(x.count / 256) {
            let xs = Array(x[(256 * b)..<(256 * b + 256)])
            var amax: Float = 0, mx: Float = 0
            for v in xs where abs(v) > amax { amax = abs(v); mx = v }
            if amax == 0 {
                w.f32(0); w.u8s([UInt8](repeating: 0, count: 256 + 32))
                continue
            }
            let iscale = -127 / mx
            let q = xs.map { Int8(min(127, Int((iscale * $0).rounded(.toNearestOrEven)))) }
            w.f32(1 / iscale)
            w.i8s(q)
            for g in 0..<16 { w.i16(Int16(q[(16 * g)..<(16 * g + 16)].reduce(0) { $0 + Int($1) })) }
        }
        return w.bytes
    }

    @Test func quantizersMatchReferenceSemantics() {
        var rng = Rng(3)
        var x = randomFloats(1024, rng: &rng, scale: 0.7)
        // Block 0 of Q8_0/Q8_1: amax 127 -> d = 1 exactly, so halves round away from zero.
        for j in 0..<32 { x[j] = [127, 2.5, -2.5, 0.5, -0.5, 1.5, 3.49, -126.5][j % 8] }
        // Block 1: all zero.
        for j in 32..<64 { x[j] = 0 }
        // Q8_K block 1 (elements 256..511): the first value of largest magnitude is negative (-3 beats a later +3),
        // and ties at .5 round to even.
        for j in 256..<512 { x[j] = rng.float(-1, 1) }
        x[260] = -3; x[300] = 3; x[301] = 1.5 * 3 / 127; x[302] = 2.5 * 3 / 127
        // Q8_K block 2: all zero.
        for j in 512..<768 { x[j] = 0 }
        forEachISA { isa in
            let q80 = cQuantize(PK_Q8_0, x)
            #expect(q80 == Self.swiftQ8(x, withSum: false), "isa \(isa.rawValue)")
            #expect(Array(q80[2..<10]).map { Int8(bitPattern: $0) } == [127, 3, -3, 1, -1, 2, 3, -127])
            let q81 = cQuantize(PK_Q8_1, x)
            #expect(q81 == Self.swiftQ8(x, withSum: true), "isa \(isa.rawValue)")
            let q8k = cQuantize(PK_Q8_K, x)
            #expect(q8k == Self.swiftQ8K(x), "isa \(isa.rawValue)")
            // Block 1 of Q8_K: max = -3, iscale = 127/3 > 0, d = 3/127.
            var r = BlockReader(q8k, at: 292)
            #expect(r.f32() == 1 / (-127 / Float(-3)))
            #expect(Int8(bitPattern: q8k[292 + 4 + 4]) == -127)
            #expect(Int8(bitPattern: q8k[292 + 4 + 44]) == 127)
            let f32 = cQuantize(PK_F32, x)
            #expect(f32.count == 4 * x.count)
            #expect(cDequantize(PK_F32, f32, x.count) == x)
        }
    }

    // MARK: - Dot products of every type against the Swift model

    @Test func vecDotMatchesDequantizedProduct() {
        var rng = Rng(5)
        forEachISA { isa in
            for t in allWeightTypes {
                let n = 768
                let w = randomWeights(t, n: n, rows: 1, rng: &rng)
                let x = randomFloats(n, rng: &rng)
                let xa = activationBytes(t, x)
                let (want, scale) = modelDot(t, w, xa, n)
                let got = Double(cVecDot(t, n, w, xa))
                #expect(abs(got - want) <= 2e-6 * scale + 1e-6, "type \(t.rawValue) isa \(isa.rawValue): \(got) vs \(want)")
            }
        }
    }

    // MARK: - matvec / matmul: every ISA against the model and against the scalar reference

    @Test(arguments: [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q5_1, PK_Q8_0, PK_Q4_K, PK_Q5_K, PK_Q6_K, PK_F32, PK_F16, PK_BF16].map { $0.rawValue })
    func matvecAndMatmulAgreeAcrossISAs(rawType: UInt32) {
        let t = pk_type(rawValue: rawType)
        var rng = Rng(UInt64(rawType) + 100)
        // 19 blocks for the 32-element types: exercises the 4-block, 2-block and single-block steps of the SIMD paths.
        let n = blockElements(t) == 256 ? 512 : (blockElements(t) == 32 ? 608 : 611)
        let rows = 14, cols = 7
        let rowBytes = Int(pk_row_bytes(t, Int64(n)))
        let W = randomWeights(t, n: n, rows: rows, rng: &rng)
        let xs = (0..<cols).map { _ in randomFloats(n, rng: &rng) }
        let dt = pk_vec_dot_type(t)
        let xBytes = Int(pk_row_bytes(dt, Int64(n)))

        // Model: double-precision dot of dequantized rows with dequantized activation columns.
        var scalarX = [UInt8]()
        let saved = pk_active_isa()
        _ = pk_force_isa(PK_ISA_SCALAR)
        for c in 0..<cols { scalarX += cQuantize(dt, xs[c]) }
        _ = pk_force_isa(saved)
        var want = [[(Double, Double)]](repeating: [], count: rows)
        for r in 0..<rows {
            let wr = Array(W[(r * rowBytes)..<((r + 1) * rowBytes)])
            for c in 0..<cols {
                want[r].append(modelDot(t, wr, Array(scalarX[(c * xBytes)..<((c + 1) * xBytes)]), n))
            }
        }

        var scalarMV = [Float](), scalarMM = [Float]()
        let yStride = rows + 3
        let rb = 3, re = 13  // rows [3, 13): a range that starts inside the matrix and leaves the last row out
        forEachISA { isa in
            // Quantization of the columns is identical on every ISA.
            var X = [UInt8]()
            for c in 0..<cols { X += cQuantize(dt, xs[c]) }
            #expect(X == scalarX, "type \(rawType) isa \(isa.rawValue): activations differ")

            var mv = [Float](repeating: .nan, count: re - rb + 1)
            W.withUnsafeBytes { wp in
                X.withUnsafeBytes { xp in
                    mv.withUnsafeMutableBufferPointer { op in
                        pk_matvec(t, Int64(n), wp.baseAddress, rowBytes, Int64(rb), Int64(re), xp.baseAddress, op.baseAddress)
                    }
                }
            }
            #expect(mv[re - rb].isNaN, "matvec wrote past row_end")
            for r in rb..<re {
                let (v, s) = want[r][0]
                #expect(abs(Double(mv[r - rb]) - v) <= 2e-6 * s + 1e-6, "matvec type \(rawType) isa \(isa.rawValue) row \(r)")
            }

            // a single-column matmul is the same product as matvec
            var one = [Float](repeating: .nan, count: yStride)
            W.withUnsafeBytes { wp in
                X.withUnsafeBytes { xp in
                    one.withUnsafeMutableBufferPointer { yp in
                        pk_matmul(t, Int64(n), wp.baseAddress, rowBytes, Int64(rb), Int64(re), xp.baseAddress, xBytes, 1,
                                  yp.baseAddress, yStride)
                    }
                }
            }
            #expect(Array(one[rb..<re]) == Array(mv[0..<(re - rb)]), "type \(rawType) isa \(isa.rawValue): 1-column matmul")
            #expect(one[0].isNaN && one[re].isNaN)

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
                for r in 0..<yStride {
                    let y = Y[c * yStride + r]
                    if r < rb || r >= re {
                        #expect(y.isNaN, "matmul wrote outside its rows (col \(c), row \(r))")
                    } else {
                        let (v, s) = want[r][c]
                        #expect(abs(Double(y) - v) <= 2e-6 * s + 1e-6, "matmul type \(rawType) isa \(isa.rawValue) r \(r) c \(c)")
                        // matmul and vec_dot agree on the same ISA
                        let d = cVecDot(t, n, W, X, wOffset: r * rowBytes, xOffset: c * xBytes)
                        #expect(abs(d - y) <= 1e-6 * Float(s) + 1e-6)
                    }
                }
            }
            if isa == PK_ISA_SCALAR {
                scalarMV = mv
                scalarMM = Y
            } else {
                for i in 0..<(re - rb) {
                    #expect(abs(mv[i] - scalarMV[i]) <= 1e-6 * Float(want[rb + i][0].1) + 1e-6)
                }
                for c in 0..<cols {
                    for r in rb..<re {
                        let i = c * yStride + r
                        #expect(abs(Y[i] - scalarMM[i]) <= 1e-6 * Float(want[r][c].1) + 1e-6)
                    }
                }
            }
        }
    }

    // MARK: - Larger shapes the models use (tile edges, many columns)

    @Test func modelShapesAgreeWithScalar() {
        var rng = Rng(99)
        let shapes: [(pk_type, Int, Int, Int)] = [
            (PK_Q4_1, 576, 19, 9), (PK_Q8_0, 640, 10, 6), (PK_Q5_0, 640, 9, 5), (PK_Q4_K, 1024, 6, 5), (PK_Q6_K, 2048, 5, 6),
        ]
        for (t, n, rows, cols) in shapes {
            let rowBytes = Int(pk_row_bytes(t, Int64(n)))
            let dt = pk_vec_dot_type(t)
            let xBytes = Int(pk_row_bytes(dt, Int64(n)))
            let W = randomWeights(t, n: n, rows: rows, rng: &rng)
            var X = [UInt8]()
            for _ in 0..<cols { X += cQuantize(dt, randomFloats(n, rng: &rng)) }
            var results = [[Float]]()
            forEachISA { _ in
                var Y = [Float](repeating: 0, count: rows * cols)
                W.withUnsafeBytes { wp in
                    X.withUnsafeBytes { xp in
                        Y.withUnsafeMutableBufferPointer { yp in
                            pk_matmul(t, Int64(n), wp.baseAddress, rowBytes, 0, Int64(rows), xp.baseAddress, xBytes,
                                      Int64(cols), yp.baseAddress, rows)
                        }
                    }
                }
                results.append(Y)
            }
            #expect(results.count >= 1)
            for other in results.dropFirst() {
                for i in 0..<(rows * cols) {
                    #expect(abs(other[i] - results[0][i]) <= 1e-5 * max(1, abs(results[0][i])), "type \(t.rawValue) at \(i)")
                }
            }
            #expect(results[0].contains { $0 != 0 })
        }
    }
}

func pow2(_ e: Int) -> Double {
    var r = 1.0
    if e >= 0 { for _ in 0..<e { r *= 2 } } else { for _ in 0..<(-e) { r /= 2 } }
    return r
}
