import Foundation

/// A small multinomial logistic regression over what a turn talks about: its concepts and their pairs
/// (`Concepts.swift`), the pattern scores, the modifiers (negation, framing, laughter) and the earlier turns.
/// It decides only where no pattern fired, and only when confident (`threshold`), so the patterns stay in charge
/// of what they know and the model covers phrasing nobody wrote a pattern for.
/// Trained in the project (`parley wellbeing train`, `RiskModelTrainer`); the weights ship in `ModelWeights.swift`.
public struct RiskModel: Codable, Sendable {
    /// Class order of every weight vector.
    public static let classes: [WellbeingCategory] = WellbeingCategory.riskOrder + [.none]

    public var version: Int
    public var bias: [Double]
    public var weights: [String: [Double]]
    /// Least probability of a risk class for the model alone to act.
    public var threshold: Double
    /// Least probability of acute self-harm at which the model raises a pattern decision that is some other risk
    /// to acute (a plan or an act said in words the acute patterns miss); nil: never.
    public var acuteUpgradeThreshold: Double?
    /// How it was trained, for the record: dataset size, epochs, L2, cross-validated figures.
    public var notes: [String: String]

    public func probabilities(_ features: [String: Double]) -> [Double] {
        var z = bias
        for (name, value) in features {
            guard let w = weights[name] else { continue }
            for k in 0..<z.count { z[k] += w[k] * value }
        }
        let m = z.max() ?? 0
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// The model's pick among the risk classes, if confident enough.
    public func decide(_ features: [String: Double]) -> (WellbeingCategory, Double)? {
        let p = probabilities(features)
        var best = 0
        for k in 0..<RiskModel.classes.count - 1 where p[k] > p[best] { best = k }
        return p[best] >= threshold && p[best] > p[RiskModel.classes.count - 1] ? (RiskModel.classes[best], p[best]) : nil
    }

    /// Whether the model is confident this turn is acute self-harm (see `acuteUpgradeThreshold`).
    public func confirmsAcute(_ features: [String: Double]) -> Bool {
        guard let t = acuteUpgradeThreshold else { return false }
        return probabilities(features)[0] >= t
    }

    public static func decode(_ data: Data) throws -> RiskModel {
        let m = try JSONDecoder().decode(RiskModel.self, from: data)
        guard m.bias.count == classes.count, m.weights.values.allSatisfy({ $0.count == classes.count }) else {
            throw PolicyError(path: "model", message: "weight vectors must have \(classes.count) entries")
        }
        return m
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(self)
    }

    /// The weights built into the binary.
    public static let builtIn: RiskModel? = try? decode(Data(ModelWeights.json.utf8))
}

/// Trains `RiskModel` deterministically: AdaGrad on the softmax loss with L2, a fixed shuffle, fixed epochs.
public enum RiskModelTrainer {
    public struct Options: Sendable {
        public var epochs = 20
        public var learningRate = 0.3
        public var l2 = 0.002
        /// Non-risk items answered with any action, at most, in cross-validation: sets `threshold`.
        public var maxFalsePositiveRate = 0.04
        public var folds = 5
        /// Features whose weights all stay below this are dropped from the shipped model.
        public var minimumWeight = 0.01
        /// Items of other classes that the model may raise to acute, at most, in cross-validation: sets
        /// `acuteUpgradeThreshold`.
        public var maxWrongAcuteRate = 0.02
        public init() {}
    }

    static func examples(_ items: [WellbeingDatasetItem], _ assessor: WellbeingAssessor) -> [(features: [String: Double], label: Int, rules: WellbeingCategory)] {
        items.map { item in
            let analysis = assessor.analyse(item.messages, usage: nil)
            return (analysis.features, RiskModel.classes.firstIndex(of: item.category)!, analysis.ruleCategory)
        }
    }

