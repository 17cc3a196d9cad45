#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// GGUF layout (ggml docs/gguf.md), all little-endian:
//   u32 magic "GGUF" · u32 version (2 or 3) · u64 tensor_count · u64 kv_count
//   kv_count × { string key · u32 value_type · value }          string = u64 length + bytes (no NUL)
//   tensor_count × { string name · u32 n_dims · u64 dims[n_dims] · u32 ggml_type · u64 offset }
//   padding to `general.alignment` (default 32) · tensor data (offsets relative to here)
// Every field read below is checked against the file size first: a malformed file throws an error naming the
// field and its offset, and no declared count can make the reader allocate more than the file could hold.

/// What is wrong with a GGUF file, and where.
public struct GGUFError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public var description: String { "\(path): \(message)" }
}

/// One entry of the tensor table.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: `dimensions[0]` varies fastest (the row length of a weight matrix).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of the tensor's bytes from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
    /// Elements per row (`ne0`).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Number of rows (the product of the other dimensions).
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }
    public var rowBytes: Int { type.rowBytes(elements: rowLength) ?? 0 }
}

/// A memory-mapped GGUF file: metadata, the tensor table and zero-copy views of tensor data.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Start of the tensor-data section.
    public let dataOffset: Int
    public let fileSize: Int

    private let base: UnsafeRawPointer
    private let tensorIndex: [String: Int]

    /// Nesting limit for arrays of arrays; real files use one level.
    static let maxArrayDepth = 8
    /// Metadata array elements in a whole file. The largest real tokenizers hold well under two million (a
    /// 262,144-token vocabulary's tokens, scores and types, or 150k tokens plus 280k merges); an element can take
    /// one byte in the file but 24 in memory, so a count bounded only by the file's size could make a corrupt
    /// multi-gigabyte model cost tens of gigabytes. At this limit the metadata costs at most ~100 MB.
    public static let maxMetadataArrayElements = 1 << 22
    static let maxDimensions = 4

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw GGUFError(path: path, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(path: path, message: "not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= 24 else {
            throw GGUFError(path: path, message: "file is \(size) bytes, too short for a GGUF header (24 bytes)")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw GGUFError(path: path, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(mapped)
        do {
            var reader = Reader(base: base, size: size, path: path)
            let parsed = try reader.parseFile()
            self.version = parsed.version
            self.metadata = parsed.metadata
            self.tensors = parsed.tensors
            self.alignment = parsed.alignment
            self.dataOffset = parsed.dataOffset
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.base = base
        self.fileSize = size
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, zero-copy (valid while this file object lives).
    /// Drops this process's resident copies of the header and metadata pages once they have been read (the
    /// tokenizer's vocabulary can be megabytes); a later read faults them back in from the file.
    public func releaseMetadataPages() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = dataOffset / page * page
        if end > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), end, MADV_DONTNEED) }
    }

    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + tensor.fileOffset, count: tensor.byteCount)
    }

    /// `general.architecture`.
    public var architecture: String? { metadata.string("general.architecture") }
}

/// A bounds-checked cursor over the mapped bytes.
private struct Reader {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    var offset = 0
    /// Metadata array elements read so far (against `GGUFFile.maxMetadataArrayElements`).
    var arrayElements = 0

    struct Parsed {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    func fail(_ field: String, at offset: Int, _ reason: String) -> GGUFError {
        GGUFError(path: path, message: "\(Self.printable(field, limit: 120)) at offset \(offset): \(Self.printable(reason, limit: 400))")
    }

    /// Keys and tensor names come from the file: a corrupt one may be long or hold control characters, and an
    /// error message must stay one readable line.
    static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            if scalar.properties.generalCategory == .control || scalar == "\u{FFFD}" {
                out += scalar.value < 0x100 ? "\\x" + String(scalar.value, radix: 16) : "?"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    var remaining: Int { size - offset }

    mutating func need(_ count: Int, _ field: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw fail(field(), at: offset, "needs \(count) bytes but only \(remaining) remain (truncated file?)")
        }
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, field())
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func count(_ field: @autoclosure () -> String, minimumElementBytes: Int) throws -> Int {
        let at = offset
        let raw = try scalar(UInt64.self, field())
        // Each element needs at least `minimumElementBytes`, so a count the rest of the file cannot hold is a lie.
        guard raw <= UInt64(remaining / max(1, minimumElementBytes)) else {
            throw fail(field(), at: at, "count \(raw) exceeds what the remaining \(remaining) bytes can hold")
        }
        return Int(raw)
    }

