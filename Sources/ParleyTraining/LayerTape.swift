import ParleyEngine

/// Everything one layer's forward keeps for its backward, for one micro-batch of `rows` rows. A step reuses
/// one tape for every layer: activations are checkpointed at layer inputs and recomputed layer by layer in
/// the backward pass, so memory holds one layer's activations, not all of them.
final class LayerTape {
    let normedRstd: Matrix  // [rows][1]
    let normed: Matrix  // [rows][d]: attention input
    let queryRaw: Matrix  // [rows][qLen]: projected, before QK-norm and RoPE
    let keyRaw: Matrix  // [rows][kvLen]
    let queryHeadRstd: Matrix  // [rows][heads]
    let keyHeadRstd: Matrix  // [rows][kvHeads]
    let query: Matrix  // [rows][qLen]: as attention reads it
    let key: Matrix  // [rows][kvLen]
    let value: Matrix  // [rows][kvLen]
    /// Softmax probabilities: per sequence s, per head h, a [length][length] block.
    let probabilities: Matrix
    let probabilityOffsets: [Int]
    let attended: Matrix  // [rows][qLen]
    let attentionOut: Matrix  // [rows][d]: after Wo, before the post-norm
    let attentionOutRstd: Matrix  // [rows][1]
    let residual: Matrix  // [rows][d]: x + attention
    let ffnRstd: Matrix  // [rows][1]
    let ffnNormed: Matrix  // [rows][d]
    let gate: Matrix  // [rows][ff]
    let up: Matrix  // [rows][ff]
    let activated: Matrix  // [rows][ff]
    let ffnOut: Matrix  // [rows][d]: after Wdown, before the post-norm
    let ffnOutRstd: Matrix  // [rows][1]
    let projections: [LoRATarget: ProjectionTape]

    init(layout: BatchLayout, hyper hp: Hyperparameters, rank: Int, targets: Set<LoRATarget>, dropout: Bool) {
        let n = layout.rows, d = hp.embeddingLength, ff = hp.feedForwardLength
        normedRstd = Matrix(n, 1)
        normed = Matrix(n, d)
        queryRaw = Matrix(n, hp.queryLength)
        keyRaw = Matrix(n, hp.kvLength)
        queryHeadRstd = Matrix(n, hp.headCount)
        keyHeadRstd = Matrix(n, hp.kvHeadCount)
        query = Matrix(n, hp.queryLength)
        key = Matrix(n, hp.kvLength)
        value = Matrix(n, hp.kvLength)
        var offsets: [Int] = [], total = 0
        for length in layout.lengths {
            offsets.append(total)
            total += hp.headCount * length * length
        }
        probabilities = Matrix(1, total)
        probabilityOffsets = offsets
        attended = Matrix(n, hp.queryLength)
        attentionOut = Matrix(n, d)
        attentionOutRstd = Matrix(n, 1)
        residual = Matrix(n, d)
        ffnRstd = Matrix(n, 1)
        ffnNormed = Matrix(n, d)
        gate = Matrix(n, ff)
        up = Matrix(n, ff)
        activated = Matrix(n, ff)
        ffnOut = Matrix(n, d)
        ffnOutRstd = Matrix(n, 1)
        var projections: [LoRATarget: ProjectionTape] = [:]
        for target in targets {
            projections[target] = ProjectionTape(rows: n, inFeatures: target.shape(hp).inFeatures, rank: rank, dropout: dropout)
        }
        self.projections = projections
    }
}

/// Gradient buffers of one layer's backward, reused across layers.
final class LayerGradients {
    let residual: Matrix  // [rows][d]: dL/d(x + attention)
    let branch: Matrix  // [rows][d]: dL/d(attention or MLP output before its post-norm)
    let activated: Matrix  // [rows][ff]
    let gate: Matrix  // [rows][ff]
    let up: Matrix  // [rows][ff]
    let normed: Matrix  // [rows][d]: dL/d(norm output)
    let attended: Matrix  // [rows][qLen]
    let query: Matrix  // [rows][qLen]
    let key: Matrix  // [rows][kvLen]
    let value: Matrix  // [rows][kvLen]
    let scores: Matrix  // [threads × maxLength][maxLength]
    let lowRank: Matrix  // [rows][rank]

    init(layout: BatchLayout, hyper hp: Hyperparameters, rank: Int, threads: Int) {
        let n = layout.rows, d = hp.embeddingLength, ff = hp.feedForwardLength
        let longest = layout.lengths.max() ?? 0
        residual = Matrix(n, d)
        branch = Matrix(n, d)
        activated = Matrix(n, ff)
        gate = Matrix(n, ff)
        up = Matrix(n, ff)
        normed = Matrix(n, d)
        attended = Matrix(n, hp.queryLength)
        query = Matrix(n, hp.queryLength)
        key = Matrix(n, hp.kvLength)
        value = Matrix(n, hp.kvLength)
        scores = Matrix(threads * longest, longest)
        lowRank = Matrix(n, max(1, rank))
    }
}
