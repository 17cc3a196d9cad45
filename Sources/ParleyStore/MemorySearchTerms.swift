/// What full-text search indexes and matches for memories, the same for both backends: lowercased words of
/// letters and digits (a short English stop list dropped), and for runs of CJK characters every character bigram
/// plus the single characters that carry meaning.
///
/// Chinese is written without spaces, and neither SQLite's unicode61 tokenizer nor PostgreSQL's `simple`
/// configuration segments it; overlapping bigrams are the standard dictionary-free fallback (as in Lucene's
/// CJKAnalyzer): "我是素食者" → 我是 是素 素食 食者 + 素 食 者, so a question containing "素食" matches.
public enum MemorySearchTerms {
    /// The terms of `text`, in order, repeats kept (they weigh in ranking).
    public static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var word = String.UnicodeScalarView()
        var cjkRun: [Unicode.Scalar] = []
        func flushWord() {
            if !word.isEmpty {
                let w = String(word).lowercased()
                if !englishStopWords.contains(w) { terms.append(w) }
                word = String.UnicodeScalarView()
            }
        }
        func flushCJK() {
            guard !cjkRun.isEmpty else { return }
            for (index, scalar) in cjkRun.enumerated() {
                if !chineseStopCharacters.contains(scalar) { terms.append(String(scalar)) }
                if index + 1 < cjkRun.count {
                    var pair = String.UnicodeScalarView()
                    pair.append(scalar)
                    pair.append(cjkRun[index + 1])
                    terms.append(String(pair))
                }
            }
            cjkRun.removeAll()
        }
        for scalar in text.unicodeScalars {
            if isCJK(scalar) {
                flushWord()
                cjkRun.append(scalar)
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                flushCJK()
                word.append(scalar)
            } else {
                flushWord()
                flushCJK()
            }
        }
        flushWord()
        flushCJK()
        return terms
    }

    /// The terms joined by spaces: the column both backends' tokenizers split back into `terms`.
    public static func indexText(_ text: String) -> String { terms(text).joined(separator: " ") }

    /// The distinct terms of a query, in first-seen order.
    public static func queryTerms(_ text: String) -> [String] {
        var seen = Set<String>()
        return terms(text).filter { seen.insert($0).inserted }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2CEAF, 0xF900...0xFAFF, // ideographs
             0x3040...0x30FF, // kana
             0xAC00...0xD7AF: // hangul syllables
            return true
        default:
            return false
        }
    }

    /// Words too common to tell memories apart (matching them would rank by chatter).
    static let englishStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "did", "for", "from", "has", "have",
        "i", "i'm", "in", "is", "it", "its", "me", "my", "of", "on", "or", "so", "that", "the", "their", "there",
        "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "how", "will", "with",
        "you", "your", "am", "m", "s", "t", "can", "could", "would", "should", "about", "any", "some", "our",
    ]

    /// Function characters of Chinese; they still take part in bigrams.
    static let chineseStopCharacters: Set<Unicode.Scalar> = [
        "的", "了", "是", "我", "你", "他", "她", "它", "在", "和", "也", "都", "吗", "呢", "吧", "啊", "么", "什", "这", "那",
        "有", "个", "们", "就", "不", "很", "哪", "里", "谁", "会", "要", "对", "到", "说", "去", "请",
    ]
}
