/// The regex splitting step of byte-level BPE, one hand-written matcher per pattern llama.cpp uses.
///
/// Rules apply in sequence; each refines the pieces of the previous one and sees a piece's edges as the text's
/// edges. Both matches and the unmatched gaps between them become pieces.
enum PreTokenizerRule: Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (GPT-2)
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// As `llama3` with `\p{N}` single digits (Qwen2).
    case qwen2
    /// `\p{N}`: every number codepoint alone.
    case eachNumber
    /// `\p{N}+`
    case numberRuns
    /// `[\p{P}\$\+<=>\^~\|]+`
    case punctuationRuns
    /// `[0-9][0-9][0-9]`
    case asciiDigitTriples
}

struct PreTokenizer: Sendable {
    let rules: [PreTokenizerRule]

    /// Splits codepoints into pieces; returns each piece's length in codepoints.
    func split(_ cpts: [UInt32]) -> [Int] {
        var flags = [UInt8](repeating: 0, count: cpts.count)
        for i in 0..<cpts.count { flags[i] = CodepointFlags.of(cpts[i]) }
        var pieces = cpts.isEmpty ? [] : [cpts.count]
        var next: [Int] = []
        cpts.withUnsafeBufferPointer { cp in
            flags.withUnsafeBufferPointer { fl in
                for rule in rules {
                    next.removeAll(keepingCapacity: true)
                    next.reserveCapacity(pieces.count * 2)
                    var start = 0
                    for length in pieces {
                        var m = Matcher(cp: cp, fl: fl, ini: start, end: start + length, out: next)
                        m.run(rule)
                        next = m.out
                        start += length
                    }
                    swap(&pieces, &next)
                }
            }
        }
        return pieces
    }
}

private struct Matcher {
    let cp: UnsafeBufferPointer<UInt32>
    let fl: UnsafeBufferPointer<UInt8>
    let ini: Int
    let end: Int
    var out: [Int]
    var prevEnd: Int

    init(cp: UnsafeBufferPointer<UInt32>, fl: UnsafeBufferPointer<UInt8>, ini: Int, end: Int, out: [Int]) {
        self.cp = cp; self.fl = fl; self.ini = ini; self.end = end; self.out = out; self.prevEnd = ini
    }

    static let outOfRange: UInt32 = 0xFFFF_FFFF
    static let wln: UInt8 = CodepointFlags.whitespace | CodepointFlags.letter | CodepointFlags.number

    @inline(__always) func cpt(_ pos: Int) -> UInt32 { pos >= ini && pos < end ? cp[pos] : Matcher.outOfRange }
    @inline(__always) func flags(_ pos: Int) -> UInt8 { pos >= ini && pos < end ? fl[pos] : 0 }

    @discardableResult
    @inline(__always) mutating func add(_ upTo: Int) -> Int {
        let len = upTo - prevEnd
        if len > 0 { out.append(len) }
        prevEnd = upTo
        return len
    }

    mutating func run(_ rule: PreTokenizerRule) {
        switch rule {
        case .gpt2: gpt2()
        case .llama3: llama3(maxDigits: 3)
        case .qwen2: llama3(maxDigits: 1)
        case .eachNumber:
            classSplit(single: true) { f, _ in f & CodepointFlags.number != 0 }
        case .numberRuns:
            classSplit(single: false) { f, _ in f & CodepointFlags.number != 0 }
        case .punctuationRuns:
            classSplit(single: false) { f, c in
                if c < 0x80 {
                    // ASCII punctuation plus $ + < = > ^ ~ | (not the backtick)
                    return f & CodepointFlags.punctuation != 0
                        || c == 0x24 || c == 0x2B || c == 0x3C || c == 0x3D || c == 0x3E || c == 0x5E || c == 0x7E || c == 0x7C
                }
                return f & CodepointFlags.whitespace == 0 && f & CodepointFlags.punctuation != 0
            }
        case .asciiDigitTriples:
            var pos = ini
            func digit(_ p: Int) -> Bool { let c = cpt(p); return c >= 0x30 && c <= 0x39 }
            while pos < end {
                if digit(pos) && digit(pos + 1) && digit(pos + 2) {
                    add(pos)
                    add(pos + 3)
                    pos += 3
                } else {
                    pos += 1
                }
            }
            add(end)
        }
    }

