import Foundation

/// A read-only safetensors file, memory-mapped.
///
/// Layout (huggingface/safetensors): an unsigned 64-bit little-endian header length N, then N bytes of JSON
/// `{"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [BEGIN, END]}, "__metadata__": {..}}`, then the
/// tensor bytes; offsets count from the end of the header. Every offset, shape and type is checked against the
/// file before a tensor is read, and errors name the file, the tensor and the bound.
public struct SafetensorsFile: @unchecked Sendable {
    // @unchecked: `bytes` is an immutable memory map.
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32"

        var size: Int {
            switch self {
            case .f32, .i32: 4
            case .f16, .bf16: 2
            case .i64: 8
            }
        }
    }

    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let bytes: Data
    private let dataStart: Int

    /// The largest header the reader accepts; real ones are a few tens of kilobytes.
    private static let maxHeaderBytes = 100 << 20

    public init(path: String) throws {
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw EngineError.invalidMetadata(key: path, reason: "cannot read the safetensors file: \(error.localizedDescription)")
        }
        func fail(_ reason: String) -> EngineError { .invalidMetadata(key: path, reason: reason) }
        guard data.count >= 8 else { throw fail("too short for a safetensors header (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes), Int(headerLength) <= data.count - 8 else {
            throw fail("header length \(headerLength) exceeds the file (\(data.count) bytes) or the \(Self.maxHeaderBytes)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        let dataCount = data.count - dataStart
        let header = data.subdata(in: 8..<dataStart)
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in object where name != "__metadata__" {
            guard let entry = value as? [String: Any] else { throw fail("tensor \(name): entry is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw fail("tensor \(name): no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("tensor \(name): dtype \(dtypeName) is not supported (F32, F16, BF16, I64, I32)")
            }
            guard let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  shape.count == (entry["shape"] as? [Any])?.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor \(name): shape is not a list of non-negative integers")
            }
            guard let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2 else {
                throw fail("tensor \(name): data_offsets is not [begin, end]")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw fail("tensor \(name): data_offsets [\(begin), \(end)] outside the \(dataCount) data bytes")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw fail("tensor \(name): shape \(shape) overflows") }
                elements = product
            }
            guard elements * dtype.size == end - begin else {
                throw fail("tensor \(name): shape \(shape) of \(dtypeName) needs \(elements * dtype.size) bytes, data_offsets give \(end - begin)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end)
        }
        self.bytes = data
        self.dataStart = dataStart
        self.tensors = tensors
    }

    /// Tensor `name` as floats (F32 copied, F16 and BF16 widened), checked to have `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let info = tensors[name] else { throw EngineError.missingTensor(name) }
        guard info.shape == shape else { throw EngineError.badTensorShape(tensor: name, expected: shape, found: info.shape) }
        let count = shape.reduce(1, *)
        let start = dataStart + info.range.lowerBound
        return try bytes.withUnsafeBytes { raw -> [Float] in
            let base = raw.baseAddress! + start
            switch info.dtype {
            case .f32:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .f16:
                return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            case .bf16:
                return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
            case .i64, .i32:
                throw EngineError.unsupportedTensorType(tensor: name, type: info.dtype.rawValue)
            }
        }
    }
}
