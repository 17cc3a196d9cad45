/// Orders the requests waiting for a slot. The scheduler knows nothing of what a key means: the server can key
/// requests by tenant and rank tenants (fair share, say); without a policy, waiting requests are admitted first
/// come, first served.
public protocol AdmissionPolicy: Sendable {
    /// Higher is admitted first; requests of equal priority keep their arrival order. Called on the scheduler's
    /// thread while it holds its lock, once per distinct key per admission round: it must be quick and must not
    /// call back into the scheduler.
    func priority(of key: String?) -> Double
}

extension Array {
    /// The index of the first element with the highest `score`, scoring each distinct key once.
    func indexOfHighest(key: (Element) -> String?, score: (String?) -> Double) -> Int? {
        var best: Int?
        var bestScore = -Double.infinity
        var cache: [String?: Double] = [:]
        for (i, element) in enumerated() {
            let k = key(element)
            let s = cache[k] ?? score(k)
            cache[k] = s
            if s > bestScore { best = i; bestScore = s }
        }
        return best
    }
}
