import Foundation

/// A turn's text as a stream of units that patterns of every language match against: a Latin-script word
/// (lower-cased, apostrophes dropped: "don't" → "dont"), one CJK character, a laughter marker, or a clause
/// boundary. Space-separated languages and Chinese share one stream, so mixed-language turns need nothing special.
struct TokenStream {
    static let boundary = "|"
    static let laugh = "<laugh>"

    var tokens: [String]
    /// Which script each token came from: true for CJK.
    var isCJK: [Bool]

    var count: Int { tokens.count }

    /// At most this many units of one message are read (its end: the newest words matter most).
    static let maxTokens = 400

    init(_ text: String, spelling: [String: [String]] = [:], fuzzy: FuzzyVocabulary? = nil) {
        var tokens: [String] = []
        var isCJK: [Bool] = []
        tokens.reserveCapacity(64)
        var word = String.UnicodeScalarView()

        func flushWord() {
            guard !word.isEmpty else { return }
            var w = String(word)
            word.removeAll(keepingCapacity: true)
            w = TokenStream.squeezeRuns(w)
            if TokenStream.laughWords.contains(w) || TokenStream.isLaughter(w) {
                tokens.append(TokenStream.laugh); isCJK.append(false); return
            }
            if let replacement = spelling[w] {
                for r in replacement { tokens.append(r); isCJK.append(false) }
                return
            }
            if let fuzzy, let fixed = fuzzy.correct(w) { w = fixed }
            tokens.append(w); isCJK.append(false)
        }

        // Full-width forms and compatibility characters to their plain equivalents, then lower case.
        let normalized = text.precomposedStringWithCompatibilityMapping.lowercased()
        for scalar in normalized.unicodeScalars {
            let v = scalar.value
            if (0x61...0x7A).contains(v) || (0x30...0x39).contains(v) || (0xE0...0x24F).contains(v) {
                word.append(scalar)
            } else if v == 0x27 || v == 0x2019 || v == 0x2018 {
                continue  // apostrophes vanish inside words: "i'm" → "im"
            } else if TokenStream.isCJKIdeograph(v) {
                flushWord()
                tokens.append(String(scalar)); isCJK.append(true)
            } else if TokenStream.laughEmoji.contains(v) {
                flushWord()
                tokens.append(TokenStream.laugh); isCJK.append(false)
            } else if TokenStream.isClauseBreak(v) {
                flushWord()
                if tokens.last != TokenStream.boundary { tokens.append(TokenStream.boundary); isCJK.append(false) }
            } else {
                flushWord()  // spaces and other symbols separate words but do not end a clause
            }
        }
        flushWord()
        if tokens.count > TokenStream.maxTokens {
            tokens = Array(tokens.suffix(TokenStream.maxTokens))
            isCJK = Array(isCJK.suffix(TokenStream.maxTokens))
        }
        self.tokens = tokens
        self.isCJK = isCJK
    }

    static func isCJKIdeograph(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0xF900...0xFAFF).contains(v)
            || (0x20000...0x2A6DF).contains(v)
    }

    static func isClauseBreak(_ v: UInt32) -> Bool {
        switch v {
        case 0x2E, 0x2C, 0x3B, 0x3A, 0x21, 0x3F, 0x0A, 0x0D:  // . , ; : ! ? newlines
            return true
        case 0x3002, 0xFF0C, 0x3001, 0xFF1B, 0xFF1A, 0xFF01, 0xFF1F, 0x2026:  // 。，、；：！？…
            return true
        default:
            return false
        }
    }

    static let laughWords: Set<String> = ["haha", "hahaha", "lol", "lmao", "lmfao", "rofl", "hehe", "jk", "xd", "hhh", "lool"]
    static let laughEmoji: Set<UInt32> = [0x1F602, 0x1F923, 0x1F606, 0x1F604, 0x1F601, 0x1F639, 0x1F61D, 0x1F61C]

    static func isLaughter(_ w: String) -> Bool {
        // "hahahah", "hhhhh", "ahahaha": only the letters h and a, at least four of them, mostly h and a alternating
        guard w.count >= 4, w.allSatisfy({ $0 == "h" || $0 == "a" }), w.contains("h") else { return false }
        return true
    }

    /// Runs of three or more of the same letter become two: "soooo" → "soo", "killlll" → "kill".
    static func squeezeRuns(_ w: String) -> String {
        var out = String.UnicodeScalarView()
        var last: Unicode.Scalar?
        var run = 0
        for s in w.unicodeScalars {
            if s == last { run += 1 } else { run = 1; last = s }
            if run <= 2 { out.append(s) }
        }
        return String(out)
    }
}

/// Corrects typos of the words that carry risk ("suicde" → "suicide"): a word not in the vocabulary that is one
/// edit (insert, delete, substitute, swap neighbours) from exactly one target of similar length is replaced.
/// Only words of five or more letters are corrected, so ordinary short words never turn into risk words.
struct FuzzyVocabulary {
    private let targets: [String: [[Unicode.Scalar]]]  // keyed by first letter
    private let known: Set<String>

    init(targets: [String], known: Set<String>) {
        var byFirst: [String: [[Unicode.Scalar]]] = [:]
        for t in targets where t.count >= 5 {
            byFirst[String(t.prefix(1)), default: []].append(Array(t.unicodeScalars))
        }
        self.targets = byFirst
        self.known = known.union(targets)
    }

    func correct(_ word: String) -> String? {
        guard word.count >= 5, !known.contains(word), let first = word.first,
              let candidates = targets[String(first)] else { return nil }
        let w = Array(word.unicodeScalars)
        var found: [Unicode.Scalar]?
        for c in candidates where abs(c.count - w.count) <= 1 && FuzzyVocabulary.oneEdit(w, c) {
            if found != nil && found! != c { return nil }  // ambiguous: leave it
            found = c
        }
        return found.map { String(String.UnicodeScalarView($0)) }
    }

    static func oneEdit(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Bool {
        if a == b { return false }
        if a.count == b.count {
            var diffs: [Int] = []
            for i in 0..<a.count where a[i] != b[i] {
                diffs.append(i)
                if diffs.count > 2 { return false }
            }
            if diffs.count == 1 { return true }
            // transposition of neighbours
            return diffs.count == 2 && diffs[1] == diffs[0] + 1 && a[diffs[0]] == b[diffs[1]] && a[diffs[1]] == b[diffs[0]]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        var i = 0, j = 0, skipped = false
        while i < long.count && j < short.count {
            if long[i] == short[j] { i += 1; j += 1 } else {
                if skipped { return false }
                skipped = true; i += 1
            }
        }
        return true
    }
}
