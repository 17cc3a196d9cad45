import Foundation
import ParleyTokenizer

/// Typed, validated access to a JSON request body; every failure names the parameter (400).
struct RequestFields {
    let object: TemplateObject

    init(body: [UInt8]) throws {
        guard let text = String(validating: body, as: UTF8.self) else {
            throw OpenAIError(status: .badRequest, message: "The request body is not valid UTF-8.", code: "invalid_json")
        }
        let value: TemplateValue
        do {
            value = try TemplateValue(json: text)
        } catch {
            throw OpenAIError(status: .badRequest,
                              message: "We could not parse the JSON body of your request: \(error)", code: "invalid_json")
        }
        guard case .object(let o) = value else {
            throw OpenAIError(status: .badRequest, message: "The request body must be a JSON object.", code: "invalid_json")
        }
        object = o
    }

    init(object: TemplateObject) { self.object = object }

    /// A present, non-null value.
    func value(_ key: String) -> TemplateValue? {
        guard let v = object[key], v != .none else { return nil }
        return v
    }

    func string(_ key: String, path: String? = nil) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw OpenAIError.invalid(path ?? key, "'\(path ?? key)' must be a string.", code: "invalid_type") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw OpenAIError.invalid(key, "'\(key)' must be a boolean.", code: "invalid_type") }
        return b
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = value(key) else { return nil }
        let n: Int
        switch v {
        case .int(let i): n = i
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: n = Int(d)
        default: throw OpenAIError.invalid(key, "'\(key)' must be an integer.", code: "invalid_type")
        }
        guard range.contains(n) else {
            throw OpenAIError.invalid(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound); got \(n).")
        }
        return n
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let v = value(key) else { return nil }
        let d: Double
        switch v {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: throw OpenAIError.invalid(key, "'\(key)' must be a number.", code: "invalid_type")
        }
        guard d.isFinite, range.contains(d) else {
            throw OpenAIError.invalid(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound); got \(d).")
        }
        return d
    }

    /// `stop`: a string or up to 4 strings.
    func stopStrings() throws -> [String] {
        guard let v = value("stop") else { return [] }
        switch v {
        case .string(let s): return [s]
        case .array(let items):
            guard items.count <= 4 else { throw OpenAIError.invalid("stop", "'stop' takes at most 4 sequences.") }
            return try items.map {
                guard case .string(let s) = $0 else { throw OpenAIError.invalid("stop", "'stop' must be a string or an array of strings.", code: "invalid_type") }
                return s
            }
        default: throw OpenAIError.invalid("stop", "'stop' must be a string or an array of strings.", code: "invalid_type")
        }
    }
}

/// Small JSON building helpers.
extension TemplateValue {
    static func obj(_ pairs: [(String, TemplateValue)]) -> TemplateValue { .object(TemplateObject(pairs)) }
    static func str(_ s: String?) -> TemplateValue { s.map(TemplateValue.string) ?? .none }
    static func num(_ f: Float) -> TemplateValue { f.isFinite ? .double(Double(f)) : .double(-9999) }

    var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    var objectValue: TemplateObject? { if case .object(let o) = self { return o }; return nil }
    var arrayValue: [TemplateValue]? { if case .array(let a) = self { return a }; return nil }
}

/// Ids like OpenAI's: a prefix and random letters.
func makeID(_ prefix: String) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return prefix + String((0..<24).map { _ in alphabet.randomElement()! })
}
