import Foundation

final class Frame {
    var vars: [String: Value] = [:]
    let parent: Frame?
    init(parent: Frame?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var f: Frame? = self
        while let cur = f {
            if let v = cur.vars[name] { return v }
            f = cur.parent
        }
        return nil
    }
}

enum Flow { case normal, breakLoop, continueLoop }

/// Limits that keep an untrusted template from exhausting memory, stack or time.
struct Limits {
    var maxOutputScalars = 8 * 1024 * 1024
    var maxSteps = 1_000_000
    var maxCallDepth = 40
    var maxRange = 100_000  // Jinja's sandbox MAX_RANGE
}

/// Tree-walking evaluator.
final class Interpreter {
    let limits: Limits
    let lexer: Lexer
    let now: Date
    var steps = 0
    var callDepth = 0
    var produced = 0

    init(lexer: Lexer, now: Date, limits: Limits = Limits()) {
        self.lexer = lexer
        self.now = now
        self.limits = limits
    }

    func error(_ msg: String, _ pos: SourcePos, kind: TemplateError.Kind = .runtime) -> TemplateError {
        TemplateError(kind: kind, message: msg, line: pos.line, column: pos.column)
    }

    func tick(_ pos: SourcePos) throws {
        steps += 1
        if steps > limits.maxSteps { throw error("too many evaluation steps (limit \(limits.maxSteps))", pos, kind: .limit) }
    }

    func append(_ s: String, to out: inout String, _ pos: SourcePos) throws {
        produced += s.unicodeScalars.count
        if produced > limits.maxOutputScalars {
            throw error("output exceeds \(limits.maxOutputScalars) characters", pos, kind: .limit)
        }
        out += s
    }

    // MARK: statements

