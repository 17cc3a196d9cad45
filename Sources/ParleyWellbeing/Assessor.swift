import Foundation

/// What one message says on its own: evidence per category, before the conversation around it is considered.
struct TurnEvidence {
    var scores: [WellbeingCategory: Double] = [:]
    var severity: [WellbeingCategory: Int] = [:]
    var signals: [WellbeingCategory: Set<String>] = [:]
    var modifiers: Set<String> = []
    var framed = false
    var languages: Set<String> = []
    var boosters = 0
    var concepts: Set<String> = []
    var negatedConcepts: Set<String> = []
    /// The part of the ideation score that is self-injury (cutting, burning) rather than wishing to die.
    var selfInjury = 0.0
    /// The turn's units and which are Chinese characters: the model's n-gram features are read from them.
    var units: [String] = []
    var unitIsCJK: [Bool] = []

    var strongest: Double { scores.values.max() ?? 0 }
    var selfHarm: Double { (scores[.selfHarmAcute] ?? 0) + (scores[.selfHarmIdeation] ?? 0) }
}

/// Assesses user turns. Immutable and thread-safe: build one per policy (or take `PolicyStore.assessor`).
public final class WellbeingAssessor: Sendable {
    public let policy: WellbeingPolicy
    /// The trained model consulted where no pattern fired (nil: patterns only).
    public let model: RiskModel?
    private let index: PatternIndex
    private let spelling: [String: [String]]
    private let fuzzy: FuzzyVocabulary

    /// How far back a negation cue reaches (units), how many earlier user turns count, and how much.
    static let negationWindow = 3
    static let contextTurns = 6
    static let contextDecay = 0.85
    static let contextGain = 0.6
    static let framingFactor = 0.25
    static let thirdPersonFactor = 0.2
    static let laughterFactor = 0.3
    static let negationExceptions: Set<String> = ["know", "care", "understand", "mind", "think", "sure", "matter", "人", "办", "用"]

    public init(policy: WellbeingPolicy = .default, packs: [LanguagePack] = LanguagePack.builtIn,
                model: RiskModel? = RiskModel.builtIn) {
        self.policy = policy
        self.model = policy.modelEnabled ? model : nil
        var patterns: [Pattern] = []
        var spelling: [String: [String]] = [:]
        var targets: [String] = []
        var known = Set<String>()
        for pack in packs {
            let compiled = pack.compile()
            patterns.append(contentsOf: compiled)
            for (k, v) in pack.spelling { spelling[k] = v.split(separator: " ").map(String.init) }
            targets.append(contentsOf: pack.fuzzyTargets)
            for p in compiled {
                for case .alternatives(let alts) in p.elements { for a in alts { known.formUnion(a.units) } }
            }
        }
        self.index = PatternIndex(patterns)
        self.spelling = spelling
        self.fuzzy = FuzzyVocabulary(targets: targets, known: known)
    }

    /// What the patterns and the conversation say, before the model: the rule decision and the model's features.
    struct Analysis {
        var ruleCategory: WellbeingCategory = .none
        var evidence = TurnEvidence()
        var signals: Set<String> = []
        var features: [String: Double] = [:]
        var language = ""
    }

    /// Assesses the last user message of `messages`, reading the earlier ones as context.
    public func assess(_ messages: [ChatTurn], usage: UsagePattern? = nil) -> Assessment {
        guard messages.contains(where: { $0.role == "user" }) else {
            return Assessment(category: .none, severity: 0, action: .none, signals: [], needsHumanReview: false, language: "")
        }
        var a = analyse(messages, usage: usage)
        var category = a.ruleCategory
        var severity = 0
        if category != .none {
            a.signals.formUnion(a.evidence.signals[category] ?? [])
            severity = max(category.defaultSeverity, a.evidence.severity[category] ?? 0)
            if category != .selfHarmAcute, let model, model.confirmsAcute(a.features) {
                category = .selfHarmAcute
                severity = category.defaultSeverity
                a.signals.insert("model.self_harm_acute")
            }
        } else {
            // Below threshold: name what was seen, for tuning, without acting on it.
            for (c, s) in a.evidence.signals where (a.evidence.scores[c] ?? 0) > 0 { a.signals.formUnion(s.map { "weak.\($0)" }) }
            if let model {
                var m = model
                if let t = policy.modelThreshold { m.threshold = t }
                if let (c, _) = m.decide(a.features) {
                    // A risk the model names that also reads as acute by the upgrade bar is raised, as a pattern
                    // decision would be: "ideation" that describes an act under way is not a check-in.
                    category = c != .selfHarmAcute && m.confirmsAcute(a.features) ? .selfHarmAcute : c
                    severity = category.defaultSeverity
                    a.signals.insert("model.\(category.rawValue)")
                }
            }
        }
        let action = policy.action(for: category, severity: severity)
        return Assessment(category: category, severity: severity, action: action, signals: a.signals.sorted(),
                          needsHumanReview: category != .none && severity >= policy.humanReviewMinSeverity, language: a.language)
    }

