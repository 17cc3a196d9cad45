import Foundation
import ParleyGGUF
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// Tokenizers of the two test models, loaded once.
enum Models {
    static let smol: Tokenizer = try! Tokenizer(gguf: GGUFFile(path: TestModels.smolLM2))
    static let gemma: Tokenizer = try! Tokenizer(gguf: GGUFFile(path: TestModels.gemma3))

    static func tokenizer(_ name: String) -> Tokenizer { name == "smollm2" ? smol : gemma }
}

struct ReferenceCase: Decodable {
    let text: String
    let ids: [Int32]
}

struct ExtraCase: Decodable {
    let text: String
    let parse_special: Bool
    let add_special: Bool
    let ids: [Int32]
}

struct Greedy: Decodable {
    let prompt: String
    let prompt_ids: [Int32]
}

enum Fixtures {
    static func json(_ path: String) -> [String: Any] {
        let data = try! Data(contentsOf: TestModels.fixture(path))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: Any) -> T {
        let data = try! JSONSerialization.data(withJSONObject: value)
        return try! JSONDecoder().decode(T.self, from: data)
    }

    static func reference(_ model: String) -> [ReferenceCase] {
        decode([ReferenceCase].self, json("reference-\(model).json")["tokenize"]!)
    }

    static func greedy(_ model: String) -> [Greedy] {
        let value = json("reference-\(model).json")["greedy"]!
        if value is [Any] { return decode([Greedy].self, value) }
        return [decode(Greedy.self, value)]
    }

    static func extra(_ model: String) -> [ExtraCase] {
        decode([ExtraCase].self, json("tokenizer/extra-\(model).json")["cases"]!)
    }
}

private func show(_ s: String) -> String {
    s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}

@Suite("Tokenizer against llama.cpp")
struct TokenizerReferenceTests {
    @Test("reference tokenizations", arguments: ["smollm2", "gemma3"])
    func reference(model: String) {
        let tok = Models.tokenizer(model)
        let cases = Fixtures.reference(model)
        #expect(cases.count >= 30)
        for c in cases {
            let ids = tok.encode(c.text, addSpecial: false, parseSpecial: true)
            #expect(ids == c.ids, "\(model): \(show(c.text))")
        }
    }

    @Test("greedy prompts with BOS as the metadata says", arguments: ["smollm2", "gemma3"])
    func greedyPrompt(model: String) {
        let tok = Models.tokenizer(model)
        for g in Fixtures.greedy(model) {
            #expect(tok.encode(g.prompt, addSpecial: true, parseSpecial: true) == g.prompt_ids, "\(model): \(g.prompt)")
        }
    }

    @Test("extra llama.cpp fixtures", arguments: ["smollm2", "gemma3"])
    func extra(model: String) {
        let tok = Models.tokenizer(model)
        let cases = Fixtures.extra(model)
        #expect(cases.count >= 120)
        var failures = 0
        for c in cases {
            let ids = tok.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            if ids != c.ids { failures += 1 }
            #expect(ids == c.ids, "\(model) parse=\(c.parse_special) add=\(c.add_special): \(show(c.text))")
        }
        #expect(failures == 0)
    }

    @Test("random mixes tokenized by llama.cpp (fuzz.json)", arguments: ["smollm2", "gemma3"])
    func fuzz(model: String) {
        let tok = Models.tokenizer(model)
        let all = Fixtures.json("tokenizer/fuzz.json")
        let cases = Fixtures.decode([ExtraCase].self, all[model]!)
        #expect(cases.count >= 20)
        for c in cases {
            let ids = tok.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            #expect(ids == c.ids, "\(model) parse=\(c.parse_special): \(show(c.text))")
        }
    }
}

@Suite("Tokenizer metadata")
struct TokenizerMetadataTests {
    @Test func smolLM2() throws {
        let t = Models.smol
        #expect(t.vocabularySize == 49152)
        #expect(t.model == "gpt2" && t.pre == "smollm")
        #expect(t.bos == 1 && t.eos == 2)
        #expect(t.addsBOS == false)
        #expect(t.endOfGeneration.contains(2))   // <|im_end|>
        #expect(t.endOfGeneration.contains(0))   // <|endoftext|>
        #expect(!t.endOfGeneration.contains(1))  // <|im_start|>
        #expect(t.tokenText(1) == "<|im_start|>")
        #expect(t.isControl(1) && !t.isControl(504))
        #expect(t.tokenText(216) == "Ġ")
        #expect(t.encode("hello", addSpecial: true, parseSpecial: true) == t.encode("hello", addSpecial: false, parseSpecial: true))
    }

