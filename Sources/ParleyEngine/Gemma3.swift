import ParleyGGUF

// Gemma 3 text decoder, after llama.cpp's src/models/gemma3.cpp and HF's modeling_gemma3:
//   x = embed(token) · √d
//   per layer: a = Wo·attn(rope(qnorm(Wq·n)) / √headDim, rope(knorm(Wk·n)), Wv·n)   with n = rmsnorm(x)·attn_norm
//              h = x + rmsnorm(a)·post_attention_norm
//              f = Wdown·(gelu_tanh(Wgate·m) ⊙ Wup·m)                          with m = rmsnorm(h)·ffn_norm
//              x = h + rmsnorm(f)·post_ffw_norm
//   logits = token_embd·(rmsnorm(x)·output_norm)
// Five of every six layers attend within a sliding window and rotate with base 10 000; every sixth layer is
// global and uses `rope.freq_base`. RoPE is NeoX-style. The converter already added 1 to every norm weight
// (Gemma's RMSNorm scales by 1+w), so norms here are plain x·w. No final logit soft-capping in Gemma 3.

final class Gemma3Model: LanguageModel, SketchedHead, @unchecked Sendable {
    struct Layer {
        let attentionNorm: [Float]  // [d]
        let query: Linear  // d → heads·headDim
        let key: Linear  // d → kvHeads·headDim
        let value: Linear  // d → kvHeads·headDim
        let queryNorm: [Float]  // [headDim]
        let keyNorm: [Float]  // [headDim]
        let output: Linear  // heads·headDim → d
        let postAttentionNorm: [Float]  // [d]
        let ffnNorm: [Float]  // [d]
        let gate: Linear  // d → ff
        let up: Linear  // d → ff
        let down: Linear  // ff → d
        let postFFNNorm: [Float]  // [d]
        /// nil for global layers.
        let window: Int?
        /// 0: the local (sliding-window) rotary base, 1: the global one.
        let ropeIndex: Int
    }

    let hyperparameters: Hyperparameters
    /// Low-rank updates added to the projections, when an adapter is applied.
    let adapter: LoRAAdapter?
    let file: GGUFFile
    let tokenEmbedding: Linear
    let layers: [Layer]
    let outputNorm: [Float]
    let head: Linear
    let headSketch: HeadSketch?
    /// Owns the interleaved copies of the weights above.
    let interleavedWeights: InterleavedWeights
    let embeddingScale: Float
    /// Rotary angles for local and global layers.
    let ropes: [RoPETable]

    init(file: GGUFFile, adapter: LoRAAdapter? = nil) throws {
        let hp = try Hyperparameters(file, architecture: "gemma3")
        try adapter?.validate(for: hp)
        self.adapter = adapter
        let d = hp.embeddingLength, hd = hp.headDim
        hyperparameters = hp
        self.file = file
        let attention = LayerAttention.layers(of: file, hyperparameters: hp)
        let repacked = InterleavedWeights(file: file)
        interleavedWeights = repacked
        let embedding = try Linear(file, "token_embd.weight", inFeatures: d, outFeatures: hp.vocabularySize)
        func matrix(_ name: String, _ inFeatures: Int, _ outFeatures: Int) throws -> Linear {
            repacked.interleave(try Linear(file, name, inFeatures: inFeatures, outFeatures: outFeatures))
        }
        layers = try (0..<hp.blockCount).map { i in
            let p = "blk.\(i)."
            return Layer(
                attentionNorm: try loadVector(file, p + "attn_norm.weight", count: d),
                query: try matrix(p + "attn_q.weight", d, hp.queryLength),
                key: try matrix(p + "attn_k.weight", d, hp.kvLength),
                value: try matrix(p + "attn_v.weight", d, hp.kvLength),
                queryNorm: try loadVector(file, p + "attn_q_norm.weight", count: hd),
                keyNorm: try loadVector(file, p + "attn_k_norm.weight", count: hd),
                output: try matrix(p + "attn_output.weight", hp.queryLength, d),
                postAttentionNorm: try loadVector(file, p + "post_attention_norm.weight", count: d),
                ffnNorm: try loadVector(file, p + "ffn_norm.weight", count: d),
                gate: try matrix(p + "ffn_gate.weight", d, hp.feedForwardLength),
                up: try matrix(p + "ffn_up.weight", d, hp.feedForwardLength),
                down: try matrix(p + "ffn_down.weight", hp.feedForwardLength, d),
                postFFNNorm: try loadVector(file, p + "post_ffw_norm.weight", count: d),
                window: attention[i].window,
                ropeIndex: attention[i].isGlobal ? 1 : 0)
        }
        outputNorm = try loadVector(file, "output_norm.weight", count: d)
        let tied = file.tensor(named: "output.weight") == nil
        let fileHead = tied ? embedding : try Linear(file, "output.weight", inFeatures: d, outFeatures: hp.vocabularySize)
        headSketch = HeadSketch.worthwhile(for: fileHead, weightBytes: file.fileSize - file.dataOffset)
            ? HeadSketch(head: fileHead) : nil
        // The sketch rescoring reads the exact head row by row in the file layout; otherwise the head is interleaved
        // (and, when tied, the embedding look-up reads the same copy).
        head = headSketch == nil ? repacked.interleave(fileHead) : fileHead
        tokenEmbedding = tied ? head : embedding
        embeddingScale = Float(d).squareRoot()
        ropes = [RoPETable(base: LayerAttention.gemma3LocalRoPEBase, ropeDims: hp.ropeDimensions),
                 RoPETable(base: hp.ropeBase, ropeDims: hp.ropeDimensions)]
    }

