import Foundation

/// Arguments of a call: positional then keyword, as written.
struct Arguments {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    func get(_ index: Int, _ name: String) -> Value? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }
}

struct Function {
    var name: String
    var call: (Arguments) throws -> Value
}

/// An insertion-ordered dict used at run time.
struct VDict {
    var keys: [String] = []
    var storage: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var pairs: [(String, Value)] { keys.map { ($0, storage[$0]!) } }
    var count: Int { keys.count }
}

final class NamespaceBox {
    var dict = VDict()
}

/// A run-time value: the JSON-like values plus Jinja's `Undefined`, namespaces and callables.
enum Value {
    /// Jinja2's default `Undefined`: renders as "", is falsy, iterates as empty; most other uses raise `hint`.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case object(VDict)
    case namespace(NamespaceBox)
    case function(Function)

    init(_ t: TemplateValue) {
        switch t {
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(Value.init))
        case .object(let o):
            var d = VDict()
            for (k, v) in o.pairs { d[k] = Value(v) }
            self = .object(d)
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }

    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.count > 0
        case .namespace, .function: return true
        }
    }

    /// Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// Numeric view (Python bools are ints).
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    var intValue: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }
}

func runtimeValue(_ t: TemplateValue) -> Value { Value(t) }

// MARK: - Python semantics

enum Py {
    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.storage {
                guard let w = y.storage[k], equals(v, w) else { return false }
            }
            return true
        case (.namespace(let x), .namespace(let y)): return x === y
        default:
            if let x = a.intValue, let y = b.intValue { return x == y }
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Python `<` ordering; nil when the types are not orderable.
    static func lessThan(_ a: Value, _ b: Value) -> Bool? {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.array(let x), .array(let y)):
            for (u, v) in zip(x, y) where !equals(u, v) { return lessThan(u, v) }
            return x.count < y.count
        default:
            if let x = a.intValue, let y = b.intValue { return x < y }
            if let x = a.number, let y = b.number { return x < y }
            return nil
        }
    }

    /// Python `str(v)`; Jinja renders `{{ v }}` with it (Undefined renders as "").
    static func str(_ v: Value) -> String {
        switch v {
        case .undefined: return ""
        case .string(let s): return s
        default:
            var out = ""
            repr(v, into: &out)
            return out
        }
    }

    static func repr(_ v: Value, into out: inout String, depth: Int = 0) {
        if depth > 200 { out += "..."; return }
        switch v {
        case .undefined: out += ""
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += floatRepr(d)
        case .string(let s): reprString(s, into: &out)
        case .array(let a):
            out += "["
            for (n, x) in a.enumerated() {
                if n > 0 { out += ", " }
                repr(x, into: &out, depth: depth + 1)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (n, (k, x)) in o.pairs.enumerated() {
                if n > 0 { out += ", " }
                reprString(k, into: &out)
                out += ": "
                repr(x, into: &out, depth: depth + 1)
            }
            out += "}"
        case .namespace(let ns):
            out += "<Namespace "
            repr(.object(ns.dict), into: &out, depth: depth + 1)
            out += ">"
        case .function(let f): out += "<function \(f.name)>"
        }
    }

    static func reprString(_ s: String, into out: inout String) {
        let hasSingle = s.unicodeScalars.contains("'")
        let hasDouble = s.unicodeScalars.contains("\"")
        let q: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var u = String.UnicodeScalarView()
        u.append(q)
        for c in s.unicodeScalars {
            switch c {
            case "\\": u.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": u.append(contentsOf: "\\n".unicodeScalars)
            case "\r": u.append(contentsOf: "\\r".unicodeScalars)
            case "\t": u.append(contentsOf: "\\t".unicodeScalars)
            default:
                if c == q { u.append("\\"); u.append(c) }
                else if isPrintable(c) { u.append(c) }
                else {
                    let hex = String(c.value, radix: 16)
                    let (prefix, width) = c.value < 0x100 ? ("\\x", 2) : c.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    u.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        u.append(q)
        out += String(u)
    }

    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        if c.value < 0x20 || c.value == 0x7F { return false }
        if c.value < 0x7F { return true }
        switch c.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .unassigned, .surrogate,
             .privateUse:
            return false
        default:
            return true
        }
    }

    /// Python `repr(float)`: shortest round-trip digits, exponent form when exp < -4 or exp >= 16.
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description gives the shortest round-trip digits; re-layout them Python's way.
        var text = "\(d.magnitude)"
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var intPart = text
        var frac = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = String(text[..<dot])
            frac = String(text[text.index(after: dot)...])
        }
        var digits = intPart + frac
        var pointPos = intPart.count + exp10  // decimal point after this many digits
        while digits.hasPrefix("0"), digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        let exponent = pointPos - 1
        var s: String
        if exponent < -4 || exponent >= 16 {
            s = String(digits.first!)
            if digits.count > 1 { s += "." + digits.dropFirst() }
            s += "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
        } else if pointPos <= 0 {
            s = "0." + String(repeating: "0", count: -pointPos) + digits
        } else if pointPos >= digits.count {
            s = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
        } else {
            let idx = digits.index(digits.startIndex, offsetBy: pointPos)
            s = digits[..<idx] + "." + digits[idx...]
        }
        return d < 0 ? "-" + s : s
    }
}

