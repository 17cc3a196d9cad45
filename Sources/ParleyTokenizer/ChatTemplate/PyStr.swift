import Foundation

/// Python `str` operations on Unicode code points.
enum PyStr {
    static func strip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
        let u = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? Lexer.isSpace(c) }
        var lo = 0, hi = u.count
        if left { while lo < hi, drop(u[lo]) { lo += 1 } }
        if right { while hi > lo, drop(u[hi - 1]) { hi -= 1 } }
        return String(String.UnicodeScalarView(u[lo..<hi]))
    }

    static func find(_ s: String, _ sub: String, fromRight: Bool = false) -> Int {
        let u = Array(s.unicodeScalars), p = Array(sub.unicodeScalars)
        if p.isEmpty { return fromRight ? u.count : 0 }
        if p.count > u.count { return -1 }
        let range = Array(0...(u.count - p.count))
        for i in fromRight ? range.reversed() : range where u[i] == p[0] && Array(u[i..<(i + p.count)]) == p {
            return i
        }
        return -1
    }

    static func count(_ s: String, _ sub: String) -> Int {
        let u = Array(s.unicodeScalars), p = Array(sub.unicodeScalars)
        if p.isEmpty { return u.count + 1 }
        var n = 0, i = 0
        while i + p.count <= u.count {
            if Array(u[i..<(i + p.count)]) == p { n += 1; i += p.count } else { i += 1 }
        }
        return n
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        let u = Array(s.unicodeScalars), p = Array(old.unicodeScalars), r = Array(new.unicodeScalars)
        var out = String.UnicodeScalarView()
        var left = count < 0 ? Int.max : count
        if p.isEmpty {
            // Python inserts `new` between every character and at both ends.
            for c in u {
                if left > 0 { out.append(contentsOf: r); left -= 1 }
                out.append(c)
            }
            if left > 0 { out.append(contentsOf: r) }
            return String(out)
        }
        var i = 0
        while i < u.count {
            if left > 0, i + p.count <= u.count, u[i] == p[0], Array(u[i..<(i + p.count)]) == p {
                out.append(contentsOf: r)
                i += p.count
                left -= 1
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(out)
    }

    static func split(_ s: String, sep: String?, maxsplit: Int, fromRight: Bool) -> [String] {
        let u = Array(s.unicodeScalars)
        func str(_ a: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(a)) }
        var limit = maxsplit < 0 ? Int.max : maxsplit
        if let sep {
            let p = Array(sep.unicodeScalars)
            var parts: [String] = []
            if !fromRight {
                var start = 0, i = 0
                while i + p.count <= u.count, limit > 0 {
                    if Array(u[i..<(i + p.count)]) == p {
                        parts.append(str(u[start..<i])); i += p.count; start = i; limit -= 1
                    } else { i += 1 }
                }
                parts.append(str(u[start...]))
                return parts
            }
            var end = u.count, i = u.count - p.count
            while i >= 0, limit > 0 {
                if Array(u[i..<(i + p.count)]) == p {
                    parts.append(str(u[(i + p.count)..<end])); end = i; i -= p.count; limit -= 1
                } else { i -= 1 }
            }
            parts.append(str(u[..<end]))
            return parts.reversed()
        }
        // Whitespace split: runs of whitespace, no empty strings.
        if !fromRight {
            var parts: [String] = []
            var i = 0
            while true {
                while i < u.count, Lexer.isSpace(u[i]) { i += 1 }
                if i >= u.count { break }
                if limit == 0 {
                    var e = u.count
                    while e > i, Lexer.isSpace(u[e - 1]) { e -= 1 }
                    parts.append(str(u[i..<e]))
                    break
                }
                let start = i
                while i < u.count, !Lexer.isSpace(u[i]) { i += 1 }
                parts.append(str(u[start..<i]))
                limit -= 1
            }
            return parts
        }
        var parts: [String] = []
        var i = u.count
        while true {
            while i > 0, Lexer.isSpace(u[i - 1]) { i -= 1 }
            if i <= 0 { break }
            if limit == 0 {
                var b = 0
                while b < i, Lexer.isSpace(u[b]) { b += 1 }
                parts.append(str(u[b..<i]))
                break
            }
            let end = i
            while i > 0, !Lexer.isSpace(u[i - 1]) { i -= 1 }
            parts.append(str(u[i..<end]))
            limit -= 1
        }
        return parts.reversed()
    }

    static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func splitlines(_ s: String) -> [String] {
        let u = Array(s.unicodeScalars)
        var lines: [String] = []
        var start = 0, i = 0
        while i < u.count {
            if isLineBreak(u[i]) {
                lines.append(String(String.UnicodeScalarView(u[start..<i])))
                if u[i] == "\r", i + 1 < u.count, u[i + 1] == "\n" { i += 1 }
                i += 1
                start = i
            } else { i += 1 }
        }
        if start < u.count { lines.append(String(String.UnicodeScalarView(u[start...]))) }
        return lines
    }

    static func upper(_ c: Unicode.Scalar) -> String { String(c).uppercased() }
    static func lower(_ c: Unicode.Scalar) -> String { String(c).lowercased() }

    static func capitalize(_ s: String) -> String {
        guard let f = s.unicodeScalars.first else { return s }
        return f.properties.titlecaseMapping + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// Python `str.title()`.
    static func pyTitle(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s.unicodeScalars {
            if c.properties.isCased {
                out += prevCased ? lower(c) : c.properties.titlecaseMapping
                prevCased = true
            } else {
                out.unicodeScalars.append(c)
                prevCased = false
            }
        }
        return out
    }

    /// Jinja's `title` filter: words split at runs of `-`, whitespace, `(`, `{`, `[`, `<`.
    static func jinjaTitle(_ s: String) -> String {
        func isSep(_ c: Unicode.Scalar) -> Bool { c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || Lexer.isSpace(c) }
        var out = ""
        var atStart = true
        for c in s.unicodeScalars {
            if isSep(c) { out.unicodeScalars.append(c); atStart = true; continue }
            out += atStart ? upper(c) : lower(c)
            atStart = false
        }
        return out
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func words(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for c in s.unicodeScalars {
            let w = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }
}

/// A subset of C `strftime` (the directives chat templates use), English names, local time zone.
enum Strftime {
    static let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    static func format(_ fmt: String, _ date: Date, timeZone: TimeZone = .current) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0, weekday = (c.weekday ?? 1) - 1
        let yday = cal.ordinality(of: .day, in: .year, for: date) ?? 1
        func pad(_ v: Int, _ w: Int, _ noPad: Bool) -> String {
            let s = String(v)
            return noPad || s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        var out = ""
        var it = fmt.unicodeScalars.makeIterator()
        while let ch = it.next() {
            guard ch == "%" else { out.unicodeScalars.append(ch); continue }
            guard var d = it.next() else { out += "%"; break }
            var noPad = false
            if d == "-" {
                noPad = true
                guard let n = it.next() else { out += "%-"; break }
                d = n
            }
            let h12 = hour % 12 == 0 ? 12 : hour % 12
            switch d {
            case "a": out += String(days[weekday].prefix(3))
            case "A": out += days[weekday]
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "d": out += pad(day, 2, noPad)
            case "e": out += noPad ? String(day) : (day < 10 ? " " : "") + String(day)
            case "m": out += pad(month, 2, noPad)
            case "Y": out += String(year)
            case "y": out += pad(year % 100, 2, noPad)
            case "H": out += pad(hour, 2, noPad)
            case "I": out += pad(h12, 2, noPad)
            case "M": out += pad(minute, 2, noPad)
            case "S": out += pad(second, 2, noPad)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "j": out += pad(yday, 3, noPad)
            case "w": out += String(weekday)
            case "F": out += "\(year)-\(pad(month, 2, false))-\(pad(day, 2, false))"
            case "T": out += "\(pad(hour, 2, false)):\(pad(minute, 2, false)):\(pad(second, 2, false))"
            case "%": out += "%"
            default: out += "%" + (noPad ? "-" : "") + String(d)
            }
        }
        return out
    }
}