    func forward(_ batch: UnsafeBufferPointer<BatchEntry>, workspace ws: Workspace) {
        let hp = hyperparameters
        let n = batch.count, d = hp.embeddingLength, hd = hp.headDim
        let qLen = hp.queryLength, kvLen = hp.kvLength, ff = hp.feedForwardLength
        let queryScale = 1 / Float(hd).squareRoot()
        for (i, rope) in ropes.enumerated() { rope.fill(ws.ropeTable(i), batch: batch) }

        for (t, entry) in batch.enumerated() {
            tokenEmbedding.dequantizeRow(Int(entry.token), into: ws.hidden + t * d)
            scaleInPlace(ws.hidden + t * d, by: embeddingScale, count: d)
        }
        for (l, layer) in layers.enumerated() {
            // Attention block with QK-norm and post-norm.
            rmsNormRows(ws.hidden, weight: layer.attentionNorm, count: n, width: d, eps: hp.rmsEpsilon, into: ws.normed,
                        workspace: ws)
            project(ws.normed, count: n, Projection(layer.query, ws.query, qLen), Projection(layer.key, ws.key, kvLen),
                    Projection(layer.value, ws.value, kvLen), workspace: ws)
            applyAdapters(adapter, batch, layer: l, .query, input: ws.normed, count: n, into: ws.query, outStride: qLen, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .key, input: ws.normed, count: n, into: ws.key, outStride: kvLen, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .value, input: ws.normed, count: n, into: ws.value, outStride: kvLen, workspace: ws)
            let ropeTable = ws.ropeTable(layer.ropeIndex)
            layer.queryNorm.withUnsafeBufferPointer { qNorm in
                layer.keyNorm.withUnsafeBufferPointer { kNorm in
                    ws.forEachToken(n) { t in
                        let q = ws.query + t * qLen, k = ws.key + t * kvLen
                        for h in 0..<hp.headCount {
                            rmsNorm(q + h * hd, weight: qNorm.baseAddress!, eps: hp.rmsEpsilon, count: hd, into: q + h * hd)
                        }
                        for h in 0..<hp.kvHeadCount {
                            rmsNorm(k + h * hd, weight: kNorm.baseAddress!, eps: hp.rmsEpsilon, count: hd, into: k + h * hd)
                        }
                        let angles = ropeTable + t * hp.ropeDimensions
                        applyRoPE(q, heads: hp.headCount, headDim: hd, ropeDims: hp.ropeDimensions, table: angles, style: .neox)
                        applyRoPE(k, heads: hp.kvHeadCount, headDim: hd, ropeDims: hp.ropeDimensions, table: angles,
                                  style: .neox)
                    }
                }
            }
            storeKeyValues(layer: l, batch: batch, keys: ws.key, values: ws.value, kvLength: kvLen)
            attend(layer: l, batch: batch, queries: ws.query, into: ws.attentionOut, hyper: hp, scale: queryScale,
                   window: layer.window, workspace: ws)
            layer.output.apply(ws.attentionOut, count: n, into: ws.scratch, outStride: d, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .output, input: ws.attentionOut, count: n, into: ws.scratch, outStride: d, workspace: ws)
            layer.postAttentionNorm.withUnsafeBufferPointer { w in
                ws.forEachToken(n) { t in
                    rmsNorm(ws.scratch + t * d, weight: w.baseAddress!, eps: hp.rmsEpsilon, count: d, into: ws.scratch + t * d)
                    addInPlace(ws.hidden + t * d, ws.scratch + t * d, count: d)
                }
            }

            // GeGLU feed-forward block with post-norm.
            rmsNormRows(ws.hidden, weight: layer.ffnNorm, count: n, width: d, eps: hp.rmsEpsilon, into: ws.normed,
                        workspace: ws)
            project(ws.normed, count: n, Projection(layer.gate, ws.gate, ff), Projection(layer.up, ws.up, ff), workspace: ws)
            applyAdapters(adapter, batch, layer: l, .gate, input: ws.normed, count: n, into: ws.gate, outStride: ff, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .up, input: ws.normed, count: n, into: ws.up, outStride: ff, workspace: ws)
            ws.forEachToken(n) { t in geluGate(ws.gate + t * ff, ws.up + t * ff, count: ff) }
            layer.down.apply(ws.gate, count: n, into: ws.scratch, outStride: d, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .down, input: ws.gate, count: n, into: ws.scratch, outStride: d, workspace: ws)
            layer.postFFNNorm.withUnsafeBufferPointer { w in
                ws.forEachToken(n) { t in
                    rmsNorm(ws.scratch + t * d, weight: w.baseAddress!, eps: hp.rmsEpsilon, count: d, into: ws.scratch + t * d)
                    addInPlace(ws.hidden + t * d, ws.scratch + t * d, count: d)
                }
            }
        }
        advanceSequences(batch)
        computeLogits(batch: batch, hidden: ws.hidden, outputNorm: outputNorm, head: head, sketch: headSketch, workspace: ws)
    }
}
