import Foundation

// BERT, the encoder (Devlin et al. 2018; Hugging Face transformers `models/bert/modeling_bert.py`, `BertModel`),
// as sentence-transformers checkpoints such as all-MiniLM-L6-v2 use it: post-LayerNorm blocks, learned absolute
// positions, exact GELU, bidirectional attention. Forward order: embeddings → N × (self-attention, add & norm,
// feed-forward, add & norm). The pooler is not used for sentence embeddings.

/// One encoder block's weights.
struct BertLayer {
    let query: DenseLayer       // [d, d]
    let key: DenseLayer         // [d, d]
    let value: DenseLayer       // [d, d]
    let attentionOutput: DenseLayer  // [d, d]
    let attentionNorm: LayerNormWeights  // [d]
    let intermediate: DenseLayer     // [ff, d]
    let output: DenseLayer           // [d, ff]
    let outputNorm: LayerNormWeights // [d]
}

/// A BERT encoder's weights, widened to F32 once at load time.
final class BertEncoder: @unchecked Sendable {
    // @unchecked: immutable after `init`.
    let config: EncoderConfiguration
    let wordEmbeddings: [Float]      // [vocab, d]
    let positionEmbeddings: [Float]  // [maxPositions, d]
    let tokenTypeEmbeddings: [Float] // [typeVocab, d]; every token is segment 0
    let embeddingNorm: LayerNormWeights
    let layers: [BertLayer]

