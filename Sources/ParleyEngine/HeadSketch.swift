import CParleyKernels
import Foundation
import Synchronization

/// A 4-bit copy of the output projection (the LM head) that ranks the vocabulary for a fraction of the bytes.
///
/// Decoding reads the whole LM head once per token; on Gemma-3 it is 178 MB of Q8_0, most of a token's memory
/// traffic. When generation can only ever take among the k most likely tokens (greedy: k = 1) and nothing reports
/// the full distribution, the sketch scores every token approximately (Q4_0: 89 MB on Gemma-3), the best
/// candidates (64 for a greedy pick) are rescored exactly with the real weights, and every other token's logit
/// is -∞. The candidates' values are the real ones; their selection is checked per row and falls back to the
/// exact head when it cannot be vouched for (see `logits`).
final class HeadSketch: @unchecked Sendable {
    let sketch: Linear
    let head: Linear
    private let storage: UnsafeMutableRawPointer

    /// The fewest candidates rescored per row, and the most.
    static let minimumCandidates = 64
    static let maximumCandidates = 256

    /// Worth building when the head is wide, stored in more than 4.5 bits per weight, and at least 40 % of the
    /// weights a token reads (the sketch saves about half the head's bytes for its own memory; on SmolLM2, 31 %,
    /// it gained ~5 % and cost more memory than it saved). PARLEY_HEAD_SKETCH=0 turns it off, =1 forces it on.
    static func worthwhile(for head: Linear, weightBytes: Int) -> Bool {
        let setting = ProcessInfo.processInfo.environment["PARLEY_HEAD_SKETCH"]
        if setting == "0" { return false }
        let share = Double(head.outFeatures * head.rowBytes) / Double(max(1, weightBytes))
        return (setting == "1" || share >= 0.4)
            && head.outFeatures >= 8192 && head.inFeatures % 32 == 0
            && Double(head.rowBytes) / Double(head.inFeatures) > 18.0 / 32.0
    }

    init(head: Linear) {
        self.head = head
        let n = head.inFeatures, rows = head.outFeatures
        let rowBytes = Int(pk_row_bytes(PK_Q4_0, Int64(n)))
        storage = allocateWeightBuffer(byteCount: rows * rowBytes)
        let source = head.data, sourceRowBytes = head.rowBytes, type = head.type
        let destination = storage
        // The sketch is row-interleaved for the fast kernels when its shape allows (16-row groups).
        let interleaved = InterleavedWeights(file: nil).enabled && pk_interleavable(PK_Q4_0, Int64(n), Int64(rows)) != 0
        let group = interleaved ? 16 : 1
        // Rows in slices of whole groups across cores; each slice's source pages are released from this process
        // once converted, so the full-precision head is never resident all at once (peak memory stays that of
        // the sketch).
        let groups = rows / group
        let slices = max(1, rows / 4096)
        DispatchQueue.concurrentPerform(iterations: slices) { s in
            let begin = groups * s / slices * group, end = groups * (s + 1) / slices * group
            let floats = UnsafeMutablePointer<Float>.allocate(capacity: n)
            let staged = UnsafeMutableRawPointer.allocate(byteCount: group * rowBytes, alignment: 64)
            defer { floats.deallocate(); staged.deallocate() }
            for first in stride(from: begin, to: end, by: group) {
                for r in 0..<group {
                    pk_dequantize_row(type, source + (first + r) * sourceRowBytes, floats, Int64(n))
                    pk_quantize_weights_q4_0(floats, interleaved ? staged + r * rowBytes : destination + (first + r) * rowBytes,
                                             Int64(n))
                }
                if interleaved {
                    pk_interleave_weights(PK_Q4_0, Int64(n), staged, rowBytes, Int64(group), destination + first * rowBytes)
                }
            }
            releasePages(source + begin * sourceRowBytes, byteCount: (end - begin) * sourceRowBytes)
        }
        sketch = Linear(name: head.name + " (4-bit sketch)", type: PK_Q4_0, inFeatures: n, outFeatures: rows,
                        data: UnsafeRawPointer(storage), rowBytes: rowBytes, interleaved: interleaved)
    }

    deinit { storage.deallocate() }

    /// How many rows to rescore exactly for a sampler that picks among the `needed` most likely tokens.
    static func candidates(forNeeded needed: Int) -> Int {
        // A greedy pick needs the sketch's rank of the best token to be within the margin; a top-k draw needs its
        // k-th token too, which in a flat tail of near-equal logits the sketch ranks far less precisely.
        needed <= 1 ? minimumCandidates : min(maximumCandidates, 4 * needed + minimumCandidates)
    }

