import ParleyEngine
import ParleyTokenizer

/// A frozen base model with a LoRA adapter being trained: computes the loss of a micro-batch and accumulates
/// the adapter's gradients by reverse-mode differentiation through the whole forward pass.
///
/// Forward: embeddings (×√d for Gemma) → layers → final RMSNorm → tied head → cross-entropy on the targets.
/// Each layer's input is kept (a checkpoint); the backward pass recomputes one layer's forward from its
/// checkpoint and immediately runs its backward, so activation memory is one layer's worth plus the
/// checkpoints. The recomputation replays the same dropout masks (they are seeded per step, layer and matrix).
final class LoRANetwork: @unchecked Sendable {
    let base: FrozenModel
    let adapter: LoRAAdapter
    let dropout: Float
    /// [layer][target]
    let parameters: [[LoRATarget: LoRAParameter]]
    let rotaries: [Rotary]
    let rank: Int
    let context: ComputeContext

    init(base: FrozenModel, adapter: LoRAAdapter, dropout: Float, context: ComputeContext) throws {
        let hp = base.hyperparameters
        try adapter.validate(for: hp)
        self.base = base
        self.adapter = adapter
        self.dropout = dropout
        self.context = context
        parameters = (0..<hp.blockCount).map { l in
            var adapted: [LoRATarget: LoRAParameter] = [:]
            for (target, weights) in (l < adapter.layers.count ? adapter.layers[l] : [:]) { adapted[target] = LoRAParameter(weights) }
            return adapted
        }
        rank = adapter.orderedWeights.map(\.weights.rank).max() ?? 0
        rotaries = base.layers.map {
            Rotary(headDim: hp.headDim, ropeDims: hp.ropeDimensions, base: $0.attention.ropeBase, neox: base.traits.neoxRoPE)
        }
    }

    /// Every trained parameter in the adapter's fixed order.
    var orderedParameters: [LoRAParameter] {
        adapter.orderedWeights.map { parameters[$0.layer][$0.target]! }
    }

    func zeroGradients() {
        for p in orderedParameters {
            p.gradA.zero()
            p.gradB.zero()
        }
    }

    func projection(layer: Int, _ target: LoRATarget) -> AdaptedProjection {
        let lora = parameters[layer][target]
        return AdaptedProjection(weight: base.layers[layer].weight(target), lora: lora,
                                 scale: lora.map { adapter.scale(rank: $0.weights.rank) } ?? 0, dropout: dropout,
                                 context: context)
    }

    /// Runs the micro-batch forward and backward: adds gradientScale·dL/dθ to every LoRA gradient, where L is the
    /// summed cross-entropy of the batch's targets, and returns that sum and the number of targets.
    func accumulateGradients(_ sequences: [TrainingSequence], gradientScale: Float, seed: UInt64) throws
        -> (lossSum: Double, targets: Int)
    {
        let hp = base.hyperparameters
        let layout = BatchLayout(sequences)
        let n = layout.rows, d = hp.embeddingLength
        guard n > 0 else { return (0, 0) }
        for token in layout.tokens + layout.targets.compactMap({ $0 }) where token < 0 || Int(token) >= hp.vocabularySize {
            throw EngineError.tokenOutOfRange(token, vocabulary: hp.vocabularySize)
        }
        let adaptedTargets = Set(parameters.flatMap(\.keys))
        let tape = LayerTape(layout: layout, hyper: hp, rank: rank, targets: adaptedTargets, dropout: dropout > 0)
        // Checkpoints: the input of every layer, and the final hidden state.
        let checkpoints = (0...hp.blockCount).map { _ in Matrix(n, d) }
        embed(layout.tokens, into: checkpoints[0])
        for l in 0..<hp.blockCount {
            layerForward(l, input: checkpoints[l].pointer, layout: layout, tape: tape, output: checkpoints[l + 1].pointer, seed: seed)
        }
        var gradOut = Matrix(n, d), gradIn = Matrix(n, d)
        let lossSum = headBackward(checkpoints[hp.blockCount], layout: layout, gradientScale: gradientScale, into: gradOut)
        let gradients = LayerGradients(layout: layout, hyper: hp, rank: rank, threads: context.pool.threadCount)
        for l in (0..<hp.blockCount).reversed() {
            layerForward(l, input: checkpoints[l].pointer, layout: layout, tape: tape, output: checkpoints[l + 1].pointer, seed: seed)
            layerBackward(l, input: checkpoints[l].pointer, layout: layout, tape: tape, gradOut: gradOut, gradInput: gradIn,
                          scratch: gradients)
            swap(&gradOut, &gradIn)
        }
        return (lossSum, layout.targetCount)
    }

    /// Summed cross-entropy over the targets, without gradients (evaluation), in all and per sequence (a
    /// sequence of fewer than two tokens has none).
    func loss(_ sequences: [TrainingSequence]) throws -> (lossSum: Double, targets: Int, perSequence: [Double]) {
        let hp = base.hyperparameters
        let layout = BatchLayout(sequences)
        let n = layout.rows, d = hp.embeddingLength
        guard n > 0 else { return (0, 0, sequences.map { _ in 0 }) }
        let tape = LayerTape(layout: layout, hyper: hp, rank: rank, targets: Set(parameters.flatMap(\.keys)), dropout: false)
        var x = Matrix(n, d), next = Matrix(n, d)
        for token in layout.tokens where token < 0 || Int(token) >= hp.vocabularySize {
            throw EngineError.tokenOutOfRange(token, vocabulary: hp.vocabularySize)
        }
        embed(layout.tokens, into: x)
        let evaluation = LoRANetwork.evaluationCopy(self)
        for l in 0..<hp.blockCount {
            evaluation.layerForward(l, input: x.pointer, layout: layout, tape: tape, output: next.pointer, seed: 0)
            swap(&x, &next)
        }
        let sink = Matrix(n, d), rowLosses = Matrix(n, 1)
        let total = headBackward(x, layout: layout, gradientScale: 0, into: sink, rowLosses: rowLosses.pointer)
        var perSequence: [Double] = [], laidOut = 0
        for sequence in sequences {
            guard sequence.tokens.count >= 2 else {
                perSequence.append(0)
                continue
            }
            let start = layout.starts[laidOut], length = layout.lengths[laidOut]
            laidOut += 1
            perSequence.append((start..<(start + length)).reduce(0) { $0 + Double(rowLosses.pointer[$1]) })
        }
        return (total, layout.targetCount, perSequence)
    }

    /// The same network with dropout off.
    private static func evaluationCopy(_ network: LoRANetwork) -> LoRANetwork {
        guard network.dropout > 0 else { return network }
        return try! LoRANetwork(base: network.base, adapter: network.adapter, dropout: 0, context: network.context)
    }

    /// Rows of `x`: the tokens' embeddings (× √d for Gemma).
    private func embed(_ tokens: [TokenID], into x: Matrix) {
        let d = base.hyperparameters.embeddingLength, scale = base.traits.embeddingScale
        tokens.withUnsafeBufferPointer { tokens in
            context.pool.parallelFor(tokens.count) { range in
                for t in range {
                    let row = x[row: t]
                    base.embedding.row(Int(tokens[t]), into: row)
                    if scale != 1 { for i in 0..<d { row[i] *= scale } }
                }
            }
        }
    }
}
