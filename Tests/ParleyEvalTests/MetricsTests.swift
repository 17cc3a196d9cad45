import Foundation
import ParleyEval
import Testing

/// Metrics against values worked out by hand.
struct MetricsTests {
    @Test func accuracyTakesTheFirstLargestLogLikelihood() {
        #expect(Metrics.accuracy(logLikelihoods: [-4.0, -1.5, -2.0], gold: 1) == 1)
        #expect(Metrics.accuracy(logLikelihoods: [-4.0, -1.5, -2.0], gold: 2) == 0)
        // A tie goes to the first index, as numpy's argmax.
        #expect(Metrics.accuracy(logLikelihoods: [-1.0, -1.0], gold: 0) == 1)
        #expect(Metrics.accuracy(logLikelihoods: [-1.0, -1.0], gold: 1) == 0)
    }

    @Test func normalizedAccuracyDividesByCharacters() {
        // -6/12 = -0.5 beats -2/2 = -1 although -2 > -6: the long choice wins after normalising.
        let lls = [-2.0, -6.0]
        let choices = ["ab", "abcdefghijkl"]
        #expect(Metrics.accuracy(logLikelihoods: lls, gold: 0) == 1)
        #expect(Metrics.normalizedAccuracy(logLikelihoods: lls, choices: choices, gold: 1) == 1)
        #expect(Metrics.normalizedAccuracy(logLikelihoods: lls, choices: choices, gold: 0) == 0)
        // Characters are code points: "é" and "日本" count 1 and 2, not their UTF-8 bytes (2 and 6).
        // -3/1 = -3 vs -5/2 = -2.5: the second wins.
        #expect(Metrics.normalizedAccuracy(logLikelihoods: [-3, -5], choices: ["é", "日本"], gold: 1) == 1)
    }

    @Test func passAtKMatchesTheClosedForm() {
        // 1 - C(n-c, k) / C(n, k)
        #expect(abs(Metrics.passAtK(samples: 5, correct: 2, k: 1) - 0.4) < 1e-12)         // 1 - 3/5
        #expect(abs(Metrics.passAtK(samples: 5, correct: 2, k: 2) - 0.7) < 1e-12)         // 1 - 3/10
        #expect(abs(Metrics.passAtK(samples: 10, correct: 3, k: 5) - (1 - 21.0 / 252)) < 1e-12)  // C(7,5)=21, C(10,5)=252
        #expect(Metrics.passAtK(samples: 4, correct: 0, k: 2) == 0)
        #expect(Metrics.passAtK(samples: 4, correct: 3, k: 2) == 1)                         // n - c < k
        #expect(Metrics.passAtK(samples: 1, correct: 1, k: 1) == 1)
    }

    @Test func bitsPerByte() {
        // ln 2 nats per byte is exactly one bit per byte.
        #expect(abs(Metrics.bitsPerByte(logLikelihood: -10 * M_LN2, bytes: 10) - 1) < 1e-12)
        #expect(abs(Metrics.bitsPerByte(logLikelihood: -8 * M_LN2, bytes: 4) - 2) < 1e-12)
    }

    @Test func quantileInterpolatesLinearly() {
        // numpy.percentile([1,2,3,4], 25) = 1.75; 50 -> 2.5; 100 -> 4
        #expect(abs(Metrics.quantile([1, 2, 3, 4], 0.25) - 1.75) < 1e-12)
        #expect(abs(Metrics.quantile([1, 2, 3, 4], 0.5) - 2.5) < 1e-12)
        #expect(Metrics.quantile([1, 2, 3, 4], 1) == 4)
    }

    @Test func bootstrapIntervalIsReproducibleAndMatchesTheBinomialSpread() {
        // Constant data has no spread.
        let constant = Metrics.bootstrapInterval(Array(repeating: 1.0, count: 50))
        #expect(constant.low == 1 && constant.high == 1)
        // 400 items, 30 % correct: the mean's standard error is sqrt(.3 * .7 / 400) = 0.0229, so a 95 % interval
        // is about ±1.96 * 0.0229 = ±0.045 around 0.3.
        let values = (0..<400).map { $0 % 10 < 3 ? 1.0 : 0.0 }
        let a = Metrics.bootstrapInterval(values, resamples: 2000, seed: 7)
        let b = Metrics.bootstrapInterval(values, resamples: 2000, seed: 7)
        #expect(a.low == b.low && a.high == b.high)
        #expect(abs((a.high - a.low) / 2 - 0.045) < 0.008, "half-width \((a.high - a.low) / 2)")
        #expect(a.low < 0.3 && a.high > 0.3)
    }

    @Test func numericAnswersCompareAsNumbers() throws {
        #expect(try AnswerMatcher.matches(output: "She makes 9 * 2 = $18 a day. So the answer is 18.", answer: "18",
                                          pattern: nil, extract: "last_number"))
        #expect(try AnswerMatcher.matches(output: "The total is 1,234.0", answer: "1234", pattern: nil, extract: "last_number"))
        #expect(try !AnswerMatcher.matches(output: "It is 17.", answer: "18", pattern: nil, extract: "last_number"))
        #expect(try AnswerMatcher.matches(output: "#### 42\nmore 7", answer: "42", pattern: "#### (\\-?[0-9.,]+)", extract: "last_number"))
        #expect(try AnswerMatcher.matches(output: "  Paris \n", answer: "Paris", pattern: nil, extract: nil))
    }
}
