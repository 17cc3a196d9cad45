/// A GGUF metadata value. Arrays may nest; every integer width is kept so `parley show` can print what the
/// file says, while the typed accessors accept any integer type (converters write counts as u32 or u64).
/// Not `indirect`: a value is stored inline (24 bytes), not boxed on the heap, so a vocabulary-sized array
/// costs one allocation rather than one per element.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// Any integer value that fits in Int.
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Any numeric value as a Double.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var float: Float? { double.map(Float.init) }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The GGUF type name, for display.
    public var typeName: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .uint64: "u64"
        case .int64: "i64"
        case .float32: "f32"
        case .float64: "f64"
        case .bool: "bool"
        case .string: "str"
        case .array(let items): "arr[\(items.first?.typeName ?? "")]"
        }
    }
}

/// The key/value metadata of a GGUF file, in file order, with typed look-ups.
public struct GGUFMetadata: Sendable {
    public private(set) var keys: [String] = []
    private var values: [String: GGUFValue] = [:]

    public init() {}

    /// Adds a pair; returns false when the key already exists (the file is then malformed).
    @discardableResult
    public mutating func insert(_ key: String, _ value: GGUFValue) -> Bool {
        guard values[key] == nil else { return false }
        keys.append(key)
        values[key] = value
        return true
    }

    public subscript(key: String) -> GGUFValue? { values[key] }
    public var count: Int { keys.count }

    public func int(_ key: String) -> Int? { values[key]?.int }
    public func float(_ key: String) -> Float? { values[key]?.float }
    public func double(_ key: String) -> Double? { values[key]?.double }
    public func bool(_ key: String) -> Bool? { values[key]?.bool }
    public func string(_ key: String) -> String? { values[key]?.string }

    public func strings(_ key: String) -> [String]? {
        guard let items = values[key]?.array else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let s = item.string else { return nil }
            out.append(s)
        }
        return out
    }

    public func floats(_ key: String) -> [Float]? {
        guard let items = values[key]?.array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let f = item.float else { return nil }
            out.append(f)
        }
        return out
    }

    public func ints(_ key: String) -> [Int]? {
        guard let items = values[key]?.array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let i = item.int else { return nil }
            out.append(i)
        }
        return out
    }
}
