import Foundation

/// Read-only access to one table of a FlatBuffers buffer — just what Arrow's IPC metadata needs.
///
/// Layout (flatbuffers.dev "internals"): a table starts with an int32 offset back to its vtable; the vtable holds
/// uint16 sizes (vtable, table) and then one uint16 offset per field, 0 for a field that is absent. Offset-typed
/// fields (tables, vectors, strings) hold a uint32 distance forward from the field itself. Every read is
/// bounds-checked: the buffer comes from a downloaded file.
struct FlatBufferTable {
    let bytes: [UInt8]
    /// Position of the table in `bytes`.
    let position: Int

    /// The root table: a uint32 offset at the start of `bytes`.
    init(root bytes: [UInt8]) throws {
        self.bytes = bytes
        position = Int(try Self.readUInt32(bytes, at: 0))
        _ = try vtablePosition()
    }

    private init(bytes: [UInt8], position: Int) throws {
        self.bytes = bytes
        self.position = position
        _ = try vtablePosition()
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) throws -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { throw ArrowError.malformed("flatbuffer offset \(offset) out of range") }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    static func readInt64(_ bytes: [UInt8], at offset: Int) throws -> Int64 {
        guard offset >= 0, offset + 8 <= bytes.count else { throw ArrowError.malformed("flatbuffer offset \(offset) out of range") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return Int64(bitPattern: value)
    }

    private func vtablePosition() throws -> Int {
        let back = Int32(bitPattern: try Self.readUInt32(bytes, at: position))
        let vtable = position - Int(back)
        guard vtable >= 0, vtable + 4 <= bytes.count else { throw ArrowError.malformed("flatbuffer vtable out of range") }
        return vtable
    }

    /// The absolute position of field `index`, or nil when the field is absent.
    private func fieldPosition(_ index: Int) throws -> Int? {
        let vtable = try vtablePosition()
        let vtableSize = Int(bytes[vtable]) | Int(bytes[vtable + 1]) << 8
        let entry = 4 + 2 * index
        guard entry + 2 <= vtableSize, vtable + entry + 2 <= bytes.count else { return nil }
        let offset = Int(bytes[vtable + entry]) | Int(bytes[vtable + entry + 1]) << 8
        return offset == 0 ? nil : position + offset
    }

    func uint8(_ index: Int, default value: UInt8 = 0) throws -> UInt8 {
        guard let at = try fieldPosition(index) else { return value }
        guard at < bytes.count else { throw ArrowError.malformed("flatbuffer field out of range") }
        return bytes[at]
    }

    func int16(_ index: Int, default value: Int16 = 0) throws -> Int16 {
        guard let at = try fieldPosition(index) else { return value }
        guard at + 2 <= bytes.count else { throw ArrowError.malformed("flatbuffer field out of range") }
        return Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
    }

    func int32(_ index: Int, default value: Int32 = 0) throws -> Int32 {
        guard let at = try fieldPosition(index) else { return value }
        return Int32(bitPattern: try Self.readUInt32(bytes, at: at))
    }

    func int64(_ index: Int, default value: Int64 = 0) throws -> Int64 {
        guard let at = try fieldPosition(index) else { return value }
        return try Self.readInt64(bytes, at: at)
    }

    func bool(_ index: Int) throws -> Bool { try uint8(index) != 0 }

    private func indirect(_ at: Int) throws -> Int { at + Int(try Self.readUInt32(bytes, at: at)) }

    func table(_ index: Int) throws -> FlatBufferTable? {
        guard let at = try fieldPosition(index) else { return nil }
        return try FlatBufferTable(bytes: bytes, position: try indirect(at))
    }

    func string(_ index: Int) throws -> String? {
        guard let at = try fieldPosition(index) else { return nil }
        let start = try indirect(at)
        let length = Int(try Self.readUInt32(bytes, at: start))
        guard start + 4 + length <= bytes.count else { throw ArrowError.malformed("flatbuffer string out of range") }
        return String(decoding: bytes[(start + 4)..<(start + 4 + length)], as: UTF8.self)
    }

    /// A vector of tables.
    func tables(_ index: Int) throws -> [FlatBufferTable] {
        guard let at = try fieldPosition(index) else { return [] }
        let start = try indirect(at)
        let count = Int(try Self.readUInt32(bytes, at: start))
        guard count >= 0, start + 4 + 4 * count <= bytes.count else { throw ArrowError.malformed("flatbuffer vector out of range") }
        return try (0..<count).map { i in
            try FlatBufferTable(bytes: bytes, position: try indirect(start + 4 + 4 * i))
        }
    }

    /// A vector of structs of `stride` bytes: the position of each element.
    func structs(_ index: Int, stride: Int) throws -> [Int] {
        guard let at = try fieldPosition(index) else { return [] }
        let start = try indirect(at)
        let count = Int(try Self.readUInt32(bytes, at: start))
        guard count >= 0, start + 4 + stride * count <= bytes.count else { throw ArrowError.malformed("flatbuffer vector out of range") }
        return (0..<count).map { start + 4 + stride * $0 }
    }
}
