import ParleyEngine

extension LoRANetwork {
    /// One decoder layer, x → out, keeping its activations in `tape` (the engine's Llama/Gemma3 forward, in F32).
    func layerForward(_ l: Int, input x: UnsafePointer<Float>, layout: BatchLayout, tape: LayerTape,
                      output out: UnsafeMutablePointer<Float>, seed: UInt64) {
        let hp = base.hyperparameters, layer = base.layers[l], traits = base.traits
        let n = layout.rows, d = hp.embeddingLength, hd = hp.headDim, ff = hp.feedForwardLength
        func project(_ target: LoRATarget, _ input: Matrix, into output: Matrix) {
            var random = SeededRandom(seed: seed, stream: UInt64(l), UInt64(LoRATarget.allCases.firstIndex(of: target)!))
            projection(layer: l, target).forward(input.pointer, rows: n, into: output.pointer, tape: tape.projections[target],
                                                 random: &random)
        }

        // Attention block: n = rmsnorm(x); q, k, v; QK-norm (Gemma); RoPE; attention; Wo.
        rmsNormForward(x, weight: layer.attentionNorm, rows: n, width: d, eps: hp.rmsEpsilon, into: tape.normed.pointer,
                       rstd: tape.normedRstd.pointer)
        project(.query, tape.normed, into: tape.queryRaw)
        project(.key, tape.normed, into: tape.keyRaw)
        project(.value, tape.normed, into: tape.value)
        if traits.queryKeyNorm {
            rmsNormForward(tape.queryRaw.pointer, weight: layer.queryNorm!, rows: n * hp.headCount, width: hd,
                           eps: hp.rmsEpsilon, into: tape.query.pointer, rstd: tape.queryHeadRstd.pointer)
            rmsNormForward(tape.keyRaw.pointer, weight: layer.keyNorm!, rows: n * hp.kvHeadCount, width: hd,
                           eps: hp.rmsEpsilon, into: tape.key.pointer, rstd: tape.keyHeadRstd.pointer)
        } else {
            tape.query.copy(from: tape.queryRaw)
            tape.key.copy(from: tape.keyRaw)
        }
        rotaries[l].rotate(tape.query.pointer, rows: n, stride: hp.queryLength, heads: hp.headCount,
                           positions: layout.positions, inverse: false)
        rotaries[l].rotate(tape.key.pointer, rows: n, stride: hp.kvLength, heads: hp.kvHeadCount,
                           positions: layout.positions, inverse: false)
        attentionForward(layer: layer, layout: layout, tape: tape)
        project(.output, tape.attended, into: tape.attentionOut)

        // h = x + (post-norm of) the attention output.
        let residual = tape.residual.pointer
        if traits.postNorms {
            rmsNormForward(tape.attentionOut.pointer, weight: layer.postAttentionNorm!, rows: n, width: d, eps: hp.rmsEpsilon,
                           into: residual, rstd: tape.attentionOutRstd.pointer)
            for i in 0..<(n * d) { residual[i] += x[i] }
        } else {
            for i in 0..<(n * d) { residual[i] = x[i] + tape.attentionOut.pointer[i] }
        }

        // Gated MLP: out = h + (post-norm of) Wdown·(f(Wgate·m) ⊙ Wup·m), m = rmsnorm(h).
        rmsNormForward(residual, weight: layer.ffnNorm, rows: n, width: d, eps: hp.rmsEpsilon, into: tape.ffnNormed.pointer,
                       rstd: tape.ffnRstd.pointer)
        project(.gate, tape.ffnNormed, into: tape.gate)
        project(.up, tape.ffnNormed, into: tape.up)
        context.pool.parallelFor(n) { rows in
            let offset = rows.lowerBound * ff
            traits.activation.forward(gate: tape.gate.pointer + offset, up: tape.up.pointer + offset, count: rows.count * ff,
                                      into: tape.activated.pointer + offset)
        }
        project(.down, tape.activated, into: tape.ffnOut)
        if traits.postNorms {
            rmsNormForward(tape.ffnOut.pointer, weight: layer.postFFNNorm!, rows: n, width: d, eps: hp.rmsEpsilon, into: out,
                           rstd: tape.ffnOutRstd.pointer)
            for i in 0..<(n * d) { out[i] += residual[i] }
        } else {
            for i in 0..<(n * d) { out[i] = residual[i] + tape.ffnOut.pointer[i] }
        }
    }

