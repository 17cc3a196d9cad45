/// Turns tokens into text as they arrive, holding back the bytes of a UTF-8 character that is not complete yet
/// (a character split across byte-fallback or byte-level tokens), so no chunk ends in half a character.
///
/// The concatenated chunks equal `decode` of all the tokens for models without `clean_spaces` (SmolLM2, Gemma);
/// the model's leading-space rule (`add_space_prefix`) is applied to the first piece.
public struct StreamingDetokenizer {
    public let tokenizer: Tokenizer
    public let renderSpecial: Bool
    private var pending: [UInt8] = []
    private var first = true

    public init(tokenizer: Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Text that became complete with this token (possibly empty).
    public mutating func append(_ token: TokenID) -> String {
        var piece = tokenizer.pieceBytes(token, renderSpecial: renderSpecial)
        if first {
            if tokenizer.addSpacePrefix, piece.first == 0x20 { piece.removeFirst() }
            first = false
        }
        pending.append(contentsOf: piece)
        let cut = StreamingDetokenizer.completePrefixLength(pending)
        if cut == 0 { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is held back (an unfinished character decodes as U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Bytes that can be emitted now: all but a trailing, still-completable UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Find the start of the last sequence: step back over at most 3 continuation bytes.
        var i = n - 1
        var steps = 0
        while i >= 0 && bytes[i] & 0xC0 == 0x80 && steps < 3 {
            i -= 1
            steps += 1
        }
        guard i >= 0 else { return n }
        let lead = bytes[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n  // ASCII, or a byte that can never start a valid sequence
        }
        let have = n - i
        return have < need ? i : n
    }
}
