import CParleyKernels

// Independent Swift model of the ggml block formats, used as the oracle for the C kernels.

struct Rng {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 24) }
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}

func f16bits(_ f: Float) -> UInt16 { Float16(f).bitPattern }
func f16value(_ b: UInt16) -> Float { Float(Float16(bitPattern: b)) }

struct BlockWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u8s(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    mutating func i8s(_ v: [Int8]) { bytes.append(contentsOf: v.map { UInt8(bitPattern: $0) }) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func f16(_ f: Float) { u16(f16bits(f)) }
    mutating func i16(_ v: Int16) { u16(UInt16(bitPattern: v)) }
    mutating func u32(_ v: UInt32) { for k in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(k))) & 0xFF)) } }
    mutating func f32(_ f: Float) { u32(f.bitPattern) }
}

struct BlockReader {
    let b: [UInt8]
    var p: Int
    init(_ b: [UInt8], at p: Int) { self.b = b; self.p = p }
    mutating func u8() -> UInt8 { defer { p += 1 }; return b[p] }
    mutating func u8s(_ n: Int) -> [UInt8] { defer { p += n }; return Array(b[p..<(p + n)]) }
    mutating func i8s(_ n: Int) -> [Int] { u8s(n).map { Int(Int8(bitPattern: $0)) } }
    mutating func u16() -> UInt16 { let v = UInt16(b[p]) | (UInt16(b[p + 1]) << 8); p += 2; return v }
    mutating func f16() -> Float { f16value(u16()) }
    mutating func u32() -> UInt32 { var v: UInt32 = 0; for k in 0..<4 { v |= UInt32(b[p + k]) << (8 * UInt32(k)) }; p += 4; return v }
    mutating func f32() -> Float { Float(bitPattern: u32()) }
}

/// Packs 8 six-bit scales and 8 six-bit mins into the 12-byte Q4_K/Q5_K layout.
func packK4Scales(_ sc: [UInt8], _ mn: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 12)
    for j in 0..<4 {
        out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
        out[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6)
        out[j + 8] = (sc[j + 4] & 0x0F) | ((mn[j + 4] & 0x0F) << 4)
    }
    return out
}

/// Decodes the 12-byte layout (ggml's get_scale_min_k4), written independently of the C code.
func unpackK4Scales(_ s: [UInt8]) -> (sc: [Int], mn: [Int]) {
    var sc = [Int](repeating: 0, count: 8), mn = [Int](repeating: 0, count: 8)
    for j in 0..<8 {
        if j < 4 {
            sc[j] = Int(s[j] & 63); mn[j] = Int(s[j + 4] & 63)
        } else {
            sc[j] = Int((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4))
            mn[j] = Int((s[j + 4] >> 4) | ((s[j] >> 6) << 4))
        }
    }
    return (sc, mn)
}

func blockElements(_ t: pk_type) -> Int { Int(pk_block_elements(t)) }
func blockBytes(_ t: pk_type) -> Int { Int(pk_block_bytes(t)) }

