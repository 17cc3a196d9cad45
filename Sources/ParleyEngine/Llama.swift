import ParleyGGUF

// Llama-family decoder (SmolLM2, Llama 2/3, Mistral-style GQA models), after llama.cpp's src/models/llama.cpp:
//   x = embed(token)
//   per layer: h = x + Wo·attn(rope(Wq·n), rope(Wk·n), Wv·n)   with n = rmsnorm(x)·attn_norm
//              x = h + Wdown·(silu(Wgate·m) ⊙ Wup·m)           with m = rmsnorm(h)·ffn_norm
//   logits = Woutput·(rmsnorm(x)·output_norm)   (Woutput = token_embd when embeddings are tied)
// RoPE is the "normal" (adjacent-pair) style: llama.cpp's converter permutes Q/K rows to match it.

final class LlamaModel: LanguageModel, SketchedHead, @unchecked Sendable {
    struct Layer {
        let attentionNorm: [Float]  // [d]
        let query: Linear  // d → heads·headDim
        let key: Linear  // d → kvHeads·headDim
        let value: Linear  // d → kvHeads·headDim
        let output: Linear  // heads·headDim → d
        let ffnNorm: [Float]  // [d]
        let gate: Linear  // d → ff
        let up: Linear  // d → ff
        let down: Linear  // ff → d
    }

    let hyperparameters: Hyperparameters
    /// Low-rank updates added to the projections, when an adapter is applied.
    let adapter: LoRAAdapter?
    let file: GGUFFile  // keeps the mapping alive for the zero-copy weights
    let tokenEmbedding: Linear  // [vocab][d]
    let layers: [Layer]
    let outputNorm: [Float]
    let head: Linear  // [vocab][d]
    let headSketch: HeadSketch?
    /// Owns the interleaved copies of the weights above.
    let interleavedWeights: InterleavedWeights
    let rope: RoPETable

    init(file: GGUFFile, adapter: LoRAAdapter? = nil) throws {
        let hp = try Hyperparameters(file, architecture: "llama")
        try adapter?.validate(for: hp)
        self.adapter = adapter
        let d = hp.embeddingLength
        hyperparameters = hp
        self.file = file
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
                output: try matrix(p + "attn_output.weight", hp.queryLength, d),
                ffnNorm: try loadVector(file, p + "ffn_norm.weight", count: d),
                gate: try matrix(p + "ffn_gate.weight", d, hp.feedForwardLength),
                up: try matrix(p + "ffn_up.weight", d, hp.feedForwardLength),
                down: try matrix(p + "ffn_down.weight", hp.feedForwardLength, d))
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
        rope = RoPETable(base: hp.ropeBase, ropeDims: hp.ropeDimensions)
    }

    func forward(_ batch: UnsafeBufferPointer<BatchEntry>, workspace ws: Workspace) {
        let hp = hyperparameters
        let n = batch.count, d = hp.embeddingLength
        let qLen = hp.queryLength, kvLen = hp.kvLength, ff = hp.feedForwardLength
        let attentionScale = 1 / Float(hp.headDim).squareRoot()
        let ropeTable = ws.ropeTable(0)
        rope.fill(ropeTable, batch: batch)

        for (t, entry) in batch.enumerated() {
            tokenEmbedding.dequantizeRow(Int(entry.token), into: ws.hidden + t * d)
        }
        for (l, layer) in layers.enumerated() {
            // Attention block.
            rmsNormRows(ws.hidden, weight: layer.attentionNorm, count: n, width: d, eps: hp.rmsEpsilon, into: ws.normed,
                        workspace: ws)
            project(ws.normed, count: n, Projection(layer.query, ws.query, qLen), Projection(layer.key, ws.key, kvLen),
                    Projection(layer.value, ws.value, kvLen), workspace: ws)
            applyAdapters(adapter, batch, layer: l, .query, input: ws.normed, count: n, into: ws.query, outStride: qLen, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .key, input: ws.normed, count: n, into: ws.key, outStride: kvLen, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .value, input: ws.normed, count: n, into: ws.value, outStride: kvLen, workspace: ws)
            ws.forEachToken(n) { t in
                let angles = ropeTable + t * hp.ropeDimensions
                applyRoPE(ws.query + t * qLen, heads: hp.headCount, headDim: hp.headDim, ropeDims: hp.ropeDimensions,
                          table: angles, style: .normal)
                applyRoPE(ws.key + t * kvLen, heads: hp.kvHeadCount, headDim: hp.headDim, ropeDims: hp.ropeDimensions,
                          table: angles, style: .normal)
            }
            storeKeyValues(layer: l, batch: batch, keys: ws.key, values: ws.value, kvLength: kvLen)
            attend(layer: l, batch: batch, queries: ws.query, into: ws.attentionOut, hyper: hp, scale: attentionScale,
                   window: nil, workspace: ws)
            layer.output.apply(ws.attentionOut, count: n, into: ws.scratch, outStride: d, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .output, input: ws.attentionOut, count: n, into: ws.scratch, outStride: d, workspace: ws)
            ws.forEachToken(n) { t in addInPlace(ws.hidden + t * d, ws.scratch + t * d, count: d) }

            // SwiGLU feed-forward block.
            rmsNormRows(ws.hidden, weight: layer.ffnNorm, count: n, width: d, eps: hp.rmsEpsilon, into: ws.normed,
                        workspace: ws)
            project(ws.normed, count: n, Projection(layer.gate, ws.gate, ff), Projection(layer.up, ws.up, ff), workspace: ws)
            applyAdapters(adapter, batch, layer: l, .gate, input: ws.normed, count: n, into: ws.gate, outStride: ff, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .up, input: ws.normed, count: n, into: ws.up, outStride: ff, workspace: ws)
            ws.forEachToken(n) { t in siluGate(ws.gate + t * ff, ws.up + t * ff, count: ff) }
            layer.down.apply(ws.gate, count: n, into: ws.scratch, outStride: d, workspace: ws)
            applyAdapters(adapter, batch, layer: l, .down, input: ws.gate, count: n, into: ws.scratch, outStride: d, workspace: ws)
            ws.forEachToken(n) { t in addInPlace(ws.hidden + t * d, ws.scratch + t * d, count: d) }
        }
        advanceSequences(batch)
        computeLogits(batch: batch, hidden: ws.hidden, outputNorm: outputNorm, head: head, sketch: headSketch, workspace: ws)
    }
}