    func analyse(_ messages: [ChatTurn], usage: UsagePattern?) -> Analysis {
        var out = Analysis()
        let userTurns = messages.filter { $0.role == "user" }
        guard let current = userTurns.last else { return out }
        var evidence = evaluate(current.content)
        let earlier = userTurns.dropLast().suffix(WellbeingAssessor.contextTurns).map { evaluate($0.content, limit: 500) }
        var signals = Set<String>()
        var features: [String: Double] = [:]
        for c in evidence.concepts { features["c:" + c] = 1 }
        let concepts = evidence.concepts.sorted()
        for i in 0..<concepts.count { for j in (i + 1)..<max(i + 1, concepts.count) { features["p:\(concepts[i])+\(concepts[j])"] = 1 } }
        for c in evidence.negatedConcepts { features["n:" + c] = 1 }
        for m in evidence.modifiers where m != "first_person_risk" { features["m:" + m] = 1 }
        for turn in earlier.suffix(2) { for c in turn.concepts { features["x:" + c] = 1 } }
        // Surface n-grams: this turn's, and (weaker, no letter grams) the two user turns before it.
        for turn in earlier.suffix(2) {
            TextFeatures.add(turn.units, isCJK: turn.unitIsCJK, prefix: "hx:", value: 0.5, letterGrams: false, into: &features)
        }
        TextFeatures.add(evidence.units, isCJK: evidence.unitIsCJK, prefix: "h:", value: 1, letterGrams: true, into: &features)

        // Fiction or research framing set up in an earlier turn still holds ("I'm writing a novel" ... "how would she").
        if !evidence.framed, earlier.contains(where: { $0.framed }), !evidence.modifiers.contains("first_person_risk") {
            for (c, s) in evidence.scores { evidence.scores[c] = s * WellbeingAssessor.framingFactor }
            signals.insert("context.framing")
            features["m:context_framing"] = 1
        }

        // Conversation-level escalation: earlier risk raises what this turn's own (weaker) evidence means.
        var prior = 0.0
        var priorSelfHarm = false
        for (distance, turn) in earlier.reversed().enumerated() {
            let weight = pow(WellbeingAssessor.contextDecay, Double(distance))
            prior = max(prior, weight * min(turn.strongest, 1.5))
            if turn.selfHarm >= 0.6 { priorSelfHarm = true }
            for (c, s) in turn.scores where s > 0 { features["xr:" + c.rawValue] = max(features["xr:" + c.rawValue] ?? 0, weight * min(s, 2)) }
        }
        if prior >= 0.5 && evidence.strongest > 0 {
            for (c, s) in evidence.scores where s > 0 {
                evidence.scores[c] = s + WellbeingAssessor.contextGain * min(prior, 1.5)
            }
            signals.insert("context.escalation")
        }
        // Goodbyes, gifts and letters after earlier talk of self-harm read as a plan.
        if priorSelfHarm, let acute = evidence.scores[.selfHarmAcute], acute > 0 {
            evidence.scores[.selfHarmAcute] = acute + 0.4
            signals.insert("context.self_harm_history")
        }

        // The usage pattern (from session metadata) is evidence for reliance.
        if let usage {
            var u = 0.0
            let r = policy.reliance
            if usage.hoursPerDay >= r.hoursPerDay { u += 0.5; signals.insert("usage.heavy_daily_use") }
            if usage.lateNightShare >= r.lateNightShare { u += 0.3; signals.insert("usage.late_night") }
            if usage.exclusivityMentions >= r.exclusivityMentions { u += 0.5; signals.insert("usage.exclusivity_across_sessions") }
            if u > 0 { evidence.scores[.emotionalReliance, default: 0] += u }
        }

        for c in WellbeingCategory.riskOrder where (evidence.scores[c] ?? 0) >= policy.threshold(for: c) {
            out.ruleCategory = c
            break
        }
        signals.formUnion(evidence.modifiers.filter { $0 != "first_person_risk" }.map { "modifier.\($0)" })
        out.evidence = evidence
        out.signals = signals
        out.features = features
        out.language = evidence.languages.isEmpty ? Self.script(of: current.content) : evidence.languages.sorted().joined(separator: "+")
        return out
    }

    /// Convenience: one message on its own.
    public func assess(text: String, usage: UsagePattern? = nil) -> Assessment {
        assess([ChatTurn(role: "user", content: text)], usage: usage)
    }

    static func script(of text: String) -> String {
        var cjk = 0, latin = 0
        for s in text.unicodeScalars {
            if TokenStream.isCJKIdeograph(s.value) { cjk += 1 } else if s.properties.isAlphabetic { latin += 1 }
        }
        return cjk * 3 >= latin && cjk > 0 ? "zh" : "en"
    }

    /// At most this many characters of a message are read: its beginning and its end, so a very long paste costs
    /// no more than a short one and a statement at either end is still seen.
    static let maxCharacters = 1200

    static func clipped(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        return String(text.prefix(limit / 2)) + "\n" + String(text.suffix(limit / 2))
    }

