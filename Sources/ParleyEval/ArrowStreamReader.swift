import Foundation

/// Reads the Arrow IPC streaming format that Hugging Face `datasets` writes (`save_to_disk`'s `.arrow` files)
/// into rows. Covers the types those datasets use: integers, floats, booleans, UTF-8 and binary strings, lists
/// and structs, uncompressed, without dictionaries.
///
/// Stream (arrow.apache.org/docs/format/Columnar.html#ipc-streaming-format): messages, each `0xFFFFFFFF`,
/// an int32 metadata length, a FlatBuffer `Message` (Message.fbs), then `bodyLength` bytes of buffers; the
/// first message is the `Schema`, the following are `RecordBatch`es; `0xFFFFFFFF 0x00000000` ends it.
/// A record batch lists one `FieldNode` (length, null count) per field in pre-order and the buffers each type
/// needs, in order: validity bitmap, then offsets and/or data.
public enum ArrowStreamReader {
    indirect enum FieldType {
        case null, bool, utf8, binary, largeUtf8, largeBinary
        case int(bits: Int, signed: Bool)
        case float(bits: Int)
        case list(large: Bool)
        case structure
    }

    struct Field {
        let name: String
        let type: FieldType
        let children: [Field]
    }

    /// Every row of the stream, each a record keyed by column name.
    public static func rows(_ data: Data) throws -> [DatasetValue] {
        let bytes = [UInt8](data)
        var cursor = 0
        var schema: [Field]?
        var rows: [DatasetValue] = []
        while cursor + 8 <= bytes.count {
            var length = Int(Int32(bitPattern: try FlatBufferTable.readUInt32(bytes, at: cursor)))
            cursor += 4
            if length == -1 {  // continuation marker, then the real length
                length = Int(Int32(bitPattern: try FlatBufferTable.readUInt32(bytes, at: cursor)))
                cursor += 4
            }
            if length == 0 { break }
            guard length > 0, cursor + length <= bytes.count else { throw ArrowError.malformed("message length \(length) at \(cursor)") }
            let message = try FlatBufferTable(root: Array(bytes[cursor..<(cursor + length)]))
            cursor += length
            let bodyLength = Int(try message.int64(3))
            guard bodyLength >= 0, cursor + bodyLength <= bytes.count else { throw ArrowError.malformed("body length \(bodyLength)") }
            let body = cursor
            cursor += bodyLength
            guard let header = try message.table(2) else { throw ArrowError.malformed("message without header") }
            switch try message.uint8(1) {
            case 1:  // Schema
                schema = try header.tables(1).map(parseField)
            case 3:  // RecordBatch
                guard let schema else { throw ArrowError.malformed("record batch before the schema") }
                if try header.table(3) != nil { throw ArrowError.unsupported("compressed record batches") }
                var batch = BatchDecoder(bytes: bytes, metadata: header.bytes, body: body, bodyLength: bodyLength,
                                         nodes: try header.structs(1, stride: 16), buffers: try header.structs(2, stride: 16))
                let count = Int(try header.int64(0))
                let columns = try schema.map { try batch.column($0) }
                for column in columns where column.count != count {
                    throw ArrowError.malformed("column of \(column.count) values in a batch of \(count) rows")
                }
                for r in 0..<count {
                    var record: [String: DatasetValue] = [:]
                    for (field, column) in zip(schema, columns) { record[field.name] = column[r] }
                    rows.append(.record(record))
                }
            case 2:
                throw ArrowError.unsupported("dictionary-encoded columns")
            case let other:
                throw ArrowError.unsupported("message type \(other)")
            }
        }
        return rows
    }

    static func parseField(_ table: FlatBufferTable) throws -> Field {
        let name = try table.string(0) ?? ""
        if try table.table(4) != nil { throw ArrowError.unsupported("dictionary-encoded column '\(name)'") }
        let typeTable = try table.table(3)
        let type: FieldType
        switch try table.uint8(2) {
        case 1: type = .null
        case 2:
            guard let t = typeTable else { throw ArrowError.malformed("Int without parameters") }
            type = .int(bits: Int(try t.int32(0)), signed: try t.bool(1))
        case 3:
            guard let t = typeTable else { throw ArrowError.malformed("FloatingPoint without parameters") }
            type = .float(bits: [16, 32, 64][Int(min(2, max(0, try t.int16(0))))])
        case 4: type = .binary
        case 5: type = .utf8
        case 6: type = .bool
        case 12: type = .list(large: false)
        case 13: type = .structure
        case 19: type = .largeBinary
        case 20: type = .largeUtf8
        case 21: type = .list(large: true)
        case let other: throw ArrowError.unsupported("type \(other) of column '\(name)'")
        }
        return Field(name: name, type: type, children: try table.tables(5).map(parseField))
    }

    /// Walks a record batch's nodes and buffers in schema pre-order.
    struct BatchDecoder {
        /// The whole stream (buffers are read from the body in it).
        let bytes: [UInt8]
        /// The message's FlatBuffer, where `nodes` and `buffers` point.
        let metadata: [UInt8]
        let body: Int
        let bodyLength: Int
        let nodes: [Int]
        let buffers: [Int]
        var nextNode = 0
        var nextBuffer = 0

