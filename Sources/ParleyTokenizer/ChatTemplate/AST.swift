/// Parsed template: statements (`Node`) over expressions (`Expr`).
struct Expr: Sendable {
    var kind: ExprKind
    var pos: SourcePos
}

struct CallArgs: Sendable {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
}

indirect enum ExprKind: Sendable {
    case literal(Literal)
    case name(String)
    case list([Expr])
    case dict([(Expr, Expr)])
    case getattr(Expr, String)
    case getitem(Expr, Expr)
    case slice(Expr, Expr?, Expr?, Expr?)
    case call(Expr, CallArgs)
    case filter(Expr, String, CallArgs)
    case test(Expr, String, CallArgs, negated: Bool)
    case unary(String, Expr)  // "-", "+", "not"
    case binary(String, Expr, Expr)  // + - * / // % ** ~ in notin
    case and(Expr, Expr)
    case or(Expr, Expr)
    case compare(Expr, [(String, Expr)])
    case conditional(cond: Expr, then: Expr, else: Expr?)
}

enum Literal: Sendable {
    case none, bool(Bool), int(Int), double(Double), string(String)
}

/// Assignment target of `set` and `for`.
indirect enum Target: Sendable {
    case name(String)
    case attribute(String, String)  // ns.attr
    case tuple([Target])
}

struct Macro: Sendable {
    var name: String
    var params: [(String, Expr?)]
    var body: [Node]
}

indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case ifChain([(Expr, [Node])], elseBody: [Node])
    case forLoop(target: Target, iter: Expr, filter: Expr?, body: [Node], elseBody: [Node], pos: SourcePos)
    case set(Target, Expr, pos: SourcePos)
    case setBlock(Target, [Node], filters: [(String, CallArgs, SourcePos)], pos: SourcePos)
    case macro(Macro)
    case callBlock(call: Expr, params: [(String, Expr?)], body: [Node])
    case filterBlock([(String, CallArgs, SourcePos)], [Node])
    case breakLoop(SourcePos)
    case continueLoop(SourcePos)
}
