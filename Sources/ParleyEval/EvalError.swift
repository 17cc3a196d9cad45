/// An evaluation failure for the user: one line that says what went wrong and with what.
public struct EvalError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A dataset file that is not the Arrow IPC stream it should be.
enum ArrowError: Error, CustomStringConvertible {
    case malformed(String)
    case unsupported(String)

    var description: String {
        switch self {
        case .malformed(let what): return "malformed Arrow stream: \(what)"
        case .unsupported(let what): return "unsupported Arrow feature: \(what)"
        }
    }
}
