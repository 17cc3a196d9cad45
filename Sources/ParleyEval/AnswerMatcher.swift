import Foundation

/// Compares a generated answer with the reference: exact match after trimming, a regex's first group, or the
/// last number in the output (GSM8K's "flexible extract"), compared numerically.
public enum AnswerMatcher {
    private static let number = try! NSRegularExpression(pattern: "-?[$]?[0-9][0-9,]*(?:\\.[0-9]+)?")

    public static func matches(output: String, answer: String, pattern: String?, extract: String?) throws -> Bool {
        var candidate = output
        if let pattern {
            let regex: NSRegularExpression
            do { regex = try NSRegularExpression(pattern: pattern) } catch { throw EvalError("bad answerPattern '\(pattern)'") }
            guard let match = regex.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) else { return false }
            let group = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
            candidate = Range(group, in: output).map { String(output[$0]) } ?? ""
        }
        switch extract {
        case nil, "exact":
            return candidate.trimmingCharacters(in: .whitespacesAndNewlines) == answer.trimmingCharacters(in: .whitespacesAndNewlines)
        case "last_number":
            let matches = number.matches(in: candidate, range: NSRange(candidate.startIndex..., in: candidate))
            guard let last = matches.last, let range = Range(last.range, in: candidate) else { return false }
            guard let got = numericValue(String(candidate[range])), let want = numericValue(answer) else { return false }
            return abs(got - want) < 1e-6
        case let other?:
            throw EvalError("unknown extract '\(other)' (known: exact, last_number)")
        }
    }

    /// "1,234", "$18", "18.00" → a number.
    public static func numericValue(_ text: String) -> Double? {
        Double(text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "$", with: ""))
    }
}
