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
