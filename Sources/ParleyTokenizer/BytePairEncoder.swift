/// GPT-2 byte-level BPE as llama.cpp runs it (`llm_tokenizer_bpe_session`): regex pre-split, bytes mapped to
/// printable codepoints, then merges applied lowest rank first within each piece.
struct BytePairEncoder: Sendable {
    /// Vocabulary texts first (entry i = token i), then merge halves that are not tokens.
    let table: ByteStringTable
    /// Entry → token id, or -1 for a merge half that is no token.
    let entryToken: [Int32]
    /// (left entry, right entry) → merge rank.
    let ranks: [UInt64: Int32]
    let preTokenizer: PreTokenizer
    let ignoreMerges: Bool
    /// UTF-8 of the codepoint each byte maps to.
    let byteMap: [[UInt8]]

    init(table: ByteStringTable, entryToken: [Int32], ranks: [UInt64: Int32], preTokenizer: PreTokenizer, ignoreMerges: Bool) {
        self.table = table
        self.entryToken = entryToken
        self.ranks = ranks
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
        self.byteMap = GPT2ByteMap.encode.map { Array(String(Unicode.Scalar($0)!).utf8) }
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
        var entry: Int32
    }

    private struct Bigram: HeapOrdered {
        var rank: Int32
        var left: Int32
        var right: Int32
        var size: Int32
        /// Pops first: lower rank, then lower left index.
        @inline(__always) func before(_ o: Bigram) -> Bool { rank < o.rank || (rank == o.rank && left < o.left) }
    }

    func encode(_ raw: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        let (cpts, offsets) = decodeUTF8(raw)
        let pieces = preTokenizer.split(cpts)

        // Map the whole fragment once; mappedAt[b] is where raw byte b's mapped character starts.
        var mapped: [UInt8] = []
        mapped.reserveCapacity(raw.count * 2)
        var mappedAt = [Int](repeating: 0, count: raw.count + 1)
        for i in 0..<raw.count {
            mappedAt[i] = mapped.count
            mapped.append(contentsOf: byteMap[Int(raw[i])])
        }
        mappedAt[raw.count] = mapped.count

        var symbols: [Symbol] = []
        var heap: [Bigram] = []
        mapped.withUnsafeBufferPointer { mb in
            let base = mb.baseAddress!
            var cpStart = 0
            for pieceLength in pieces {
                let lo = mappedAt[offsets[cpStart]]
                let hi = mappedAt[offsets[cpStart + pieceLength]]
                cpStart += pieceLength
                encodePiece(base, lo, hi, &symbols, &heap, &output)
            }
        }
    }

    private func encodePiece(_ text: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int,
                             _ symbols: inout [Symbol], _ heap: inout [Bigram], _ output: inout [Int32]) {
        if ignoreMerges {
            let e = table.find(text + lo, hi - lo)
            if e >= 0, entryToken[Int(e)] >= 0 {
                output.append(entryToken[Int(e)])
                return
            }
        }
        symbols.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        var offset = lo
        while offset < hi {
            let n = min(hi - offset, utf8SequenceLength(text[offset]))
            let index = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(offset), length: Int32(n), prev: index - 1,
                                  next: offset + n == hi ? -1 : index + 1, entry: table.find(text + offset, n)))
            offset += n
        }
        if symbols.count > 1 {
            for i in 1..<symbols.count { addBigram(Int32(i - 1), Int32(i), &symbols, &heap) }
        }
        while let bigram = heap.heapPopMin() {
            let l = Int(bigram.left), r = Int(bigram.right)
            let ln = symbols[l].length, rn = symbols[r].length
            if ln == 0 || rn == 0 || ln + rn != bigram.size { continue }  // stale
            symbols[l].length = ln + rn
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[Int(symbols[r].next)].prev = bigram.left }
            symbols[l].entry = table.find(text + Int(symbols[l].start), Int(ln + rn))
            addBigram(symbols[l].prev, bigram.left, &symbols, &heap)
            addBigram(bigram.left, symbols[l].next, &symbols, &heap)
        }
        for s in symbols where s.length > 0 {
            let token = s.entry >= 0 ? entryToken[Int(s.entry)] : -1
            if token >= 0 {
                output.append(token)
            } else {
                // Not a token: each byte of the mapped text on its own, where that is a token.
                for k in 0..<Int(s.length) {
                    let e = table.find(text + Int(s.start) + k, 1)
                    if e >= 0, entryToken[Int(e)] >= 0 { output.append(entryToken[Int(e)]) }
                }
            }
        }
    }

    @inline(__always)
    private func addBigram(_ left: Int32, _ right: Int32, _ symbols: inout [Symbol], _ heap: inout [Bigram]) {
        if left < 0 || right < 0 { return }
        let a = symbols[Int(left)].entry, b = symbols[Int(right)].entry
        if a < 0 || b < 0 { return }
        guard let rank = ranks[BytePairEncoder.key(a, b)] else { return }
        heap.heapPush(Bigram(rank: rank, left: left, right: right,
                               size: symbols[Int(left)].length + symbols[Int(right)].length))
    }
}

/// GPT-2's `bytes_to_unicode`: printable bytes keep their codepoint, the other 68 map to U+0100 onward.
enum GPT2ByteMap {
    static let encode: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                map[b] = UInt32(b)
            } else {
                map[b] = next
                next += 1
            }
        }
        return map
    }()

    /// Codepoint → byte, -1 where the codepoint is not in the map.
    static let decode: [Int16] = {
        var inv = [Int16](repeating: -1, count: 0x144)
        for (b, c) in encode.enumerated() { inv[Int(c)] = Int16(b) }
        return inv
    }()
}
