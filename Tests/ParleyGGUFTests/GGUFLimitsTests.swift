import Foundation
import ParleyGGUF
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Regressions found by `parley fuzz-gguf`: declared counts that the file's size allows, but whose in-memory
/// cost is many times the bytes behind them, must be refused before anything is allocated for them.
@Suite struct GGUFLimitsTests {
    /// Writes `header` and extends the file, sparsely, to `size` bytes of zeros.
    func sparseFile(_ header: [UInt8], size: Int) throws -> String {
        let path = NSTemporaryDirectory() + "parley-gguf-limits-\(UUID().uuidString).gguf"
        try Data(header).write(to: URL(fileURLWithPath: path))
        guard truncate(path, off_t(size)) == 0 else { throw CocoaError(.fileWriteUnknown) }
        return path
    }

    func header(tensorCount: UInt64, kvCount: UInt64, body: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(tensorCount)
        put(kvCount)
        return out + body
    }

    func kvArray(key: String, elementType: UInt32, count: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt64(key.utf8.count))
        out.append(contentsOf: key.utf8)
        put(UInt32(9))
        put(elementType)
        put(count)
        return out
    }

    @Test func aHugeByteArrayInALargeFileIsRefusedUpFront() throws {
        // 2 GB of (sparse) zeros behind an array that claims to be all of it, one u8 per element: before the fix
        // the reader reserved 16 GB and boxed every element.
        let size = 2 << 30
        let path = try sparseFile(header(tensorCount: 0, kvCount: 1, body: kvArray(key: "big", elementType: 0, count: UInt64(size - 64))), size: size)
        defer { unlink(path) }
        let started = Date()
        do {
            _ = try GGUFFile(path: path)
            Issue.record("a 2-billion-element array loaded")
        } catch let error as GGUFError {
            #expect(error.message.contains("array elements"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 20)  // milliseconds alone; the refused path took minutes
    }

    @Test func arraysMayNotAddUpPastTheLimitEither() throws {
        // Two arrays of 3M u8 elements each: each alone is under the limit, together they are over it.
        let n: UInt64 = 3_000_000
        var body = kvArray(key: "a", elementType: 0, count: n)
        body += [UInt8](repeating: 1, count: Int(n))
        body += kvArray(key: "b", elementType: 0, count: n)
        let path = try sparseFile(header(tensorCount: 0, kvCount: 2, body: body), size: body.count + 64 + Int(n))
        defer { unlink(path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: path) }
    }

    @Test func aHugeTensorCountReservesNothing() throws {
        // A 64 GB sparse file with a tensor count as large as its size allows: before the fix the reader reserved
        // room for two billion tensor entries (over 100 GB) before reading the first one.
        let size = 64 << 30
        let path = try sparseFile(header(tensorCount: UInt64(size / 40), kvCount: 0), size: size)
        defer { unlink(path) }
        do {
            _ = try GGUFFile(path: path)
            Issue.record("a file of zeros loaded as two billion tensors")
        } catch let error as GGUFError {
            #expect(!error.message.isEmpty)
        }
    }

    @Test func realisticArraysStillLoad() throws {
        // 300,000 strings and floats (a large vocabulary) are well within the limit.
        var w = GGUFWriter()
        w.metadata = [
            ("tokenizer.ggml.tokens", .array((0..<300_000).map { .string("t\($0)") })),
            ("tokenizer.ggml.scores", .array((0..<300_000).map { .float32(Float($0)) })),
        ]
        let path = NSTemporaryDirectory() + "parley-gguf-limits-\(UUID().uuidString).gguf"
        try Data(w.serialize()).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let file = try GGUFFile(path: path)
        #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == 300_000)
        #expect(file.metadata.floats("tokenizer.ggml.scores")?.last == 299_999)
    }
}
