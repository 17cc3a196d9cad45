/// SplitMix64: a small, fast generator whose whole stream follows from its seed, so the same seed gives the
/// same adapter (initialisation, dropout masks, data order) on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named use of a seed (dropout of one matrix in one step, …): independent streams
    /// without sharing state.
    public init(seed: UInt64, stream: UInt64...) {
        var s = seed
        for part in stream { s = Self.mix(s ^ Self.mix(part &+ 0x9E37_79B9_7F4A_7C15)) }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) * 0x1p-24 }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
