import ParleyTokenizer

/// Restricts which tokens may be generated next, by the bytes they add to the output (constrained decoding).
/// The scheduler masks every token whose bytes `allows` refuses before sampling, then `advance`s with the
/// chosen token's bytes.
public protocol DecodingConstraint: AnyObject {
    /// Whether `bytes` may follow what has been generated so far.
    func allows(_ bytes: [UInt8]) -> Bool
    /// Records the bytes of the chosen token.
    func advance(_ bytes: [UInt8])
    /// The output is complete: generation may end here (an end-of-generation token is allowed).
    var canEnd: Bool { get }
    /// The output is complete and nothing may follow.
    var mustEnd: Bool { get }
    /// Nothing is restricted any more (the output left the constrained part); sampling runs as usual.
    var isUnconstrained: Bool { get }
    /// Told before each token how many tokens generation may still produce, so a constraint can steer the
    /// output to a complete form before the budget runs out.
    func tokensLeft(_ count: Int)
}

extension DecodingConstraint {
    public func tokensLeft(_ count: Int) {}
}

/// Every token's bytes, and sampling under a constraint.
final class VocabularyBytes: @unchecked Sendable {
    let bytes: [[UInt8]]
    let endOfGeneration: TokenID?
    /// Token ids grouped by their first byte.
    let byFirstByte: [[TokenID]]

    init(model: Model) {
        let tokenizer = model.tokenizer
        let n = model.hyperparameters.vocabularySize
        bytes = (0..<n).map { i in
            let id = TokenID(i)
            guard i < tokenizer.vocabularySize, !tokenizer.isControl(id) else { return [] }
            return tokenizer.pieceBytes(id, renderSpecial: false)
        }
        var groups = [[TokenID]](repeating: [], count: 256)
        for (i, b) in bytes.enumerated() { if let f = b.first { groups[Int(f)].append(TokenID(i)) } }
        byFirstByte = groups
        endOfGeneration = tokenizer.eot.flatMap { tokenizer.endOfGeneration.contains($0) ? $0 : nil }
            ?? tokenizer.eos.flatMap { tokenizer.endOfGeneration.contains($0) ? $0 : nil }
            ?? tokenizer.endOfGeneration.min()
    }

    /// How many of the best tokens are checked before looking further: sampling happens among the allowed
    /// ones of them (a top-k of at most this many).
    static let candidates = 48

    /// Masks tokens the constraint refuses (and keeps at most `candidates` allowed ones, best first), then
    /// samples with the request's own sampler. When the output is complete, the end-of-generation token.
    func constrainedSample(_ logits: UnsafeMutablePointer<Float>, constraint: DecodingConstraint,
                           sampler: inout Sampler) -> TokenID {
        let n = bytes.count
        if constraint.mustEnd, let eog = endOfGeneration { return eog }
        // Which first bytes can continue the output: 256 cheap checks that rule out most tokens at once.
        var firstAllowed = [Bool](repeating: false, count: 256)
        for b in 0..<256 where constraint.allows([UInt8(b)]) { firstAllowed[b] = true }
        func check(_ id: TokenID) -> Bool {
            if let eog = endOfGeneration, id == eog { return constraint.canEnd }
            let b = bytes[Int(id)]
            guard let first = b.first, firstAllowed[Int(first)] else { return false }
            return b.count == 1 || constraint.allows(b)
        }
        // Best-first: the top tokens by logit cover the usual case; when none of them fits (a key name or a
        // closing bracket must follow), every token starting with an allowed byte is checked.
        var allowed: [TokenID] = []
        for id in topIndices(logits, n, k: 256) where check(id) {
            allowed.append(id)
            if allowed.count == Self.candidates { break }
        }
        if allowed.isEmpty {
            var fits: [TokenID] = []
            for b in 0..<256 where firstAllowed[b] {
                for id in byFirstByte[b] where check(id) { fits.append(id) }
            }
            if let eog = endOfGeneration, constraint.canEnd { fits.append(eog) }
            fits.sort { logits[Int($0)] > logits[Int($1)] }
            allowed = Array(fits.prefix(Self.candidates))
        }
        guard !allowed.isEmpty else {
            // Nothing can continue the output: end it (the caller reports what was generated).
            return endOfGeneration ?? 0
        }
        let kept = allowed.map { ($0, logits[Int($0)]) }
        for i in 0..<n { logits[i] = -.infinity }
        for (id, v) in kept { logits[Int(id)] = v }
        let token = sampler.sample(logits, vocabularySize: n)
        // Penalties cannot revive a masked token (-inf stays -inf), but guard against an all -inf row.
        return kept.contains { $0.0 == token } ? token : kept[0].0
    }

    private func isAllowed(_ id: TokenID, _ constraint: DecodingConstraint) -> Bool {
        if let eog = endOfGeneration, id == eog { return constraint.canEnd }
        let b = bytes[Int(id)]
        return !b.isEmpty && constraint.allows(b)
    }

    private func topIndices(_ logits: UnsafePointer<Float>, _ n: Int, k: Int) -> [Int32] {
        var best: [(Int32, Float)] = []
        best.reserveCapacity(k + 1)
        for i in 0..<n {
            let v = logits[i]
            if best.count == k, v <= best[k - 1].1 { continue }
            var lo = 0, hi = best.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if best[mid].1 >= v { lo = mid + 1 } else { hi = mid }
            }
            best.insert((Int32(i), v), at: lo)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.0)
    }
}
