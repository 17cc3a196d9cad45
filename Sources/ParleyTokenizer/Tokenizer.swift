import ParleyGGUF

public typealias TokenID = Int32

public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "tokenizer: \(message)" }
}

/// Token attributes, as llama.cpp derives them from `tokenizer.ggml.token_type` and its text-based fix-ups.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let lstrip = TokenAttributes(rawValue: 1 << 7)
    static let rstrip = TokenAttributes(rawValue: 1 << 8)

    static func fromType(_ type: Int) -> TokenAttributes {
        switch type {
        case 1: .normal
        case 2: .unknown
        case 3: .control
        case 4: .userDefined
        case 5: .unused
        case 6: .byte
        default: []
        }
    }
}

/// A tokenizer built from GGUF metadata that reproduces llama.cpp token for token: byte-level BPE
/// (`tokenizer.ggml.model = "gpt2"`) or SentencePiece (`"llama"`).
public final class Tokenizer: Sendable {
    enum Kind: Sendable {
        case bpe(BytePairEncoder)
        case spm(SentencePieceEncoder)
    }

    let kind: Kind
    /// Vocabulary texts; entry i is token i.
    let table: ByteStringTable
    let attributes: [TokenAttributes]
    let special: SpecialTokenMatcher
    public let vocabularySize: Int
    public let bos: TokenID?
    public let eos: TokenID?
    public let eot: TokenID?
    public let addsBOS: Bool
    public let addsEOS: Bool
    public let addSpacePrefix: Bool
    /// llama.cpp's `clean_spaces` detokenizer post-processing (BPE models other than a listed few).
    public let cleanSpaces: Bool
    public let endOfGeneration: Set<TokenID>
    /// `tokenizer.ggml.model` and (for BPE) `tokenizer.ggml.pre`.
    public let model: String
    public let pre: String?

    public convenience init(gguf: GGUFFile) throws {
        try self.init(metadata: gguf.metadata)
    }