    @Test func gemma3() throws {
        let t = Models.gemma
        #expect(t.vocabularySize == 262144)
        #expect(t.model == "llama")
        #expect(t.bos == 2 && t.eos == 1)
        #expect(t.addsBOS && !t.addsEOS && !t.addSpacePrefix)
        #expect(t.endOfGeneration.contains(1))    // <eos>
        #expect(t.endOfGeneration.contains(106))  // <end_of_turn>
        #expect(!t.endOfGeneration.contains(105))
        #expect(t.tokenText(105) == "<start_of_turn>")
        #expect(t.isControl(105))
        let withBOS = t.encode("Hi", addSpecial: true, parseSpecial: false)
        #expect(withBOS.first == 2 && Array(withBOS.dropFirst()) == t.encode("Hi", addSpecial: false, parseSpecial: false))
    }

    @Test func controlTokensNeedParseSpecial() {
        let t = Models.smol
        let parsed = t.encode("<|im_start|>user", addSpecial: false, parseSpecial: true)
        let plain = t.encode("<|im_start|>user", addSpecial: false, parseSpecial: false)
        #expect(parsed.first == 1)
        #expect(!plain.contains(1))
        #expect(t.decode(plain) == "<|im_start|>user")
        // Gemma's user-defined tokens (whitespace runs, HTML tags) split even without parseSpecial.
        let g = Models.gemma
        #expect(g.encode("<b>x</b>", addSpecial: false, parseSpecial: false).first == 200)
        #expect(g.encode("\t\t", addSpecial: false, parseSpecial: false) == [255969])
    }

