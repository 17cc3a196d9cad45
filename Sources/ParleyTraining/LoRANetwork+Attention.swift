import CParleyKernels
import Foundation

extension LoRANetwork {
    /// Query rows are processed in blocks of this many: a block only needs the keys up to its last row, so the
    /// causal mask skips about a third of the products.
    static let attentionBlock = 64

    /// Causal attention of every sequence of the batch over itself: per head, S = scale·Q·Kᵀ masked to earlier
    /// positions (and to the layer's sliding window), P = softmax(S), O = P·V. Query head h reads KV head
    /// h / (heads / kvHeads). P is kept for the backward pass (zero where masked). Heads run in parallel.
    func attentionForward(layer: FrozenLayer, layout: BatchLayout, tape: LayerTape) {
        let hp = base.hyperparameters
        let hd = hp.headDim, qLen = hp.queryLength, kvLen = hp.kvLength, heads = hp.headCount
        let group = hp.headCount / hp.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let window = layer.attention.window ?? Int.max
        let block = Self.attentionBlock
        context.pool.run(chunks: layout.starts.count * heads) { chunk, _ in
            let s = chunk / heads, h = chunk % heads
            let start = layout.starts[s], length = layout.lengths[s]
            let p = tape.probabilities.pointer + tape.probabilityOffsets[s] + h * length * length
            let q = tape.query.pointer + start * qLen + h * hd
            let k = tape.key.pointer + start * kvLen + (h / group) * hd
            let v = tape.value.pointer + start * kvLen + (h / group) * hd
            let o = tape.attended.pointer + start * qLen + h * hd
            for i0 in stride(from: 0, to: length, by: block) {
                let i1 = min(length, i0 + block)
                gemm(transposeB: true, m: i1 - i0, n: i1, k: hd, alpha: scale, q + i0 * qLen, lda: qLen, k, ldb: kvLen,
                     beta: 0, p + i0 * length, ldc: length)
                for i in i0..<i1 {
                    let row = p + i * length
                    let first = window == Int.max ? 0 : max(0, i - window + 1)
                    let count = i - first + 1
                    let maxScore = pk_train_max(row + first, Int64(count))
                    let sum = pk_train_exp_shift_sum(row + first, Int64(count), maxScore)
                    pk_train_scale(row + first, Int64(count), 1 / sum)
                    if first > 0 { row.update(repeating: 0, count: first) }
                    if i + 1 < length { (row + i + 1).update(repeating: 0, count: length - i - 1) }
                }
                gemm(m: i1 - i0, n: hd, k: i1, p + i0 * length, lda: length, v, ldb: kvLen, beta: 0, o + i0 * qLen, ldc: qLen)
            }
        }
    }

    /// dQ, dK, dV (into scratch.query/key/value, before undoing RoPE) from dO:
    ///   dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = scale·dS·K, dK += scale·dSᵀ·Q.
    /// Runs one task per (sequence, KV head), so the query heads that add into one dK/dV run on one thread.
    func attentionBackward(layer: FrozenLayer, layout: BatchLayout, tape: LayerTape, gradAttended: Matrix,
                           scratch g: LayerGradients) {
        let hp = base.hyperparameters
        let hd = hp.headDim, qLen = hp.queryLength, kvLen = hp.kvLength, kvHeads = hp.kvHeadCount
        let group = hp.headCount / hp.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let block = Self.attentionBlock
        g.key.zero()
        g.value.zero()
        let scoresPerThread = g.scores.count / context.pool.threadCount
        context.pool.run(chunks: layout.starts.count * kvHeads) { chunk, thread in
            let s = chunk / kvHeads, kvHead = chunk % kvHeads
            let start = layout.starts[s], length = layout.lengths[s]
            let dP = g.scores.pointer + thread * scoresPerThread
            let k = tape.key.pointer + start * kvLen + kvHead * hd
            let v = tape.value.pointer + start * kvLen + kvHead * hd
            let dK = g.key.pointer + start * kvLen + kvHead * hd
            let dV = g.value.pointer + start * kvLen + kvHead * hd
            for h in (kvHead * group)..<((kvHead + 1) * group) {
                let p = tape.probabilities.pointer + tape.probabilityOffsets[s] + h * length * length
                let q = tape.query.pointer + start * qLen + h * hd
                let dO = gradAttended.pointer + start * qLen + h * hd
                let dQ = g.query.pointer + start * qLen + h * hd
                for i0 in stride(from: 0, to: length, by: block) {
                    let i1 = min(length, i0 + block)
                    gemm(transposeB: true, m: i1 - i0, n: i1, k: hd, dO + i0 * qLen, lda: qLen, v, ldb: kvLen, beta: 0,
                         dP + i0 * length, ldc: length)
                    for i in i0..<i1 {
                        let pRow = p + i * length, dRow = dP + i * length
                        var rowDot: Float = 0
                        for j in 0...i { rowDot += pRow[j] * dRow[j] }
                        for j in 0...i { dRow[j] = pRow[j] * (dRow[j] - rowDot) }
                        if i + 1 < length { (dRow + i + 1).update(repeating: 0, count: length - i - 1) }
                    }
                    gemm(m: i1 - i0, n: hd, k: i1, alpha: scale, dP + i0 * length, lda: length, k, ldb: kvLen, beta: 0,
                         dQ + i0 * qLen, ldc: qLen)
                }
                gemm(transposeA: true, m: length, n: hd, k: length, p, lda: length, dO, ldb: qLen, beta: 1, dV, ldc: kvLen)
                gemm(transposeA: true, m: length, n: hd, k: length, alpha: scale, dP, lda: length, q, ldb: qLen, beta: 1, dK,
                     ldc: kvLen)
            }
        }
    }