    /// Maps the checkpoint's keys (`embeddings.*`, `encoder.layer.N.*`; some checkpoints prefix `bert.`).
    init(weights file: SafetensorsFile, config: EncoderConfiguration) throws {
        self.config = config
        let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        let d = config.hiddenSize
        let ff = config.intermediateSize
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(prefix + name, shape: shape) }
        func dense(_ name: String, in inFeatures: Int, out outFeatures: Int) throws -> DenseLayer {
            DenseLayer(weight: try tensor(name + ".weight", [outFeatures, inFeatures]),
                       bias: try tensor(name + ".bias", [outFeatures]), inFeatures: inFeatures, outFeatures: outFeatures)
        }
        func norm(_ name: String) throws -> LayerNormWeights {
            LayerNormWeights(weight: try tensor(name + ".weight", [d]), bias: try tensor(name + ".bias", [d]))
        }
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [config.vocabularySize, d])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [config.maxPositions, d])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, d])
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0..<config.layerCount).map { index in
            let p = "encoder.layer.\(index)."
            return BertLayer(
                query: try dense(p + "attention.self.query", in: d, out: d),
                key: try dense(p + "attention.self.key", in: d, out: d),
                value: try dense(p + "attention.self.value", in: d, out: d),
                attentionOutput: try dense(p + "attention.output.dense", in: d, out: d),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try dense(p + "intermediate.dense", in: d, out: ff),
                output: try dense(p + "output.dense", in: ff, out: d),
                outputNorm: try norm(p + "output.LayerNorm"))
        }
    }

    /// The last hidden states of several sequences at once: returns [Σ lengths, d], the sequences' rows one after
    /// another. The sequences are packed without padding — each attends only to its own rows — so a batch costs
    /// what its tokens cost, and each result equals running that sequence alone.
    func hiddenStates(_ sequences: [[Int32]], pool: WorkerPool) throws -> [Float] {
        let d = config.hiddenSize
        let ff = config.intermediateSize
        let heads = config.headCount
        let headDim = config.headDimension
        var offsets: [Int] = []
        var total = 0
        for tokens in sequences {
            guard !tokens.isEmpty else { throw EngineError.emptyPrompt }
            guard tokens.count <= config.maxPositions else { throw EngineError.contextFull(capacity: config.maxPositions) }
            for token in tokens where token < 0 || Int(token) >= config.vocabularySize {
                throw EngineError.tokenOutOfRange(token, vocabulary: config.vocabularySize)
            }
            offsets.append(total)
            total += tokens.count
        }
        let longest = sequences.map(\.count).max() ?? 0

        // Activations, allocated once per call: x [T, d], q/k/v/context/scratch [T, d], intermediate [T, ff].
        var x = [Float](repeating: 0, count: total * d)
        let scratchCount = 5 * total * d + total * ff + pool.threadCount * longest
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratchCount))
        arena.initialize(repeating: 0, count: max(1, scratchCount))
        defer { arena.deallocate() }
        let qs = arena, ks = qs + total * d, vs = ks + total * d, cs = vs + total * d, ss = cs + total * d
        let inners = ss + total * d, scoreBase = inners + total * ff

        // Embeddings: word + position + segment 0, then LayerNorm.
        for (s, tokens) in sequences.enumerated() {
            for (position, token) in tokens.enumerated() {
                let row = (offsets[s] + position) * d
                let word = Int(token) * d
                let pos = position * d
                for i in 0..<d {
                    x[row + i] = wordEmbeddings[word + i] + positionEmbeddings[pos + i] + tokenTypeEmbeddings[i]
                }
            }
        }
        let eps = config.layerNormEpsilon
        x.withUnsafeMutableBufferPointer { xp in
            for t in 0..<total { layerNorm(xp.baseAddress! + t * d, embeddingNorm, eps: eps, count: d) }
        }

        let scale = 1 / Float(headDim).squareRoot()
        for layer in layers {
            x.withUnsafeMutableBufferPointer { xp in
                runLayer(layer, xs: xp.baseAddress!, qs: qs, ks: ks, vs: vs, cs: cs, ss: ss, inners: inners,
                         scoreBase: scoreBase, sequences: sequences, offsets: offsets, total: total, longest: longest,
                         scale: scale, pool: pool)
            }
        }
        return x
    }

    /// One encoder layer over the packed rows `xs` [total, d], in place; the other pointers are scratch.
    private func runLayer(_ layer: BertLayer, xs: UnsafeMutablePointer<Float>, qs: UnsafeMutablePointer<Float>,
                          ks: UnsafeMutablePointer<Float>, vs: UnsafeMutablePointer<Float>, cs: UnsafeMutablePointer<Float>,
                          ss: UnsafeMutablePointer<Float>, inners: UnsafeMutablePointer<Float>,
                          scoreBase: UnsafeMutablePointer<Float>, sequences: [[Int32]], offsets: [Int], total: Int,
                          longest: Int, scale: Float, pool: WorkerPool) {
        let d = config.hiddenSize, ff = config.intermediateSize, heads = config.headCount, headDim = config.headDimension
        let eps = config.layerNormEpsilon

            // Self-attention: q, k, v projections, then softmax(q·kᵀ/√dₕ)·v per sequence and head.
            layer.query.apply(xs, rows: total, into: qs, pool: pool)
            layer.key.apply(xs, rows: total, into: ks, pool: pool)
            layer.value.apply(xs, rows: total, into: vs, pool: pool)
            pool.run(chunks: sequences.count * heads) { chunk, thread in
                let s = chunk / heads
                let h = chunk % heads
                let base = offsets[s]
                let length = sequences[s].count
                let w = scoreBase + thread * longest
                for i in 0..<length {
                    let qi = UnsafePointer(qs + (base + i) * d + h * headDim)
                    var maxScore = -Float.infinity
                    for j in 0..<length {
                        let score = dot(qi, ks + (base + j) * d + h * headDim, headDim) * scale
                        w[j] = score
                        maxScore = max(maxScore, score)
                    }
                    var sum: Float = 0
                    for j in 0..<length {
                        w[j] = expf(w[j] - maxScore)
                        sum += w[j]
                    }
                    let out = cs + (base + i) * d + h * headDim
                    for e in 0..<headDim { out[e] = 0 }
                    for j in 0..<length {
                        let weight = w[j] / sum
                        let vj = vs + (base + j) * d + h * headDim
                        for e in 0..<headDim { out[e] += weight * vj[e] }
                    }
                }
            }
            // Output projection, residual, LayerNorm (BERT normalises after the residual).
            layer.attentionOutput.apply(cs, rows: total, into: ss, pool: pool)
            for t in 0..<total {
                let row = xs + t * d, add = ss + t * d
                for i in 0..<d { row[i] += add[i] }
                layerNorm(row, layer.attentionNorm, eps: eps, count: d)
            }
            // Feed-forward: GELU(x·W₁ᵀ + b₁)·W₂ᵀ + b₂, residual, LayerNorm.
            layer.intermediate.apply(xs, rows: total, into: inners, pool: pool)
            pool.parallelFor(total) { rows in
                geluExact(inners + rows.lowerBound * ff, count: rows.count * ff)
            }
            layer.output.apply(inners, rows: total, into: ss, pool: pool)
            for t in 0..<total {
                let row = xs + t * d, add = ss + t * d
                for i in 0..<d { row[i] += add[i] }
                layerNorm(row, layer.outputNorm, eps: eps, count: d)
            }
    }
}
