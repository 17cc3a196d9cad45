import ParleyTokenizer

/// The part of JSON Schema that constrained decoding enforces, compiled from a schema document.
///
/// Supported: `type` (object, array, string, number, integer, boolean, null, or a list of them), `properties`,
/// `required`, `items`, `minItems`, `maxItems`, `enum`, `const`, `anyOf`/`oneOf` whose branches start
/// differently (say a string or null), and annotations (`title`, `description`, `default`, `examples`,
/// `$schema`, `additionalProperties`, `strict`). Objects with `properties` get exactly those keys, in the order
/// declared (optional ones may be left out); an object without `properties` takes any keys.
/// Anything else (`$ref`, `pattern`, `format`, numeric or length bounds, `allOf`, ...) is refused, because the
/// output could not be guaranteed to validate.
public indirect enum JSONSchemaNode: Sendable, Equatable {
    case any
    case object(properties: [Property])
    case freeObject(values: JSONSchemaNode)
    case array(items: JSONSchemaNode, minItems: Int, maxItems: Int?)
    case string
    case number
    case integer
    case boolean
    case null
    /// One of these exact JSON texts.
    case literals([String])
    /// One of several schemas, told apart by their first byte.
    case union([JSONSchemaNode])
    /// A tool call: `{"name": one of the names, "arguments": that tool's parameters}`.
    case toolCall(names: [String], arguments: [JSONSchemaNode])

    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: JSONSchemaNode
        public var required: Bool
    }

    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "additionalProperties", "strict",
        "$comment", "deprecated", "readOnly", "writeOnly",
    ]

    /// Compiles a JSON Schema (as parsed JSON). `path` names the schema in error messages.
    public init(schema: TemplateValue, path: String = "schema") throws {
        guard case .object(let o) = schema else {
            if case .bool(true) = schema { self = .any; return }
            throw Unsupported(path: path, reason: "a schema must be an object")
        }
        for key in o.keys {
            let known: Set<String> = ["type", "properties", "required", "items", "minItems", "maxItems", "enum",
                                      "const", "anyOf", "oneOf"]
            if !known.contains(key) && !Self.annotations.contains(key) {
                throw Unsupported(path: path, reason: "the keyword '\(key)' is not supported by constrained decoding")
            }
        }
        if case .object(let ap)? = o["additionalProperties"], ap.count > 0, o["properties"] != nil {
            throw Unsupported(path: path, reason: "'additionalProperties' with a schema beside 'properties' is not supported")
        }
        if let c = o["const"] {
            self = .literals([c.jsonString()])
            return
        }
        if let e = o["enum"] {
            guard case .array(let values) = e, !values.isEmpty else {
                throw Unsupported(path: path + ".enum", reason: "must be a non-empty array")
            }
            self = .literals(values.map { $0.jsonString().compactJSON })
            return
        }
        if let branches = o["anyOf"] ?? o["oneOf"] {
            guard case .array(let list) = branches, !list.isEmpty else {
                throw Unsupported(path: path + ".anyOf", reason: "must be a non-empty array")
            }
            let nodes = try list.enumerated().map { try JSONSchemaNode(schema: $1, path: "\(path).anyOf[\($0)]") }
            self = try Self.makeUnion(nodes, path: path)
            return
        }
        switch o["type"] {
        case nil:
            if o["properties"] != nil {
                self = try Self.objectNode(o, path: path)
            } else if o["items"] != nil {
                self = try Self.arrayNode(o, path: path)
            } else {
                self = .any
            }
        case .string(let t)?:
            self = try Self.typed(t, o, path: path)
        case .array(let types)?:
            let nodes = try types.map { value -> JSONSchemaNode in
                guard case .string(let t) = value else { throw Unsupported(path: path + ".type", reason: "types must be strings") }
                return try Self.typed(t, o, path: path)
            }
            self = try Self.makeUnion(nodes, path: path)
        default:
            throw Unsupported(path: path + ".type", reason: "must be a string or a list of strings")
        }
    }

    private static func typed(_ type: String, _ o: TemplateObject, path: String) throws -> JSONSchemaNode {
        switch type {
        case "object": return try objectNode(o, path: path)
        case "array": return try arrayNode(o, path: path)
        case "string": return .string
        case "number": return .number
        case "integer": return .integer
        case "boolean": return .boolean
        case "null": return .null
        default: throw Unsupported(path: path + ".type", reason: "unknown type '\(type)'")
        }
    }

    private static func objectNode(_ o: TemplateObject, path: String) throws -> JSONSchemaNode {
        var required = Set<String>()
        if let r = o["required"] {
            guard case .array(let names) = r else { throw Unsupported(path: path + ".required", reason: "must be an array") }
            for n in names {
                guard case .string(let s) = n else { throw Unsupported(path: path + ".required", reason: "must list strings") }
                required.insert(s)
            }
        }
        guard case .object(let props)? = o["properties"], props.count > 0 else {
            if !required.isEmpty { throw Unsupported(path: path + ".required", reason: "names keys without 'properties'") }
            return .freeObject(values: .any)
        }
        for r in required where props[r] == nil {
            throw Unsupported(path: path + ".required", reason: "'\(r)' is not among the properties")
        }
        return .object(properties: try props.pairs.map { name, schema in
            Property(name: name, schema: try JSONSchemaNode(schema: schema, path: "\(path).properties.\(name)"),
                     required: required.contains(name))
        })
    }

    private static func arrayNode(_ o: TemplateObject, path: String) throws -> JSONSchemaNode {
        let items = try o["items"].map { try JSONSchemaNode(schema: $0, path: path + ".items") } ?? .any
        func count(_ key: String) throws -> Int? {
            switch o[key] {
            case nil: return nil
            case .int(let n)? where n >= 0: return n
            default: throw Unsupported(path: "\(path).\(key)", reason: "must be a non-negative integer")
            }
        }
        let minItems = try count("minItems") ?? 0
        let maxItems = try count("maxItems")
        if let maxItems, maxItems < minItems { throw Unsupported(path: path + ".maxItems", reason: "is below minItems") }
        return .array(items: items, minItems: minItems, maxItems: maxItems)
    }

    private static func makeUnion(_ nodes: [JSONSchemaNode], path: String) throws -> JSONSchemaNode {
        if nodes.count == 1 { return nodes[0] }
        var seen = Set<UInt8>()
        for node in nodes {
            let first = node.firstBytes
            if !seen.isDisjoint(with: first) {
                throw Unsupported(path: path, reason: "alternatives that can start alike (say two objects, or number and integer) are not supported")
            }
            seen.formUnion(first)
        }
        return .union(nodes)
    }

    /// Bytes a value of this schema can start with.
    var firstBytes: Set<UInt8> {
        let digits = Set(Array("-0123456789".utf8))
        switch self {
        case .any: return Set(Array("{[\"-0123456789tfn".utf8))
        case .object, .freeObject, .toolCall: return [UInt8(ascii: "{")]
        case .array: return [UInt8(ascii: "[")]
        case .string: return [UInt8(ascii: "\"")]
        case .number, .integer: return digits
        case .boolean: return [UInt8(ascii: "t"), UInt8(ascii: "f")]
        case .null: return [UInt8(ascii: "n")]
        case .literals(let l): return Set(l.compactMap { $0.utf8.first })
        case .union(let n): return n.reduce(into: Set<UInt8>()) { $0.formUnion($1.firstBytes) }
        }
    }
}

