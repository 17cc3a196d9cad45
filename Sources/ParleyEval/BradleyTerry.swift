import Foundation

/// One pairwise comparison: model `a` against model `b`.
public struct PairwiseOutcome: Sendable, Equatable {
    public enum Result: String, Sendable, Equatable { case aWins, bWins, tie }
    public var a: String
    public var b: String
    public var result: Result

    public init(a: String, b: String, result: Result) {
        self.a = a; self.b = b; self.result = result
    }
}

/// A model's Bradley–Terry rating on the Elo scale, with its bootstrap confidence interval and its record.
public struct ModelRating: Sendable, Equatable {
    public var model: String
    public var rating: Double
    public var low: Double
    public var high: Double
    public var battles: Int
    public var wins: Int
    public var losses: Int
    public var ties: Int

    public init(model: String, rating: Double, low: Double, high: Double, battles: Int, wins: Int, losses: Int, ties: Int) {
        self.model = model; self.rating = rating; self.low = low; self.high = high
        self.battles = battles; self.wins = wins; self.losses = losses; self.ties = ties
    }
}

/// Bradley–Terry ratings by maximum likelihood: P(i beats j) = p_i / (p_i + p_j), fitted with Hunter's (2004)
/// minorization–maximization iteration p_i ← W_i / Σ_j n_ij / (p_i + p_j).
///
/// Ties (and "both bad") count as half a win for each side: a tie adds one game between the pair and ½ to each
/// side's wins — the likelihood of a tie is then √(P(i beats j)·P(j beats i)) up to a constant, which is the
/// usual half-win treatment (not Davidson's or Rao–Kupper's extra tie parameter).
///
/// `priorTies` adds that many virtual ties between every pair of models (a symmetric prior that keeps the
/// estimate finite when a model has won or lost every game; 0 is the plain MLE, which exists only when the
/// comparison graph is strongly connected). Ratings are on the Elo scale: R = 1000 + 400·log10(p), with the
/// strengths' geometric mean fixed at 1, so the mean rating is 1000 and a 400-point gap means 10:1 odds.
public enum BradleyTerry {
    public static let base = 1000.0
    public static let scale = 400.0

    /// The fitted ratings (Elo scale) by model, for the models named in `models` (those in no outcome included,
    /// at the base rating when `priorTies` > 0).
    public static func fit(_ outcomes: [PairwiseOutcome], models: [String], priorTies: Double = 0,
                           maxIterations: Int = 10_000, tolerance: Double = 1e-12) -> [String: Double] {
        let index = Dictionary(models.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let k = models.count
        guard k > 0 else { return [:] }
        // games[i][j]: comparisons between i and j (ties included); wins[i]: wins + ½ ties.
        var games = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        var wins = [Double](repeating: 0, count: k)
        for outcome in outcomes {
            guard let i = index[outcome.a], let j = index[outcome.b], i != j else { continue }
            games[i][j] += 1
            games[j][i] += 1
            switch outcome.result {
            case .aWins: wins[i] += 1
            case .bWins: wins[j] += 1
            case .tie: wins[i] += 0.5; wins[j] += 0.5
            }
        }
        if priorTies > 0 {
            for i in 0..<k {
                for j in 0..<k where i != j {
                    games[i][j] += priorTies
                    wins[i] += priorTies / 2
                }
            }
        }
        var p = [Double](repeating: 1, count: k)
        for _ in 0..<maxIterations {
            var next = p
            for i in 0..<k {
                var denominator = 0.0
                for j in 0..<k where j != i && games[i][j] > 0 { denominator += games[i][j] / (p[i] + p[j]) }
                // A model in no comparison keeps its strength; one that never won tends to 0 (kept positive).
                next[i] = denominator > 0 ? max(wins[i] / denominator, 1e-300) : p[i]
            }
            // Fix the scale: geometric mean 1.
            let meanLog = next.map(log).reduce(0, +) / Double(k)
            for i in 0..<k { next[i] = exp(log(next[i]) - meanLog) }
            var change = 0.0
            for i in 0..<k { change = max(change, abs(log(next[i]) - log(p[i]))) }
            p = next
            if change < tolerance { break }
        }
        var ratings: [String: Double] = [:]
        for (model, i) in index { ratings[model] = base + scale * log10(p[i]) }
        return ratings
    }

    /// Ratings with percentile bootstrap intervals: `resamples` refits on outcomes drawn with replacement from a
    /// seeded generator (the same seed gives the same intervals), the (1−level)/2 and (1+level)/2 quantiles.
    /// Sorted by rating, best first.
    public static func ratings(_ outcomes: [PairwiseOutcome], models extra: [String] = [], priorTies: Double = 1,
                               resamples: Int = 200, level: Double = 0.95, seed: UInt64 = 42) -> [ModelRating] {
        var models: [String] = []
        var seen = Set<String>()
        for name in outcomes.flatMap({ [$0.a, $0.b] }) + extra where seen.insert(name).inserted { models.append(name) }
        let point = fit(outcomes, models: models, priorTies: priorTies)
        var samples: [String: [Double]] = [:]
        if !outcomes.isEmpty && resamples > 0 {
            var generator = SplitMix64(seed: seed)
            for _ in 0..<resamples {
                var drawn: [PairwiseOutcome] = []
                drawn.reserveCapacity(outcomes.count)
                for _ in outcomes.indices { drawn.append(outcomes[Int(generator.next() % UInt64(outcomes.count))]) }
                for (model, rating) in fit(drawn, models: models, priorTies: priorTies, maxIterations: 2000, tolerance: 1e-9) {
                    samples[model, default: []].append(rating)
                }
            }
        }
        return models.map { model in
            var wins = 0, losses = 0, ties = 0
            for o in outcomes where o.a == model || o.b == model {
                switch o.result {
                case .tie: ties += 1
                case .aWins: if o.a == model { wins += 1 } else { losses += 1 }
                case .bWins: if o.b == model { wins += 1 } else { losses += 1 }
                }
            }
            let rating = point[model] ?? base
            let sorted = (samples[model] ?? []).sorted()
            let low = sorted.isEmpty ? rating : Metrics.quantile(sorted, (1 - level) / 2)
            let high = sorted.isEmpty ? rating : Metrics.quantile(sorted, (1 + level) / 2)
            return ModelRating(model: model, rating: rating, low: low, high: high, battles: wins + losses + ties,
                               wins: wins, losses: losses, ties: ties)
        }.sorted { $0.rating != $1.rating ? $0.rating > $1.rating : $0.model < $1.model }
    }
}
