extension LoRAAdapter {
    /// out[t] += scale·B·(A·x[t]) for `count` rows of x (`inFeatures` apart) into out (`outStride` apart): the
    /// adapter's share of one projection, added after the quantized base product. The rank-sized intermediate
    /// lives on the stack, so decoding allocates nothing.
    func apply(layer: Int, _ target: LoRATarget, input x: UnsafePointer<Float>, count: Int, into out: FloatPointer,
               outStride: Int, workspace: Workspace) {
        guard let w = weights(layer: layer, target) else { return }
        let scale = self.scale(rank: w.rank)
        let rank = w.rank, inFeatures = w.inFeatures, outFeatures = w.outFeatures
        w.a.withUnsafeBufferPointer { a in
            w.b.withUnsafeBufferPointer { b in
                workspace.forEachToken(count) { t in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: rank) { u in
                        let row = x + t * inFeatures
                        for r in 0..<rank { u[r] = scale * dot(a.baseAddress! + r * inFeatures, row, inFeatures) }
                        let o = out + t * outStride
                        for i in 0..<outFeatures { o[i] += dot(b.baseAddress! + i * rank, u.baseAddress!, rank) }
                    }
                }
            }
        }
    }
}

/// The adapters' share of one projection for a batch: each row gets its sequence's adapter (`SequenceCache.adapter`,
/// chosen per request by the server) or else the model's own (`Model(path:adapter:)`). A batch whose sequences
/// name no adapter takes the model's path unchanged.
func applyAdapters(_ modelAdapter: LoRAAdapter?, _ batch: UnsafeBufferPointer<BatchEntry>, layer: Int, _ target: LoRATarget,
                   input x: UnsafePointer<Float>, count: Int, into out: FloatPointer, outStride: Int, workspace: Workspace) {
    guard batch.contains(where: { $0.sequence.adapter != nil }) else {
        modelAdapter?.apply(layer: layer, target, input: x, count: count, into: out, outStride: outStride, workspace: workspace)
        return
    }
    // Runs of consecutive rows with the same adapter, one call each.
    var first = 0
    while first < count {
        let adapter = batch[first].sequence.adapter ?? modelAdapter
        var end = first + 1
        while end < count, (batch[end].sequence.adapter ?? modelAdapter) === adapter { end += 1 }
        if let adapter, let w = adapter.weights(layer: layer, target) {
            adapter.apply(layer: layer, target, input: x + first * w.inFeatures, count: end - first, into: out + first * outStride,
                          outStride: outStride, workspace: workspace)
        }
        first = end
    }
}
