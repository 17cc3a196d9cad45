import Foundation
import ParleyEval
import Testing

/// Bradley–Terry ratings against values worked out by hand.
struct BradleyTerryTests {
    private func outcomes(_ a: String, _ b: String, _ result: PairwiseOutcome.Result, _ times: Int) -> [PairwiseOutcome] {
        Array(repeating: PairwiseOutcome(a: a, b: b, result: result), count: times)
    }

    @Test func twoModelsGiveTheOddsOfTheirRecord() {
        // A beats B 3 times in 4: the MLE has p_A / p_B = 3, a gap of 400·log10(3) = 190.85 Elo points split
        // evenly around 1000 (geometric mean of the strengths is 1).
        let games = outcomes("A", "B", .aWins, 3) + outcomes("A", "B", .bWins, 1)
        let r = BradleyTerry.fit(games, models: ["A", "B"])
        let half = 200 * log10(3.0)  // 95.424
        #expect(abs(r["A"]! - (1000 + half)) < 1e-6)
        #expect(abs(r["B"]! - (1000 - half)) < 1e-6)
        // Sides do not matter: the same record written from B's side.
        let flipped = outcomes("B", "A", .bWins, 3) + outcomes("B", "A", .aWins, 1)
        #expect(abs(BradleyTerry.fit(flipped, models: ["A", "B"])["A"]! - (1000 + half)) < 1e-6)
    }

    @Test func tiesCountAsHalfAWinForEachSide() {
        // 2 wins and 2 ties: W_A = 2 + 1 = 3, W_B = 1 out of 4 games, so again p_A / p_B = 3.
        let games = outcomes("A", "B", .aWins, 2) + outcomes("A", "B", .tie, 2)
        let r = BradleyTerry.fit(games, models: ["A", "B"])
        #expect(abs((r["A"]! - r["B"]!) - 400 * log10(3.0)) < 1e-6)
        // Only ties: equal.
        let even = BradleyTerry.fit(outcomes("A", "B", .tie, 5), models: ["A", "B"])
        #expect(abs(even["A"]! - 1000) < 1e-9 && abs(even["B"]! - 1000) < 1e-9)
    }

    @Test func threeModelsMatchTheirKnownStrengths() {
        // Records drawn to the expectations of strengths 4 : 2 : 1 (n_AB = 3, n_BC = 3, n_AC = 5):
        // A–B 2:1, B–C 2:1, A–C 4:1. The likelihood equations W_i = Σ_j n_ij p_i / (p_i + p_j) hold exactly:
        // A: 3·4/6 + 5·4/5 = 6, B: 3·2/6 + 3·2/3 = 3, C: 3·1/3 + 5·1/5 = 2, and the MLE is unique, so the
        // strengths are 2, 1, ½ after fixing their geometric mean at 1: ratings 1000 ± 400·log10 2 = 120.41.
        let games = outcomes("A", "B", .aWins, 2) + outcomes("A", "B", .bWins, 1)
            + outcomes("B", "C", .aWins, 2) + outcomes("B", "C", .bWins, 1)
            + outcomes("A", "C", .aWins, 4) + outcomes("A", "C", .bWins, 1)
        let r = BradleyTerry.fit(games, models: ["A", "B", "C"])
        let step = 400 * log10(2.0)
        #expect(abs(r["A"]! - (1000 + step)) < 1e-6, "\(r)")
        #expect(abs(r["B"]! - 1000) < 1e-6, "\(r)")
        #expect(abs(r["C"]! - (1000 - step)) < 1e-6, "\(r)")
    }

    @Test func thePriorKeepsAnUnbeatenModelFinite() {
        // One win and no losses: the plain MLE runs off to infinity; one virtual tie per pair gives
        // W_A = 1.5, W_B = 0.5 over 2 games: p_A / p_B = 3, the same 190.85-point gap as above.
        let r = BradleyTerry.fit([PairwiseOutcome(a: "A", b: "B", result: .aWins)], models: ["A", "B"], priorTies: 1)
        #expect(abs((r["A"]! - r["B"]!) - 400 * log10(3.0)) < 1e-6)
    }

    @Test func bootstrapIntervalsAreSeededAndBracketTheEstimate() throws {
        let games = outcomes("A", "B", .aWins, 30) + outcomes("A", "B", .bWins, 10) + outcomes("B", "C", .aWins, 20)
            + outcomes("B", "C", .bWins, 20) + outcomes("A", "C", .tie, 6)
        let first = BradleyTerry.ratings(games, resamples: 300, seed: 9)
        let second = BradleyTerry.ratings(games, resamples: 300, seed: 9)
        #expect(first == second, "the same seed gives the same intervals")
        #expect(first.map(\.model) == ["A", "B", "C"] || first.map(\.model) == ["A", "C", "B"])
        for r in first {
            #expect(r.low <= r.rating && r.rating <= r.high, "\(r)")
            #expect(r.high - r.low > 10, "60+ games still leave a spread: \(r)")
        }
        let a = try #require(first.first { $0.model == "A" })
        #expect(a.wins == 30 && a.losses == 10 && a.ties == 6 && a.battles == 46)
        // Ten times the votes, a narrower interval.
        let more = (0..<10).flatMap { _ in games }
        let tight = BradleyTerry.ratings(more, resamples: 300, seed: 9).first { $0.model == "A" }!
        #expect(tight.high - tight.low < (a.high - a.low) / 2, "\(tight) vs \(a)")
        // A model with no votes can be listed, at the base rating.
        let listed = BradleyTerry.ratings([], models: ["X"])
        #expect(listed == [ModelRating(model: "X", rating: 1000, low: 1000, high: 1000, battles: 0, wins: 0, losses: 0, ties: 0)])
    }
}
