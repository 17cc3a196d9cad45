import Foundation

/// Named text transformations that task definitions apply to fields and rendered prompts.
public enum TextFilter {
    public static let names = ["strip", "capitalize", "hellaswag", "lines", "first_line"]

    public static func apply(_ name: String, to value: DatasetValue) throws -> String {
        if name == "lines" {
            guard let items = value.strings else { throw EvalError("filter 'lines' needs a list of strings") }
            return items.joined(separator: "\n")
        }
        guard let text = value.text else { throw EvalError("filter '\(name)' needs text") }
        return try apply(name, to: text)
    }

    public static func apply(_ name: String, to text: String) throws -> String {
        switch name {
        case "strip":
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "capitalize":
            return pythonCapitalize(text)
        case "hellaswag":
            return hellaswagPreprocess(text)
        case "first_line":
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        case "lines":
            return text
        default:
            throw EvalError("unknown filter '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }

    /// Python's `str.capitalize`: the first character upper-cased, the rest lower-cased.
    public static func pythonCapitalize(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst().lowercased()
    }

    private static let bracketed = try! NSRegularExpression(pattern: "\\[.*?\\]")

    /// lm-evaluation-harness `hellaswag/utils.py` `preprocess`: strip, " [title]" becomes ". ", other bracketed
    /// tags (WikiHow's "[header]", "[step]", …) are dropped, and double spaces become single (one pass).
    public static func hellaswagPreprocess(_ text: String) -> String {
        var text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        text = text.replacingOccurrences(of: " [title]", with: ". ")
        text = bracketed.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "")
        return text.replacingOccurrences(of: "  ", with: " ")
    }
}

/// `{path}` / `{path|filter|…}` substitution over a dataset row; `{{` and `}}` are literal braces.
public enum TextTemplate {
    public static func render(_ template: String, row: DatasetValue, extra: [String: String] = [:]) throws -> String {
        var output = ""
        var index = template.startIndex
        while index < template.endIndex {
            let c = template[index]
            let next = template.index(after: index)
            if c == "{", next < template.endIndex, template[next] == "{" {
                output.append("{")
                index = template.index(after: next)
            } else if c == "}", next < template.endIndex, template[next] == "}" {
                output.append("}")
                index = template.index(after: next)
            } else if c == "{" {
                guard let close = template[next...].firstIndex(of: "}") else {
                    throw EvalError("template has an unclosed '{': \(template)")
                }
                let parts = template[next..<close].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                output += try value(parts, row: row, extra: extra)
                index = template.index(after: close)
            } else {
                output.append(c)
                index = next
            }
        }
        return output
    }

    static func value(_ parts: [String], row: DatasetValue, extra: [String: String]) throws -> String {
        guard let path = parts.first, !path.isEmpty else { throw EvalError("template has an empty '{}'") }
        let filters = parts.dropFirst()
        if let text = extra[path] {
            return try filters.reduce(text) { try TextFilter.apply($1, to: $0) }
        }
        guard let value = row.at(path) else { throw EvalError("the dataset row has no field '\(path)'") }
        guard let first = filters.first else {
            guard let text = value.text else { throw EvalError("field '\(path)' is not text (add a filter such as 'lines')") }
            return text
        }
        return try filters.dropFirst().reduce(try TextFilter.apply(first, to: value)) { try TextFilter.apply($1, to: $0) }
    }
}
