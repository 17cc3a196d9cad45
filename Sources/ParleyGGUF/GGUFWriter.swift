/// Serialises metadata and tensors into GGUF v3 bytes. Used to build test files and, later, to write
/// models that Parley produces itself.
public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var data: [UInt8]

        public init(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.data = data
        }
    }

    public var metadata: [(String, GGUFValue)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32
    public var version: UInt32 = 3

    public init() {}

    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func typeID(_ v: GGUFValue) -> UInt32 {
            switch v {
            case .uint8: 0
            case .int8: 1
            case .uint16: 2
            case .int16: 3
            case .uint32: 4
            case .int32: 5
            case .float32: 6
            case .bool: 7
            case .string: 8
            case .array: 9
            case .uint64: 10
            case .int64: 11
            case .float64: 12
            }
        }
        func putValue(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .float64(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .array(let items):
                put(items.first.map(typeID) ?? 0)
                put(UInt64(items.count))
                items.forEach(putValue)
            }
        }
        func pad() { while out.count % alignment != 0 { out.append(0) } }

        put(UInt32(0x4655_4747))
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(typeID(value))
            putValue(value)
        }
        var offset = 0
        for t in tensors {
            putString(t.name)
            put(UInt32(t.dimensions.count))
            t.dimensions.forEach { put(UInt64($0)) }
            put(t.type.rawValue)
            put(UInt64(offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        pad()
        for t in tensors {
            out.append(contentsOf: t.data)
            pad()
        }
        return out
    }
}
