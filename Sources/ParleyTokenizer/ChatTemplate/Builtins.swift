import Foundation

// Filters, tests, methods of str/list/dict, and global functions, following Jinja2 3.1 and Python semantics.
extension Interpreter {
    func arg(_ a: Arguments, _ i: Int, _ name: String, _ def: Value) -> Value { a.get(i, name) ?? def }

    func str(_ v: Value, _ pos: SourcePos) throws -> String { Py.str(v) }

    func needString(_ v: Value, _ what: String, _ pos: SourcePos) throws -> String {
        guard case .string(let s) = v else {
            if v.isUndefined { throw undefinedError(v, pos) }
            throw error("\(what) expects a string, got '\(v.typeName)'", pos)
        }
        return s
    }

    func needInt(_ v: Value, _ what: String, _ pos: SourcePos) throws -> Int {
        guard let i = v.intValue else { throw error("\(what) expects an integer, got '\(v.typeName)'", pos) }
        return i
    }

    /// `attribute` arguments of filters: dotted path, integer parts index lists.
    func attrGetter(_ path: Value, _ pos: SourcePos) -> (Value) throws -> Value {
        let parts: [Value]
        if case .string(let p) = path {
            parts = p.split(separator: ".", omittingEmptySubsequences: false).map { part in
                if let i = Int(part) { return .int(i) }
                return .string(String(part))
            }
        } else {
            parts = [path]
        }
        return { v in
            var cur = v
            for p in parts { cur = try self.getItem(cur, p, pos) }
            return cur
        }
    }

    // MARK: filters