// MARK: - JSON output (Python json.dumps)

enum PyFormat {
    struct NotSerializable: Error { var typeName: String }

    /// `json.dumps(v, ensure_ascii=False, indent=..., separators=(itemSep, keySep), sort_keys=...)`.
    static func json(_ v: Value, into out: inout String, indent: String?, itemSep: String, keySep: String,
                     sortKeys: Bool, level: Int, ensureASCII: Bool = false) {
        try? jsonThrowing(v, into: &out, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys,
                          level: level, ensureASCII: ensureASCII)
    }

    static func jsonThrowing(_ v: Value, into out: inout String, indent: String?, itemSep: String, keySep: String,
                             sortKeys: Bool, level: Int, ensureASCII: Bool) throws {
        if level > 200 { throw NotSerializable(typeName: "nesting too deep") }
        func newline(_ lvl: Int) {
            if let indent {
                out += "\n"
                for _ in 0..<lvl { out += indent }
            }
        }
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" }
            else { out += Py.floatRepr(d) }
        case .string(let s): jsonString(s, into: &out, ensureASCII: ensureASCII)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (n, x) in a.enumerated() {
                if n > 0 { out += itemSep }
                newline(level + 1)
                try jsonThrowing(x, into: &out, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys,
                                 level: level + 1, ensureASCII: ensureASCII)
            }
            newline(level)
            out += "]"
        case .object(let o):
            if o.count == 0 { out += "{}"; return }
            out += "{"
            var pairs = o.pairs
            if sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
            for (n, (k, x)) in pairs.enumerated() {
                if n > 0 { out += itemSep }
                newline(level + 1)
                jsonString(k, into: &out, ensureASCII: ensureASCII)
                out += keySep
                try jsonThrowing(x, into: &out, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys,
                                 level: level + 1, ensureASCII: ensureASCII)
            }
            newline(level)
            out += "}"
        case .undefined, .namespace, .function:
            throw NotSerializable(typeName: v.typeName)
        }
    }

    static func jsonString(_ s: String, into out: inout String, ensureASCII: Bool) {
        var u = String.UnicodeScalarView()
        u.append("\"")
        func hex4(_ v: UInt32) {
            let h = String(v, radix: 16)
            u.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - h.count) + h).unicodeScalars)
        }
        for c in s.unicodeScalars {
            switch c {
            case "\"": u.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": u.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": u.append(contentsOf: "\\n".unicodeScalars)
            case "\r": u.append(contentsOf: "\\r".unicodeScalars)
            case "\t": u.append(contentsOf: "\\t".unicodeScalars)
            case "\u{8}": u.append(contentsOf: "\\b".unicodeScalars)
            case "\u{c}": u.append(contentsOf: "\\f".unicodeScalars)
            default:
                if c.value < 0x20 { hex4(c.value) }
                else if ensureASCII && c.value > 0x7F {
                    if c.value >= 0x10000 {
                        let v = c.value - 0x10000
                        hex4(0xD800 + (v >> 10))
                        hex4(0xDC00 + (v & 0x3FF))
                    } else { hex4(c.value) }
                } else { u.append(c) }
            }
        }
        u.append("\"")
        out += String(u)
    }
}