    static func fit(_ examples: [(features: [String: Double], label: Int, rules: WellbeingCategory)], options: Options) -> RiskModel {
        let k = RiskModel.classes.count
        // Feature names become dense indices (in sorted order, so sums run the same way every time) and the
        // weights one flat array: training touches no dictionary in its inner loop.
        var index: [String: Int] = [:]
        var names: [String] = []
        var rows: [[(feature: Int, value: Double)]] = []
        rows.reserveCapacity(examples.count)
        for ex in examples {
            var row: [(feature: Int, value: Double)] = []
            for (name, value) in ex.features.sorted(by: { $0.key < $1.key }) {
                if let i = index[name] { row.append((i, value)); continue }
                index[name] = names.count
                row.append((names.count, value))
                names.append(name)
            }
            rows.append(row)
        }
        var w = [Double](repeating: 0, count: names.count * k)
        var g2 = [Double](repeating: 1e-8, count: names.count * k)
        var bias = [Double](repeating: 0, count: k)
        var biasG2 = [Double](repeating: 1e-8, count: k)
        var z = [Double](repeating: 0, count: k)
        var order = Array(examples.indices)
        var seed: UInt64 = 0x9E3779B97F4A7C15
        for _ in 0..<options.epochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) {  // Fisher-Yates with a fixed LCG
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let j = Int(seed >> 33) % (i + 1)
                order.swapAt(i, j)
            }
            for idx in order {
                let row = rows[idx], label = examples[idx].label
                for c in 0..<k { z[c] = bias[c] }
                for (f, v) in row { for c in 0..<k { z[c] += w[f * k + c] * v } }
                let m = z.max() ?? 0
                var sum = 0.0
                for c in 0..<k { z[c] = exp(z[c] - m); sum += z[c] }
                for c in 0..<k {
                    let grad = z[c] / sum - (c == label ? 1 : 0)
                    biasG2[c] += grad * grad
                    bias[c] -= options.learningRate * grad / biasG2[c].squareRoot()
                    z[c] = grad  // the error per class, reused below
                }
                for (f, v) in row {
                    for c in 0..<k {
                        let at = f * k + c
                        let grad = z[c] * v + options.l2 * w[at]
                        g2[at] += grad * grad
                        w[at] -= options.learningRate * grad / g2[at].squareRoot()
                    }
                }
            }
        }
        // Drop weights too small to matter, to keep the shipped file small.
        var weights: [String: [Double]] = [:]
        for (i, name) in names.enumerated() {
            let v = Array(w[(i * k)..<((i + 1) * k)])
            guard v.contains(where: { abs($0) >= options.minimumWeight }) else { continue }
            weights[name] = v.map { ($0 * 10000).rounded() / 10000 }
        }
        return RiskModel(version: 1, bias: bias.map { ($0 * 10000).rounded() / 10000 }, weights: weights, threshold: 0.5, notes: [:])
    }

    /// Trains on all items; the thresholds come from `folds`-fold cross-validation: `threshold` is the lowest
    /// probability at which model-only decisions keep the out-of-fold false-positive rate (non-risk items the
    /// patterns left alone but the model would act on) within bounds; `acuteUpgradeThreshold` likewise for raising
    /// a pattern decision to acute.
    public static func train(_ items: [WellbeingDatasetItem], assessor: WellbeingAssessor, options: Options = Options()) -> RiskModel {
        let all = examples(items, assessor)
        let noneIndex = RiskModel.classes.count - 1
        var outOfFold: [(p: [Double], label: Int, rules: WellbeingCategory)] = []
        for fold in 0..<options.folds {
            let train = all.enumerated().filter { $0.offset % options.folds != fold }.map(\.element)
            let test = all.enumerated().filter { $0.offset % options.folds == fold }.map(\.element)
            let m = fit(train, options: options)
            outOfFold += test.map { (m.probabilities($0.features), $0.label, $0.rules) }
        }
        let nonRisk = outOfFold.filter { $0.label == noneIndex }
        let risk = outOfFold.filter { $0.label != noneIndex }
        func riskClass(_ p: [Double]) -> Int { (0..<noneIndex).max { p[$0] < p[$1] }! }
        func topRisk(_ p: [Double]) -> Double? {
            let best = (0..<noneIndex).max { p[$0] < p[$1] }!
            return p[best] > p[noneIndex] ? p[best] : nil
        }
        var threshold = 0.95
        for t in stride(from: 0.95, through: 0.5, by: -0.01) {
            // Only the model's own false alarms count against its budget: the patterns' are theirs to fix.
            let fp = nonRisk.filter { $0.rules == .none && (topRisk($0.p).map { $0 >= t } ?? false) }.count
            if Double(fp) / Double(max(1, nonRisk.count)) <= options.maxFalsePositiveRate { threshold = t } else { break }
        }
        let caught = risk.filter { $0.rules != .none || (topRisk($0.p).map { $0 >= threshold } ?? false) }.count
        // Raising another pattern decision to acute: the lowest probability that keeps such upgrades of items
        // that are not acute within bounds (out of fold).
        // Both pattern decisions and the model's own non-acute risk decisions are raised (see the assessor).
        let raisable = outOfFold.filter {
            $0.rules == .none ? (topRisk($0.p).map { $0 >= threshold } ?? false) && riskClass($0.p) != 0
                : $0.rules != .selfHarmAcute
        }
        let notAcute = raisable.filter { $0.label != 0 }
        var upgrade = 0.99
        for t in stride(from: 0.99, through: 0.5, by: -0.01) {
            let wrong = notAcute.filter { $0.p[0] >= t }.count
            if Double(wrong) / Double(max(1, notAcute.count)) <= options.maxWrongAcuteRate { upgrade = t } else { break }
        }
        let raised = raisable.filter { $0.label == 0 && $0.p[0] >= upgrade }.count
        var model = fit(all, options: options)
        model.threshold = (threshold * 100).rounded() / 100
        model.acuteUpgradeThreshold = (upgrade * 100).rounded() / 100
        model.notes = [
            "items": "\(items.count)", "epochs": "\(options.epochs)", "l2": "\(options.l2)", "folds": "\(options.folds)",
            "cv_risk_any_action": String(format: "%.3f", Double(caught) / Double(max(1, risk.count))),
            "cv_nonrisk_any_action_max": "\(options.maxFalsePositiveRate)",
            "cv_acute_raised": "\(raised) of \(raisable.filter { $0.label == 0 }.count)",
        ]
        return model
    }

    /// The Swift source that embeds a model in the binary.
    public static func swiftSource(_ model: RiskModel) throws -> String {
        let json = String(decoding: try model.encoded(), as: UTF8.self)
        return """
        // Generated by `parley wellbeing train --dataset Tests/Fixtures/wellbeing/dev.jsonl --dataset \
        Tests/Fixtures/wellbeing/train.jsonl --swift-output Sources/ParleyWellbeing/ModelWeights.swift`. Do not edit by hand.

        enum ModelWeights {
            static let json = #\"\"\"
        \(json)
        \"\"\"#
        }

        """
    }
}
