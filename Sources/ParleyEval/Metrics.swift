import Foundation

/// Scores as lm-evaluation-harness and the HumanEval paper compute them.
public enum Metrics {
    /// Index of the largest value; the first on a tie (numpy's `argmax`).
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// acc: 1 when the most likely choice is the gold one.
    public static func accuracy(logLikelihoods: [Double], gold: Int) -> Double {
        argmax(logLikelihoods) == gold ? 1 : 0
    }

    /// acc_norm: as acc, after dividing each log-likelihood by its choice's length in characters (Unicode
    /// code points, as Python's `len`; the target delimiter is not counted).
    public static func normalizedAccuracy(logLikelihoods: [Double], choices: [String], gold: Int) -> Double {
        let normalized = zip(logLikelihoods, choices).map { $0 / Double(max(1, $1.unicodeScalars.count)) }
        return argmax(normalized) == gold ? 1 : 0
    }

    /// The unbiased pass@k estimator (Chen et al., 2021): 1 - C(n-c, k) / C(n, k), for n samples of which c pass,
    /// computed as a product to stay stable for large n.
    public static func passAtK(samples n: Int, correct c: Int, k: Int) -> Double {
        precondition(n >= 1 && c >= 0 && c <= n && k >= 1 && k <= n, "pass@k needs 0 ≤ c ≤ n and 1 ≤ k ≤ n")
        if c == 0 { return 0 }
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)...n { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }

    /// Bits per byte of a text from its total log-likelihood (natural log) and its UTF-8 length.
    public static func bitsPerByte(logLikelihood: Double, bytes: Int) -> Double {
        -logLikelihood / (Double(max(1, bytes)) * M_LN2)
    }

    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// A percentile bootstrap confidence interval of the mean: `resamples` resamples with replacement, drawn
    /// from a seeded generator so a report is reproducible; the (1-level)/2 and (1+level)/2 quantiles of the
    /// resampled means (linear interpolation between order statistics, numpy's default).
    public static func bootstrapInterval(_ values: [Double], resamples: Int = 1000, level: Double = 0.95,
                                         seed: UInt64 = 1234) -> (low: Double, high: Double) {
        guard values.count > 1 else { let m = mean(values); return (m, m) }
        var generator = SplitMix64(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0
            for _ in values.indices { sum += values[Int(generator.next() % UInt64(values.count))] }
            means.append(sum / Double(values.count))
        }
        means.sort()
        return (quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2))
    }

    /// The q-quantile of sorted values, interpolating linearly between order statistics.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(sorted.count - 1, lower + 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}

/// A small, fast, seedable generator (Steele et al.'s SplitMix64) for reproducible resampling.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
