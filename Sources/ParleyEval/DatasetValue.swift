import Foundation

/// One value of a dataset row, whichever file it came from (Arrow, JSON Lines): the JSON data model.
public enum DatasetValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([DatasetValue])
    case record([String: DatasetValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([DatasetValue].self) { self = .list(value) }
        else { self = .record(try container.decode([String: DatasetValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        case .record(let value): try container.encode(value)
        }
    }

    /// The value at a dotted path such as `choices.text`.
    public func at(_ path: String) -> DatasetValue? {
        var current: DatasetValue? = self
        for key in path.split(separator: ".") {
            guard case .record(let fields)? = current else { return nil }
            current = fields[String(key)]
        }
        return current
    }

    /// Text of a string or a number (datasets store labels either way).
    public var text: String? {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return String(value)
        default: return nil
        }
    }

    public var integer: Int? {
        switch self {
        case .int(let value): return value
        case .string(let value): return Int(value.trimmingCharacters(in: .whitespaces))
        case .double(let value) where value.rounded() == value: return Int(value)
        default: return nil
        }
    }

    public var strings: [String]? {
        guard case .list(let items) = self else { return nil }
        let texts = items.compactMap(\.text)
        return texts.count == items.count ? texts : nil
    }
}

/// Reads JSON Lines (one record per line; blank lines skipped).
public enum JSONLines {
    public static func read(_ data: Data) throws -> [DatasetValue] {
        var rows: [DatasetValue] = []
        let decoder = JSONDecoder()
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            do {
                rows.append(try decoder.decode(DatasetValue.self, from: Data(line)))
            } catch {
                throw EvalError("line \(lineNumber) is not JSON: \(error)")
            }
        }
        return rows
    }
}
