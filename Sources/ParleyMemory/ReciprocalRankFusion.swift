/// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an item's score is Σ 1 / (k + rank) over
/// the ranked lists it appears in (ranks from 1). It needs no score calibration between lists — BM25 and cosine
/// are on unrelated scales — and an item high in either list rises; high in both, it wins.
public struct ReciprocalRankFusion: Sendable {
    /// The paper's constant: large enough that the first few ranks of one list do not drown the other.
    public var k: Double

    public init(k: Double = 60) {
        precondition(k >= 0, "k is non-negative")
        self.k = k
    }

    /// The fused ranking of `lists` (each best first, ids distinct within a list), best first; ties keep the
    /// order of first appearance.
    public func fuse<ID: Hashable>(_ lists: [[ID]]) -> [(id: ID, score: Double)] {
        var scores: [ID: Double] = [:]
        var firstSeen: [ID: Int] = [:]
        var order = 0
        for list in lists {
            for (index, id) in list.enumerated() {
                scores[id, default: 0] += 1 / (k + Double(index + 1))
                if firstSeen[id] == nil { firstSeen[id] = order; order += 1 }
            }
        }
        return scores.map { (id: $0.key, score: $0.value) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : firstSeen[$0.id]! < firstSeen[$1.id]! }
    }
}