extension String {
    /// JSON text without the spaces `jsonString` puts after separators (enum values are matched literally).
    var compactJSON: String {
        guard let value = try? TemplateValue(json: self) else { return self }
        return value.compactText
    }
}

extension TemplateValue {
    /// Compact JSON: no spaces after `,` and `:`.
    var compactText: String {
        switch self {
        case .array(let a): return "[" + a.map(\.compactText).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.pairs.map { TemplateValue.string($0).jsonString() + ":" + $1.compactText }.joined(separator: ",") + "}"
        default: return jsonString()
        }
    }
}

/// Constrains generation to JSON text that matches a `JSONSchemaNode` (a pushdown automaton over bytes).
/// With `allowText`, output that does not start with `{` is free text instead (a tool call or a plain answer).
public final class JSONConstraint: DecodingConstraint {
    public let root: JSONSchemaNode
    private var state: JSONMachine
    private var freeText = false
    private let allowText: Bool
    private var started = false

    public init(_ root: JSONSchemaNode, allowText: Bool = false) {
        self.root = root
        self.allowText = allowText
        state = JSONMachine(root: root)
    }

    /// Whether the output so far is JSON (false once it became free text).
    public var isJSON: Bool { !freeText }

    /// Once the token budget only just suffices to close the JSON, the rest is this text (each forced token
    /// covers at least one of its bytes, so the output completes in time).
    private var closing: [UInt8]?