    /// The backward of `layerForward` (whose activations `tape` holds): gradInput = dL/dx from gradOut = dL/dout,
    /// accumulating the layer's LoRA gradients.
    func layerBackward(_ l: Int, input x: UnsafePointer<Float>, layout: BatchLayout, tape: LayerTape, gradOut: Matrix,
                       gradInput: Matrix, scratch g: LayerGradients) {
        let hp = base.hyperparameters, layer = base.layers[l], traits = base.traits
        let n = layout.rows, d = hp.embeddingLength, hd = hp.headDim, ff = hp.feedForwardLength
        func backward(_ target: LoRATarget, input: Matrix, gradOut: Matrix, into gradInput: Matrix) {
            projection(layer: l, target).backward(input.pointer, rows: n, gradOut: gradOut.pointer,
                                                  tape: tape.projections[target], gradInput: gradInput.pointer,
                                                  scratch: g.lowRank)
        }

        // MLP branch.
        if traits.postNorms {
            rmsNormBackward(tape.ffnOut.pointer, weight: layer.postFFNNorm!, rstd: tape.ffnOutRstd.pointer,
                            gradOut: gradOut.pointer, rows: n, width: d, into: g.branch.pointer, accumulate: false)
        } else {
            g.branch.copy(from: gradOut)
        }
        g.residual.copy(from: gradOut)
        g.activated.zero()
        backward(.down, input: tape.activated, gradOut: g.branch, into: g.activated)
        context.pool.parallelFor(n) { rows in
            let o = rows.lowerBound * ff
            traits.activation.backward(gate: tape.gate.pointer + o, up: tape.up.pointer + o, gradOut: g.activated.pointer + o,
                                       count: rows.count * ff, gradGate: g.gate.pointer + o, gradUp: g.up.pointer + o)
        }
        g.normed.zero()
        backward(.gate, input: tape.ffnNormed, gradOut: g.gate, into: g.normed)
        backward(.up, input: tape.ffnNormed, gradOut: g.up, into: g.normed)
        rmsNormBackward(tape.residual.pointer, weight: layer.ffnNorm, rstd: tape.ffnRstd.pointer, gradOut: g.normed.pointer,
                        rows: n, width: d, into: g.residual.pointer, accumulate: true)

        // Attention branch.
        if traits.postNorms {
            rmsNormBackward(tape.attentionOut.pointer, weight: layer.postAttentionNorm!, rstd: tape.attentionOutRstd.pointer,
                            gradOut: g.residual.pointer, rows: n, width: d, into: g.branch.pointer, accumulate: false)
        } else {
            g.branch.copy(from: g.residual)
        }
        gradInput.copy(from: g.residual)
        g.attended.zero()
        backward(.output, input: tape.attended, gradOut: g.branch, into: g.attended)
        attentionBackward(layer: layer, layout: layout, tape: tape, gradAttended: g.attended, scratch: g)
        rotaries[l].rotate(g.query.pointer, rows: n, stride: hp.queryLength, heads: hp.headCount, positions: layout.positions,
                           inverse: true)
        rotaries[l].rotate(g.key.pointer, rows: n, stride: hp.kvLength, heads: hp.kvHeadCount, positions: layout.positions,
                           inverse: true)
        if traits.queryKeyNorm {
            // In place: each row's gradient is computed from its own values only.
            rmsNormBackward(tape.queryRaw.pointer, weight: layer.queryNorm!, rstd: tape.queryHeadRstd.pointer,
                            gradOut: g.query.pointer, rows: n * hp.headCount, width: hd, into: g.query.pointer, accumulate: false)
            rmsNormBackward(tape.keyRaw.pointer, weight: layer.keyNorm!, rstd: tape.keyHeadRstd.pointer,
                            gradOut: g.key.pointer, rows: n * hp.kvHeadCount, width: hd, into: g.key.pointer, accumulate: false)
        }
        g.normed.zero()
        backward(.query, input: tape.normed, gradOut: g.query, into: g.normed)
        backward(.key, input: tape.normed, gradOut: g.key, into: g.normed)
        backward(.value, input: tape.normed, gradOut: g.value, into: g.normed)
        rmsNormBackward(x, weight: layer.attentionNorm, rstd: tape.normedRstd.pointer, gradOut: g.normed.pointer, rows: n,
                        width: d, into: gradInput.pointer, accumulate: true)
    }
}
