/// Splits template source into Jinja tokens, applying whitespace control the way Jinja2's lexer does
/// with `trim_blocks=True, lstrip_blocks=True` (the settings Hugging Face uses for chat templates).
enum TokenKind: Equatable {
    case data(String)
    case blockBegin, blockEnd, varBegin, varEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
    case eof
}

struct Token {
    var kind: TokenKind
    var offset: Int
}

struct Lexer {
    let s: [Unicode.Scalar]
    let trimBlocks: Bool
    let lstripBlocks: Bool
    var tokens: [Token] = []
    let lineStarts: [Int]

    /// Newlines are normalized to "\n" and one trailing newline is dropped (Jinja's `keep_trailing_newline=False`).
    static func normalize(_ source: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(source.unicodeScalars.count)
        var it = source.unicodeScalars.makeIterator()
        var pendingCR = false
        while let c = it.next() {
            if pendingCR {
                pendingCR = false
                out.append("\n")
                if c == "\n" { continue }
            }
            if c == "\r" { pendingCR = true } else { out.append(c) }
        }
        if pendingCR { out.append("\n") }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    init(source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        s = Lexer.normalize(source)
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        var starts = [0]
        for (i, c) in s.enumerated() where c == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    func position(_ offset: Int) -> SourcePos {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return SourcePos(line: lo + 1, column: offset - lineStarts[lo] + 1)
    }

    func error(_ msg: String, at offset: Int) -> TemplateError {
        let p = position(offset)
        return TemplateError(kind: .syntax, message: msg, line: p.line, column: p.column)
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C...0x1F, 0x85: return true
        default: return c.value > 0x7F && c.properties.isWhitespace
        }
    }

    func at(_ i: Int, _ str: String) -> Bool {
        var j = i
        for c in str.unicodeScalars {
            if j >= s.count || s[j] != c { return false }
            j += 1
        }
        return true
    }

    func skipSpaces(_ i: Int) -> Int {
        var j = i
        while j < s.count, Lexer.isSpace(s[j]) { j += 1 }
        return j
    }

    mutating func emitData(_ start: Int, _ end: Int, stripSign: Unicode.Scalar?, isVariable: Bool, lineStarting: Bool) {
        var e = end
        if stripSign == "-" {
            while e > start, Lexer.isSpace(s[e - 1]) { e -= 1 }
        } else if stripSign != "+", lstripBlocks, !isVariable {
            var lpos = e
            while lpos > start, s[lpos - 1] != "\n" { lpos -= 1 }
            if lpos > start || lineStarting {
                if lpos < e, (lpos..<e).allSatisfy({ Lexer.isSpace(s[$0]) }) { e = lpos }
            }
        }
        if e > start { tokens.append(Token(kind: .data(String(String.UnicodeScalarView(s[start..<e]))), offset: start)) }
    }

    /// Index of the next `{{`, `{%` or `{#` at or after `from`.
    func nextTag(from: Int) -> Int? {
        var i = from
        while i + 1 < s.count {
            if s[i] == "{", s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    /// If a `{% raw %}` tag starts at `i`, the index just past its `%}` and whether it ends in `-%}`.
    func rawTagEnd(_ i: Int, word: String) -> (end: Int, sign: Unicode.Scalar?)? {
        var j = i + 2
        if j < s.count, s[j] == "-" || s[j] == "+" { j += 1 }
        j = skipSpaces(j)
        guard at(j, word) else { return nil }
        j += word.unicodeScalars.count
        j = skipSpaces(j)
        var sign: Unicode.Scalar? = nil
        if j < s.count, s[j] == "-" || s[j] == "+" { sign = s[j]; j += 1 }
        guard at(j, "%}") else { return nil }
        return (j + 2, sign)
    }

    mutating func tokenize() throws -> [Token] {
        var pos = 0
        var lineStarting = true
        while true {
            guard let tag = nextTag(from: pos) else {
                if pos < s.count { tokens.append(Token(kind: .data(String(String.UnicodeScalarView(s[pos...]))), offset: pos)) }
                break
            }
            let kind = s[tag + 1]
            var sign: Unicode.Scalar? = nil
            if tag + 2 < s.count, s[tag + 2] == "-" || s[tag + 2] == "+" { sign = s[tag + 2] }
            emitData(pos, tag, stripSign: sign, isVariable: kind == "{", lineStarting: lineStarting)
            var body = tag + 2 + (sign == nil ? 0 : 1)

            if kind == "#" {
                var j = body
                while j + 1 < s.count, !(s[j] == "#" && s[j + 1] == "}") { j += 1 }
                guard j + 1 < s.count else { throw error("missing end of comment tag", at: tag) }
                var after = j + 2
                if j > body, s[j - 1] == "-" {
                    after = skipSpaces(after)
                } else if j > body, s[j - 1] == "+" {
                    // keep
                } else if trimBlocks, after < s.count, s[after] == "\n" {
                    after += 1
                }
                lineStarting = after > 0 && s[after - 1] == "\n"
                pos = after
                continue
            }

            if kind == "%", let raw = rawTagEnd(tag, word: "raw") {
                // Find the matching {% endraw %}.
                var j = raw.end
                var found: (start: Int, end: Int, sign: Unicode.Scalar?, endSign: Unicode.Scalar?)? = nil
                while let t = nextTag(from: j) {
                    if s[t + 1] == "%", let e = rawTagEnd(t, word: "endraw") {
                        let openSign: Unicode.Scalar? = (s[t + 2] == "-" || s[t + 2] == "+") ? s[t + 2] : nil
                        found = (t, e.end, openSign, e.sign)
                        break
                    }
                    j = t + 2
                }
                guard let f = found else { throw error("missing {% endraw %}", at: tag) }
                var start = raw.end
                if raw.sign == "-" { start = skipSpaces(start) }
                else if raw.sign != "+", trimBlocks, start < s.count, s[start] == "\n" { start += 1 }
                emitData(start, f.start, stripSign: f.sign, isVariable: false, lineStarting: false)
                var after = f.end
                if f.endSign == "-" { after = skipSpaces(after) }
                else if f.endSign != "+", trimBlocks, after < s.count, s[after] == "\n" { after += 1 }
                lineStarting = after > 0 && s[after - 1] == "\n"
                pos = after
                continue
            }

            let isBlock = kind == "%"
            tokens.append(Token(kind: isBlock ? .blockBegin : .varBegin, offset: tag))
            var balance: [Unicode.Scalar] = []
            while true {
                body = skipSpaces(body)
                guard body < s.count else {
                    throw error(isBlock ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", at: tag)
                }
                if balance.isEmpty {
                    let close = isBlock ? "%}" : "}}"
                    if at(body, "-" + close) {
                        tokens.append(Token(kind: isBlock ? .blockEnd : .varEnd, offset: body))
                        pos = skipSpaces(body + 3)
                        break
                    }
                    if isBlock, at(body, "+%}") {
                        tokens.append(Token(kind: .blockEnd, offset: body))
                        pos = body + 3
                        break
                    }
                    if at(body, close) {
                        tokens.append(Token(kind: isBlock ? .blockEnd : .varEnd, offset: body))
                        pos = body + 2
                        if isBlock, trimBlocks, pos < s.count, s[pos] == "\n" { pos += 1 }
                        break
                    }
                }
                body = try lexExprToken(body, balance: &balance)
            }
            lineStarting = pos > 0 && s[pos - 1] == "\n"
        }
        tokens.append(Token(kind: .eof, offset: s.count))
        return tokens
    }

    static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || (c.value > 0x7F && c.properties.isXIDStart)
    }

    static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || ("0"..."9").contains(c) || (c.value > 0x7F && c.properties.isXIDContinue)
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    /// Lexes one expression token at `i` (not whitespace, not a tag end); returns the index after it.
    mutating func lexExprToken(_ i: Int, balance: inout [Unicode.Scalar]) throws -> Int {
        let c = s[i]
        if Lexer.isNameStart(c) {
            var j = i + 1
            while j < s.count, Lexer.isNameChar(s[j]) { j += 1 }
            tokens.append(Token(kind: .name(String(String.UnicodeScalarView(s[i..<j]))), offset: i))
            return j
        }
        if c == "'" || c == "\"" { return try lexString(i) }
        if Lexer.isDigit(c) { return try lexNumber(i) }
        for op in ["//", "**", "==", "!=", "<=", ">="] where at(i, op) {
            tokens.append(Token(kind: .op(op), offset: i))
            return i + 2
        }
        switch c {
        case "(", "[", "{":
            balance.append(c)
            if balance.count > 200 { throw error("brackets nested too deeply", at: i) }
        case ")", "]", "}":
            let open: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
            guard let last = balance.last else { throw error("unexpected '\(c)'", at: i) }
            guard last == open else {
                let want: Unicode.Scalar = last == "(" ? ")" : last == "[" ? "]" : "}"
                throw error("unexpected '\(c)', expected '\(want)'", at: i)
            }
            balance.removeLast()
        case "+", "-", "/", "*", "%", "~", "<", ">", "=", ".", ":", "|", ",", ";":
            break
        default:
            throw error("unexpected character '\(c)'", at: i)
        }
        tokens.append(Token(kind: .op(String(c)), offset: i))
        return i + 1
    }

    mutating func lexString(_ i: Int) throws -> Int {
        let quote = s[i]
        var j = i + 1
        var out = String.UnicodeScalarView()
        while true {
            guard j < s.count else { throw error("unterminated string literal", at: i) }
            let c = s[j]
            if c == quote { j += 1; break }
            if c != "\\" { out.append(c); j += 1; continue }
            guard j + 1 < s.count else { throw error("unterminated string literal", at: i) }
            let e = s[j + 1]
            j += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{7}")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{c}")
            case "v": out.append("\u{b}")
            case "\n": break  // line continuation
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3, j < s.count, ("0"..."7").contains(s[j]) { v = v * 8 + s[j].value - 48; j += 1; n += 1 }
                out.append(Unicode.Scalar(v)!)
            case "x", "u", "U":
                let len = e == "x" ? 2 : e == "u" ? 4 : 8
                var v: UInt32 = 0
                for k in 0..<len {
                    guard j + k < s.count, let d = Lexer.hexValue(s[j + k]) else {
                        throw error("truncated \\\(e) escape in string literal", at: j - 2)
                    }
                    v = v &* 16 &+ d
                }
                j += len
                guard let scalar = Unicode.Scalar(v) else { throw error("invalid escape in string literal", at: j - len - 2) }
                out.append(scalar)
            default:
                out.append("\\")
                out.append(e)
            }
        }
        tokens.append(Token(kind: .string(String(out)), offset: i))
        return j
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 87
        case "A"..."F": return c.value - 55
        default: return nil
        }
    }