    /// Checked when at most this many tokens are left.
    static let closingHorizon = 96

    public func tokensLeft(_ count: Int) {
        guard closing == nil, !freeText, count <= Self.closingHorizon, started || !allowText else { return }
        guard let text = state.closingText(limit: Self.closingHorizon) else { return }
        if text.count + 1 >= count { closing = text }
    }

    public func allows(_ bytes: [UInt8]) -> Bool {
        if freeText { return true }
        if let closing { return closing.starts(with: bytes) }
        if allowText && !started, let first = bytes.first(where: { !JSONMachine.isSpace($0) }), first != UInt8(ascii: "{") {
            return true
        }
        var copy = state
        for b in bytes where !copy.feed(b) { return false }
        return true
    }

    public func advance(_ bytes: [UInt8]) {
        if freeText { return }
        if allowText && !started, let first = bytes.first(where: { !JSONMachine.isSpace($0) }) {
            started = true
            if first != UInt8(ascii: "{") {
                freeText = true
                return
            }
        }
        for b in bytes where !state.feed(b) { break }
        if let c = closing { closing = c.starts(with: bytes) ? Array(c.dropFirst(bytes.count)) : [] }
    }

    public var canEnd: Bool { freeText || state.canEnd }
    public var mustEnd: Bool { !freeText && state.mustEnd }
    public var isUnconstrained: Bool { freeText }
}

/// The automaton's state: a stack of frames. A value type, so a candidate token is tried on a copy.
struct JSONMachine {
    enum ObjectPhase { case open, key, colon, value, afterValue, afterComma }
    enum ArrayPhase { case open, afterValue, afterComma }
    enum NumberPhase { case start, minus, zero, integer, dot, fraction, e, sign, exponent }
    enum LiteralPurpose { case value, key }

    enum Frame {
        case value(JSONSchemaNode)
        /// `next`: index of the first property that may still come; `used` keys written (free objects).
        case object(node: JSONSchemaNode, phase: ObjectPhase, next: Int, current: Int, selected: Int)
        case array(items: JSONSchemaNode, phase: ArrayPhase, count: Int, min: Int, max: Int?)
        case string(escape: Int)  // 0 normal, 1 after backslash, 2...5 hex digits pending
        case number(NumberPhase, integer: Bool, length: Int)
        case literal(candidates: [[UInt8]], matched: Int, purpose: LiteralPurpose)
    }

    var stack: [Frame]
    var spaces = 0
    static let maxSpaces = 16
    static let maxNumberLength = 24

    init(root: JSONSchemaNode) { stack = [.value(root)] }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    var mustEnd: Bool { stack.isEmpty }
    var canEnd: Bool {
        if stack.isEmpty { return true }
        if stack.count == 1, case .number(let p, _, _) = stack[0] { return Self.accepting(p) }
        return false
    }

