/// Per-codepoint classes the pre-tokenizer regexes test, from Swift's Unicode general categories.
///
/// Like llama.cpp, every codepoint inside the text has a non-zero flag set (unassigned codepoints included);
/// positions outside the current piece read as zero.
enum CodepointFlags {
    static let valid: UInt8 = 1 << 0
    static let letter: UInt8 = 1 << 1        // \p{L}
    static let number: UInt8 = 1 << 2        // \p{N}
    static let whitespace: UInt8 = 1 << 3    // \s (White_Space)
    static let punctuation: UInt8 = 1 << 4   // \p{P}
    static let symbol: UInt8 = 1 << 5        // \p{S}
    static let mark: UInt8 = 1 << 6          // \p{M}

    /// The White_Space set llama.cpp uses (`unicode_set_whitespace`).
    @inline(__always)
    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func compute(_ c: UInt32) -> UInt8 {
        var f = valid
        if isWhitespace(c) { f |= whitespace }
        guard let scalar = Unicode.Scalar(c) else { return f }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            f |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            f |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            f |= punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            f |= symbol
        case .nonspacingMark, .spacingMark, .enclosingMark:
            f |= mark
        default:
            break
        }
        return f
    }

    /// Flags of the Basic Multilingual Plane, computed once.
    static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for c in 0..<0x10000 { table[c] = compute(UInt32(c)) }
        return table
    }()

    @inline(__always)
    static func of(_ c: UInt32) -> UInt8 {
        c < 0x10000 ? bmp[Int(c)] : compute(c)
    }
}

/// Decodes valid UTF-8 (as Swift strings always are) into codepoints and each codepoint's byte offset.
/// `offsets` has one extra element: the total byte count.
func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> (cpts: [UInt32], offsets: [Int]) {
    var cpts: [UInt32] = []
    var offsets: [Int] = []
    cpts.reserveCapacity(bytes.count)
    offsets.reserveCapacity(bytes.count + 1)
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = UInt32(bytes[i])
        var c: UInt32
        var len: Int
        if b0 < 0x80 {
            c = b0; len = 1
        } else if b0 & 0xE0 == 0xC0 {
            c = b0 & 0x1F; len = 2
        } else if b0 & 0xF0 == 0xE0 {
            c = b0 & 0x0F; len = 3
        } else {
            c = b0 & 0x07; len = 4
        }
        if i + len > n { len = n - i }
        for k in 1..<max(len, 1) { c = (c << 6) | (UInt32(bytes[i + k]) & 0x3F) }
        cpts.append(c)
        offsets.append(i)
        i += len
    }
    offsets.append(n)
    return (cpts, offsets)
}

/// Length of a UTF-8 sequence from its first byte (llama.cpp's `unicode_len_utf8`: a stray continuation
/// byte counts as one).
@inline(__always)
func utf8SequenceLength(_ b: UInt8) -> Int {
    switch b >> 4 {
    case 0xC, 0xD: return 2
    case 0xE: return 3
    case 0xF: return 4
    default: return 1
    }
}