    /// Final RMSNorm, tied head and cross-entropy: returns the summed loss of the targets and writes
    /// gradientScale·dL/d(final hidden) into `gradHidden`. The head runs in chunks of rows so the logits never
    /// need more than a few tens of megabytes.
    func headBackward(_ hidden: Matrix, layout: BatchLayout, gradientScale: Float, into gradHidden: Matrix,
                      rowLosses: UnsafeMutablePointer<Float>? = nil) -> Double {
        let hp = base.hyperparameters
        let n = layout.rows, d = hp.embeddingLength, vocab = hp.vocabularySize
        let rstd = Matrix(n, 1), normed = Matrix(n, d), gradNormed = Matrix(n, d)
        rmsNormForward(hidden.pointer, weight: base.outputNorm, rows: n, width: d, eps: hp.rmsEpsilon, into: normed.pointer,
                       rstd: rstd.pointer)
        let chunk = 128
        let logits = Matrix(chunk, vocab)
        let losses = Matrix(chunk, 1)
        var lossSum: Double = 0
        for first in stride(from: 0, to: n, by: chunk) {
            let rows = min(chunk, n - first)
            guard layout.targets[first..<(first + rows)].contains(where: { $0 != nil }) else { continue }
            base.head.forward(normed[row: first], xStride: d, count: rows, into: logits.pointer, yStride: vocab, context: context)
            context.pool.parallelFor(rows) { range in
                for r in range {
                    let row = logits[row: r]
                    guard let target = layout.targets[first + r] else {
                        row.update(repeating: 0, count: vocab)
                        losses.pointer[r] = 0
                        continue
                    }
                    let maxLogit = pk_train_max(row, Int64(vocab))
                    let targetLogit = row[Int(target)]
                    let sum = pk_train_exp_shift_sum(row, Int64(vocab), maxLogit)
                    losses.pointer[r] = maxLogit + Foundation.log(sum) - targetLogit
                    pk_train_scale(row, Int64(vocab), gradientScale / sum)
                    row[Int(target)] -= gradientScale
                }
            }
            for r in 0..<rows { lossSum += Double(losses.pointer[r]) }
            rowLosses?.advanced(by: first).update(from: losses.pointer, count: rows)
            gradNormed[row: first].update(repeating: 0, count: rows * d)
            if gradientScale != 0 {
                base.head.backward(logits.pointer, dyStride: vocab, count: rows, into: gradNormed[row: first], context: context)
            }
        }
        rmsNormBackward(hidden.pointer, weight: base.outputNorm, rstd: rstd.pointer, gradOut: gradNormed.pointer, rows: n,
                        width: d, into: gradHidden.pointer, accumulate: false)
        return lossSum
    }
}
