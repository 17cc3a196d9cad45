import Foundation

/// Why a credits operation was refused; the server maps each case to its HTTP status.
public enum CreditsError: Error, Equatable, CustomStringConvertible {
    /// The caller may not do this (403).
    case forbidden(String)
    /// A value is missing or wrong (400); a required reason that is missing is one of these.
    case invalid(String)
    /// No such record (404).
    case notFound(String)
    /// The record changed state meanwhile, or the transition does not apply to its state (409).
    case conflict(String)
    /// The project cannot cover the cost (402): `available` micro-credits left, `needed` asked for.
    case insufficient(projectID: String, available: Int64, needed: Int64)

    public var description: String {
        switch self {
        case .forbidden(let m), .invalid(let m), .notFound(let m), .conflict(let m): return m
        case .insufficient(_, let available, let needed):
            return "Insufficient credits: the project has \(CreditAmount.text(available)) credits left, and this request "
                + "may cost up to \(CreditAmount.text(needed))."
        }
    }
}