/// Swift dequantization of `n` elements of type `t` (the oracle).
func swiftDequantize(_ t: pk_type, _ b: [UInt8], _ n: Int) -> [Float] {
    var y = [Float]()
    y.reserveCapacity(n)
    let nb = n / blockElements(t)
    for i in 0..<nb {
        var r = BlockReader(b, at: i * blockBytes(t))
        switch t {
        case PK_F32: y.append(r.f32())
        case PK_F16: y.append(r.f16())
        case PK_BF16: y.append(Float(bitPattern: UInt32(r.u16()) << 16))
        case PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q5_1:
            let d = r.f16()
            let hasMin = t == PK_Q4_1 || t == PK_Q5_1
            let m: Float = hasMin ? r.f16() : 0
            let is5 = t == PK_Q5_0 || t == PK_Q5_1
            let qh: UInt32 = is5 ? r.u32() : 0
            let qs = r.u8s(16)
            var q = [Int](repeating: 0, count: 32)
            for j in 0..<16 {
                q[j] = Int(qs[j] & 0x0F) + (is5 ? Int((qh >> UInt32(j)) & 1) * 16 : 0)
                q[j + 16] = Int(qs[j] >> 4) + (is5 ? Int((qh >> UInt32(j + 16)) & 1) * 16 : 0)
            }
            let off = hasMin ? 0 : (is5 ? 16 : 8)
            for j in 0..<32 { y.append(hasMin ? Float(q[j]) * d + m : Float(q[j] - off) * d) }
        case PK_Q8_0, PK_Q8_1:
            let d = r.f16()
            if t == PK_Q8_1 { _ = r.u16() }
            for q in r.i8s(32) { y.append(Float(q) * d) }
        case PK_Q4_K, PK_Q5_K:
            let d = r.f16(), dmin = r.f16()
            let (sc, mn) = unpackK4Scales(r.u8s(12))
            let qh = t == PK_Q5_K ? r.u8s(32) : [UInt8](repeating: 0, count: 32)
            let qs = r.u8s(128)
            for e in 0..<256 {
                let chunk = e / 64, within = e % 64, l = within % 32, high = within >= 32
                let sub = 2 * chunk + (high ? 1 : 0)
                var q = Int(high ? qs[32 * chunk + l] >> 4 : qs[32 * chunk + l] & 0x0F)
                if (qh[l] >> UInt8(sub)) & 1 == 1 { q += 16 }
                y.append(d * Float(sc[sub]) * Float(q) - dmin * Float(mn[sub]))
            }
        case PK_Q6_K:
            let ql = r.u8s(128), qh = r.u8s(64), sc = r.i8s(16)
            let d = r.f16()
            for e in 0..<256 {
                // element e: half h, quarter k (which nibble/bit pair), position l in 0..<32
                let h = e / 128, k = (e % 128) / 32, l = e % 32
                let lowByte = ql[64 * h + l + (k % 2 == 1 ? 32 : 0)]
                let nib = k < 2 ? Int(lowByte & 0x0F) : Int(lowByte >> 4)
                let hb = Int((qh[32 * h + l] >> UInt8(2 * k)) & 3)
                let q = (nib | (hb << 4)) - 32
                let s = sc[8 * h + 2 * k + l / 16]
                y.append(d * Float(s) * Float(q))
            }
        case PK_Q8_K:
            let d = r.f32()
            for q in r.i8s(256) { y.append(d * Float(q)) }
        default:
            fatalError("unsupported type")
        }
    }
    return y
}

/// Random but valid weight bytes for `rows` rows of n elements (scales kept in a sensible range).
func randomWeights(_ t: pk_type, n: Int, rows: Int, rng: inout Rng) -> [UInt8] {
    let nb = n / blockElements(t) * rows
    var w = BlockWriter()
    for _ in 0..<nb {
        switch t {
        case PK_F32: w.f32(rng.float(-1, 1))
        case PK_F16: w.f16(rng.float(-1, 1))
        case PK_BF16: w.u16(UInt16(rng.float(-1, 1).bitPattern >> 16))
        case PK_Q4_0: w.f16(rng.float(0.001, 0.02)); w.u8s((0..<16).map { _ in rng.byte() })
        case PK_Q4_1: w.f16(rng.float(0.001, 0.02)); w.f16(rng.float(-0.1, 0.1)); w.u8s((0..<16).map { _ in rng.byte() })
        case PK_Q5_0: w.f16(rng.float(0.001, 0.02)); w.u8s((0..<20).map { _ in rng.byte() })
        case PK_Q5_1: w.f16(rng.float(0.001, 0.02)); w.f16(rng.float(-0.1, 0.1)); w.u8s((0..<20).map { _ in rng.byte() })
        case PK_Q8_0: w.f16(rng.float(0.001, 0.02)); w.u8s((0..<32).map { _ in rng.byte() })
        case PK_Q4_K: w.f16(rng.float(0.0005, 0.002)); w.f16(rng.float(0.0005, 0.002)); w.u8s((0..<140).map { _ in rng.byte() })
        case PK_Q5_K: w.f16(rng.float(0.0005, 0.002)); w.f16(rng.float(0.0005, 0.002)); w.u8s((0..<172).map { _ in rng.byte() })
        case PK_Q6_K: w.u8s((0..<208).map { _ in rng.byte() }); w.f16(rng.float(0.0002, 0.001))
        default: fatalError("unsupported weight type")
        }
    }
    return w.bytes
}

