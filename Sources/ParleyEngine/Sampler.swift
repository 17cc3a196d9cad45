import Foundation
import ParleyTokenizer

/// How the next token is chosen. `temperature` 0 means greedy (argmax); otherwise the chain is llama.cpp's:
/// penalties → top-k → top-p → min-p → temperature → draw.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0.8
    /// 0 keeps every token.
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    /// > 1 discourages tokens seen in the last `penaltyWindow` tokens (llama.cpp's repeat penalty).
    public var repetitionPenalty: Float = 1
    /// OpenAI-style: subtracted once from a seen token's logit.
    public var presencePenalty: Float = 0
    /// OpenAI-style: subtracted per occurrence.
    public var frequencyPenalty: Float = 0
    public var penaltyWindow: Int = 64
    /// nil draws a seed from the system.
    public var seed: UInt64?

    public init() {}

    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }
}

/// A small, fast, seedable generator (xoshiro256**), so the same seed gives the same output everywhere.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}

/// Chooses tokens from logits according to `SamplingParameters`, remembering recent tokens for penalties.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator
    private var recent: [TokenID] = []
    private var candidates: [(id: TokenID, logit: Float)] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededGenerator(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
    }

    /// Remembers a token for the penalties (prompt tokens too, as llama.cpp does).
    public mutating func accept(_ token: TokenID) {
        guard parameters.penaltyWindow > 0 else { return }
        recent.append(token)
        if recent.count > parameters.penaltyWindow * 2 { recent.removeFirst(recent.count - parameters.penaltyWindow) }
    }

    var hasPenalties: Bool {
        parameters.repetitionPenalty != 1 || parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0
    }

    /// Picks the next token. `logits` is modified by the penalties.
    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, vocabularySize n: Int) -> TokenID {
        if hasPenalties { applyPenalties(logits) }
        if parameters.temperature <= 0 { return argmax(logits, n) }

        // Top-k by partial selection; with k = 0 every token is a candidate.
        candidates.removeAll(keepingCapacity: true)
        let k = parameters.topK > 0 ? min(parameters.topK, n) : n
        if k < n {
            selectTop(k, logits, n)
        } else {
            for i in 0..<n { candidates.append((TokenID(i), logits[i])) }
            candidates.sort { $0.logit > $1.logit }
        }
        // Probabilities at temperature 1 for the top-p / min-p cut (llama.cpp applies them before temperature).
        let maxLogit = candidates[0].logit
        var probabilities = candidates.map { Foundation.exp($0.logit - maxLogit) }
        let total = probabilities.reduce(0, +)
        var keep = candidates.count
        if parameters.topP < 1 {
            var cumulative: Float = 0
            for i in 0..<keep {
                cumulative += probabilities[i] / total
                if cumulative >= parameters.topP {
                    keep = i + 1
                    break
                }
            }
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP * probabilities[0]
            var kept = 1
            while kept < keep, probabilities[kept] >= threshold { kept += 1 }
            keep = kept
        }
        // Temperature, then a draw.
        let invT = 1 / parameters.temperature
        var sum: Double = 0
        for i in 0..<keep {
            probabilities[i] = Foundation.exp((candidates[i].logit - maxLogit) * invT)
            sum += Double(probabilities[i])
        }
        var r = Double.random(in: 0..<1, using: &rng) * sum
        for i in 0..<keep {
            r -= Double(probabilities[i])
            if r < 0 { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }

    private func argmax(_ logits: UnsafePointer<Float>, _ n: Int) -> TokenID {
        var best = 0
        var bestValue = logits[0]
        for i in 1..<n where logits[i] > bestValue {
            best = i
            bestValue = logits[i]
        }
        return TokenID(best)
    }

    private mutating func selectTop(_ k: Int, _ logits: UnsafePointer<Float>, _ n: Int) {
        // Keep a sorted window of the best k; most tokens fail the first comparison.
        for i in 0..<n {
            let v = logits[i]
            if candidates.count == k {
                if v <= candidates[k - 1].logit { continue }
                candidates.removeLast()
            }
            var lo = 0, hi = candidates.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if candidates[mid].logit >= v { lo = mid + 1 } else { hi = mid }
            }
            candidates.insert((TokenID(i), v), at: lo)
        }
    }

    private func applyPenalties(_ logits: UnsafeMutablePointer<Float>) {
        var counts: [TokenID: Int] = [:]
        for t in recent.suffix(parameters.penaltyWindow) { counts[t, default: 0] += 1 }
        for (token, count) in counts {
            let i = Int(token)
            var v = logits[i]
            if parameters.repetitionPenalty != 1 {
                v = v <= 0 ? v * parameters.repetitionPenalty : v / parameters.repetitionPenalty
            }
            v -= Float(count) * parameters.frequencyPenalty + parameters.presencePenalty
            logits[i] = v
        }
    }
}

/// The k most likely tokens of a log-probability row, best first.
public func topEntries(_ logprobs: UnsafePointer<Float>, count n: Int, k: Int) -> [(id: TokenID, logprob: Float)] {
    guard k > 0 else { return [] }
    var best: [(id: TokenID, logprob: Float)] = []
    best.reserveCapacity(k + 1)
    for i in 0..<n {
        let v = logprobs[i]
        if best.count == k, v <= best[k - 1].logprob { continue }
        var at = best.count
        while at > 0, best[at - 1].logprob < v { at -= 1 }
        best.insert((TokenID(i), v), at: at)
        if best.count > k { best.removeLast() }
    }
    return best
}
