/// Recursive-descent parser following Jinja2's grammar and operator precedence
/// (`if-else` < `or` < `and` < `not` < comparisons < `+ -` < `~` < `* / // %` < `**` < unary < filters/tests < postfix).
struct Parser {
    var tokens: [Token]
    var i = 0
    let lexer: Lexer
    var exprDepth = 0
    var blockDepth = 0
    static let maxExprDepth = 64
    static let maxBlockDepth = 64

    init(source: String) throws {
        var lx = Lexer(source: source)
        tokens = try lx.tokenize()
        lexer = lx
    }

    var tok: Token { tokens[i] }
    func peek(_ n: Int = 1) -> Token { tokens[min(i + n, tokens.count - 1)] }
    mutating func advance() { if i < tokens.count - 1 { i += 1 } }
    func pos(_ t: Token) -> SourcePos { lexer.position(t.offset) }
    var here: SourcePos { pos(tok) }

    func error(_ msg: String, _ t: Token? = nil) -> TemplateError {
        let p = pos(t ?? tok)
        return TemplateError(kind: .syntax, message: msg, line: p.line, column: p.column)
    }

    static func describe(_ k: TokenKind) -> String {
        switch k {
        case .data: return "template data"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "end of statement block"
        case .varBegin: return "'{{'"
        case .varEnd: return "end of print statement"
        case .name(let n): return "'\(n)'"
        case .string: return "string"
        case .int, .float: return "number"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    func isOp(_ o: String) -> Bool { tok.kind == .op(o) }
    func isName(_ n: String) -> Bool { tok.kind == .name(n) }

    mutating func expectOp(_ o: String) throws {
        guard isOp(o) else { throw error("expected '\(o)', got \(Parser.describe(tok.kind))") }
        advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = tok.kind else { throw error("expected a name, got \(Parser.describe(tok.kind))") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard tok.kind == .blockEnd else { throw error("expected end of statement block, got \(Parser.describe(tok.kind))") }
        advance()
    }

    // MARK: statements

    mutating func parseTemplate() throws -> [Node] {
        let (nodes, _) = try subparse(until: [])
        return nodes
    }

    /// Parses nodes until a `{% name %}` tag with `name` in `ends`; leaves `i` on that name token.
    mutating func subparse(until ends: Set<String>) throws -> ([Node], String?) {
        blockDepth += 1
        defer { blockDepth -= 1 }
        if blockDepth > Parser.maxBlockDepth { throw error("blocks nested too deeply") }
        var nodes: [Node] = []
        while true {
            switch tok.kind {
            case .data(let text):
                nodes.append(.text(text))
                advance()
            case .varBegin:
                advance()
                let e = try parseTuple()
                guard tok.kind == .varEnd else { throw error("expected end of print statement, got \(Parser.describe(tok.kind))") }
                advance()
                nodes.append(.output(e))
            case .blockBegin:
                advance()
                guard case .name(let name) = tok.kind else { throw error("expected statement name, got \(Parser.describe(tok.kind))") }
                if ends.contains(name) { return (nodes, name) }
                nodes.append(contentsOf: try parseStatement(name))
            case .eof:
                if !ends.isEmpty {
                    let list = ends.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("unexpected end of template, expected \(list)")
                }
                return (nodes, nil)
            default:
                throw error("unexpected \(Parser.describe(tok.kind))")
            }
        }
    }

    mutating func parseStatement(_ name: String) throws -> [Node] {
        let start = tok
        advance()
        switch name {
        case "if":
            var branches: [(Expr, [Node])] = []
            var cond = try parseTuple()
            while true {
                try expectBlockEnd()
                let (body, end) = try subparse(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                advance()
                if end == "elif" { cond = try parseTuple(); continue }
                if end == "else" {
                    try expectBlockEnd()
                    let (elseBody, _) = try subparse(until: ["endif"])
                    advance()
                    try expectBlockEnd()
                    return [.ifChain(branches, elseBody: elseBody)]
                }
                try expectBlockEnd()
                return [.ifChain(branches, elseBody: [])]
            }
        case "for":
            let target = try parseAssignTarget(allowAttribute: false)
            guard isName("in") else { throw error("expected 'in', got \(Parser.describe(tok.kind))") }
            advance()
            let iter = try parseTuple(withCondexpr: false)
            var filter: Expr? = nil
            if isName("if") { advance(); filter = try parseExpression() }
            if isName("recursive") { throw error("recursive for loops are not supported") }
            try expectBlockEnd()
            let (body, end) = try subparse(until: ["endfor", "else"])
            advance()
            var elseBody: [Node] = []
            if end == "else" {
                try expectBlockEnd()
                (elseBody, _) = try subparse(until: ["endfor"])
                advance()
            }
            try expectBlockEnd()
            return [.forLoop(target: target, iter: iter, filter: filter, body: body, elseBody: elseBody, pos: pos(start))]
        case "set":
            let target = try parseAssignTarget(allowAttribute: true)
            if isOp("=") {
                advance()
                let value = try parseTuple()
                try expectBlockEnd()
                return [.set(target, value, pos: pos(start))]
            }
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endset"])
            advance()
            try expectBlockEnd()
            return [.setBlock(target, body, filters: filters, pos: pos(start))]
        case "macro":
            let mname = try expectName()
            let params = try parseSignature()
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endmacro"])
            advance()
            if case .name = tok.kind { advance() }  // optional `{% endmacro name %}`
            try expectBlockEnd()
            return [.macro(Macro(name: mname, params: params, body: body))]
        case "call":
            var params: [(String, Expr?)] = []
            if isOp("(") { params = try parseSignature() }
            let call = try parseExpression()
            guard case .call = call.kind else { throw error("expected a call expression", start) }
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endcall"])
            advance()
            try expectBlockEnd()
            return [.callBlock(call: call, params: params, body: body)]
        case "filter":
            let filters = try parseFilterChain(requireFirstPipe: false)
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endfilter"])
            advance()
            try expectBlockEnd()
            return [.filterBlock(filters, body)]
        case "generation":
            // Hugging Face's AssistantTracker extension: renders its body unchanged.
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endgeneration"])
            advance()
            try expectBlockEnd()
            return body
        case "break":
            try expectBlockEnd()
            return [.breakLoop(pos(start))]
        case "continue":
            try expectBlockEnd()
            return [.continueLoop(pos(start))]
        default:
            throw error("encountered unknown or unsupported tag '\(name)'", start)
        }
    }

    mutating func parseSignature() throws -> [(String, Expr?)] {
        try expectOp("(")
        var params: [(String, Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let p = try expectName()
            if isOp("=") {
                advance()
                params.append((p, try parseExpression()))
            } else {
                if params.contains(where: { $0.1 != nil }) { throw error("non-default argument follows default argument") }
                params.append((p, nil))
            }
        }
        advance()
        return params
    }

    /// `| name(args) | name ...` (for `{% set x | f %}` and `{% filter f %}`).
    mutating func parseFilterChain(requireFirstPipe: Bool = true) throws -> [(String, CallArgs, SourcePos)] {
        var out: [(String, CallArgs, SourcePos)] = []
        var first = true
        while isOp("|") || (first && !requireFirstPipe) {
            if isOp("|") { advance() }
            first = false
            let p = here
            let n = try parseDottedName()
            let args = isOp("(") ? try parseCallArgs() : CallArgs()
            out.append((n, args, p))
        }
        return out
    }

    mutating func parseAssignTarget(allowAttribute: Bool) throws -> Target {
        func one(_ p: inout Parser) throws -> Target {
            if p.isOp("(") {
                p.advance()
                let t = try p.parseAssignTarget(allowAttribute: false)
                try p.expectOp(")")
                return t
            }
            let n = try p.expectName()
            if allowAttribute, p.isOp(".") {
                p.advance()
                return .attribute(n, try p.expectName())
            }
            return .name(n)
        }
        let first = try one(&self)
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if case .name = tok.kind {} else if !isOp("(") { break }
            items.append(try one(&self))
        }
        return .tuple(items)
    }

    // MARK: expressions

    mutating func parseTuple(withCondexpr: Bool = true) throws -> Expr {
        let start = here
        let first = withCondexpr ? try parseExpression() : try parseOr()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if tok.kind == .varEnd || tok.kind == .blockEnd || isOp(")") || isName("if") { break }
            items.append(withCondexpr ? try parseExpression() : try parseOr())
        }
        return Expr(kind: .list(items), pos: start)
    }

    mutating func parseExpression() throws -> Expr {
        exprDepth += 1
        defer { exprDepth -= 1 }
        if exprDepth > Parser.maxExprDepth { throw error("expression nested too deeply") }
        var e = try parseOr()
        while isName("if") {
            advance()
            let cond = try parseOr()
            var other: Expr? = nil
            if isName("else") {
                advance()
                other = try parseExpression()
            }
            e = Expr(kind: .conditional(cond: cond, then: e, else: other), pos: e.pos)
        }
        return e
    }

    mutating func parseOr() throws -> Expr {
        var l = try parseAnd()
        while isName("or") {
            advance()
            l = Expr(kind: .or(l, try parseAnd()), pos: l.pos)
        }
        return l
    }

    mutating func parseAnd() throws -> Expr {
        var l = try parseNot()
        while isName("and") {
            advance()
            l = Expr(kind: .and(l, try parseNot()), pos: l.pos)
        }
        return l
    }

    mutating func parseNot() throws -> Expr {
        if isName("not") {
            let p = here
            advance()
            exprDepth += 1
            defer { exprDepth -= 1 }
            if exprDepth > Parser.maxExprDepth { throw error("expression nested too deeply") }
            return Expr(kind: .unary("not", try parseNot()), pos: p)
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let l = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = tok.kind, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), peek().kind == .name("in") {
                advance(); advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? l : Expr(kind: .compare(l, ops), pos: l.pos)
    }

    mutating func parseBinary(_ ops: [String], _ next: (inout Parser) throws -> Expr) throws -> Expr {
        var l = try next(&self)
        while case .op(let o) = tok.kind, ops.contains(o) {
            let p = here
            advance()
            l = Expr(kind: .binary(o, l, try next(&self)), pos: p)
        }
        return l
    }

    mutating func parseMath1() throws -> Expr { try parseBinary(["+", "-"]) { try $0.parseConcat() } }
    mutating func parseConcat() throws -> Expr { try parseBinary(["~"]) { try $0.parseMath2() } }
    mutating func parseMath2() throws -> Expr { try parseBinary(["*", "/", "//", "%"]) { try $0.parsePow() } }
    mutating func parsePow() throws -> Expr { try parseBinary(["**"]) { try $0.parseUnary(withFilter: true) } }

    mutating func parseUnary(withFilter: Bool) throws -> Expr {
        exprDepth += 1
        defer { exprDepth -= 1 }
        if exprDepth > Parser.maxExprDepth { throw error("expression nested too deeply") }
        let p = here
        var node: Expr
        if isOp("-") || isOp("+") {
            let o = isOp("-") ? "-" : "+"
            advance()
            node = Expr(kind: .unary(o, try parseUnary(withFilter: false)), pos: p)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    mutating func parsePrimary() throws -> Expr {
        let t = tok
        let p = pos(t)
        switch t.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return Expr(kind: .literal(.bool(true)), pos: p)
            case "false", "False": return Expr(kind: .literal(.bool(false)), pos: p)
            case "none", "None": return Expr(kind: .literal(.none), pos: p)
            default: return Expr(kind: .name(n), pos: p)
            }
        case .string(var str):
            advance()
            while case .string(let more) = tok.kind { str += more; advance() }
            return Expr(kind: .literal(.string(str)), pos: p)
        case .int(let v):
            advance()
            return Expr(kind: .literal(.int(v)), pos: p)
        case .float(let v):
            advance()
            return Expr(kind: .literal(.double(v)), pos: p)
        case .op("("):
            advance()
            if isOp(")") { advance(); return Expr(kind: .list([]), pos: p) }
            let e = try parseTuple()
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            advance()
            return Expr(kind: .list(items), pos: p)
        case .op("{"):
            advance()
            var items: [(Expr, Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            advance()
            return Expr(kind: .dict(items), pos: p)
        default:
            throw error("unexpected \(Parser.describe(t.kind))")
        }
    }

    mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let p = here
            if isOp(".") {
                advance()
                switch tok.kind {
                case .name(let n):
                    advance()
                    node = Expr(kind: .getattr(node, n), pos: p)
                case .int(let v):
                    advance()
                    node = Expr(kind: .getitem(node, Expr(kind: .literal(.int(v)), pos: p)), pos: p)
                default:
                    throw error("expected name or number after '.'")
                }
            } else if isOp("[") {
                advance()
                node = try parseSubscript(node, p)
                try expectOp("]")
            } else if isOp("(") {
                let args = try parseCallArgs()
                node = Expr(kind: .call(node, args), pos: p)
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ base: Expr, _ p: SourcePos) throws -> Expr {
        var startE: Expr? = nil
        if !isOp(":") {
            let e = try parseExpression()
            if !isOp(":") { return Expr(kind: .getitem(base, e), pos: p) }
            startE = e
        }
        advance()  // ':'
        var stop: Expr? = nil, step: Expr? = nil
        if !isOp("]") && !isOp(",") && !isOp(":") { stop = try parseExpression() }
        if isOp(":") {
            advance()
            if !isOp("]") && !isOp(",") { step = try parseExpression() }
        }
        return Expr(kind: .slice(base, startE, stop, step), pos: p)
    }

    mutating func parseCallArgs() throws -> CallArgs {
        try expectOp("(")
        var args = CallArgs()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw error("*args and **kwargs in calls are not supported") }
            if case .name(let n) = tok.kind, peek().kind == .op("=") {
                advance(); advance()
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty { throw error("positional argument follows keyword argument") }
                args.positional.append(try parseExpression())
            }
        }
        advance()
        return args
    }

    mutating func parseDottedName() throws -> String {
        var n = try expectName()
        while isOp("."), case .name(let more) = peek().kind {
            advance(); advance()
            n += "." + more
        }
        return n
    }

    mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let p = here
            if isOp("|") {
                advance()
                let name = try parseDottedName()
                let args = isOp("(") ? try parseCallArgs() : CallArgs()
                node = Expr(kind: .filter(node, name, args), pos: p)
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") { advance(); negated = true }
                let name = try parseDottedName()
                var args = CallArgs()
                if isOp("(") {
                    args = try parseCallArgs()
                } else {
                    switch tok.kind {
                    case .name(let n) where !["else", "or", "and"].contains(n):
                        fallthrough
                    case .string, .int, .float, .op("["), .op("{"):
                        var a = try parsePrimary()
                        a = try parsePostfix(a)
                        args.positional = [a]
                    default: break
                    }
                }
                node = Expr(kind: .test(node, name, args, negated: negated), pos: p)
            } else if isOp("(") {
                let args = try parseCallArgs()
                node = Expr(kind: .call(node, args), pos: p)
            } else {
                return node
            }
        }
    }
}
