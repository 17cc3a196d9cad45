import ParleyTokenizer

extension Model {
    /// A text embedding: the final hidden states of `tokens` (after the output norm, before the LM head),
    /// mean-pooled over the positions and L2-normalised.
    ///
    /// Every forward pass leaves the last layer's residual stream for each batch position in `workspace.hidden`
    /// (the LM head reads it from there); this runs the tokens on a scratch sequence asking for no logits, then
    /// applies the output norm to those rows. Chunks longer than the workspace are run one after another.
    public func embedding(of tokens: [TokenID], pool: KVBlockPool, workspace: Workspace) throws -> [Float] {
        guard !tokens.isEmpty else { throw EngineError.emptyPrompt }
        let hp = hyperparameters
        let d = hp.embeddingLength
        let outputNorm = network.outputNorm
        let sequence = SequenceCache(pool: pool, capacity: tokens.count)
        var sum = [Double](repeating: 0, count: d)
        let normed = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { normed.deallocate() }
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + workspace.maxBatch)
            let batch = (start..<end).map {
                BatchEntry(token: tokens[$0], position: $0, sequence: sequence, wantsLogits: false)
            }
            try run(batch, workspace: workspace)
            try outputNorm.withUnsafeBufferPointer { w in
                for t in 0..<batch.count {
                    rmsNorm(workspace.hidden + t * d, weight: w.baseAddress!, eps: hp.rmsEpsilon, count: d, into: normed)
                    for i in 0..<d {
                        guard normed[i].isFinite else { throw EngineError.invalidMetadata(key: "embedding", reason: "non-finite hidden state") }
                        sum[i] += Double(normed[i])
                    }
                }
            }
            start = end
        }
        var mean = sum.map { $0 / Double(tokens.count) }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { mean = mean.map { $0 / norm } }
        return mean.map { Float($0) }
    }
}