func randomFloats(_ n: Int, rng: inout Rng, scale: Float = 1) -> [Float] {
    (0..<n).map { i in rng.float(-1, 1) * (i % 37 == 5 ? 6 * scale : scale) }
}

// Thin wrappers over the C API.
func cDequantize(_ t: pk_type, _ b: [UInt8], _ n: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    b.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { pk_dequantize_row(t, src.baseAddress, $0.baseAddress, Int64(n)) } }
    return out
}

func cQuantize(_ t: pk_type, _ x: [Float]) -> [UInt8] {
    var out = [UInt8](repeating: 0xEE, count: pk_row_bytes(t, Int64(x.count)))
    x.withUnsafeBufferPointer { src in out.withUnsafeMutableBytes { pk_quantize_row(t, src.baseAddress, $0.baseAddress, Int64(x.count)) } }
    return out
}

func cVecDot(_ t: pk_type, _ n: Int, _ w: [UInt8], _ x: [UInt8], wOffset: Int = 0, xOffset: Int = 0) -> Float {
    w.withUnsafeBytes { wp in x.withUnsafeBytes { xp in pk_vec_dot(t, Int64(n), wp.baseAddress! + wOffset, xp.baseAddress! + xOffset) } }
}

/// Activations in the format `pk_vec_dot_type(t)`, built from floats (F32 is passed through).
func activationBytes(_ t: pk_type, _ x: [Float]) -> [UInt8] { cQuantize(pk_vec_dot_type(t), x) }

/// Σ w·x over dequantized values, in Double, plus Σ|w·x| for a tolerance scale.
func referenceDot(_ w: [Float], _ x: [Float]) -> (Double, Double) {
    var s = 0.0, a = 0.0
    for i in 0..<w.count { let p = Double(w[i]) * Double(x[i]); s += p; a += abs(p) }
    return (s, a)
}

/// The model of pk_vec_dot: Σ w·x over dequantized values, except that Q4_1/Q5_1 use the activation block's stored
/// s (an f16 of d·Σq, as ggml does) for the min term instead of the exact d·Σq. Returns the value and Σ|w·x|.
func modelDot(_ t: pk_type, _ w: [UInt8], _ x: [UInt8], _ n: Int) -> (Double, Double) {
    let wd = swiftDequantize(t, w, n)
    let xd = swiftDequantize(pk_vec_dot_type(t), x, n)
    var (s, a) = referenceDot(wd, xd)
    if t == PK_Q4_1 || t == PK_Q5_1 {
        for b in 0..<(n / 32) {
            var wr = BlockReader(w, at: b * blockBytes(t))
            _ = wr.u16()
            let m = Double(wr.f16())
            var xr = BlockReader(x, at: b * 36)
            let d = Double(xr.f16()), stored = Double(xr.f16())
            let sumq = xr.i8s(32).reduce(0, +)
            s += m * (stored - d * Double(sumq))
            a += abs(m * stored)
        }
    }
    return (s, a)
}

let allWeightTypes: [pk_type] = [PK_Q4_0, PK_Q4_1, PK_Q5_0, PK_Q5_1, PK_Q8_0, PK_Q4_K, PK_Q5_K, PK_Q6_K, PK_F32, PK_F16, PK_BF16]
let allISAs: [pk_isa] = [PK_ISA_SCALAR, PK_ISA_AVX2, PK_ISA_AVX512_VNNI]

/// Runs `body` once per ISA the CPU supports (each chosen with pk_force_isa), then restores the previous choice.
func forEachISA(_ body: (pk_isa) throws -> Void) rethrows {
    let saved = pk_active_isa()
    defer { _ = pk_force_isa(saved) }
    var seen = Set<UInt32>()
    for isa in allISAs {
        let got = pk_force_isa(isa)
        if seen.contains(got.rawValue) { continue }
        seen.insert(got.rawValue)
        try body(got)
    }
}
