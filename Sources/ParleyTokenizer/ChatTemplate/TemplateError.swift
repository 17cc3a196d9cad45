/// An error from parsing or rendering a chat template.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The template text is not valid (Jinja `TemplateSyntaxError`).
        case syntax
        /// Evaluation failed: undefined access, type error, unknown filter, ... (Jinja runtime errors).
        case runtime
        /// The template called `raise_exception(message)`; `message` is exactly its argument.
        case raised
        /// A safety limit (output size, nesting depth, work steps) was exceeded.
        case limit
    }

    public var kind: Kind
    public var message: String
    /// 1-based line and column in the template source; 0 when unknown.
    public var line: Int
    public var column: Int

    public init(kind: Kind, message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        let what: String
        switch kind {
        case .syntax: what = "template syntax error"
        case .runtime: what = "template error"
        case .raised: what = "template raised exception"
        case .limit: what = "template limit exceeded"
        }
        if line > 0 { return "\(what) at line \(line), column \(column): \(message)" }
        return "\(what): \(message)"
    }
}

struct SourcePos: Sendable, Equatable {
    var line: Int
    var column: Int
    static let unknown = SourcePos(line: 0, column: 0)
}