    func applyFilter(_ name: String, _ v: Value, _ a: Arguments, _ frame: Frame, _ pos: SourcePos) throws -> Value {
        switch name {
        case "trim":
            let chars = a.get(0, "chars")
            let s = Py.str(v)
            if let chars, case .string(let cs) = chars { return .string(PyStr.strip(s, chars: cs, left: true, right: true)) }
            return .string(PyStr.strip(s, chars: nil, left: true, right: true))
        case "length", "count":
            return .int(try length(v, pos))
        case "tojson":
            return .string(try toJSON(v, a, pos))
        case "upper": return .string(Py.str(v).uppercased())
        case "lower": return .string(Py.str(v).lowercased())
        case "capitalize": return .string(PyStr.capitalize(Py.str(v)))
        case "title": return .string(PyStr.jinjaTitle(Py.str(v)))
        case "replace":
            let s = Py.str(v)
            let old = Py.str(arg(a, 0, "old", .string("")))
            let new = Py.str(arg(a, 1, "new", .string("")))
            let count = a.get(2, "count")?.intValue ?? -1
            return .string(PyStr.replace(s, old, new, count: count))
        case "join":
            var items = try iterate(v, pos)
            if let attr = a.get(1, "attribute") {
                let g = attrGetter(attr, pos)
                items = try items.map(g)
            }
            let sep = Py.str(arg(a, 0, "d", .string("")))
            return .string(items.map { Py.str($0) }.joined(separator: sep))
        case "first":
            let items = try iterate(v, pos)
            return items.first ?? .undefined(hint: "No first item, sequence was empty.")
        case "last":
            let items = try iterate(v, pos)
            return items.last ?? .undefined(hint: "No last item, sequence was empty.")
        case "default", "d":
            let def = arg(a, 0, "default_value", .string(""))
            let boolean = arg(a, 1, "boolean", .bool(false)).truthy
            if v.isUndefined || (boolean && !v.truthy) { return def }
            return v
        case "string": return .string(Py.str(v))
        case "int":
            let def = arg(a, 0, "default", .int(0))
            let base = arg(a, 1, "base", .int(10)).intValue ?? 10
            switch v {
            case .int, .bool: return .int(v.intValue!)
            case .double(let d):
                guard d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) else { return def }
                return .int(i)
            case .string(let s):
                let t = PyStr.strip(s, chars: nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
                if let i = Int(t, radix: base) { return .int(i) }
                if base == 16, t.lowercased().hasPrefix("0x"), let i = Int(t.dropFirst(2), radix: 16) { return .int(i) }
                if let d = Double(t), d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
                return def
            default: return def
            }
        case "float":
            let def = arg(a, 0, "default", .double(0))
            switch v {
            case .int, .bool, .double: return .double(v.number!)
            case .string(let s):
                let t = PyStr.strip(s, chars: nil, left: true, right: true).lowercased()
                if t == "inf" || t == "+inf" || t == "infinity" { return .double(.infinity) }
                if t == "-inf" || t == "-infinity" { return .double(-.infinity) }
                if t == "nan" { return .double(.nan) }
                if let d = Double(t) { return .double(d) }
                return def
            default: return def
            }
        case "list": return .array(try iterate(v, pos))
        case "items":
            switch v {
            case .undefined: return .array([])
            case .object(let o): return .array(o.pairs.map { .array([.string($0.0), $0.1]) })
            case .namespace(let ns): return .array(ns.dict.pairs.map { .array([.string($0.0), $0.1]) })
            default: throw error("can only get item pairs from a mapping", pos)
            }
        case "dictsort":
            guard case .object(let o) = v else { throw error("dictsort expects a mapping", pos) }
            let cs = arg(a, 0, "case_sensitive", .bool(false)).truthy
            let by = Py.str(arg(a, 1, "by", .string("key")))
            let reverse = arg(a, 2, "reverse", .bool(false)).truthy
            let pairs: [Value] = o.pairs.map { .array([.string($0.0), $0.1]) }
            let idx = by == "value" ? 1 : 0
            let sorted = try sortValues(pairs, key: { p in
                guard case .array(let kv) = p else { return p }
                return self.sortKey(kv[idx], caseSensitive: cs)
            }, reverse: reverse, pos)
            return .array(sorted)
        case "sort":
            let items = try iterate(v, pos)
            let reverse = arg(a, 0, "reverse", .bool(false)).truthy
            let cs = arg(a, 1, "case_sensitive", .bool(false)).truthy
            let getter = a.get(2, "attribute").map { attrGetter($0, pos) }
            return .array(try sortValues(items, key: { x in
                self.sortKey(try getter?(x) ?? x, caseSensitive: cs)
            }, reverse: reverse, pos))
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try iterate(v, pos).reversed())
        case "unique":
            let cs = arg(a, 0, "case_sensitive", .bool(false)).truthy
            let getter = a.get(1, "attribute").map { attrGetter($0, pos) }
            var seen: [Value] = []
            var out: [Value] = []
            for x in try iterate(v, pos) {
                let k = sortKey(try getter?(x) ?? x, caseSensitive: cs)
                if !seen.contains(where: { Py.equals($0, k) }) { seen.append(k); out.append(x) }
            }
            return .array(out)
        case "min", "max":
            let items = try iterate(v, pos)
            let cs = arg(a, 0, "case_sensitive", .bool(false)).truthy
            let getter = a.get(1, "attribute").map { attrGetter($0, pos) }
            guard !items.isEmpty else { return .undefined(hint: "No aggregated item, sequence was empty.") }
            var best = items[0]
            for x in items.dropFirst() {
                let kx = sortKey(try getter?(x) ?? x, caseSensitive: cs)
                let kb = sortKey(try getter?(best) ?? best, caseSensitive: cs)
                guard let lt = name == "min" ? Py.lessThan(kx, kb) : Py.lessThan(kb, kx) else {
                    throw error("values of types '\(kx.typeName)' and '\(kb.typeName)' are not comparable", pos)
                }
                if lt { best = x }
            }
            return best
        case "sum":
            let getter = a.get(0, "attribute").map { attrGetter($0, pos) }
            var total = arg(a, 1, "start", .int(0))
            for x in try iterate(v, pos) { total = try binary("+", total, try getter?(x) ?? x, pos) }
            return total
        case "select", "reject", "selectattr", "rejectattr":
            let byAttr = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var rest = a.positional
            var getter: ((Value) throws -> Value)? = nil
            if byAttr {
                guard !rest.isEmpty else { throw error("\(name) requires an attribute name", pos) }
                getter = attrGetter(rest.removeFirst(), pos)
            }
            var testName: String? = nil
            if !rest.isEmpty { testName = Py.str(rest.removeFirst()) }
            let testArgs = Arguments(positional: rest, keyword: a.keyword)
            var out: [Value] = []
            for x in try iterate(v, pos) {
                let subject = try getter?(x) ?? x
                let r = try testName.map { try applyTest($0, subject, testArgs, frame, pos) } ?? subject.truthy
                if r == keep { out.append(x) }
            }
            return .array(out)
        case "map":
            let items = try iterate(v, pos)
            if let attr = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let g = attrGetter(attr, pos)
                let def = a.keyword.first(where: { $0.0 == "default" })?.1
                return .array(try items.map { x in
                    let r = try g(x)
                    if r.isUndefined, let def { return def }
                    return r
                })
            }
            guard let f = a.positional.first else { throw error("map requires a filter name or attribute=", pos) }
            let fname = Py.str(f)
            let fargs = Arguments(positional: Array(a.positional.dropFirst()), keyword: a.keyword)
            return .array(try items.map { try applyFilter(fname, $0, fargs, frame, pos) })
        case "attr":
            return try getAttr(v, Py.str(arg(a, 0, "name", .string(""))), pos)
        case "indent":
            let w = arg(a, 0, "width", .int(4))
            let first = arg(a, 1, "first", .bool(false)).truthy
            let blank = arg(a, 2, "blank", .bool(false)).truthy
            let ind: String
            if case .string(let s) = w { ind = s } else { ind = String(repeating: " ", count: max(0, min(try needInt(w, "indent", pos), 1000))) }
            let lines = PyStr.splitlines(Py.str(v) + "\n")
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + ind)
            } else {
                rv = lines.first ?? ""
                let rest = lines.dropFirst()
                if !rest.isEmpty { rv += "\n" + rest.map { $0.isEmpty ? $0 : ind + $0 }.joined(separator: "\n") }
            }
            if first { rv = ind + rv }
            return .string(rv)
        case "safe": return v
        case "escape", "e", "forceescape":
            return .string(PyStr.htmlEscape(Py.str(v)))
        case "round":
            guard let x = v.number else { throw error("round expects a number", pos) }
            let p = arg(a, 0, "precision", .int(0)).intValue ?? 0
            let method = Py.str(arg(a, 1, "method", .string("common")))
            let pp = max(-300, min(p, 300))
            switch method {
            case "common":
                if pp >= 0 { return .double(Double(String(format: "%.\(pp)f", x)) ?? x) }
                let m = Foundation.pow(10.0, Double(-pp))
                return .double((x / m).rounded(.toNearestOrEven) * m)
            case "ceil", "floor":
                let m = Foundation.pow(10.0, Double(pp))
                let r = method == "ceil" ? (x * m).rounded(.up) : (x * m).rounded(.down)
                return .double(r / m)
            default: throw error("method must be common, ceil or floor", pos)
            }
        case "abs":
            switch v {
            case .int(let i):
                if i == Int.min { throw error("integer overflow", pos) }
                return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw error("bad operand type for abs(): '\(v.typeName)'", pos)
            }
        case "format":
            return .string(try printf(Py.str(v), a.positional, pos))
        case "wordcount":
            return .int(PyStr.words(Py.str(v)))
        case "pprint":
            var out = ""
            Py.repr(v, into: &out)
            return .string(out)
        case "batch":
            let n = max(1, try needInt(arg(a, 0, "linecount", .int(1)), "batch", pos))
            let items = try iterate(v, pos)
            let fill = a.get(1, "fill_with")
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + n, items.count)])
                if let fill, chunk.count < n { chunk += Array(repeating: fill, count: n - chunk.count) }
                out.append(.array(chunk))
                i += n
            }
            return .array(out)
        case "center":
            let s = Py.str(v)
            let width = min(try needInt(arg(a, 0, "width", .int(80)), "center", pos), 100_000)
            let len = s.unicodeScalars.count
            if width <= len { return .string(s) }
            let total = width - len
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        default:
            throw error("no filter named '\(name)'", pos)
        }
    }

    func sortKey(_ v: Value, caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    func sortValues(_ items: [Value], key: (Value) throws -> Value, reverse: Bool, _ pos: SourcePos) throws -> [Value] {
        let keyed = try items.map { (try key($0), $0) }
        var failure: TemplateError? = nil
        // Stable merge-free approach: sort indices, comparing keys with Python ordering.
        let order = Array(keyed.indices).sorted { i, j in
            let (a, b) = (keyed[i].0, keyed[j].0)
            guard let lt = reverse ? Py.lessThan(b, a) : Py.lessThan(a, b) else {
                failure = failure ?? self.error("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", pos)
                return i < j
            }
            if lt { return true }
            if reverse ? Py.lessThan(a, b) == true : Py.lessThan(b, a) == true { return false }
            return i < j
        }
        if let failure { throw failure }
        return order.map { keyed[$0].1 }
    }

    func length(_ v: Value, _ pos: SourcePos) throws -> Int {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .array(let a): return a.count
        case .object(let o): return o.count
        case .namespace(let ns): return ns.dict.count
        case .undefined: return 0
        default: throw error("object of type '\(v.typeName)' has no len()", pos)
        }
    }

    /// Hugging Face's `tojson`: `json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=...)`
    /// (no HTML escaping, unlike Jinja's built-in filter).
    func toJSON(_ v: Value, _ a: Arguments, _ pos: SourcePos) throws -> String {
        var indent: String? = nil
        if let iv = a.get(0, "indent") {
            switch iv {
            case .none, .undefined: indent = nil
            case .string(let s): indent = s
            default: indent = String(repeating: " ", count: max(0, min(try needInt(iv, "tojson indent", pos), 100)))
            }
        }
        let ensureASCII = arg(a, 1, "ensure_ascii", .bool(false)).truthy
        var itemSep = indent == nil ? ", " : ","
        var keySep = ": "
        if let sv = a.get(2, "separators"), case .array(let seps) = sv, seps.count == 2 {
            itemSep = Py.str(seps[0])
            keySep = Py.str(seps[1])
        }
        let sortKeys = arg(a, 3, "sort_keys", .bool(false)).truthy
        var out = ""
        do {
            try PyFormat.jsonThrowing(v, into: &out, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys,
                                      level: 0, ensureASCII: ensureASCII)
        } catch let e as PyFormat.NotSerializable {
            if v.isUndefined { throw undefinedError(v, pos) }
            throw error("Object of type \(e.typeName) is not JSON serializable", pos)
        }
        return out
    }

    /// printf-style formatting for the `format` filter (%s, %r, %d, %i, %f, %%).
    func printf(_ fmt: String, _ args: [Value], _ pos: SourcePos) throws -> String {
        var out = ""
        var it = fmt.unicodeScalars.makeIterator()
        var n = 0
        func next() throws -> Value {
            guard n < args.count else { throw error("not enough arguments for format string", pos) }
            n += 1
            return args[n - 1]
        }
        while let c = it.next() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var spec = ""
            var conv: Unicode.Scalar? = nil
            while let d = it.next() {
                if "0123456789.-+ #".unicodeScalars.contains(d) { spec.unicodeScalars.append(d) } else { conv = d; break }
            }
            switch conv {
            case "%": out += "%"
            case "s": out += Py.str(try next())
            case "r":
                var r = ""
                Py.repr(try next(), into: &r)
                out += r
            case "d", "i":
                let v = try next()
                guard let x = v.number else { throw error("%d format: a number is required, not \(v.typeName)", pos) }
                out += String(Int(x.rounded(.towardZero)))
            case "f":
                let v = try next()
                guard let x = v.number else { throw error("%f format: a number is required, not \(v.typeName)", pos) }
                let prec = spec.split(separator: ".").last.flatMap { spec.contains(".") ? Int($0) : nil } ?? 6
                out += String(format: "%.\(min(prec, 50))f", x)
            default:
                throw error("unsupported format character in format string", pos)
            }
        }
        return out
    }

    // MARK: tests

    func applyTest(_ name: String, _ v: Value, _ a: Arguments, _ frame: Frame, _ pos: SourcePos) throws -> Bool {
        let other = a.positional.first ?? .undefined(hint: "missing test argument")
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "number": return v.number != nil
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "mapping": if case .object = v { return true }; return false
        case "iterable":
            switch v {
            case .string, .array, .object, .undefined, .namespace: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .string, .array, .object, .undefined: return true
            default: return false
            }
        case "callable": if case .function = v { return true }; return false
        case "odd", "even":
            guard let i = v.intValue else { throw error("\(name) test expects an integer", pos) }
            return (i & 1 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = v.intValue, let d = other.intValue else { throw error("divisibleby expects integers", pos) }
            if d == 0 { throw error("integer division or modulo by zero", pos) }
            return i % d == 0
        case "eq", "equalto", "==": return Py.equals(v, other)
        case "ne", "!=": return !Py.equals(v, other)
        case "lt", "lessthan", "<": return try compare("<", v, other, pos)
        case "le", "<=": return try compare("<=", v, other, pos)
        case "gt", "greaterthan", ">": return try compare(">", v, other, pos)
        case "ge", ">=": return try compare(">=", v, other, pos)
        case "in": return try contains(other, v, pos)
        case "sameas":
            switch (v, other) {
            case (.namespace(let x), .namespace(let y)): return x === y
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.int(let x), .int(let y)): return x == y
            case (.string(let x), .string(let y)): return x == y
            default: return false
            }
        case "lower": let s = Py.str(v); return s == s.lowercased() && s != s.uppercased()
        case "upper": let s = Py.str(v); return s == s.uppercased() && s != s.lowercased()
        case "escaped": return false
        case "filter", "test":
            let known = name == "filter" ? Interpreter.filterNames : Interpreter.testNames
            if case .string(let s) = v { return known.contains(s) }
            return false
        default:
            throw error("no test named '\(name)'", pos)
        }
    }

    static let filterNames: Set<String> = ["trim", "length", "count", "tojson", "upper", "lower", "capitalize", "title",
        "replace", "join", "first", "last", "default", "d", "string", "int", "float", "list", "items", "dictsort", "sort",
        "reverse", "unique", "min", "max", "sum", "select", "reject", "selectattr", "rejectattr", "map", "attr", "indent",
        "safe", "escape", "e", "forceescape", "round", "abs", "format", "wordcount", "pprint", "batch", "center"]
    static let testNames: Set<String> = ["defined", "undefined", "none", "string", "number", "integer", "float",
        "boolean", "true", "false", "mapping", "iterable", "sequence", "callable", "odd", "even", "divisibleby", "eq",
        "equalto", "ne", "lt", "lessthan", "le", "gt", "greaterthan", "ge", "in", "sameas", "lower", "upper", "escaped",
        "filter", "test", "==", "!=", "<", "<=", ">", ">="]

    // MARK: methods

    func method(_ name: String, _ body: @escaping (Arguments) throws -> Value) -> Value {
        .function(Function(name: name, call: body))
    }

    func unsafe(_ name: String, _ type: String, _ pos: SourcePos) -> Value {
        method(name) { _ in throw self.error("access to attribute '\(name)' of '\(type)' object is unsafe (templates cannot modify data)", pos) }
    }

    func dictMethod(_ o: VDict, _ name: String, _ pos: SourcePos) -> Value {
        switch name {
        case "items": return method(name) { _ in .array(o.pairs.map { .array([.string($0.0), $0.1]) }) }
        case "keys": return method(name) { _ in .array(o.keys.map { .string($0) }) }
        case "values": return method(name) { _ in .array(o.pairs.map { $0.1 }) }
        case "get":
            return method(name) { a in
                guard let k = a.positional.first else { throw self.error("get expected at least 1 argument", pos) }
                let def = a.positional.count > 1 ? a.positional[1] : .none
                if case .string(let ks) = k, let v = o[ks] { return v }
                return def
            }
        case "copy": return method(name) { _ in .object(o) }
        default: return unsafe(name, "dict", pos)
        }
    }

    func listMethod(_ arr: [Value], _ name: String, _ pos: SourcePos) -> Value? {
        switch name {
        case "index":
            return method(name) { a in
                let x = a.positional.first ?? .none
                guard let i = arr.firstIndex(where: { Py.equals($0, x) }) else { throw self.error("value is not in list", pos) }
                return .int(i)
            }
        case "count":
            return method(name) { a in
                let x = a.positional.first ?? .none
                return .int(arr.filter { Py.equals($0, x) }.count)
            }
        case "copy": return method(name) { _ in .array(arr) }
        case "append", "pop", "insert", "extend", "remove", "sort", "reverse", "clear":
            return unsafe(name, "list", pos)
        default: return nil
        }
    }

    func stringMethod(_ s: String, _ name: String, _ pos: SourcePos) -> Value? {
        func optChars(_ a: Arguments) -> String? {
            if case .string(let c)? = a.positional.first { return c }
            return nil
        }
        switch name {
        case "strip": return method(name) { a in .string(PyStr.strip(s, chars: optChars(a), left: true, right: true)) }
        case "lstrip": return method(name) { a in .string(PyStr.strip(s, chars: optChars(a), left: true, right: false)) }
        case "rstrip": return method(name) { a in .string(PyStr.strip(s, chars: optChars(a), left: false, right: true)) }
        case "upper": return method(name) { _ in .string(s.uppercased()) }
        case "lower": return method(name) { _ in .string(s.lowercased()) }
        case "title": return method(name) { _ in .string(PyStr.pyTitle(s)) }
        case "capitalize": return method(name) { _ in .string(PyStr.capitalize(s)) }
        case "swapcase":
            return method(name) { _ in
                .string(String(s.map { c in c.isUppercase ? Character(c.lowercased()) : c.isLowercase ? Character(c.uppercased()) : c }))
            }
        case "split", "rsplit":
            return method(name) { a in
                let sepV = a.get(0, "sep") ?? .none
                let maxsplit = a.get(1, "maxsplit")?.intValue ?? -1
                var sep: String? = nil
                if case .string(let x) = sepV {
                    if x.isEmpty { throw self.error("empty separator", pos) }
                    sep = x
                }
                return .array(PyStr.split(s, sep: sep, maxsplit: maxsplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines": return method(name) { _ in .array(PyStr.splitlines(s).map { .string($0) }) }
        case "startswith", "endswith":
            return method(name) { a in
                let p = a.positional.first ?? .none
                let prefixes: [Value]
                if case .array(let arr) = p { prefixes = arr } else { prefixes = [p] }
                let u = Array(s.unicodeScalars)
                for pv in prefixes {
                    let x = Array(try self.needString(pv, name, pos).unicodeScalars)
                    if x.count <= u.count, name == "startswith" ? Array(u[..<x.count]) == x : Array(u[(u.count - x.count)...]) == x {
                        return .bool(true)
                    }
                }
                return .bool(false)
            }
        case "replace":
            return method(name) { a in
                let old = try self.needString(a.get(0, "old") ?? .none, name, pos)
                let new = try self.needString(a.get(1, "new") ?? .none, name, pos)
                return .string(PyStr.replace(s, old, new, count: a.get(2, "count")?.intValue ?? -1))
            }
        case "find", "rfind", "index", "rindex":
            return method(name) { a in
                let sub = try self.needString(a.positional.first ?? .none, name, pos)
                let r = PyStr.find(s, sub, fromRight: name.hasPrefix("r"))
                if r < 0, name.hasSuffix("index") { throw self.error("substring not found", pos) }
                return .int(r)
            }
        case "count":
            return method(name) { a in
                let sub = try self.needString(a.positional.first ?? .none, name, pos)
                return .int(PyStr.count(s, sub))
            }
        case "join":
            return method(name) { a in
                let items = try self.iterate(a.positional.first ?? .none, pos)
                return .string(try items.map { try self.needString($0, "join", pos) }.joined(separator: s))
            }
        case "removeprefix", "removesuffix":
            return method(name) { a in
                let x = try self.needString(a.positional.first ?? .none, name, pos)
                let u = Array(s.unicodeScalars), p = Array(x.unicodeScalars)
                if name == "removeprefix", u.starts(with: p) { return .string(String(String.UnicodeScalarView(u[p.count...]))) }
                if name == "removesuffix", !p.isEmpty, u.count >= p.count, Array(u[(u.count - p.count)...]) == p {
                    return .string(String(String.UnicodeScalarView(u[..<(u.count - p.count)])))
                }
                return .string(s)
            }
        case "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper":
            return method(name) { _ in
                let u = s.unicodeScalars
                if u.isEmpty { return .bool(false) }
                switch name {
                case "isdigit": return .bool(u.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
                case "isalpha": return .bool(u.allSatisfy { $0.properties.isAlphabetic })
                case "isalnum": return .bool(u.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
                case "isspace": return .bool(u.allSatisfy(Lexer.isSpace))
                case "islower": return .bool(s == s.lowercased() && s != s.uppercased())
                default: return .bool(s == s.uppercased() && s != s.lowercased())
                }
            }
        case "format":
            return method(name) { a in .string(try self.strFormat(s, a, pos)) }
        default:
            return nil
        }
    }

    /// Python `str.format` with `{}`, `{0}`, `{name}`, `{{`/`}}` (format specs are not supported).
    func strFormat(_ s: String, _ a: Arguments, _ pos: SourcePos) throws -> String {
        var out = ""
        let u = Array(s.unicodeScalars)
        var i = 0
        var auto = 0
        while i < u.count {
            let c = u[i]
            if c == "{" {
                if i + 1 < u.count, u[i + 1] == "{" { out += "{"; i += 2; continue }
                guard let close = u[i...].firstIndex(of: "}") else { throw error("Single '{' encountered in format string", pos) }
                let field = String(String.UnicodeScalarView(u[(i + 1)..<close]))
                if field.contains(":") || field.contains("!") { throw error("format specs are not supported in str.format", pos) }
                let v: Value
                if field.isEmpty {
                    guard auto < a.positional.count else { throw error("Replacement index \(auto) out of range", pos) }
                    v = a.positional[auto]; auto += 1
                } else if let n = Int(field) {
                    guard n < a.positional.count else { throw error("Replacement index \(n) out of range", pos) }
                    v = a.positional[n]
                } else {
                    guard let kw = a.keyword.first(where: { $0.0 == field }) else { throw error("KeyError: '\(field)'", pos) }
                    v = kw.1
                }
                out += Py.str(v)
                i = close + 1
            } else if c == "}" {
                if i + 1 < u.count, u[i + 1] == "}" { out += "}"; i += 2; continue }
                throw error("Single '}' encountered in format string", pos)
            } else {
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }

    // MARK: globals

    func globals(raise: @escaping (String) -> TemplateError) -> [String: Value] {
        var g: [String: Value] = [:]
        let pos = SourcePos.unknown
        g["range"] = method("range") { a in
            let ints = try a.positional.map { try self.needInt($0, "range", pos) }
            var start = 0, stop = 0, step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: start = ints[0]; stop = ints[1]
            case 3: start = ints[0]; stop = ints[1]; step = ints[2]
            default: throw self.error("range expected 1 to 3 integer arguments", pos)
            }
            if step == 0 { throw self.error("range() arg 3 must not be zero", pos) }
            let count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                                 : (start > stop ? (start - stop - step - 1) / -step : 0)
            if count > self.limits.maxRange {
                throw self.error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(self.limits.maxRange)).", pos, kind: .limit)
            }
            return .array((0..<count).map { .int(start + $0 * step) })
        }
        g["namespace"] = method("namespace") { a in
            let ns = NamespaceBox()
            for p in a.positional {
                guard case .object(let o) = p else { throw self.error("namespace() positional argument must be a mapping", pos) }
                for (k, v) in o.pairs { ns.dict[k] = v }
            }
            for (k, v) in a.keyword { ns.dict[k] = v }
            return .namespace(ns)
        }
        g["dict"] = method("dict") { a in
            var d = VDict()
            for p in a.positional {
                if case .object(let o) = p { for (k, v) in o.pairs { d[k] = v } }
            }
            for (k, v) in a.keyword { d[k] = v }
            return .object(d)
        }
        g["raise_exception"] = method("raise_exception") { a in
            throw raise(Py.str(a.positional.first ?? .string("")))
        }
        g["strftime_now"] = method("strftime_now") { a in
            .string(Strftime.format(Py.str(a.positional.first ?? .string("")), self.now))
        }
        return g
    }
}