    @Test func rejectsUnsupportedModels() {
        var m = GGUFMetadata()
        m.insert("tokenizer.ggml.model", .string("bert"))
        m.insert("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
        #expect(throws: TokenizerError.self) { try Tokenizer(metadata: m) }

        var p = GGUFMetadata()
        p.insert("tokenizer.ggml.model", .string("gpt2"))
        p.insert("tokenizer.ggml.pre", .string("no-such-pre"))
        p.insert("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
        p.insert("tokenizer.ggml.merges", .array([.string("a b")]))
        #expect(throws: TokenizerError.self) { try Tokenizer(metadata: p) }

        var missing = GGUFMetadata()
        missing.insert("tokenizer.ggml.model", .string("llama"))
        #expect(throws: TokenizerError.self) { try Tokenizer(metadata: missing) }
    }
}

@Suite("Tokenizer decoding")
struct TokenizerDecodingTests {
    static var texts: [String] {
        var all = Fixtures.reference("smollm2").map(\.text)
        all += Fixtures.extra("smollm2").map(\.text)
        var seen = Set<[UInt8]>()
        return all.filter { seen.insert(Array($0.utf8)).inserted }
    }

    @Test("decode(encode(x)) == x", arguments: ["smollm2", "gemma3"])
    func roundTrip(model: String) {
        let tok = Models.tokenizer(model)
        for text in Self.texts {
            let ids = tok.encode(text, addSpecial: false, parseSpecial: false)
            // Compare bytes: String equality would accept a canonically equivalent spelling.
            #expect(Array(tok.decode(ids).utf8) == Array(text.utf8), "\(model): \(show(text))")
        }
    }

    @Test("special tokens render only when asked")
    func renderSpecial() {
        let t = Models.smol
        let ids = t.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: false, parseSpecial: true)
        #expect(t.decode(ids) == "user\nhi")
        #expect(t.decode(ids, renderSpecial: true) == "<|im_start|>user\nhi<|im_end|>")
        let g = Models.gemma
        let gids = g.encode("<start_of_turn>model\nok<end_of_turn>", addSpecial: true, parseSpecial: true)
        #expect(gids.first == 2 && gids[1] == 105)
        #expect(g.decode(gids) == "model\nok")
        #expect(g.decode(gids, renderSpecial: true) == "<bos><start_of_turn>model\nok<end_of_turn>")
    }

    @Test("streaming equals decode and never splits a character", arguments: ["smollm2", "gemma3"])
    func streaming(model: String) {
        let tok = Models.tokenizer(model)
        for text in Self.texts {
            let ids = tok.encode(text, addSpecial: false, parseSpecial: false)
            var stream = StreamingDetokenizer(tokenizer: tok)
            var joined = ""
            for id in ids {
                let chunk = stream.append(id)
                #expect(!chunk.unicodeScalars.contains("\u{FFFD}"), "\(model): half a character in \(show(text))")
                joined += chunk
            }
            joined += stream.flush()
            #expect(Array(joined.utf8) == Array(tok.decode(ids).utf8), "\(model): \(show(text))")
        }
    }

    @Test("characters split across byte tokens are held back")
    func heldBack() {
        // SmolLM2 spells this emoji in several byte-level tokens; Gemma falls back to <0xXX> byte tokens for a
        // private-use character it has never seen.
        for (tok, text) in [(Models.smol, "🫠"), (Models.gemma, "\u{F0000}"), (Models.smol, "中文🦜")] {
            let ids = tok.encode(text, addSpecial: false, parseSpecial: false)
            #expect(ids.count > 1)
            var stream = StreamingDetokenizer(tokenizer: tok)
            var chunks: [String] = []
            for id in ids { chunks.append(stream.append(id)) }
            chunks.append(stream.flush())
            #expect(chunks.contains(""), "something must be held back")
            #expect(chunks.joined() == text)
            for c in chunks { #expect(!c.unicodeScalars.contains("\u{FFFD}")) }
        }
        let g = Models.gemma
        let bytes = g.encode("\u{F0000}", addSpecial: false, parseSpecial: false)
        #expect(bytes.count == 4)
        #expect(bytes.allSatisfy { g.tokenText($0).hasPrefix("<0x") })
        #expect(bytes.flatMap { g.pieceBytes($0, renderSpecial: false) } == Array("\u{F0000}".utf8))
    }

    @Test("an unfinished character flushes as a replacement character")
    func flushIncomplete() {
        let t = Models.smol
        let ids = t.encode("🫠", addSpecial: false, parseSpecial: false)
        var stream = StreamingDetokenizer(tokenizer: t)
        #expect(stream.append(ids[0]) == "")
        #expect(stream.flush() == "\u{FFFD}")
    }
}

@Suite("Tokenizer speed")
struct TokenizerSpeedTests {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static let sample: String = {
        var s = ""
        let parts = Fixtures.reference("smollm2").map(\.text)
        var i = 0
        while s.utf8.count < 4096 { s += parts[i % parts.count] + " "; i += 1 }
        return s
    }()

    @Test("Gemma tables build well under a second; 4 KB encodes in milliseconds")
    func gemmaSpeed() throws {
        let file = try GGUFFile(path: TestModels.gemma3)
        var tok: Tokenizer?
        let load = try Self.seconds { tok = try Tokenizer(gguf: file) }
        let t = tok!
        _ = t.encode(Self.sample, addSpecial: true, parseSpecial: true)
        var ids: [TokenID] = []
        let encode = Self.seconds { for _ in 0..<10 { ids = t.encode(Self.sample, addSpecial: true, parseSpecial: true) } } / 10
        print("gemma3: load \(String(format: "%.1f", load * 1000)) ms, encode \(Self.sample.utf8.count) B -> \(ids.count) tokens in \(String(format: "%.2f", encode * 1000)) ms")
        #expect(load < 1.0)
        #expect(encode < 0.05)
    }

    @Test("SmolLM2 loads and encodes fast")
    func smolSpeed() throws {
        let file = try GGUFFile(path: TestModels.smolLM2)
        var tok: Tokenizer?
        let load = try Self.seconds { tok = try Tokenizer(gguf: file) }
        let t = tok!
        _ = t.encode(Self.sample, addSpecial: true, parseSpecial: true)
        var ids: [TokenID] = []
        let encode = Self.seconds { for _ in 0..<10 { ids = t.encode(Self.sample, addSpecial: true, parseSpecial: true) } } / 10
        print("smollm2: load \(String(format: "%.1f", load * 1000)) ms, encode \(Self.sample.utf8.count) B -> \(ids.count) tokens in \(String(format: "%.2f", encode * 1000)) ms")
        #expect(load < 1.0)
        #expect(encode < 0.05)
    }
}
