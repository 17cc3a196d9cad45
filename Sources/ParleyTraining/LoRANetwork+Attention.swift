import Foundation

extension LoRANetwork {
    /// Causal attention of every sequence of the batch over itself: per head, S = scale·Q·Kᵀ masked to earlier
    /// positions (and to the layer's sliding window), P = softmax(S), O = P·V. Query head h reads KV head
    /// h / (heads / kvHeads). P is kept for the backward pass.
    func attentionForward(layer: FrozenLayer, layout: BatchLayout, tape: LayerTape) {
        let hp = base.hyperparameters
        let hd = hp.headDim, qLen = hp.queryLength, kvLen = hp.kvLength, group = hp.headCount / hp.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let window = layer.attention.window ?? Int.max
        for (s, start) in layout.starts.enumerated() {
            let length = layout.lengths[s]
            for h in 0..<hp.headCount {
                let p = tape.probabilities.pointer + tape.probabilityOffsets[s] + h * length * length
                let q = tape.query.pointer + start * qLen + h * hd
                let k = tape.key.pointer + start * kvLen + (h / group) * hd
                let v = tape.value.pointer + start * kvLen + (h / group) * hd
                gemm(transposeB: true, m: length, n: length, k: hd, alpha: scale, q, lda: qLen, k, ldb: kvLen, beta: 0, p,
                     ldc: length)
                for i in 0..<length {
                    let row = p + i * length
                    let first = window == Int.max ? 0 : max(0, i - window + 1)
                    var maxScore = -Float.infinity
                    for j in first...i where row[j] > maxScore { maxScore = row[j] }
                    var sum: Float = 0
                    for j in 0..<length {
                        let e: Float = j >= first && j <= i ? Foundation.exp(row[j] - maxScore) : 0
                        row[j] = e
                        sum += e
                    }
                    let inverse = 1 / sum
                    for j in first...i { row[j] *= inverse }
                }
                gemm(m: length, n: hd, k: length, p, lda: length, v, ldb: kvLen, beta: 0,
                     tape.attended.pointer + start * qLen + h * hd, ldc: qLen)
            }
        }
    }

    /// dQ, dK, dV (into scratch.query/key/value, before undoing RoPE) from dO:
    ///   dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = scale·dS·K, dK += scale·dSᵀ·Q.
    func attentionBackward(layer: FrozenLayer, layout: BatchLayout, tape: LayerTape, gradAttended: Matrix,
                           scratch g: LayerGradients) {
        let hp = base.hyperparameters
        let hd = hp.headDim, qLen = hp.queryLength, kvLen = hp.kvLength, group = hp.headCount / hp.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        g.key.zero()
        g.value.zero()
        let dP = g.scores.pointer
        for (s, start) in layout.starts.enumerated() {
            let length = layout.lengths[s]
            for h in 0..<hp.headCount {
                let p = tape.probabilities.pointer + tape.probabilityOffsets[s] + h * length * length
                let q = tape.query.pointer + start * qLen + h * hd
                let k = tape.key.pointer + start * kvLen + (h / group) * hd
                let v = tape.value.pointer + start * kvLen + (h / group) * hd
                let dO = gradAttended.pointer + start * qLen + h * hd
                let dQ = g.query.pointer + start * qLen + h * hd
                let dK = g.key.pointer + start * kvLen + (h / group) * hd
                let dV = g.value.pointer + start * kvLen + (h / group) * hd
                gemm(transposeB: true, m: length, n: length, k: hd, dO, lda: qLen, v, ldb: kvLen, beta: 0, dP, ldc: length)
                gemm(transposeA: true, m: length, n: hd, k: length, p, lda: length, dO, ldb: qLen, beta: 1, dV, ldc: kvLen)
                for i in 0..<length {
                    let pRow = p + i * length, dRow = dP + i * length
                    var rowDot: Float = 0
                    for j in 0...i { rowDot += pRow[j] * dRow[j] }
                    for j in 0..<length { dRow[j] = pRow[j] * (dRow[j] - rowDot) }
                }
                gemm(m: length, n: hd, k: length, alpha: scale, dP, lda: length, k, ldb: kvLen, beta: 0, dQ, ldc: qLen)
                gemm(transposeA: true, m: length, n: hd, k: length, alpha: scale, dP, lda: length, q, ldb: qLen, beta: 1, dK,
                     ldc: kvLen)
            }
        }
    }

    /// Final RMSNorm, tied head and cross-entropy: returns the summed loss of the targets and writes
    /// gradientScale·dL/d(final hidden) into `gradHidden`. The head runs in chunks of rows so the logits never
    /// need more than a few megabytes.
    func headBackward(_ hidden: Matrix, layout: BatchLayout, gradientScale: Float, into gradHidden: Matrix) -> Double {
        let hp = base.hyperparameters
        let n = layout.rows, d = hp.embeddingLength, vocab = hp.vocabularySize
        let rstd = Matrix(n, 1), normed = Matrix(n, d), gradNormed = Matrix(n, d)
        rmsNormForward(hidden.pointer, weight: base.outputNorm, rows: n, width: d, eps: hp.rmsEpsilon, into: normed.pointer,
                       rstd: rstd.pointer)
        let chunk = 32
        let logits = Matrix(chunk, vocab)
        var lossSum: Double = 0
        for first in stride(from: 0, to: n, by: chunk) {
            let rows = min(chunk, n - first)
            guard layout.targets[first..<(first + rows)].contains(where: { $0 != nil }) else { continue }
            gemm(transposeB: true, m: rows, n: vocab, k: d, normed[row: first], lda: d, base.head.pointer, ldb: d, beta: 0,
                 logits.pointer, ldc: vocab)
            for r in 0..<rows {
                let row = logits[row: r]
                guard let target = layout.targets[first + r] else {
                    row.update(repeating: 0, count: vocab)
                    continue
                }
                var maxLogit = -Float.infinity
                for j in 0..<vocab where row[j] > maxLogit { maxLogit = row[j] }
                var sum: Double = 0
                for j in 0..<vocab { sum += Double(Foundation.exp(row[j] - maxLogit)) }
                let logZ = Double(maxLogit) + Foundation.log(sum)
                lossSum += logZ - Double(row[Int(target)])
                let logZf = Float(logZ)
                for j in 0..<vocab { row[j] = Foundation.exp(row[j] - logZf) * gradientScale }
                row[Int(target)] -= gradientScale
            }
            gemm(m: rows, n: d, k: vocab, logits.pointer, lda: vocab, base.head.pointer, ldb: d, beta: 0, gradNormed[row: first],
                 ldc: d)
        }
        rmsNormBackward(hidden.pointer, weight: base.outputNorm, rstd: rstd.pointer, gradOut: gradNormed.pointer, rows: n,
                        width: d, into: gradHidden.pointer, accumulate: false)
        return lossSum
    }
}
