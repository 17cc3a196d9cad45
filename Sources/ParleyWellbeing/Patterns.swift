import Foundation

/// What a matched pattern means.
enum PatternRole: Equatable, Sendable {
    /// Evidence for a category; `severity` overrides the category's default when this pattern decides.
    case risk(WellbeingCategory, severity: Int?)
    /// A time or immediacy word ("tonight", "现在") that turns self-harm evidence in the same turn into acute risk.
    case acuteBooster
    /// An idiom whose units no risk pattern may use ("this traffic is killing me", "笑死").
    case mask
    /// A negation cue ("not", "never", "不会"): risk matches shortly after it in the same clause do not count.
    case negation
    /// Fiction, research, lyrics, teaching: the turn talks about risk rather than expressing it.
    case framing
    /// A person other than the speaker ("my friend", "she", "他"): used to tell whose risk a match is.
    case thirdPerson
    /// The speaker ("i", "me", "我").
    case firstPerson
    /// A concept the trained model reads ("DEATH", "MEANS", "YOU" …).
    case concept(String)
}

/// A compiled pattern over a `TokenStream`. The source syntax (see `LanguagePack`):
/// elements separated by spaces; `a|b` alternatives; `_` joins words of a multi-word alternative (`my_life`);
/// a trailing `*` matches any word starting so (`pill*`); CJK text matches character by character;
/// `~N` skips 0...N units within the clause (`~` alone is `~3`).
struct Pattern: Sendable {
    struct Alternative: Sendable {
        var units: [String]
        var prefixLast: Bool
        /// `units` as vocabulary ids (filled by `PatternIndex`), so matching compares integers.
        var ids: [Int32] = []
    }
    enum Element: Sendable {
        case alternatives([Alternative])
        case gap(Int)
    }

    let source: String
    var elements: [Element]
    let role: PatternRole
    let weight: Double
    let signal: String
    let language: String

    init(_ source: String, role: PatternRole, weight: Double, signal: String, language: String) {
        self.source = source
        self.role = role
        self.weight = weight
        self.signal = signal
        self.language = language
        var elements: [Element] = []
        for part in source.split(separator: " ") {
            if part.hasPrefix("~") {
                elements.append(.gap(Int(part.dropFirst()) ?? 3))
                continue
            }
            var alternatives: [Alternative] = []
            for alt in part.split(separator: "|") {
                var text = String(alt)
                var prefix = false
                if text.hasSuffix("*") { prefix = true; text.removeLast() }
                var units: [String] = []
                for word in text.split(separator: "_") {
                    let w = String(word)
                    if w.unicodeScalars.contains(where: { TokenStream.isCJKIdeograph($0.value) }) {
                        units.append(contentsOf: w.map { String($0) })
                    } else {
                        units.append(w.replacingOccurrences(of: "'", with: ""))
                    }
                }
                alternatives.append(Alternative(units: units, prefixLast: prefix))
            }
            elements.append(.alternatives(alternatives))
        }
        precondition(!elements.isEmpty, "empty pattern")
        if case .gap = elements[0] { preconditionFailure("pattern starts with a gap: \(source)") }
        self.elements = elements
    }

    mutating func intern(_ vocabulary: inout [String: Int32]) {
        elements = elements.map { element in
            guard case .alternatives(var alts) = element else { return element }
            for i in alts.indices {
                alts[i].ids = alts[i].units.map { unit in
                    if let id = vocabulary[unit] { return id }
                    let id = Int32(vocabulary.count)
                    vocabulary[unit] = id
                    return id
                }
            }
            return .alternatives(alts)
        }
    }

    /// The end (exclusive) of the shortest match starting at `start`, or nil.
    func match(_ tokens: TokenIDs, at start: Int) -> Int? {
        matchFrom(element: 0, position: start, tokens)
    }

