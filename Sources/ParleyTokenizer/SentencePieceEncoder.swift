/// SentencePiece (BPE flavour) as llama.cpp runs it (`llm_tokenizer_spm_session`): characters merged pairwise,
/// highest vocabulary score first, leftovers emitted as `<0xXX>` byte tokens.
struct SentencePieceEncoder: Sendable {
    let table: ByteStringTable
    let entryToken: [Int32]
    let scores: [Float]
    let byteTokens: [Int32]
    let maxTokenLength: Int

    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Bigram: HeapOrdered {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
        /// Pops first: higher score, then lower left index.
        @inline(__always) func before(_ o: Bigram) -> Bool { score > o.score || (score == o.score && left < o.left) }
    }

    @inline(__always) private func token(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        if n > maxTokenLength { return -1 }
        let e = table.find(p, n)
        return e >= 0 ? entryToken[Int(e)] : -1
    }

    /// `text` is already whitespace-escaped (spaces as U+2581) and non-empty.
    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var offset = 0
        while offset < text.count {
            let n = min(text.count - offset, utf8SequenceLength(text[offset]))
            let index = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(offset), length: Int32(n), prev: index - 1,
                                  next: offset + n == text.count ? -1 : index + 1))
            offset += n
        }
        var heap: [Bigram] = []
        heap.reserveCapacity(symbols.count)

        func tryAdd(_ left: Int32, _ right: Int32) {
            if left < 0 || right < 0 { return }
            let s = symbols[Int(left)]
            let size = s.length + symbols[Int(right)].length
            let t = token(base + Int(s.start), Int(size))
            if t < 0 { return }
            heap.heapPush(Bigram(score: scores[Int(t)], left: left, right: right, size: size))
        }

        if symbols.count > 1 {
            for i in 1..<symbols.count { tryAdd(Int32(i - 1), Int32(i)) }
        }
        while let b = heap.heapPopMin() {
            let l = Int(b.left), r = Int(b.right)
            let ln = symbols[l].length, rn = symbols[r].length
            if ln == 0 || rn == 0 || ln + rn != b.size { continue }
            symbols[l].length = ln + rn
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[Int(symbols[r].next)].prev = b.left }
            tryAdd(symbols[l].prev, b.left)
            tryAdd(b.left, symbols[l].next)
        }
        // Merges only ever form vocabulary texts, so a final symbol is a token or a single unknown character.
        var i: Int32 = 0
        while i != -1 {
            let s = symbols[Int(i)]
            let t = token(base + Int(s.start), Int(s.length))
            if t >= 0 {
                output.append(t)
            } else {
                for k in 0..<Int(s.length) {
                    let bt = byteTokens[Int(text[Int(s.start) + k])]
                    if bt >= 0 { output.append(bt) }
                }
            }
            i = s.next
        }
    }
}
