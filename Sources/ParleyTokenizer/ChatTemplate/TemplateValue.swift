import Foundation

/// A value passed into a chat template (messages, tools, `date_string`, ...).
///
/// Mirrors the JSON-like Python values that Hugging Face `apply_chat_template` hands to Jinja:
/// `None`, `bool`, `int`, `float`, `str`, `list` and `dict`. Objects keep their key order, because
/// templates render tool schemas with `tojson`, whose output follows insertion order.
public enum TemplateValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object(TemplateObject)
}

/// An insertion-ordered string-keyed dictionary (a Python `dict` with string keys).
public struct TemplateObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}

    public init(_ pairs: [(String, TemplateValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var pairs: [(String, TemplateValue)] { keys.map { ($0, storage[$0]!) } }
    public var count: Int { keys.count }

    public static func == (a: TemplateObject, b: TemplateObject) -> Bool {
        // Python dict equality ignores order.
        a.storage == b.storage
    }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .none }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .object(TemplateObject(elements)) }
}

extension TemplateValue {
    /// Parses JSON text, keeping object key order (unlike `JSONSerialization`).
    /// Integers without fraction or exponent become `.int`, other numbers `.double`.
    public init(json: String) throws {
        var parser = JSONTextParser(Array(json.unicodeScalars))
        self = try parser.parseDocument()
    }

    /// Serializes like Python's `json.dumps(value, ensure_ascii=False)` (or with `indent`).
    public func jsonString(indent: Int? = nil, sortKeys: Bool = false) -> String {
        var out = ""
        PyFormat.json(runtimeValue(self), into: &out, indent: indent.map { String(repeating: " ", count: $0) },
                      itemSep: indent == nil ? ", " : ",", keySep: ": ", sortKeys: sortKeys, level: 0)
        return out
    }
}

/// One chat turn. `content == nil` renders as Python `None` (e.g. an assistant turn that only calls tools).
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String?
    /// OpenAI-style tool calls: `[{"type": "function", "function": {"name": ..., "arguments": {...}}, "id": ...}]`.
    public var toolCalls: [TemplateValue]?
    /// For `role == "tool"`: the id of the call this message answers.
    public var toolCallID: String?
    /// Optional participant or tool name.
    public var name: String?

    public init(role: String, content: String?, toolCalls: [TemplateValue]? = nil, toolCallID: String? = nil,
                name: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    /// The message as the dict a template sees (`message['role']`, `message.content`, ...).
    /// Keys that are not set are absent, so `message.tool_calls is defined` is false.
    public var templateValue: TemplateValue {
        var o = TemplateObject()
        o["role"] = .string(role)
        o["content"] = content.map { .string($0) } ?? TemplateValue.none
        if let name { o["name"] = .string(name) }
        if let toolCalls { o["tool_calls"] = .array(toolCalls) }
        if let toolCallID { o["tool_call_id"] = .string(toolCallID) }
        return .object(o)
    }
}

// MARK: - JSON text parser (order-preserving)

struct JSONTextParser {
    let s: [Unicode.Scalar]
    var i = 0
    var depth = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    mutating func parseDocument() throws -> TemplateValue {
        let v = try parseValue()
        skipWS()
        if i != s.count { throw fail("trailing characters") }
        return v
    }

    func fail(_ msg: String) -> TemplateError {
        TemplateError(kind: .runtime, message: "invalid JSON: \(msg) at offset \(i)", line: 0, column: 0)
    }

    mutating func skipWS() {
        while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\t" || s[i] == "\r" { i += 1 }
    }

    mutating func parseValue() throws -> TemplateValue {
        skipWS()
        guard i < s.count else { throw fail("unexpected end") }
        switch s[i] {
        case "{":
            depth += 1
            if depth > 512 { throw fail("nesting too deep") }
            defer { depth -= 1 }
            i += 1
            var o = TemplateObject()
            skipWS()
            if i < s.count, s[i] == "}" { i += 1; return .object(o) }
            while true {
                skipWS()
                guard i < s.count, s[i] == "\"" else { throw fail("expected key") }
                let k = try parseString()
                skipWS()
                guard i < s.count, s[i] == ":" else { throw fail("expected ':'") }
                i += 1
                o[k] = try parseValue()
                skipWS()
                guard i < s.count else { throw fail("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "}" { i += 1; return .object(o) }
                throw fail("expected ',' or '}'")
            }
        case "[":
            depth += 1
            if depth > 512 { throw fail("nesting too deep") }
            defer { depth -= 1 }
            i += 1
            var a: [TemplateValue] = []
            skipWS()
            if i < s.count, s[i] == "]" { i += 1; return .array(a) }
            while true {
                a.append(try parseValue())
                skipWS()
                guard i < s.count else { throw fail("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "]" { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case "\"":
            return .string(try parseString())
        case "t":
            try expectWord("true"); return .bool(true)
        case "f":
            try expectWord("false"); return .bool(false)
        case "n":
            try expectWord("null"); return .none
        default:
            return try parseNumber()
        }
    }

    mutating func expectWord(_ w: String) throws {
        for c in w.unicodeScalars {
            guard i < s.count, s[i] == c else { throw fail("invalid literal") }
            i += 1
        }
    }

    mutating func parseNumber() throws -> TemplateValue {
        let start = i
        var isFloat = false
        if i < s.count, s[i] == "-" { i += 1 }
        while i < s.count {
            let c = s[i]
            if c.properties.numericType != nil && c.isASCII { i += 1 }
            else if c == "." || c == "e" || c == "E" || c == "+" || c == "-" { isFloat = true; i += 1 }
            else { break }
        }
        let text = String(String.UnicodeScalarView(s[start..<i]))
        if text.isEmpty || text == "-" { throw fail("invalid value") }
        if !isFloat, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }

    mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard i < s.count else { throw fail("unterminated string") }
            let c = s[i]
            i += 1
            if c == "\"" { return String(out) }
            if c != "\\" { out.append(c); continue }
            guard i < s.count else { throw fail("unterminated escape") }
            let e = s[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{c}")
            case "/": out.append("/")
            case "\\": out.append("\\")
            case "\"": out.append("\"")
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < s.count, s[i] == "\\", s[i + 1] == "u" {
                    i += 2
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: throw fail("invalid escape")
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= s.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = s[i].properties.numericType != nil ? UInt32(String(s[i])) : hexDigit(s[i]) else {
                throw fail("bad hex digit")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    func hexDigit(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "a"..."f": return c.value - 97 + 10
        case "A"..."F": return c.value - 65 + 10
        default: return nil
        }
    }
}