    mutating func lexNumber(_ i: Int) throws -> Int {
        func digits(_ k: Int) -> Int {
            // (\d+_)*\d+
            var j = k
            guard j < s.count, Lexer.isDigit(s[j]) else { return k }
            while true {
                while j < s.count, Lexer.isDigit(s[j]) { j += 1 }
                if j + 1 < s.count, s[j] == "_", Lexer.isDigit(s[j + 1]) { j += 1; continue }
                return j
            }
        }
        var j = digits(i)
        var isFloat = false
        let afterDot = i > 0 && s[i - 1] == "."
        if !afterDot {
            if j + 1 < s.count, s[j] == ".", Lexer.isDigit(s[j + 1]) {
                j = digits(j + 1)
                isFloat = true
            }
            if j < s.count, s[j] == "e" || s[j] == "E" {
                var k = j + 1
                if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
                let e = digits(k)
                if e > k { j = e; isFloat = true }
            }
        }
        let text = String(String.UnicodeScalarView(s[i..<j].filter { $0 != "_" }))
        if isFloat {
            tokens.append(Token(kind: .float(Double(text) ?? .infinity), offset: i))
        } else {
            guard let v = Int(text) else { throw error("integer literal too large", at: i) }
            tokens.append(Token(kind: .int(v), offset: i))
        }
        return j
    }
}
