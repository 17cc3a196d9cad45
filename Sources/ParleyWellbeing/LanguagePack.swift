import Foundation

/// The data for one language: risk patterns per category, idioms that look like risk, negation cues, framing cues,
/// person words, and spelling fixes. Adding a language is adding a pack to `LanguagePack.builtIn`; the
/// assessor's logic is shared. Pattern syntax: see `Pattern`.
public struct LanguagePack: Sendable {
    public struct Entry: Sendable {
        public var pattern: String
        public var weight: Double
        public var name: String
        public var severity: Int?
        public init(_ pattern: String, _ weight: Double, _ name: String, severity: Int? = nil) {
            self.pattern = pattern
            self.weight = weight
            self.name = name
            self.severity = severity
        }
    }

    public var code: String
    public var risk: [WellbeingCategory: [Entry]]
    public var acuteBoosters: [String]
    public var idioms: [String]
    public var negations: [String]
    public var framing: [String]
    public var thirdPerson: [String]
    public var firstPerson: [String]
    /// Whole-word replacements applied while tokenizing ("tonite" → "tonight", "kms" → "kill myself").
    public var spelling: [String: String]
    /// Words worth correcting when misspelled by one edit.
    public var fuzzyTargets: [String]
    /// Concept name → patterns: what the trained model reads (see `Concepts.swift`).
    public var concepts: [String: [String]] = [:]

    public static let builtIn: [LanguagePack] = [.english, .chinese]

    func compile() -> [Pattern] {
        var out: [Pattern] = []
        let short: [WellbeingCategory: String] = [
            .selfHarmAcute: "acute", .selfHarmIdeation: "ideation", .psychosisMania: "psychosis",
            .emotionalReliance: "reliance", .distressOther: "distress",
        ]
        for category in WellbeingCategory.riskOrder {
            for e in risk[category] ?? [] {
                out.append(Pattern(e.pattern, role: .risk(category, severity: e.severity), weight: e.weight,
                                   signal: "\(code).\(short[category]!).\(e.name)", language: code))
            }
        }
        for p in acuteBoosters { out.append(Pattern(p, role: .acuteBooster, weight: 0.5, signal: "\(code).acute.immediacy", language: code)) }
        for p in idioms { out.append(Pattern(p, role: .mask, weight: 0, signal: "\(code).idiom", language: code)) }
        for p in negations { out.append(Pattern(p, role: .negation, weight: 0, signal: "\(code).negation", language: code)) }
        for p in framing { out.append(Pattern(p, role: .framing, weight: 0, signal: "\(code).framing", language: code)) }
        for p in thirdPerson { out.append(Pattern(p, role: .thirdPerson, weight: 0, signal: "\(code).third_person", language: code)) }
        for p in firstPerson { out.append(Pattern(p, role: .firstPerson, weight: 0, signal: "\(code).first_person", language: code)) }
        for (name, list) in concepts.sorted(by: { $0.key < $1.key }) {
            for p in list { out.append(Pattern(p, role: .concept(name), weight: 0, signal: name, language: code)) }
        }
        return out
    }
}