    private func matchFrom(element index: Int, position: Int, _ tokens: TokenIDs) -> Int? {
        if index == elements.count { return position }
        switch elements[index] {
        case .gap(let n):
            var p = position
            for _ in 0...n {
                if let end = matchFrom(element: index + 1, position: p, tokens) { return end }
                if p >= tokens.ids.count || tokens.ids[p] == TokenIDs.boundary { return nil }
                p += 1
            }
            return nil
        case .alternatives(let alternatives):
            for alt in alternatives {
                if let end = Pattern.matchAlternative(alt, tokens, position),
                   let result = matchFrom(element: index + 1, position: end, tokens) {
                    return result
                }
            }
            return nil
        }
    }

    static func matchAlternative(_ alt: Alternative, _ tokens: TokenIDs, _ position: Int) -> Int? {
        let n = alt.ids.count
        guard position + n <= tokens.ids.count else { return nil }
        for k in 0..<n {
            if k == n - 1 && alt.prefixLast {
                if tokens.ids[position + k] == TokenIDs.boundary || !tokens.strings[position + k].hasPrefix(alt.units[k]) { return nil }
            } else if tokens.ids[position + k] != alt.ids[k] {
                return nil
            }
        }
        return position + n
    }
}

/// A token stream as vocabulary ids (-1: a word no pattern uses) beside the strings (for prefix alternatives).
struct TokenIDs {
    static let boundary: Int32 = 0
    var ids: [Int32]
    var strings: [String]
}

/// One occurrence of a pattern in a stream.
struct PatternMatch {
    let pattern: Int
    let start: Int
    let end: Int
}

/// All patterns of all language packs, indexed by the unit their first element starts with.
struct PatternIndex: Sendable {
    let patterns: [Pattern]
    private let vocabulary: [String: Int32]
    /// Pattern indices by the id of their first unit.
    private let byFirstUnit: [[Int]]
    /// Prefix alternatives (`pill*`), bucketed by their first two characters so a token only tries its own bucket.
    private let byPrefix: [String: [(prefix: String, pattern: Int)]]

    init(_ patterns: [Pattern]) {
        var vocabulary: [String: Int32] = [TokenStream.boundary: TokenIDs.boundary]
        var interned = patterns
        for i in interned.indices { interned[i].intern(&vocabulary) }
        self.patterns = interned
        self.vocabulary = vocabulary
        var byFirst = [[Int]](repeating: [], count: vocabulary.count)
        var byPrefix: [String: [(prefix: String, pattern: Int)]] = [:]
        for (i, p) in interned.enumerated() {
            guard case .alternatives(let alts) = p.elements[0] else { continue }
            for alt in alts {
                if alt.units.count == 1 && alt.prefixLast {
                    byPrefix[String(alt.units[0].prefix(2)), default: []].append((alt.units[0], i))
                } else if !byFirst[Int(alt.ids[0])].contains(i) {
                    byFirst[Int(alt.ids[0])].append(i)
                }
            }
        }
        self.byFirstUnit = byFirst
        self.byPrefix = byPrefix
    }

    func ids(_ tokens: [String]) -> TokenIDs {
        TokenIDs(ids: tokens.map { vocabulary[$0] ?? -1 }, strings: tokens)
    }

    func matches(in tokens: [String]) -> [PatternMatch] {
        let stream = ids(tokens)
        var out: [PatternMatch] = []
        var tried = Set<Int>()
        for start in 0..<tokens.count {
            let id = stream.ids[start]
            if id == TokenIDs.boundary { continue }
            tried.removeAll(keepingCapacity: true)
            if id >= 0 {
                for i in byFirstUnit[Int(id)] where tried.insert(i).inserted {
                    if let end = patterns[i].match(stream, at: start) { out.append(PatternMatch(pattern: i, start: start, end: end)) }
                }
            }
            if let bucket = byPrefix[String(tokens[start].prefix(2))] {
                for (prefix, i) in bucket where tokens[start].hasPrefix(prefix) && tried.insert(i).inserted {
                    if let end = patterns[i].match(stream, at: start) { out.append(PatternMatch(pattern: i, start: start, end: end)) }
                }
            }
        }
        return out
    }
}