    mutating func string(_ field: @autoclosure () -> String) throws -> String {
        let length = try count("\(field()) length", minimumElementBytes: 1)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: length), as: UTF8.self)
        offset += length
        return s
    }

    /// Smallest encoding of a value of the type, for array-count checks.
    static func minimumBytes(ofType type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 10, 11, 12: 8
        case 8: 8  // the length prefix
        case 9: 12  // element type + count
        default: 1
        }
    }

    /// Field names are built only when an error needs them (a vocabulary has hundreds of thousands of elements).
    mutating func value(type: UInt32, field: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try scalar(UInt8.self, field()))
        case 1: return .int8(try scalar(Int8.self, field()))
        case 2: return .uint16(try scalar(UInt16.self, field()))
        case 3: return .int16(try scalar(Int16.self, field()))
        case 4: return .uint32(try scalar(UInt32.self, field()))
        case 5: return .int32(try scalar(Int32.self, field()))
        case 6: return .float32(Float(bitPattern: try scalar(UInt32.self, field())))
        case 7:
            let at = offset
            let b = try scalar(UInt8.self, field())
            guard b <= 1 else { throw fail(field(), at: at, "bool value \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case 8: return .string(try string(field()))
        case 9:
            guard depth < GGUFFile.maxArrayDepth else {
                throw fail(field(), at: offset, "arrays nested deeper than \(GGUFFile.maxArrayDepth)")
            }
            let typeAt = offset
            let elementType = try scalar(UInt32.self, "\(field()) element type")
            guard elementType <= 12 else {
                throw fail("\(field()) element type", at: typeAt, "unknown value type \(elementType)")
            }
            let countAt = offset
            let n = try count("\(field()) count", minimumElementBytes: Self.minimumBytes(ofType: elementType))
            guard n <= GGUFFile.maxMetadataArrayElements - arrayElements else {
                throw fail("\(field()) count", at: countAt,
                           "\(n) more elements would exceed the \(GGUFFile.maxMetadataArrayElements) metadata array elements a file may hold")
            }
            arrayElements += n
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for i in 0..<n {
                items.append(try value(type: elementType, field: "\(field())[\(i)]", depth: depth + 1))
            }
            return .array(items)
        case 10: return .uint64(try scalar(UInt64.self, field()))
        case 11: return .int64(try scalar(Int64.self, field()))
        case 12: return .float64(Double(bitPattern: try scalar(UInt64.self, field())))
        default:
            throw fail(field(), at: offset - 4, "unknown value type \(type)")
        }
    }

    mutating func parseFile() throws -> Parsed {
        let magic = try scalar(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            throw fail("magic", at: 0, "not a GGUF file (expected \"GGUF\")")
        }
        let version = try scalar(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw fail("version", at: 4, "unsupported GGUF version \(version) (2 and 3 are supported)")
        }
        // A tensor-info entry takes at least 8+4+8+4+8 bytes, a kv pair at least 8+4+1.
        let tensorCount = try count("tensor_count", minimumElementBytes: 32)
        let kvCount = try count("metadata_kv_count", minimumElementBytes: 13)

        var metadata = GGUFMetadata()
        for i in 0..<kvCount {
            let keyAt = offset
            let key = try string("metadata key #\(i)")
            let typeAt = offset
            let type = try scalar(UInt32.self, "type of \(key)")
            guard type <= 12 else { throw fail("type of \(key)", at: typeAt, "unknown value type \(type)") }
            let v = try value(type: type, field: key, depth: 0)
            guard metadata.insert(key, v) else {
                throw fail("metadata key #\(i)", at: keyAt, "duplicate key \"\(key)\"")
            }
        }

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.int, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw fail("general.alignment", at: 0, "must be a power of two, got \(a)")
            }
            alignment = v
        }

        struct RawTensor { var name: String; var dims: [Int]; var type: GGMLType; var offset: Int; var at: Int }
        var raw: [RawTensor] = []
        // The count is bounded by the file's size, not by memory: a corrupt count in a large file must not
        // reserve gigabytes before the first entry is read, so the table grows as entries actually parse.
        raw.reserveCapacity(min(tensorCount, 1 << 16))
        var names = Set<String>()
        for i in 0..<tensorCount {
            let at = offset
            let name = try string("tensor #\(i) name")
            guard names.insert(name).inserted else {
                throw fail("tensor #\(i) name", at: at, "duplicate tensor name \"\(name)\"")
            }
            let dimsAt = offset
            let nDims = try scalar(UInt32.self, "\(name) n_dims")
            guard nDims >= 1, nDims <= GGUFFile.maxDimensions else {
                throw fail("\(name) n_dims", at: dimsAt, "\(nDims) dimensions (1...\(GGUFFile.maxDimensions) allowed)")
            }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let dAt = offset
                let v = try scalar(UInt64.self, "\(name) dims[\(d)]")
                guard v >= 1, v <= UInt64(Int32.max) else {
                    throw fail("\(name) dims[\(d)]", at: dAt, "dimension \(v) out of range")
                }
                dims.append(Int(v))
            }
            let typeAt = offset
            let typeID = try scalar(UInt32.self, "\(name) type")
            guard let type = GGMLType(rawValue: typeID) else {
                throw fail("\(name) type", at: typeAt, "unknown tensor type id \(typeID)")
            }
            let offAt = offset
            let off = try scalar(UInt64.self, "\(name) offset")
            guard off <= UInt64(size), Int(off) % alignment == 0 else {
                throw fail("\(name) offset", at: offAt, "offset \(off) is beyond the file or not a multiple of \(alignment)")
            }
            raw.append(RawTensor(name: name, dims: dims, type: type, offset: Int(off), at: at))
        }

        let dataOffset = (offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for t in raw {
            var elements = 1
            for d in t.dims {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("\(t.name) dims", at: t.at, "element count overflows") }
                elements = p
            }
            guard let rowBytes = t.type.rowBytes(elements: t.dims[0]) else {
                throw fail("\(t.name) dims[0]", at: t.at,
                           "row length \(t.dims[0]) is not a multiple of the \(t.type) block size \(t.type.blockElements)")
            }
            let rows = elements / t.dims[0]
            let (bytes, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
            guard !overflow, dataOffset + t.offset <= size, bytes <= size - dataOffset - t.offset else {
                throw fail("\(t.name) data", at: dataOffset + t.offset,
                           "tensor needs \(bytes) bytes but the file ends at \(size) (truncated file?)")
            }
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type,
                                          fileOffset: dataOffset + t.offset, byteCount: bytes))
        }
        return Parsed(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }
}