    /// Logit rows for `rows` normalised activations: exact for each row's best candidates, -∞ elsewhere.
    ///
    /// Each row checks its own selection: rescoring shows how far the sketch was off on the candidates, and a
    /// token left out scored at most the weakest candidate's sketch value. Unless the `needed`-th best exact
    /// logit clears that by twice the largest error seen, the row falls back to the exact head.
    func logits(_ normed: UnsafePointer<Float>, rows: Int, needed: UnsafeMutablePointer<Int>, into out: FloatPointer,
                workspace: Workspace) {
        let vocab = head.outFeatures, d = head.inFeatures
        sketch.apply(normed, count: rows, into: out, outStride: vocab, workspace: workspace)
        // The sketch's products left each row quantized for Q4_0 (Q8_0); the head may need another format.
        let sharedFormat = sketch.activationType == head.activationType
        let sketchStride = Int(pk_row_bytes(sketch.activationType, Int64(d)))
        let headStride = Int(pk_row_bytes(head.activationType, Int64(d)))
        let quantized = workspace.quantizedActivations
        let scratch = workspace.candidateScratch
        let perRow = HeadSketch.maximumCandidates
        let head = self.head
        workspace.pool.parallelFor(rows) { range in
            for j in range {
                let row = out + j * vocab
                let want = max(1, needed[j])
                let k = Int32(min(HeadSketch.candidates(forNeeded: want), vocab))
                let ids = scratch.ids + j * perRow
                let values = scratch.values + j * perRow
                let count = Int(pk_top_k(row, Int64(vocab), k, values, ids))
                let activation: UnsafeRawPointer
                if sharedFormat {
                    activation = UnsafeRawPointer(quantized + j * sketchStride)
                } else {
                    let own = scratch.activations + j * headStride
                    pk_quantize_row(head.activationType, normed + j * d, own, Int64(d))
                    activation = UnsafeRawPointer(own)
                }
                var weakest = Float.infinity, error: Float = 0
                for i in 0..<count {
                    let approximate = values[i]
                    let exact = pk_vec_dot(head.type, Int64(d), head.data + Int(ids[i]) * head.rowBytes, activation)
                    weakest = min(weakest, approximate)
                    error = max(error, abs(exact - approximate))
                    values[i] = exact
                }
                // The want-th best exact value among the candidates.
                var threshold = -Float.infinity
                if count >= want {
                    threshold = HeadSketch.kthLargest(values, count: count, k: want)
                }
                if count < vocab && !(threshold > weakest + 2 * error) {
                    needed[j] = -1  // recomputed exactly below, with every thread
                    continue
                }
                row.update(repeating: -Float.infinity, count: vocab)
                for i in 0..<count { row[Int(ids[i])] = values[i] }
            }
        }
        for j in 0..<rows where needed[j] < 0 {
            fallbackCount.add(1, ordering: .relaxed)
            exactRow(normed + j * d, into: out + j * vocab, workspace: workspace)
        }
    }

    /// One exact logit row, the head streamed through in slices that are released from the process as soon as
    /// they are used: a fallback costs time (the pages come back from the page cache), not resident memory.
    private func exactRow(_ x: UnsafePointer<Float>, into out: FloatPointer, workspace: Workspace) {
        let sliceRows = max(1, (8 << 20) / head.rowBytes)
        var first = 0
        while first < head.outFeatures {
            let count = min(sliceRows, head.outFeatures - first)
            let slice = Linear(name: head.name, type: head.type, inFeatures: head.inFeatures, outFeatures: count,
                               data: head.data + first * head.rowBytes, rowBytes: head.rowBytes)
            slice.apply(x, count: 1, into: out + first, outStride: head.outFeatures, workspace: workspace)
            releasePages(head.data + first * head.rowBytes, byteCount: count * head.rowBytes)
            first += count
        }
    }

    /// Rows that fell back to the exact head so far (for benchmarks and tests).
    let fallbackCount = Atomic<Int>(0)

    /// The k-th largest of `count` values (k ≤ count), without allocating: k is small.
    static func kthLargest(_ values: UnsafePointer<Float>, count: Int, k: Int) -> Float {
        var bound = Float.infinity
        var result = -Float.infinity
        // k passes, each finding the largest value below the previous one (ties counted by multiplicity).
        var taken = 0
        while taken < k {
            var best = -Float.infinity, multiplicity = 0
            for i in 0..<count where values[i] < bound {
                if values[i] > best { best = values[i]; multiplicity = 1 } else if values[i] == best { multiplicity += 1 }
            }
            if multiplicity == 0 { return -Float.infinity }
            result = best
            taken += multiplicity
            bound = best
        }
        return result
    }
}

/// Drops the process's resident copies of a read-only file mapping's pages (whole pages inside the range); a
/// later read faults them back in from the page cache.
func releasePages(_ start: UnsafeRawPointer, byteCount: Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let first = (Int(bitPattern: start) + page - 1) / page * page
    let last = (Int(bitPattern: start) + byteCount) / page * page
    guard last > first else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_DONTNEED)
}