    /// The shortest-looking way to finish the value from here: closers first, then whatever byte keeps the text
    /// valid (empty strings, zeros, the first allowed literal). nil when not found within `limit` bytes.
    func closingText(limit: Int) -> [UInt8]? {
        var machine = self
        var out: [UInt8] = []
        let inString: [UInt8] = Array("\"".utf8)
        let outside: [UInt8] = Array("}]\"0:".utf8)
        while !machine.canEnd || !machine.stack.isEmpty {
            if machine.canEnd, machine.stack.count == 1 { break }  // a top-level number may end as it is
            guard out.count < limit else { return nil }
            var advanced = false
            var preferred = outside
            if case .string(0)? = machine.stack.last { preferred = inString }
            for b in preferred + (0x21..<0x7F).map(UInt8.init) {
                var probe = machine
                if probe.feed(b) {
                    machine = probe
                    out.append(b)
                    advanced = true
                    break
                }
            }
            if !advanced { return nil }
        }
        return out
    }

    static func accepting(_ p: NumberPhase) -> Bool { p == .zero || p == .integer || p == .fraction || p == .exponent }

    /// Feeds one byte; false when it cannot continue valid output (the state is then unspecified).
    mutating func feed(_ b: UInt8) -> Bool {
        if Self.isSpace(b) {
            spaces += 1
            if spaces > Self.maxSpaces { return false }
        } else {
            spaces = 0
        }
        while let frame = stack.popLast() {
            switch frame {
            case .value(let node):
                if Self.isSpace(b) { stack.append(frame); return true }
                return startValue(node, b)

            case .string(let escape):
                switch escape {
                case 0:
                    if b == UInt8(ascii: "\"") { return popped() }
                    if b == UInt8(ascii: "\\") { stack.append(.string(escape: 1)); return true }
                    if b < 0x20 { return false }
                    stack.append(frame); return true
                case 1:
                    if b == UInt8(ascii: "u") { stack.append(.string(escape: 2)); return true }
                    guard Array("\"\\/bfnrt".utf8).contains(b) else { return false }
                    stack.append(.string(escape: 0)); return true
                default:
                    guard Self.isHex(b) else { return false }
                    stack.append(.string(escape: escape == 5 ? 0 : escape + 1)); return true
                }

            case .number(let phase, let integer, let length):
                if let next = Self.numberStep(phase, b, integer: integer) {
                    guard length < Self.maxNumberLength else { return false }
                    stack.append(.number(next, integer: integer, length: length + 1)); return true
                }
                guard Self.accepting(phase) else { return false }
                guard !stack.isEmpty else { return false }  // nothing may follow a top-level value
                valueDone(nil)
                continue  // the byte belongs to the enclosing frame

            case .literal(let candidates, let matched, let purpose):
                let next = candidates.filter { $0.count > matched && $0[matched] == b }
                if next.isEmpty {
                    // A candidate that is complete ends here; the byte belongs to the enclosing frame.
                    guard let done = candidates.firstIndex(where: { $0.count == matched }) else { return false }
                    guard !stack.isEmpty else { return false }
                    finishLiteral(candidates[done], purpose)
                    continue
                }
                if next.count == 1 && next[0].count == matched + 1 {
                    finishLiteral(next[0], purpose)
                    return true
                }
                stack.append(.literal(candidates: next, matched: matched + 1, purpose: purpose)); return true

            case .object(let node, let phase, let next, let current, let selected):
                return objectByte(node, phase, next, current, selected, b)

            case .array(let items, let phase, let count, let min, let max):
                if Self.isSpace(b) { stack.append(frame); return true }
                switch phase {
                case .open:
                    if b == UInt8(ascii: "]") { guard min == 0 else { return false }; return popped() }
                    guard max.map({ $0 > 0 }) ?? true else { return false }
                    stack.append(.array(items: items, phase: .afterValue, count: count + 1, min: min, max: max))
                    return startValue(items, b)
                case .afterValue:
                    if b == UInt8(ascii: "]") { guard count >= min else { return false }; return popped() }
                    guard b == UInt8(ascii: ","), max.map({ count < $0 }) ?? true else { return false }
                    stack.append(.array(items: items, phase: .afterComma, count: count, min: min, max: max)); return true
                case .afterComma:
                    stack.append(.array(items: items, phase: .afterValue, count: count + 1, min: min, max: max))
                    return startValue(items, b)
                }
            }
        }
        return false  // the value is complete; nothing may follow
    }