    /// Matches of a one-codepoint class (alone or as runs) and the gaps between them.
    private mutating func classSplit(single: Bool, _ inClass: (UInt8, UInt32) -> Bool) {
        var pos = ini
        while pos < end {
            if inClass(fl[pos], cp[pos]) {
                add(pos)
                if single {
                    pos += 1
                } else {
                    while pos < end && inClass(fl[pos], cp[pos]) { pos += 1 }
                }
                add(pos)
            } else {
                pos += 1
            }
        }
        add(end)
    }

    private mutating func gpt2() {
        var pos = ini
        while pos < end {
            let c = cp[pos]
            let f = fl[pos]
            if c == 0x27 && pos + 1 < end {  // '
                let n1 = cp[pos + 1]
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                    pos += add(pos + 2)
                    continue
                }
                if pos + 2 < end {
                    let n2 = cp[pos + 2]
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {  // re ve ll
                        pos += add(pos + 3)
                        continue
                    }
                }
            }
            let space = c == 0x20
            var f2 = space ? flags(pos + 1) : f
            if f2 & CodepointFlags.letter != 0 {
                if space { pos += 1 }
                while f2 & CodepointFlags.letter != 0 { pos += 1; f2 = flags(pos) }
                add(pos)
                continue
            }
            if f2 & CodepointFlags.number != 0 {
                if space { pos += 1 }
                while f2 & CodepointFlags.number != 0 { pos += 1; f2 = flags(pos) }
                add(pos)
                continue
            }
            if f2 & Matcher.wln == 0 && f2 != 0 {
                if space { pos += 1 }
                while f2 & Matcher.wln == 0 && f2 != 0 { pos += 1; f2 = flags(pos) }
                add(pos)
                continue
            }
            var spaces = 0
            while flags(pos + spaces) & CodepointFlags.whitespace != 0 { spaces += 1 }
            if spaces > 1 && pos + spaces < end {
                pos += spaces - 1
                add(pos)
                continue
            }
            if spaces > 0 {
                pos += spaces
                add(pos)
                continue
            }
            pos += 1
            add(pos)
        }
    }

    @inline(__always) private static func lowerASCII(_ c: UInt32) -> UInt32 {
        (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
    }

    private mutating func llama3(maxDigits: Int) {
        var pos = ini
        while pos < end {
            let c = cp[pos]
            let f = fl[pos]
            if c == 0x27 && pos + 1 < end {
                let n1 = Matcher.lowerASCII(cp[pos + 1])
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                    pos += add(pos + 2)
                    continue
                }
                if pos + 2 < end {
                    let n2 = Matcher.lowerASCII(cp[pos + 2])
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        pos += add(pos + 3)
                        continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == 0x0D || c == 0x0A || f & CodepointFlags.number != 0) {
                if f & CodepointFlags.letter != 0 || flags(pos + 1) & CodepointFlags.letter != 0 {
                    pos += 1
                    while flags(pos) & CodepointFlags.letter != 0 { pos += 1 }
                    add(pos)
                    continue
                }
            }
            // \p{N}{1,maxDigits}
            if f & CodepointFlags.number != 0 {
                var groupStart = pos
                while flags(pos) & CodepointFlags.number != 0 {
                    pos += 1
                    if pos - groupStart >= maxDigits {
                        add(pos)
                        groupStart = pos
                    }
                }
                add(pos)
                continue
            }
            // <space>?[^\s\p{L}\p{N}]+[\r\n]*
            var f2 = c == 0x20 ? flags(pos + 1) : f
            if f2 & Matcher.wln == 0 && f != 0 {
                if c == 0x20 { pos += 1 }
                while f2 & Matcher.wln == 0 && f2 != 0 { pos += 1; f2 = flags(pos) }
                var c2 = cpt(pos)
                while c2 == 0x0D || c2 == 0x0A { pos += 1; c2 = cpt(pos) }
                add(pos)
                continue
            }
            var spaces = 0
            var lastLineBreakEnd = 0
            while flags(pos + spaces) & CodepointFlags.whitespace != 0 {
                let c2 = cpt(pos + spaces)
                if c2 == 0x0D || c2 == 0x0A { lastLineBreakEnd = pos + spaces + 1 }
                spaces += 1
            }
            if lastLineBreakEnd > 0 {  // \s*[\r\n]+
                pos = lastLineBreakEnd
                add(pos)
                continue
            }
            if spaces > 1 && pos + spaces < end {  // \s+(?!\S)
                pos += spaces - 1
                add(pos)
                continue
            }
            if spaces > 0 {  // \s+
                pos += spaces
                add(pos)
                continue
            }
            pos += 1
            add(pos)
        }
    }
}
