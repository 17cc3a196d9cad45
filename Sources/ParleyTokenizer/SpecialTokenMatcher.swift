/// Splits raw text at special-token texts the way llama.cpp's `tokenizer_st_partition` does: candidates
/// (CONTROL, USER_DEFINED and UNKNOWN tokens) are taken longest text first, and each one splits every remaining
/// text fragment at its leftmost non-overlapping occurrences. Without `parseSpecial` only USER_DEFINED tokens split.
///
/// Rather than scanning the text once per candidate (Gemma has over 6 000), all occurrences are found in one
/// pass and then replayed in candidate order, which gives the same fragments.
struct SpecialTokenMatcher: Sendable {
    enum Fragment: Equatable {
        case text(Int, Int)  // byte range lo..<hi
        case token(Int32)
    }

    struct Candidate: Sendable {
        let token: Int32
        let length: Int
        let attributes: TokenAttributes
    }

    /// Candidates in processing order (longest first; equal lengths by id).
    let candidates: [Candidate]
    /// Candidate texts; entry i is candidates[i].
    let texts: ByteStringTable
    /// For each first byte, the distinct candidate lengths starting with it, longest first.
    let lengthsByFirstByte: [[Int]]

    init(table: ByteStringTable, attributes: [TokenAttributes]) {
        var list: [Candidate] = []
        for (i, a) in attributes.enumerated() where !a.isDisjoint(with: [.control, .userDefined, .unknown]) {
            let len = table.length(of: Int32(i))
            if len > 0 { list.append(Candidate(token: Int32(i), length: len, attributes: a)) }
        }
        list.sort { $0.length != $1.length ? $0.length > $1.length : $0.token < $1.token }
        var texts = ByteStringTable(expectedCount: list.count)
        var lengths = [Set<Int>](repeating: [], count: 256)
        var kept: [Candidate] = []
        for c in list {
            let bytes = Array(table.bytes(of: c.token))
            // Two tokens cannot share a text (the vocabulary rejects duplicates), so every insert is new.
            if texts.insert(bytes).inserted {
                kept.append(c)
                lengths[Int(bytes[0])].insert(c.length)
            }
        }
        candidates = kept
        self.texts = texts
        lengthsByFirstByte = lengths.map { $0.sorted(by: >) }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return [] }
        // Every occurrence of an eligible candidate: (candidate index, start).
        var occurrences: [(rank: Int32, start: Int)] = []
        for pos in 0..<n {
            let lens = lengthsByFirstByte[Int(bytes[pos])]
            if lens.isEmpty { continue }
            for len in lens where pos + len <= n {
                let e = texts.find(base + pos, len)
                if e < 0 { continue }
                let c = candidates[Int(e)]
                if !parseSpecial && !c.attributes.isDisjoint(with: [.control, .unknown]) { continue }
                occurrences.append((e, pos))
            }
        }
        var segments: [Fragment] = [.text(0, n)]
        if occurrences.isEmpty { return segments }
        occurrences.sort { $0.rank != $1.rank ? $0.rank < $1.rank : $0.start < $1.start }

        var k = 0
        while k < occurrences.count {
            let rank = occurrences[k].rank
            let c = candidates[Int(rank)]
            var idx = 0
            while k < occurrences.count && occurrences[k].rank == rank {
                let start = occurrences[k].start
                k += 1
                let end = start + c.length
                // The segment holding `start` (segments are in text order).
                while idx < segments.count {
                    switch segments[idx] {
                    case .text(_, let hi) where hi <= start: idx += 1; continue
                    case .token: idx += 1; continue
                    default: break
                    }
                    break
                }
                guard idx < segments.count, case .text(let lo, let hi) = segments[idx], lo <= start, end <= hi else {
                    continue
                }
                var replacement: [Fragment] = []
                var leftEnd = start
                if c.attributes.contains(.lstrip) {
                    while leftEnd > lo && SpecialTokenMatcher.isSpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                }
                if leftEnd > lo { replacement.append(.text(lo, leftEnd)) }
                replacement.append(.token(c.token))
                var rightStart = end
                if c.attributes.contains(.rstrip) {
                    while rightStart < hi && SpecialTokenMatcher.isSpace(bytes[rightStart]) { rightStart += 1 }
                }
                if rightStart < hi { replacement.append(.text(rightStart, hi)) }
                segments.replaceSubrange(idx...idx, with: replacement)
                idx += replacement.count - (rightStart < hi ? 1 : 0)
            }
        }
        return segments
    }
}