    /// The frame on top finished a value; nothing to do but report success.
    private mutating func popped() -> Bool {
        valueDone(nil)
        return true
    }

    /// Tells the enclosing frame (now on top) that its value is complete.
    private mutating func valueDone(_ literalIndex: Int?) {
        guard let top = stack.last else { return }
        if case .object(let node, .value, let next, let current, let selected) = top {
            stack[stack.count - 1] = .object(node: node, phase: .afterValue, next: next, current: current,
                                             selected: literalIndex ?? selected)
        }
    }

    private mutating func finishLiteral(_ text: [UInt8], _ purpose: LiteralPurpose) {
        switch purpose {
        case .value:
            // A tool call's name selects the schema of its arguments.
            if case .object(let node, .value, let next, let current, _)? = stack.last, current == 0,
               case .toolCall(let names, _) = node {
                let name = String(decoding: text, as: UTF8.self)
                let index = names.firstIndex { TemplateValue.string($0).jsonString() == name } ?? 0
                stack[stack.count - 1] = .object(node: node, phase: .afterValue, next: next, current: current, selected: index)
            } else {
                valueDone(nil)
            }
        case .key:
            guard case .object(let node, _, let next, _, let selected) = stack.last! else { return }
            let properties = Self.properties(node)
            let key = String(decoding: text, as: UTF8.self)
            let index = properties.firstIndex { TemplateValue.string($0.name).jsonString() == "\"" + key } ?? next
            stack[stack.count - 1] = .object(node: node, phase: .colon, next: index + 1, current: index, selected: selected)
        }
    }

    static func properties(_ node: JSONSchemaNode) -> [JSONSchemaNode.Property] {
        switch node {
        case .object(let p): return p
        case .toolCall: return [.init(name: "name", schema: .string, required: true),
                                .init(name: "arguments", schema: .any, required: true)]
        default: return []
        }
    }

    private mutating func objectByte(_ node: JSONSchemaNode, _ phase: ObjectPhase, _ next: Int, _ current: Int,
                                     _ selected: Int, _ b: UInt8) -> Bool {
        func push(_ p: ObjectPhase, next n: Int = next, current c: Int = current) {
            stack.append(.object(node: node, phase: p, next: n, current: c, selected: selected))
        }
        if Self.isSpace(b) && phase != .key { push(phase); return true }
        let free: JSONSchemaNode? = { if case .freeObject(let v) = node { return v }; return nil }()
        let properties = Self.properties(node)
        // Keys still allowed: the next ones in order, up to and including the first required one.
        func allowedKeys() -> [[UInt8]] {
            var keys: [[UInt8]] = []
            var i = next
            while i < properties.count {
                // The key literal without its opening quote (already consumed).
                keys.append(Array(TemplateValue.string(properties[i].name).jsonString().utf8.dropFirst()))
                if properties[i].required { break }
                i += 1
            }
            return keys
        }
        func canClose() -> Bool { free != nil || !properties[next...].contains { $0.required } }
        switch phase {
        case .open, .afterComma:
            if b == UInt8(ascii: "}") {
                guard phase == .open, canClose() else { return false }
                return popped()
            }
            guard b == UInt8(ascii: "\"") else { return false }
            if free != nil {
                push(.colon)
                stack.append(.string(escape: 0))
                return true
            }
            let keys = allowedKeys()
            guard !keys.isEmpty else { return false }
            push(.key)
            stack.append(.literal(candidates: keys, matched: 0, purpose: .key))
            return true
        case .key:
            return false  // the key literal frame sits above while a key is written
        case .colon:
            guard b == UInt8(ascii: ":") else { return false }
            push(.value)
            let valueNode: JSONSchemaNode
            if let free {
                valueNode = free
            } else if case .toolCall(let names, let arguments) = node {
                valueNode = current == 0
                    ? .literals(names.map { TemplateValue.string($0).jsonString() })
                    : (arguments.indices.contains(selected) ? arguments[selected] : .freeObject(values: .any))
            } else {
                valueNode = properties[current].schema
            }
            stack.append(.value(valueNode))
            return true
        case .value:
            return false  // a value frame sits above
        case .afterValue:
            if b == UInt8(ascii: "}") {
                guard canClose() else { return false }
                return popped()
            }
            guard b == UInt8(ascii: ",") else { return false }
            if free == nil && next >= properties.count { return false }
            push(.afterComma)
            return true
        }
    }