    public init(metadata: GGUFMetadata) throws {
        guard let model = metadata.string("tokenizer.ggml.model") else {
            throw TokenizerError("missing tokenizer.ggml.model")
        }
        guard let texts = metadata.strings("tokenizer.ggml.tokens"), !texts.isEmpty else {
            throw TokenizerError("missing or invalid tokenizer.ggml.tokens")
        }
        let n = texts.count
        self.model = model
        vocabularySize = n

        // Vocabulary table: entry i = token i (empty texts become "[EMPTY_i]" as in llama.cpp).
        var table = ByteStringTable(expectedCount: n)
        var entryToken = [Int32](repeating: -1, count: n)
        var maxLength = 0
        for i in 0..<n {
            var s = texts[i]
            if s.isEmpty { s = "[EMPTY_\(i)]" }
            let r = s.utf8.withContiguousStorageIfAvailable { table.insert($0.baseAddress!, $0.count) }
                ?? table.insert(Array(s.utf8))
            guard r.inserted else {
                throw TokenizerError("duplicate token text at index \(i) (first at \(r.entry))")
            }
            entryToken[i] = Int32(i)
            maxLength = max(maxLength, s.utf8.count)
        }

        var attrs = [TokenAttributes](repeating: .normal, count: n)
        if let types = metadata.ints("tokenizer.ggml.token_type") {
            guard types.count >= n else { throw TokenizerError("tokenizer.ggml.token_type has \(types.count) < \(n) entries") }
            for i in 0..<n { attrs[i] = TokenAttributes.fromType(types[i]) }
        }

        func id(of text: String) -> Int32? {
            let e = table.find(Array(text.utf8))
            return e >= 0 ? Int32(e) : nil
        }

        // Defaults per model type, then GGUF overrides.
        var defaultBOS: Int32?, defaultEOS: Int32?
        var addBOS: Bool, addEOS = false, addSpacePrefix: Bool, cleanSpaces: Bool
        var preRules: [PreTokenizerRule] = []
        var ignoreMerges = false
        switch model {
        case "gpt2":
            defaultBOS = 11; defaultEOS = 11
            addSpacePrefix = false
            guard let config = Tokenizer.bpeConfig(metadata.string("tokenizer.ggml.pre")) else {
                throw TokenizerError("unsupported tokenizer.ggml.pre '\(metadata.string("tokenizer.ggml.pre") ?? "")'")
            }
            preRules = config.rules
            ignoreMerges = config.ignoreMerges
            addBOS = config.addBOS
            cleanSpaces = config.cleanSpaces
            pre = metadata.string("tokenizer.ggml.pre") ?? "default"
        case "llama":
            defaultBOS = 1; defaultEOS = 2
            addBOS = true; addSpacePrefix = true; cleanSpaces = false
            pre = nil
        default:
            throw TokenizerError("unsupported tokenizer.ggml.model '\(model)' (supported: gpt2, llama)")
        }
        func specialID(_ key: String, _ fallback: Int32?) -> Int32? {
            var value = fallback
            if let v = value, v < 0 || Int(v) >= n { value = nil }
            if let k = metadata.int("tokenizer.ggml.\(key)"), k >= 0, k < n { value = Int32(k) }
            return value
        }
        let bos = specialID("bos_token_id", defaultBOS)
        let eos = specialID("eos_token_id", defaultEOS)
        var eot = specialID("eot_token_id", nil)
        var eom = specialID("eom_token_id", nil)
        var fimPad = specialID("fim_pad_token_id", nil)
        var fimRep = specialID("fim_rep_token_id", nil)
        var fimSep = specialID("fim_sep_token_id", nil)
        var fimPre = specialID("fim_pre_token_id", nil) ?? specialID("prefix_token_id", nil)
        var fimSuf = specialID("fim_suf_token_id", nil) ?? specialID("suffix_token_id", nil)
        var fimMid = specialID("fim_mid_token_id", nil) ?? specialID("middle_token_id", nil)
        if let v = metadata.bool("tokenizer.ggml.add_bos_token") { addBOS = v }
        if let v = metadata.bool("tokenizer.ggml.add_eos_token") { addEOS = v }
        if let v = metadata.bool("tokenizer.ggml.add_space_prefix") { addSpacePrefix = v }

        // Text-based detection of unset special ids; such tokens are forced to CONTROL.
        func detect(_ slot: inout Int32?, _ candidates: [String]) {
            guard slot == nil else { return }
            // llama.cpp walks a hash map; when several candidates exist the lowest id is taken here.
            let found = candidates.compactMap { id(of: $0) }.min()
            if let t = found {
                slot = t
                attrs[Int(t)].insert(.control)
            }
        }
        detect(&eot, ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                      "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"])
        detect(&eom, ["<|eom_id|>"])
        detect(&fimPre, ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                         "<|code_prefix|>", "<|prefix|>"])
        detect(&fimSuf, ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                         "<|code_suffix|>", "<|suffix|>"])
        detect(&fimMid, ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                         "<|code_middle|>", "<|middle|>"])
        detect(&fimPad, ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"])
        detect(&fimRep, ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"])
        detect(&fimSep, ["<|file_sep|>"])
        _ = (fimPre, fimSuf, fimMid)

        var eog = Set<TokenID>()
        for t in [fimPad, fimRep, fimSep] { if let t { eog.insert(t) } }
        for text in ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
                     "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
                     "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
                     "<｜end▁of▁sentence｜>", "[e~["] {
            if let t = id(of: text) {
                eog.insert(t)
                attrs[Int(t)].insert(.control)
            }
        }
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let t = id(of: text) { attrs[Int(t)] = .userDefined }
        }
        for t in [eos, eot, eom] { if let t { eog.insert(t) } }
        func text(_ t: Int32) -> String { String(decoding: table.bytes(of: t), as: UTF8.self) }
        let eogTexts = Set(eog.map(text))
        if (eogTexts.contains("<|return|>") && eogTexts.contains("<|call|>") && eogTexts.contains("<|end|>"))
            || ((eogTexts.contains("<|call|>") || eogTexts.contains("<|calls|>")) && eogTexts.contains("<|flush|>")
                && eogTexts.contains("<|end|>")) {
            if let end = eog.first(where: { text($0) == "<|end|>" }) {
                eog.remove(end)
                attrs[Int(end)] = .userDefined
            }
        }
        if eogTexts.contains("<|tool_response>") || eogTexts.contains("<|plamo:eos|>"),
           let s = eog.first(where: { text($0) == "</s>" }) {
            eog.remove(s)
            attrs[Int(s)] = .normal
        }

        // Phi-3: special tokens eat the whitespace that follows them.
        if let name = metadata.string("general.name")?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
            for i in 0..<n where !attrs[i].isDisjoint(with: [.control, .userDefined, .unknown]) { attrs[i].insert(.rstrip) }
            if let t = id(of: "</s>") { attrs[Int(t)].insert(.rstrip) }
            for s in ["<unk>", "<s>", "<|endoftext|>"] { if let t = id(of: s) { attrs[Int(t)].remove(.rstrip) } }
        }

        self.bos = bos
        self.eos = eos
        self.eot = eot
        self.addsBOS = addBOS
        self.addsEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.cleanSpaces = cleanSpaces
        self.endOfGeneration = eog
        self.attributes = attrs
        self.special = SpecialTokenMatcher(table: table, attributes: attrs)

        switch model {
        case "gpt2":
            let merges = metadata.strings("tokenizer.ggml.merges") ?? []
            var combined = table
            var entryTokenAll = entryToken
            var ranks = [UInt64: Int32](minimumCapacity: merges.count)
            for (rank, merge) in merges.enumerated() {
                var bytes = Array(merge.utf8)
                guard bytes.count > 1, let space = bytes[1...].firstIndex(of: 0x20) else { continue }
                let left = combined.insert(Array(bytes[..<space]))
                if left.inserted { entryTokenAll.append(-1) }
                bytes.removeSubrange(...space)
                let right = combined.insert(bytes)
                if right.inserted { entryTokenAll.append(-1) }
                let key = BytePairEncoder.key(left.entry, right.entry)
                if ranks[key] == nil { ranks[key] = Int32(rank) }
            }
            kind = .bpe(BytePairEncoder(table: combined, entryToken: entryTokenAll, ranks: ranks,
                                        preTokenizer: PreTokenizer(rules: preRules), ignoreMerges: ignoreMerges))
        default:
            var scores = [Float](repeating: 0, count: n)
            if let s = metadata.floats("tokenizer.ggml.scores") {
                guard s.count >= n else { throw TokenizerError("tokenizer.ggml.scores has \(s.count) < \(n) entries") }
                scores = Array(s[0..<n])
            }
            var byteTokens = [Int32](repeating: -1, count: 256)
            let hex = Array("0123456789ABCDEF".utf8)
            for b in 0..<256 {
                let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]  // <0xXX>
                var e = table.find(name)
                if e < 0 { e = table.find([UInt8(b)]) }
                byteTokens[b] = e
            }
            kind = .spm(SentencePieceEncoder(table: table, entryToken: entryToken, scores: scores,
                                             byteTokens: byteTokens, maxTokenLength: maxLength))
        }
        self.table = table
    }

    struct BPEConfig {
        var rules: [PreTokenizerRule]
        var ignoreMerges = false
        var addBOS = false
        var cleanSpaces = true
    }

    static func bpeConfig(_ pre: String?) -> BPEConfig? {
        let gpt2Like: [PreTokenizerRule] = [.gpt2]
        let starcoderLike: [PreTokenizerRule] = [.eachNumber, .gpt2]
        switch pre {
        case nil, "default":
            return BPEConfig(rules: [.punctuationRuns, .gpt2, .numberRuns, .asciiDigitTriples])
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return BPEConfig(rules: [.llama3], ignoreMerges: true, addBOS: true)
        case "dbrx", "smaug-bpe":
            return BPEConfig(rules: [.llama3])
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open":
            return BPEConfig(rules: [.qwen2], cleanSpaces: false)
        case "stablelm2", "megrez":
            return BPEConfig(rules: [.qwen2])
        case "smollm", "command-r":
            return BPEConfig(rules: starcoderLike, cleanSpaces: false)
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            return BPEConfig(rules: starcoderLike)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
             "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4":
            return BPEConfig(rules: gpt2Like)
        case "trillion", "granite-docling":
            return BPEConfig(rules: gpt2Like, cleanSpaces: false)
        default:
            return nil
        }
    }

    // MARK: - Encoding

    /// Token ids for `text`. `addSpecial` adds BOS/EOS as the metadata says; `parseSpecial` lets control tokens'
    /// texts (`<|im_start|>`, `<start_of_turn>`) become those tokens. User-defined tokens are always matched.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        var copy = text
        return copy.withUTF8 { encode(bytes: $0, addSpecial: addSpecial, parseSpecial: parseSpecial) }
    }

    public func encode(bytes: UnsafeBufferPointer<UInt8>, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        var output: [TokenID] = []
        output.reserveCapacity(bytes.count / 3 + 4)
        let fragments = bytes.isEmpty ? [] : special.partition(bytes, parseSpecial: parseSpecial)
        if addSpecial && addsBOS, let bos { output.append(bos) }
        switch kind {
        case .bpe(let bpe):
            for f in fragments {
                switch f {
                case .token(let t): output.append(t)
                case .text(let lo, let hi):
                    bpe.encode(UnsafeBufferPointer(rebasing: bytes[lo..<hi]), into: &output)
                }
            }
        case .spm(let spm):
            var previousSpecial = true
            var buffer: [UInt8] = []
            for f in fragments {
                switch f {
                case .token(let t):
                    output.append(t)
                    previousSpecial = true
                case .text(let lo, let hi):
                    buffer.removeAll(keepingCapacity: true)
                    if addSpacePrefix && previousSpecial { buffer.append(contentsOf: [0xE2, 0x96, 0x81]) }
                    for i in lo..<hi {
                        if bytes[i] == 0x20 { buffer.append(contentsOf: [0xE2, 0x96, 0x81]) } else { buffer.append(bytes[i]) }
                    }
                    buffer.withUnsafeBufferPointer { spm.encode($0, into: &output) }
                    previousSpecial = false
                }
            }
        }
        if addSpecial && addsEOS, let eos { output.append(eos) }
        return output
    }

    // MARK: - Decoding

    /// The bytes token `token` stands for. Control and unknown tokens give nothing unless `renderSpecial`.
    public func pieceBytes(_ token: TokenID, renderSpecial: Bool) -> [UInt8] {
        guard token >= 0, Int(token) < vocabularySize else { return [] }
        let attr = attributes[Int(token)]
        if !renderSpecial && !attr.isDisjoint(with: [.unknown, .control]) { return [] }
        let text = table.bytes(of: token)
        if !attr.isDisjoint(with: [.unknown, .control, .userDefined]) { return Array(text) }
        switch kind {
        case .spm:
            if attr.contains(.normal) { return Tokenizer.unescapeWhitespace(text) }
            if attr.contains(.byte) { return Tokenizer.hexByte(text).map { [$0] } ?? [] }
            return []
        case .bpe:
            if attr.contains(.normal) { return Tokenizer.decodeByteLevel(text) }
            if attr.contains(.byte) {
                let cps = decodeScalars(text)
                if cps.count == 1, cps[0] < 0x144, GPT2ByteMap.decode[Int(cps[0])] >= 0 {
                    return [UInt8(GPT2ByteMap.decode[Int(cps[0])])]
                }
                return []
            }
            return []
        }
    }

    /// Text of the tokens. Control tokens are rendered only with `renderSpecial`; like llama.cpp's detokenizer,
    /// a leading space is dropped when the model adds a space prefix, and `clean_spaces` models tidy " ," etc.
    public func decode(_ tokens: [TokenID], renderSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(tokens, renderSpecial: renderSpecial), as: UTF8.self)
    }

    public func decodeBytes(_ tokens: [TokenID], renderSpecial: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var removeSpace = addSpacePrefix
        for t in tokens {
            var piece = pieceBytes(t, renderSpecial: renderSpecial)
            if removeSpace, piece.first == 0x20 { piece.removeFirst() }
            removeSpace = false
            out.append(contentsOf: piece)
        }
        if cleanSpaces { out = Tokenizer.cleanUpSpaces(out) }
        return out
    }

    /// The token's vocabulary text, as stored (e.g. `Ġthe`, `▁the`, `<0x0A>`).
    public func tokenText(_ id: TokenID) -> String {
        guard id >= 0, Int(id) < vocabularySize else { return "" }
        return String(decoding: table.bytes(of: id), as: UTF8.self)
    }

    /// The token id whose vocabulary text is exactly `text`.
    public func tokenID(forText text: String) -> TokenID? {
        let e = table.find(Array(text.utf8))
        return e >= 0 && Int(e) < vocabularySize ? e : nil
    }

    public func isControl(_ id: TokenID) -> Bool {
        guard id >= 0, Int(id) < vocabularySize else { return false }
        return attributes[Int(id)].contains(.control)
    }

    public func isEndOfGeneration(_ id: TokenID) -> Bool { endOfGeneration.contains(id) }

    // MARK: helpers

    static func unescapeWhitespace(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == 0xE2, i + 2 < text.endIndex, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    static func hexByte(_ text: ArraySlice<UInt8>) -> UInt8? {
        // "<0xXX>": llama.cpp reads the hex digits after "<0x".
        let a = Array(text)
        guard a.count >= 5 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        guard let hi = nibble(a[3]) else { return nil }
        guard let lo = nibble(a[4]) else { return hi }
        return hi << 4 | lo
    }

    static func decodeByteLevel(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        let all = Array(text)
        for c in decodeScalars(text) {
            if c < 0x144, GPT2ByteMap.decode[Int(c)] >= 0 {
                out.append(UInt8(GPT2ByteMap.decode[Int(c)]))
            } else {
                // llama.cpp: "[UNK_BYTE_0x<hex of the character>" + token text + "]"
                out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                for b in String(Unicode.Scalar(c) ?? "\u{FFFD}").utf8 {
                    let h = Array("0123456789abcdef".utf8)
                    out.append(h[Int(b >> 4)]); out.append(h[Int(b & 15)])
                }
                out.append(contentsOf: all)
                out.append(0x5D)
            }
        }
        return out
    }

    static func cleanUpSpaces(_ input: [UInt8]) -> [UInt8] {
        var text = input
        // " ?", " !", " .", " ,"
        var total = text.isEmpty ? 0 : 1
        if text.count > 1 {
            for i in 1..<text.count {
                let x = text[i]
                if text[i - 1] == 0x20, x == 0x3F || x == 0x21 || x == 0x2E || x == 0x2C { total -= 1 }
                text[total] = x
                total += 1
            }
        }
        text.removeSubrange(total...)
        // " ' "
        let total2 = text.count
        total = total2 > 0 ? 1 : 0
        var i = 1
        while i < total2 {
            let x = text[i]
            if x == 0x27, i + 1 < total2, text[i - 1] == 0x20, text[i + 1] == 0x20 {
                total -= 1
                i += 1
                text[i] = 0
            }
            text[total] = x
            total += 1
            i += 1
        }
        text.removeSubrange(total...)
        // " 's", " 'm", " 're", " 've"
        let total3 = text.count
        total = total3 > 0 ? 1 : 0
        if total3 > 1 {
            for i in 1..<total3 {
                let x = text[i]
                if text[i - 1] == 0x20, x == 0x27, i + 1 < total3 {
                    let x1 = text[i + 1]
                    if x1 == 0x74 || x1 == 0x64 {
                    } else if x1 == 0x73 || x1 == 0x6D {
                        total -= 1
                    } else if i + 2 < total3 {
                        let x2 = text[i + 2]
                        if (x1 == 0x72 && x2 == 0x65) || (x1 == 0x76 && x2 == 0x65) { total -= 1 }
                    }
                }
                text[total] = x
                total += 1
            }
        }
        text.removeSubrange(total...)
        return text
    }
}

func decodeScalars(_ text: ArraySlice<UInt8>) -> [UInt32] {
    Array(text).withUnsafeBufferPointer { decodeUTF8($0).cpts }
}