        mutating func node() throws -> (length: Int, nulls: Int) {
            guard nextNode < nodes.count else { throw ArrowError.malformed("fewer field nodes than fields") }
            defer { nextNode += 1 }
            return (Int(try FlatBufferTable.readInt64(metadata, at: nodes[nextNode])),
                    Int(try FlatBufferTable.readInt64(metadata, at: nodes[nextNode] + 8)))
        }

        /// The next buffer's byte range in the file.
        mutating func buffer() throws -> Range<Int> {
            guard nextBuffer < buffers.count else { throw ArrowError.malformed("fewer buffers than the fields need") }
            defer { nextBuffer += 1 }
            let offset = Int(try FlatBufferTable.readInt64(metadata, at: buffers[nextBuffer]))
            let length = Int(try FlatBufferTable.readInt64(metadata, at: buffers[nextBuffer] + 8))
            guard offset >= 0, length >= 0, offset + length <= bodyLength else {
                throw ArrowError.malformed("buffer \(offset)+\(length) outside a body of \(bodyLength) bytes")
            }
            return (body + offset)..<(body + offset + length)
        }

        func isValid(_ validity: Range<Int>, _ i: Int) -> Bool {
            if validity.isEmpty { return true }
            let byte = validity.lowerBound + i / 8
            return byte < validity.upperBound && bytes[byte] >> UInt8(i % 8) & 1 == 1
        }

        /// The little-endian bits of value `index` of `width` bytes.
        func raw(_ range: Range<Int>, index: Int, width: Int) throws -> UInt64 {
            let at = range.lowerBound + index * width
            guard width > 0, at + width <= range.upperBound else { throw ArrowError.malformed("value \(index) past its buffer") }
            var raw: UInt64 = 0
            for b in 0..<width { raw |= UInt64(bytes[at + b]) << (8 * UInt64(b)) }
            return raw
        }

        func integer(_ range: Range<Int>, index: Int, width: Int, signed: Bool) throws -> Int {
            var bits = try raw(range, index: index, width: width)
            if signed && width < 8 && bits >> UInt64(width * 8 - 1) & 1 == 1 { bits |= ~0 << UInt64(width * 8) }
            return signed ? Int(Int64(bitPattern: bits)) : Int(clamping: bits)
        }

        func offsets(_ range: Range<Int>, count: Int, large: Bool) throws -> [Int] {
            try (0...count).map { try integer(range, index: $0, width: large ? 8 : 4, signed: true) }
        }

        mutating func column(_ field: Field) throws -> [DatasetValue] {
            let (length, _) = try node()
            if case .null = field.type { return Array(repeating: .null, count: length) }
            let validity = try buffer()
            var values: [DatasetValue]
            switch field.type {
            case .null:
                values = []
            case .bool:
                let data = try buffer()
                values = (0..<length).map { i in
                    let byte = data.lowerBound + i / 8
                    return .bool(byte < data.upperBound && bytes[byte] >> UInt8(i % 8) & 1 == 1)
                }
            case .int(let bits, let signed):
                let data = try buffer()
                values = try (0..<length).map { .int(try integer(data, index: $0, width: bits / 8, signed: signed)) }
            case .float(let bits):
                let data = try buffer()
                values = try (0..<length).map { i in
                    let pattern = try raw(data, index: i, width: bits / 8)
                    switch bits {
                    case 64: return .double(Double(bitPattern: pattern))
                    case 32: return .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: pattern))))
                    default: return .double(Double(Float16(bitPattern: UInt16(truncatingIfNeeded: pattern))))
                    }
                }
            case .utf8, .binary, .largeUtf8, .largeBinary:
                let large: Bool
                if case .largeUtf8 = field.type { large = true } else if case .largeBinary = field.type { large = true } else { large = false }
                let offsetRange = try buffer()
                let data = try buffer()
                let bounds = length == 0 ? [0] : try offsets(offsetRange, count: length, large: large)
                values = try (0..<length).map { i in
                    let start = data.lowerBound + bounds[i], end = data.lowerBound + bounds[i + 1]
                    guard bounds[i] <= bounds[i + 1], end <= data.upperBound else { throw ArrowError.malformed("string \(i) of '\(field.name)'") }
                    return .string(String(decoding: bytes[start..<end], as: UTF8.self))
                }
            case .list(let large):
                let offsetRange = try buffer()
                guard field.children.count == 1 else { throw ArrowError.malformed("list '\(field.name)' without one child") }
                let bounds = length == 0 ? [0] : try offsets(offsetRange, count: length, large: large)
                let items = try column(field.children[0])
                values = try (0..<length).map { i in
                    guard bounds[i] >= 0, bounds[i] <= bounds[i + 1], bounds[i + 1] <= items.count else {
                        throw ArrowError.malformed("list \(i) of '\(field.name)'")
                    }
                    return .list(Array(items[bounds[i]..<bounds[i + 1]]))
                }
            case .structure:
                let children = try field.children.map { try column($0) }
                values = try (0..<length).map { i in
                    var record: [String: DatasetValue] = [:]
                    for (child, column) in zip(field.children, children) {
                        guard i < column.count else { throw ArrowError.malformed("struct '\(field.name)' child too short") }
                        record[child.name] = column[i]
                    }
                    return .record(record)
                }
            }
            for i in 0..<length where !isValid(validity, i) { values[i] = .null }
            return values
        }
    }
}