    private mutating func startValue(_ node: JSONSchemaNode, _ b: UInt8) -> Bool {
        switch node {
        case .any:
            switch b {
            case UInt8(ascii: "{"): return startValue(.freeObject(values: .any), b)
            case UInt8(ascii: "["): return startValue(.array(items: .any, minItems: 0, maxItems: nil), b)
            case UInt8(ascii: "\""): return startValue(.string, b)
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return startValue(.boolean, b)
            case UInt8(ascii: "n"): return startValue(.null, b)
            default: return startValue(.number, b)
            }
        case .object, .freeObject, .toolCall:
            guard b == UInt8(ascii: "{") else { return false }
            stack.append(.object(node: node, phase: .open, next: 0, current: 0, selected: 0))
            return true
        case .array(let items, let min, let max):
            guard b == UInt8(ascii: "[") else { return false }
            stack.append(.array(items: items, phase: .open, count: 0, min: min, max: max))
            return true
        case .string:
            guard b == UInt8(ascii: "\"") else { return false }
            stack.append(.string(escape: 0))
            return true
        case .number, .integer:
            let integer = node == .integer
            guard let phase = Self.numberStep(.start, b, integer: integer) else { return false }
            stack.append(.number(phase, integer: integer, length: 1))
            return true
        case .boolean:
            return startLiteral(["true", "false"], b)
        case .null:
            return startLiteral(["null"], b)
        case .literals(let texts):
            return startLiteral(texts, b)
        case .union(let nodes):
            guard let node = nodes.first(where: { $0.firstBytes.contains(b) }) else { return false }
            return startValue(node, b)
        }
    }

    private mutating func startLiteral(_ texts: [String], _ b: UInt8) -> Bool {
        stack.append(.literal(candidates: texts.map { Array($0.utf8) }, matched: 0, purpose: .value))
        return feedTop(b)
    }

    /// Feeds a byte to the frame just pushed (without counting spaces again).
    private mutating func feedTop(_ b: UInt8) -> Bool {
        let saved = spaces
        let ok = feed(b)
        spaces = saved
        return ok
    }

    static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    static func numberStep(_ p: NumberPhase, _ b: UInt8, integer: Bool) -> NumberPhase? {
        let digit = b >= 0x30 && b <= 0x39
        switch p {
        case .start: return b == UInt8(ascii: "-") ? .minus : (b == 0x30 ? .zero : (digit ? .integer : nil))
        case .minus: return b == 0x30 ? .zero : (digit ? .integer : nil)
        case .zero, .integer:
            if digit { return p == .zero ? nil : .integer }
            if integer { return nil }
            if b == UInt8(ascii: ".") { return .dot }
            if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") { return .e }
            return nil
        case .dot: return digit ? .fraction : nil
        case .fraction:
            if digit { return .fraction }
            return b == UInt8(ascii: "e") || b == UInt8(ascii: "E") ? .e : nil
        case .e: return b == UInt8(ascii: "+") || b == UInt8(ascii: "-") ? .sign : (digit ? .exponent : nil)
        case .sign, .exponent: return digit ? .exponent : nil
        }
    }
}