    func exec(_ nodes: [Node], _ frame: Frame, _ out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try exec(node, frame, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    func exec(_ node: Node, _ frame: Frame, _ out: inout String) throws -> Flow {
        switch node {
        case .text(let t):
            try append(t, to: &out, .unknown)
        case .output(let e):
            try tick(e.pos)
            let v = try eval(e, frame)
            try append(Py.str(v), to: &out, e.pos)
        case .ifChain(let branches, let elseBody):
            for (cond, body) in branches {
                try tick(cond.pos)
                if try eval(cond, frame).truthy { return try exec(body, frame, &out) }
            }
            return try exec(elseBody, frame, &out)
        case .forLoop(let target, let iterExpr, let filter, let body, let elseBody, let pos):
            let iterable = try eval(iterExpr, frame)
            var items = try iterate(iterable, iterExpr.pos)
            if let filter {
                var kept: [Value] = []
                for item in items {
                    try tick(pos)
                    let f = Frame(parent: frame)
                    try assign(target, item, f, pos)
                    if try eval(filter, f).truthy { kept.append(item) }
                }
                items = kept
            }
            if items.isEmpty { return try exec(elseBody, frame, &out) }
            let n = items.count
            for (idx, item) in items.enumerated() {
                try tick(pos)
                let f = Frame(parent: frame)
                var loop = VDict()
                loop["index"] = .int(idx + 1)
                loop["index0"] = .int(idx)
                loop["revindex"] = .int(n - idx)
                loop["revindex0"] = .int(n - idx - 1)
                loop["first"] = .bool(idx == 0)
                loop["last"] = .bool(idx == n - 1)
                loop["length"] = .int(n)
                loop["depth"] = .int(1)
                loop["depth0"] = .int(0)
                loop["previtem"] = idx > 0 ? items[idx - 1] : .undefined(hint: "there is no previous item")
                loop["nextitem"] = idx < n - 1 ? items[idx + 1] : .undefined(hint: "there is no next item")
                loop["cycle"] = .function(Function(name: "loop.cycle") { args in
                    guard !args.positional.isEmpty else { throw TemplateError(kind: .runtime, message: "no items for cycling given", line: pos.line, column: pos.column) }
                    return args.positional[idx % args.positional.count]
                })
                f.vars["loop"] = .object(loop)
                try assign(target, item, f, pos)
                let flow = try exec(body, f, &out)
                if flow == .breakLoop { break }
            }
        case .set(let target, let expr, let pos):
            try tick(pos)
            try assign(target, try eval(expr, frame), frame, pos)
        case .setBlock(let target, let body, let filters, let pos):
            var buf = ""
            _ = try exec(body, frame, &buf)
            var v = Value.string(buf)
            for (name, args, fpos) in filters {
                v = try applyFilter(name, v, try evalArgs(args, frame), frame, fpos)
            }
            try assign(target, v, frame, pos)
        case .macro(let m):
            frame.vars[m.name] = .function(makeMacro(m, frame))
        case .callBlock(let call, let params, let body):
            guard case .call(let calleeE, let argsE) = call.kind else { return .normal }
            let callee = try eval(calleeE, frame)
            var args = try evalArgs(argsE, frame)
            let caller = makeMacro(Macro(name: "caller", params: params, body: body), frame)
            args.keyword.append(("caller", .function(caller)))
            let v = try callValue(callee, args, call.pos)
            try append(Py.str(v), to: &out, call.pos)
        case .filterBlock(let filters, let body):
            var buf = ""
            _ = try exec(body, frame, &buf)
            var v = Value.string(buf)
            for (name, args, fpos) in filters {
                v = try applyFilter(name, v, try evalArgs(args, frame), frame, fpos)
            }
            try append(Py.str(v), to: &out, .unknown)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    func makeMacro(_ m: Macro, _ defFrame: Frame) -> Function {
        Function(name: m.name) { [unowned self] args in
            let pos = m.body.isEmpty ? SourcePos.unknown : SourcePos.unknown
            self.callDepth += 1
            defer { self.callDepth -= 1 }
            if self.callDepth > self.limits.maxCallDepth {
                throw self.error("macro calls nested too deeply (limit \(self.limits.maxCallDepth))", pos, kind: .limit)
            }
            let f = Frame(parent: defFrame)
            if args.positional.count > m.params.count {
                throw self.error("macro '\(m.name)' takes not more than \(m.params.count) argument(s)", pos)
            }
            var callerArg: Value? = nil
            for (k, v) in args.keyword {
                if k == "caller" { callerArg = v; continue }
                if !m.params.contains(where: { $0.0 == k }) {
                    throw self.error("macro '\(m.name)' takes no keyword argument '\(k)'", pos)
                }
            }
            for (idx, (pname, def)) in m.params.enumerated() {
                if idx < args.positional.count {
                    f.vars[pname] = args.positional[idx]
                } else if let kw = args.keyword.first(where: { $0.0 == pname }) {
                    f.vars[pname] = kw.1
                } else if let def {
                    f.vars[pname] = try self.eval(def, f)
                } else {
                    f.vars[pname] = .undefined(hint: "parameter '\(pname)' was not provided")
                }
            }
            if let callerArg { f.vars["caller"] = callerArg }
            var buf = ""
            _ = try self.exec(m.body, f, &buf)
            return .string(buf)
        }
    }

    func assign(_ target: Target, _ value: Value, _ frame: Frame, _ pos: SourcePos) throws {
        switch target {
        case .name(let n):
            frame.vars[n] = value
        case .attribute(let n, let attr):
            guard let v = frame.lookup(n), case .namespace(let ns) = v else {
                throw error("cannot assign attribute on non-namespace object", pos)
            }
            ns.dict[attr] = value
        case .tuple(let targets):
            let items = try iterate(value, pos)
            guard items.count == targets.count else {
                throw error(items.count > targets.count ? "too many values to unpack (expected \(targets.count))"
                            : "not enough values to unpack (expected \(targets.count), got \(items.count))", pos)
            }
            for (t, v) in zip(targets, items) { try assign(t, v, frame, pos) }
        }
    }

    /// Python iteration: lists, dict keys, string characters; Undefined iterates as empty.
    func iterate(_ v: Value, _ pos: SourcePos) throws -> [Value] {
        switch v {
        case .array(let a): return a
        case .object(let o): return o.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .namespace(let ns): return ns.dict.keys.map { .string($0) }
        default: throw error("'\(v.typeName)' object is not iterable", pos)
        }
    }

    // MARK: expressions

    func evalArgs(_ a: CallArgs, _ frame: Frame) throws -> Arguments {
        var args = Arguments()
        for e in a.positional { args.positional.append(try eval(e, frame)) }
        for (k, e) in a.keyword { args.keyword.append((k, try eval(e, frame))) }
        return args
    }

    func eval(_ e: Expr, _ frame: Frame) throws -> Value {
        switch e.kind {
        case .literal(let l):
            switch l {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let n):
            return frame.lookup(n) ?? .undefined(hint: "'\(n)' is undefined")
        case .list(let items):
            return .array(try items.map { try eval($0, frame) })
        case .dict(let items):
            var d = VDict()
            for (ke, ve) in items {
                let k = try eval(ke, frame)
                guard case .string(let ks) = k else {
                    if k.isUndefined { throw undefinedError(k, ke.pos) }
                    d[Py.str(k)] = try eval(ve, frame)
                    continue
                }
                d[ks] = try eval(ve, frame)
            }
            return .object(d)
        case .getattr(let base, let name):
            let b = try eval(base, frame)
            return try getAttr(b, name, e.pos)
        case .getitem(let base, let key):
            let b = try eval(base, frame)
            let k = try eval(key, frame)
            return try getItem(b, k, e.pos)
        case .slice(let base, let s, let t, let st):
            let b = try eval(base, frame)
            return try slice(b, try s.map { try eval($0, frame) }, try t.map { try eval($0, frame) },
                             try st.map { try eval($0, frame) }, e.pos)
        case .call(let calleeE, let argsE):
            try tick(e.pos)
            let callee = try eval(calleeE, frame)
            let args = try evalArgs(argsE, frame)
            return try callValue(callee, args, e.pos)
        case .filter(let base, let name, let argsE):
            try tick(e.pos)
            let v = try eval(base, frame)
            return try applyFilter(name, v, try evalArgs(argsE, frame), frame, e.pos)
        case .test(let base, let name, let argsE, let negated):
            let v = try eval(base, frame)
            let r = try applyTest(name, v, try evalArgs(argsE, frame), frame, e.pos)
            return .bool(negated ? !r : r)
        case .unary(let op, let x):
            let v = try eval(x, frame)
            switch op {
            case "not": return .bool(!v.truthy)
            case "-":
                switch v {
                case .bool(let b): return .int(b ? -1 : 0)
                case .int(let i):
                    let (r, o) = (0).subtractingReportingOverflow(i)
                    if o { throw error("integer overflow", e.pos) }
                    return .int(r)
                case .double(let d): return .double(-d)
                default:
                    if v.isUndefined { throw undefinedError(v, e.pos) }
                    throw error("bad operand type for unary -: '\(v.typeName)'", e.pos)
                }
            default:
                if v.number == nil { throw error("bad operand type for unary +: '\(v.typeName)'", e.pos) }
                if case .bool(let b) = v { return .int(b ? 1 : 0) }
                return v
            }
        case .binary(let op, let l, let r):
            let a = try eval(l, frame)
            let b = try eval(r, frame)
            return try binary(op, a, b, e.pos)
        case .and(let l, let r):
            let a = try eval(l, frame)
            return a.truthy ? try eval(r, frame) : a
        case .or(let l, let r):
            let a = try eval(l, frame)
            return a.truthy ? a : try eval(r, frame)
        case .compare(let first, let ops):
            var left = try eval(first, frame)
            for (op, re) in ops {
                let right = try eval(re, frame)
                if !(try compare(op, left, right, re.pos)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let cond, let then, let other):
            if try eval(cond, frame).truthy { return try eval(then, frame) }
            if let other { return try eval(other, frame) }
            return .undefined(hint: "the inline if-expression evaluated to false and no else section was defined")
        }
    }

    func undefinedError(_ v: Value, _ pos: SourcePos) -> TemplateError {
        if case .undefined(let hint) = v { return error(hint, pos) }
        return error("undefined value", pos)
    }

    func callValue(_ callee: Value, _ args: Arguments, _ pos: SourcePos) throws -> Value {
        switch callee {
        case .function(let f):
            do {
                return try f.call(args)
            } catch var err as TemplateError {
                if err.line == 0 { err.line = pos.line; err.column = pos.column }
                throw err
            }
        case .undefined:
            throw undefinedError(callee, pos)
        default:
            throw error("'\(callee.typeName)' object is not callable", pos)
        }
    }

    func compare(_ op: String, _ a: Value, _ b: Value, _ pos: SourcePos) throws -> Bool {
        switch op {
        case "==": return Py.equals(a, b)
        case "!=": return !Py.equals(a, b)
        case "in": return try contains(b, a, pos)
        case "notin": return !(try contains(b, a, pos))
        default:
            if a.isUndefined { throw undefinedError(a, pos) }
            if b.isUndefined { throw undefinedError(b, pos) }
            let eq = Py.equals(a, b)
            let lt: Bool? = (op == "<" || op == "<=") ? Py.lessThan(a, b) : Py.lessThan(b, a)
            guard let lt else { return try cmpError(op, a, b, pos) }
            return (op == "<" || op == ">") ? lt : (lt || eq)
        }
    }

    func cmpError(_ op: String, _ a: Value, _ b: Value, _ pos: SourcePos) throws -> Bool {
        throw error("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", pos)
    }

    func contains(_ container: Value, _ item: Value, _ pos: SourcePos) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                if item.isUndefined { throw undefinedError(item, pos) }
                throw error("'in <string>' requires string as left operand, not \(item.typeName)", pos)
            }
            return sub.isEmpty || s.contains(sub)
        case .array(let a): return a.contains { Py.equals($0, item) }
        case .object(let o):
            if case .string(let k) = item { return o[k] != nil }
            return false
        case .undefined: return false
        case .namespace(let ns):
            if case .string(let k) = item { return ns.dict[k] != nil }
            return false
        default:
            throw error("argument of type '\(container.typeName)' is not iterable", pos)
        }
    }

    func binary(_ op: String, _ a: Value, _ b: Value, _ pos: SourcePos) throws -> Value {
        if op == "~" {
            let s = Py.str(a) + Py.str(b)
            return .string(s)
        }
        if a.isUndefined { throw undefinedError(a, pos) }
        if b.isUndefined { throw undefinedError(b, pos) }
        func typeError() -> TemplateError {
            error("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'", pos)
        }
        func checked(_ r: (Int, Bool)) throws -> Value {
            if r.1 { throw error("integer overflow", pos) }
            return .int(r.0)
        }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)):
                if x.unicodeScalars.count + y.unicodeScalars.count > limits.maxOutputScalars {
                    throw error("string too long", pos, kind: .limit)
                }
                return .string(x + y)
            case (.array(let x), .array(let y)): return .array(x + y)
            case (.string, _), (_, .string):
                if case .string = a { throw error("can only concatenate str (not \"\(b.typeName)\") to str", pos) }
                throw typeError()
            default: break
            }
            if let x = a.intValue, let y = b.intValue { return try checked(x.addingReportingOverflow(y)) }
            if let x = a.number, let y = b.number { return .double(x + y) }
            throw typeError()
        case "-":
            if let x = a.intValue, let y = b.intValue { return try checked(x.subtractingReportingOverflow(y)) }
            if let x = a.number, let y = b.number { return .double(x - y) }
            throw typeError()
        case "*":
            if let n = b.intValue, case .string(let s) = a { return try repeatString(s, n, pos) }
            if let n = a.intValue, case .string(let s) = b { return try repeatString(s, n, pos) }
            if let n = b.intValue, case .array(let x) = a { return try repeatArray(x, n, pos) }
            if let n = a.intValue, case .array(let x) = b { return try repeatArray(x, n, pos) }
            if let x = a.intValue, let y = b.intValue { return try checked(x.multipliedReportingOverflow(by: y)) }
            if let x = a.number, let y = b.number { return .double(x * y) }
            throw typeError()
        case "/":
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw error("division by zero", pos) }
            return .double(x / y)
        case "//":
            if let x = a.intValue, let y = b.intValue {
                if y == 0 { throw error("integer division or modulo by zero", pos) }
                if x == Int.min && y == -1 { throw error("integer overflow", pos) }
                let q = x / y
                return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
            }
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw error("float floor division by zero", pos) }
            return .double((x / y).rounded(.down))
        case "%":
            if case .string = a { throw error("printf-style '%' formatting is not supported; use the format filter", pos) }
            if let x = a.intValue, let y = b.intValue {
                if y == 0 { throw error("integer division or modulo by zero", pos) }
                if y == -1 { return .int(0) }
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            }
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw error("float modulo", pos) }
            let r = x.truncatingRemainder(dividingBy: y)
            return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case "**":
            if let x = a.intValue, let y = b.intValue, y >= 0 {
                var result = 1
                var base = x, e = y
                while e > 0 {
                    if e & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).intValue! }
                    e >>= 1
                    if e > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).intValue! }
                }
                return .int(result)
            }
            guard let x = a.number, let y = b.number else { throw typeError() }
            return .double(Foundation.pow(x, y))
        default:
            throw typeError()
        }
    }

    func repeatString(_ s: String, _ n: Int, _ pos: SourcePos) throws -> Value {
        if n <= 0 || s.isEmpty { return .string("") }
        let (total, o) = s.unicodeScalars.count.multipliedReportingOverflow(by: n)
        if o || total > limits.maxOutputScalars { throw error("string too long", pos, kind: .limit) }
        return .string(String(repeating: s, count: n))
    }

    func repeatArray(_ a: [Value], _ n: Int, _ pos: SourcePos) throws -> Value {
        if n <= 0 || a.isEmpty { return .array([]) }
        let (total, o) = a.count.multipliedReportingOverflow(by: n)
        if o || total > limits.maxRange * 10 { throw error("list too long", pos, kind: .limit) }
        var out: [Value] = []
        out.reserveCapacity(total)
        for _ in 0..<n { out.append(contentsOf: a) }
        return .array(out)
    }

    // MARK: access

    static let dictMethods: Set<String> = ["items", "keys", "values", "get", "pop", "update", "copy", "clear",
                                           "setdefault", "popitem"]

    func getAttr(_ b: Value, _ name: String, _ pos: SourcePos) throws -> Value {
        switch b {
        case .undefined: throw undefinedError(b, pos)
        case .object(let o):
            if Interpreter.dictMethods.contains(name) { return dictMethod(o, name, pos) }
            return o[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case .namespace(let ns):
            return ns.dict[name] ?? .undefined(hint: "'Namespace object' has no attribute '\(name)'")
        case .string(let s):
            if let m = stringMethod(s, name, pos) { return m }
            return .undefined(hint: "'str object' has no attribute '\(name)'")
        case .array(let a):
            if let m = listMethod(a, name, pos) { return m }
            return .undefined(hint: "'list object' has no attribute '\(name)'")
        default:
            return .undefined(hint: "'\(Py.str(b))' has no attribute '\(name)'")
        }
    }

    func getItem(_ b: Value, _ k: Value, _ pos: SourcePos) throws -> Value {
        switch (b, k) {
        case (.undefined, _): throw undefinedError(b, pos)
        case (.object(let o), .string(let key)):
            if let v = o[key] { return v }
            if Interpreter.dictMethods.contains(key) { return dictMethod(o, key, pos) }
            return .undefined(hint: "'dict object' has no attribute '\(key)'")
        case (.namespace(let ns), .string(let key)):
            return ns.dict[key] ?? .undefined(hint: "'Namespace object' has no attribute '\(key)'")
        case (.array(let a), _):
            if let i = k.intValue {
                let idx = i < 0 ? a.count + i : i
                if idx >= 0 && idx < a.count { return a[idx] }
                return .undefined(hint: "list object has no element \(i)")
            }
            if case .string(let name) = k { return try getAttr(b, name, pos) }
            return .undefined(hint: "list indices must be integers")
        case (.string(let s), _):
            if let i = k.intValue {
                let scalars = Array(s.unicodeScalars)
                let idx = i < 0 ? scalars.count + i : i
                if idx >= 0 && idx < scalars.count { return .string(String(scalars[idx])) }
                return .undefined(hint: "str object has no element \(i)")
            }
            if case .string(let name) = k { return try getAttr(b, name, pos) }
            return .undefined(hint: "string indices must be integers")
        default:
            if case .string(let name) = k { return try getAttr(b, name, pos) }
            return .undefined(hint: "'\(b.typeName) object' has no element \(Py.str(k))")
        }
    }

    func slice(_ b: Value, _ s: Value?, _ t: Value?, _ st: Value?, _ pos: SourcePos) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v, !(v.isUndefined), !(Py.equals(v, .none)) else { return nil }
            guard let i = v.intValue else { throw error("slice indices must be integers or None", pos) }
            return i
        }
        let step = try bound(st) ?? 1
        if step == 0 { throw error("slice step cannot be zero", pos) }
        func indices(_ n: Int) throws -> [Int] {
            var start = try bound(s), stop = try bound(t)
            if step > 0 {
                var lo = start ?? 0, hi = stop ?? n
                if lo < 0 { lo = max(0, lo + n) }; lo = min(lo, n)
                if hi < 0 { hi = max(0, hi + n) }; hi = min(hi, n)
                return lo < hi ? Array(stride(from: lo, to: hi, by: step)) : []
            } else {
                if let x = start { start = x < 0 ? max(-1, x + n) : min(x, n - 1) }
                if let x = stop { stop = x < 0 ? max(-1, x + n) : min(x, n - 1) }
                let lo = start ?? n - 1, hi = stop ?? -1
                return lo > hi ? Array(stride(from: lo, to: hi, by: step)) : []
            }
        }
        switch b {
        case .array(let a): return .array(try indices(a.count).map { a[$0] })
        case .string(let str):
            let u = Array(str.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(u.count) { out.append(u[i]) }
            return .string(String(out))
        case .undefined: throw undefinedError(b, pos)
        default: throw error("'\(b.typeName)' object is not subscriptable", pos)
        }
    }
}
