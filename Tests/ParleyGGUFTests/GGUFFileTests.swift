import Foundation
import ParleyGGUF
import ParleyTestSupport
import Testing

private func writeTemp(_ bytes: [UInt8], name: String = UUID().uuidString) throws -> String {
    let path = NSTemporaryDirectory() + "parley-gguf-\(name).gguf"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

private func sampleWriter() -> GGUFWriter {
    var w = GGUFWriter()
    w.metadata = [
        ("general.architecture", .string("llama")),
        ("llama.block_count", .uint32(2)),
        ("llama.rope.freq_base", .float32(10000)),
        ("nested", .array([.array([.int8(-1), .int8(2)]), .array([.int8(3)])])),
        ("flags", .array([.bool(true), .bool(false)])),
        ("big", .uint64(1 << 40)),
        ("neg", .int64(-5)),
        ("pi", .float64(3.25)),
        ("u16", .uint16(65535)),
        ("i16", .int16(-300)),
        ("i32", .int32(-7)),
        ("u8", .uint8(200)),
        ("words", .array([.string("a"), .string("βγ")])),
    ]
    let floats: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
    w.tensors = [
        .init(name: "a", dimensions: [4, 2], type: .f32, data: floats.withUnsafeBytes { Array($0) }),
        .init(name: "b", dimensions: [32], type: .q8_0, data: [UInt8](repeating: 1, count: 34)),
    ]
    return w
}

@Suite struct GGUFFileTests {
    @Test func readsEveryValueTypeAndTensorTable() throws {
        let path = try writeTemp(sampleWriter().serialize())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(file.architecture == "llama")
        #expect(file.metadata.int("llama.block_count") == 2)
        #expect(file.metadata.float("llama.rope.freq_base") == 10000)
        #expect(file.metadata["nested"] == .array([.array([.int8(-1), .int8(2)]), .array([.int8(3)])]))
        #expect(file.metadata["flags"] == .array([.bool(true), .bool(false)]))
        #expect(file.metadata.int("big") == 1 << 40)
        #expect(file.metadata.int("neg") == -5)
        #expect(file.metadata.double("pi") == 3.25)
        #expect(file.metadata.int("u16") == 65535)
        #expect(file.metadata.int("i16") == -300)
        #expect(file.metadata.int("i32") == -7)
        #expect(file.metadata.int("u8") == 200)
        #expect(file.metadata.strings("words") == ["a", "βγ"])
        #expect(file.metadata.keys.first == "general.architecture")
        #expect(file.tensors.map(\.name) == ["a", "b"])
        let a = try #require(file.tensor(named: "a"))
        #expect(a.dimensions == [4, 2])
        #expect(a.rowLength == 4 && a.rowCount == 2 && a.byteCount == 32)
        let values = Array(file.bytes(of: a).bindMemory(to: Float.self))
        #expect(values == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(a.fileOffset % 32 == 0)
        let b = try #require(file.tensor(named: "b"))
        #expect(b.type == .q8_0 && b.byteCount == 34)
    }

    @Test func honoursAlignment() throws {
        var w = sampleWriter()
        w.alignment = 64
        w.metadata.append(("general.alignment", .uint32(64)))
        let path = try writeTemp(w.serialize())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.tensors.allSatisfy { $0.fileOffset % 64 == 0 })
    }

    @Test func readsVersion2() throws {
        var w = sampleWriter()
        w.version = 2
        let path = try writeTemp(w.serialize())
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try GGUFFile(path: path).version == 2)
    }

    /// Every truncation of a valid file that cuts into its header or data throws a clear error — never crashes.
    @Test func everyTruncationThrowsAClearError() throws {
        let bytes = sampleWriter().serialize()
        let full = try GGUFFile(path: try writeTemp(bytes, name: "full"))
        // Padding after the last tensor is not needed; any cut before the end of the data must throw.
        let dataEnd = full.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        for length in 0..<dataEnd {
            let path = try writeTemp(Array(bytes[..<length]), name: "trunc")
            #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        }
    }

    @Test func errorsNameTheFieldAndOffset() throws {
        var bytes = sampleWriter().serialize()
        bytes[4] = 9  // version
        var path = try writeTemp(bytes, name: "version")
        var error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("version at offset 4") == true)

        bytes = sampleWriter().serialize()
        bytes[0] = UInt8(ascii: "X")
        path = try writeTemp(bytes, name: "magic")
        error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("not a GGUF file") == true)

        // A metadata count far beyond the file must be rejected before anything is allocated.
        bytes = sampleWriter().serialize()
        for i in 16..<24 { bytes[i] = 0xFF }
        path = try writeTemp(bytes, name: "kvcount")
        error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("metadata_kv_count") == true)

        error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(error?.message.contains("cannot open") == true)
    }

    @Test func rejectsDuplicatesUnknownTypesAndBadShapes() throws {
        var w = sampleWriter()
        w.metadata.append(("llama.block_count", .uint32(3)))
        var path = try writeTemp(w.serialize(), name: "dup")
        var error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("duplicate key") == true)

        w = sampleWriter()
        w.tensors[1].dimensions = [33]  // not a multiple of the Q8_0 block
        path = try writeTemp(w.serialize(), name: "shape")
        error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("block size") == true)

        w = sampleWriter()
        w.tensors[1].dimensions = [32, 1000]  // claims more data than the file holds
        path = try writeTemp(w.serialize(), name: "big")
        error = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        #expect(error?.message.contains("truncated") == true)
    }

    /// Random byte flips in the header region: each case loads or throws; none crashes or hangs.
    @Test func randomCorruptionNeverCrashes() throws {
        let original = sampleWriter().serialize()
        var generator = SplitMix64(seed: 42)
        for i in 0..<500 {
            var bytes = original
            let flips = 1 + Int(generator.next() % 4)
            for _ in 0..<flips {
                let at = Int(generator.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            let path = try writeTemp(bytes, name: "fuzz\(i % 4)")
            _ = try? GGUFFile(path: path)
        }
    }

    @Test func readsTheRealModels() throws {
        let smol = try GGUFFile(path: TestModels.smolLM2)
        #expect(smol.architecture == "llama")
        #expect(smol.tensors.count == 272)
        #expect(smol.metadata.int("llama.block_count") == 30)
        #expect(smol.metadata.strings("tokenizer.ggml.tokens")?.count == 49152)
        #expect(smol.tensor(named: "token_embd.weight")?.type == .q8_0)
        #expect(smol.tensor(named: "token_embd.weight")?.dimensions == [576, 49152])

        let gemma = try GGUFFile(path: TestModels.gemma3)
        #expect(gemma.architecture == "gemma3")
        #expect(gemma.tensors.count == 236)
        #expect(gemma.metadata.int("gemma3.attention.sliding_window") == 512)
        #expect(gemma.metadata.floats("tokenizer.ggml.scores")?.count == 262144)
        let types = Set(gemma.tensors.map(\.type))
        #expect(types == [.f32, .q5_0, .q4_K, .q8_0, .q6_K])
    }
}

/// A small deterministic generator so corruption tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