    func evaluate(_ text: String, limit: Int = WellbeingAssessor.maxCharacters) -> TurnEvidence {
        let stream = TokenStream(WellbeingAssessor.clipped(text, to: limit), spelling: spelling, fuzzy: fuzzy)
        let tokens = stream.tokens
        let matches = index.matches(in: tokens)
        var masked = [Bool](repeating: false, count: tokens.count)
        var negationEnds: [Int] = []
        var personAt = [Int8](repeating: 0, count: tokens.count)  // 1 first person, -1 third person
        var ev = TurnEvidence()
        ev.units = tokens
        ev.unitIsCJK = stream.isCJK

        for m in matches {
            let p = index.patterns[m.pattern]
            switch p.role {
            case .mask: for i in m.start..<m.end { masked[i] = true }
            case .negation:
                if m.end < tokens.count && WellbeingAssessor.negationExceptions.contains(tokens[m.end]) { continue }
                negationEnds.append(m.end)
            case .framing: ev.framed = true
            case .firstPerson: personAt[m.start] = 1
            case .thirdPerson: if personAt[m.start] == 0 { personAt[m.start] = -1 }
            default: break
            }
        }
        if ev.framed { ev.modifiers.insert("framing") }
        let laughing = tokens.contains(TokenStream.laugh)
        if laughing { ev.modifiers.insert("laughter") }

        var anyFirstPersonRisk = false
        for m in matches {
            let p = index.patterns[m.pattern]
            let category: WellbeingCategory
            var severity: Int? = nil
            switch p.role {
            case .risk(let c, let s): category = c; severity = s
            case .acuteBooster:
                if !(m.start..<m.end).contains(where: { masked[$0] }) { ev.boosters += 1 }
                continue
            case .concept(let name):
                if (m.start..<m.end).contains(where: { masked[$0] }) { continue }
                if isNegated(m, tokens: tokens, negationEnds: negationEnds) { ev.negatedConcepts.insert(name) } else { ev.concepts.insert(name) }
                continue
            default: continue
            }
            if (m.start..<m.end).contains(where: { masked[$0] }) { ev.modifiers.insert("idiom"); continue }
            if isNegated(m, tokens: tokens, negationEnds: negationEnds) { ev.modifiers.insert("negation"); continue }
            var weight = p.weight
            let selfInMatch = (m.start..<m.end).contains { personAt[$0] == 1 }
            if selfInMatch { anyFirstPersonRisk = true }
            if !selfInMatch && (category == .selfHarmAcute || category == .selfHarmIdeation)
                && whosePerson(before: m.start, tokens: tokens, personAt) == -1 {
                weight *= WellbeingAssessor.thirdPersonFactor
                ev.modifiers.insert("third_person")
            }
            if ev.framed { weight *= WellbeingAssessor.framingFactor }
            if laughing { weight *= WellbeingAssessor.laughterFactor }
            ev.scores[category, default: 0] += weight
            if category == .selfHarmIdeation && p.signal.hasSuffix(".self_injury") { ev.selfInjury += weight }
            ev.signals[category, default: []].insert(p.signal)
            ev.languages.insert(p.language)
            if let severity { ev.severity[category] = max(ev.severity[category] ?? 0, severity) }
        }
        if anyFirstPersonRisk { ev.modifiers.insert("first_person_risk") }

        // Immediacy ("tonight", "现在") turns talk of dying into acute risk (self-injury urges stay ideation).
        let deathIdeation = (ev.scores[.selfHarmIdeation] ?? 0) - ev.selfInjury
        if ev.boosters > 0 && ((ev.scores[.selfHarmAcute] ?? 0) > 0 || deathIdeation > 0.01) {
            let ideation = max(0, deathIdeation)
            ev.scores[.selfHarmAcute, default: 0] += 0.5 + 0.5 * ideation
            ev.signals[.selfHarmAcute, default: []].insert("acute.immediacy")
            let ideationSignals = ev.signals[.selfHarmIdeation] ?? []
            ev.signals[.selfHarmAcute]?.formUnion(ideationSignals)
        }
        return ev
    }

    private func isNegated(_ m: PatternMatch, tokens: [String], negationEnds: [Int]) -> Bool {
        for end in negationEnds where end <= m.start && m.start - end <= WellbeingAssessor.negationWindow {
            if !(end..<m.start).contains(where: { tokens[$0] == TokenStream.boundary }) { return true }
        }
        return false
    }

    /// Whose words these are: the nearest person word before `position` in the same clause, else the speaker's
    /// (Chinese drops subjects; a person in an earlier clause is as often an object as a subject).
    /// "my friend" / "我朋友" count as third person (a possessive followed by a person).
    private func whosePerson(before position: Int, tokens: [String], _ personAt: [Int8]) -> Int8 {
        var i = position - 1
        while i >= 0 && tokens[i] != TokenStream.boundary {
            if personAt[i] == 1, i + 1 < personAt.count, personAt[i + 1] == -1 { i -= 1; continue }  // "my friend"
            if personAt[i] != 0 { return personAt[i] }
            i -= 1
        }
        return 1
    }
}

extension WellbeingCategory {
    var defaultSeverity: Int {
        switch self {
        case .selfHarmAcute: return 3
        case .selfHarmIdeation, .psychosisMania: return 2
        case .emotionalReliance, .distressOther: return 1
        case .none: return 0
        }
    }
}
