import CParleyKernels
import Foundation
import ParleyTokenizer

/// One token of a forward batch: which sequence it extends, at which position, and whether its
/// next-token logits are wanted.
public struct BatchEntry: @unchecked Sendable {
    public var token: TokenID
    public var position: Int
    public var sequence: SequenceCache
    public var wantsLogits: Bool
    /// With `wantsLogits`: 0 for the whole exact distribution; n > 0 when only the n most likely tokens can ever
    /// be used (greedy: 1, top-k: k), which lets a model with a head sketch compute only those exactly (the
    /// rest of the row is -∞). See `GenerationParameters.candidatesNeeded`.
    public var candidatesNeeded: Int

    public init(token: TokenID, position: Int, sequence: SequenceCache, wantsLogits: Bool, candidatesNeeded: Int = 0) {
        self.token = token
        self.position = position
        self.sequence = sequence
        self.wantsLogits = wantsLogits
        self.candidatesNeeded = candidatesNeeded
    }
}

/// Rotary position embedding variants, as llama.cpp names them.
enum RoPEStyle {
    /// Rotates adjacent pairs (x[2i], x[2i+1]) — llama's converter permutes Q/K rows into this layout.
    case normal
    /// Rotates (x[i], x[i + d/2]) — GPT-NeoX and Gemma.
    case neox
}

/// cos/sin of every rotary angle for the positions of a batch: θᵢ = position · base^(−2i/ropeDims).
/// Computed once per forward pass and base, then shared by every layer that rotates with that base.
struct RoPETable {
    let inverseFrequencies: [Double]
    let base: Float

    init(base: Float, ropeDims: Int) {
        self.base = base
        inverseFrequencies = (0..<(ropeDims / 2)).map { pow(Double(base), -2.0 * Double($0) / Double(ropeDims)) }
    }

    /// Fills `table` ([batch][ropeDims]: cos, sin interleaved) for the batch's positions.
    func fill(_ table: FloatPointer, batch: UnsafeBufferPointer<BatchEntry>) {
        let half = inverseFrequencies.count
        for (t, entry) in batch.enumerated() {
            let row = table + t * 2 * half
            for i in 0..<half {
                // Angles in Double: exact enough that position 30 000 still rotates correctly.
                let theta = Double(entry.position) * inverseFrequencies[i]
                row[2 * i] = Float(cos(theta))
                row[2 * i + 1] = Float(sin(theta))
            }
        }
    }
}

/// Rotates each head of `x` (`heads` × `headDim` values) by the angles in `table` (cos, sin interleaved,
/// ropeDims/2 pairs); dimensions past ropeDims are left alone.
@inline(__always)
func applyRoPE(_ x: FloatPointer, heads: Int, headDim: Int, ropeDims: Int, table: UnsafePointer<Float>,
               style: RoPEStyle) {
    let half = ropeDims / 2
    for h in 0..<heads {
        let v = x + h * headDim
        switch style {
        case .normal:
            for i in 0..<half {
                let c = table[2 * i], s = table[2 * i + 1]
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                v[2 * i] = x0 * c - x1 * s
                v[2 * i + 1] = x0 * s + x1 * c
            }
        case .neox:
            for i in 0..<half {
                let c = table[2 * i], s = table[2 * i + 1]
                let x0 = v[i], x1 = v[i + half]
                v[i] = x0 * c - x1 * s
                v[i + half] = x0 * s + x1 * c
            }
        }
    }
}

/// Stores the batch's keys and values (already projected and rotated) into each sequence's cache.
func storeKeyValues(layer: Int, batch: UnsafeBufferPointer<BatchEntry>, keys: UnsafePointer<Float>,
                    values: UnsafePointer<Float>, kvLength: Int) {
    for (t, entry) in batch.enumerated() {
        let kRow = entry.sequence.keyRow(layer: layer, position: entry.position)
        let vRow = entry.sequence.valueRow(layer: layer, position: entry.position)
        let k = keys + t * kvLength, v = values + t * kvLength
        for i in 0..<kvLength {
            kRow[i] = Float16(k[i])
            vRow[i] = Float16(v[i])
        }
    }
}

/// Causal multi-head attention of each batch token over its own sequence's cache (positions ≤ its own, and
/// within `window` positions when the layer is sliding-window). Grouped-query: query head h reads KV head
/// h / (heads / kvHeads). Scores are `scale · q·k`.
func attend(layer: Int, batch: UnsafeBufferPointer<BatchEntry>, queries: UnsafePointer<Float>,
            into out: FloatPointer, hyper: Hyperparameters, scale: Float, window: Int?, workspace: Workspace) {
    let job = workspace.attentionJob
    job.layer = layer
    job.batch = batch
    job.queries = queries
    job.out = out
    job.heads = hyper.headCount
    job.headDim = hyper.headDim
    job.group = hyper.headCount / hyper.kvHeadCount
    job.qLength = hyper.queryLength
    job.scale = scale
    job.window = window ?? Int.max
    job.scores = workspace.scores
    job.capacity = workspace.attentionCapacity
    // The query heads of one KV head go through its rows together (each row read and widened once); the group
    // is split in halves while that leaves a thread idle. Results do not depend on the split.
    var perChunk = job.group
    while perChunk % 2 == 0 && batch.count * (hyper.headCount / perChunk) < workspace.pool.threadCount { perChunk /= 2 }
    job.headsPerChunk = perChunk
    workspace.pool.run(chunks: batch.count * (hyper.headCount / perChunk), job: job)
}

/// One (token, head) of `attend` per chunk, kept in the workspace so a dispatch allocates nothing.
final class AttentionJob: PoolJob {
    var layer = 0
    var batch = UnsafeBufferPointer<BatchEntry>(start: nil, count: 0)
    var queries = UnsafePointer<Float>(bitPattern: 4)!
    var out = UnsafeMutablePointer<Float>(bitPattern: 4)!
    var heads = 1, headDim = 1, group = 1, qLength = 1
    /// Query heads per chunk: all of one KV head's group, or an even part of it.
    var headsPerChunk = 1
    var scale: Float = 1
    var window = Int.max
    var scores = UnsafeMutablePointer<Float>(bitPattern: 4)!
    var capacity = 0

    func run(chunk task: Int, thread: Int) {
        let chunksPerToken = heads / headsPerChunk
        let t = task / chunksPerToken, h0 = (task % chunksPerToken) * headsPerChunk
        let scores = self.scores + thread * capacity * headsPerChunk
        let entry = batch[t]
        let first = window == Int.max ? 0 : max(0, entry.position - window + 1)
        let last = entry.position
        let count = last - first + 1
        let q = queries + t * qLength + h0 * headDim
        let kvOffset = (h0 / group) * headDim
        let stride = entry.sequence.pool.kvLength
        let span = first...last
        let n = headsPerChunk
        // Scores a block of cached positions at a time (rows of one KV head, `stride` apart), for every head of
        // the chunk; head j's scores start at scores + j * capacity.
        entry.sequence.forEachBlock(layer: layer, positions: span) { keys, _, position, rows in
            (keys + kvOffset).withMemoryRebound(to: UInt16.self, capacity: rows * stride) {
                pk_attn_scores_f16_heads(q, headDim, Int64(n), $0, stride, Int64(rows), Int64(headDim), scale,
                                         scores + (position - first), capacity)
            }
        }
        for j in 0..<n {
            let s = scores + j * capacity
            var maxScore = -Float.infinity
            for i in 0..<count where s[i] > maxScore { maxScore = s[i] }
            var sum: Float = 0
            for i in 0..<count {
                let e = Foundation.exp(s[i] - maxScore)
                s[i] = e
                sum += e
            }
            let inv = 1 / sum
            for i in 0..<count { s[i] *= inv }
        }
        let o = out + t * qLength + h0 * headDim
        o.update(repeating: 0, count: n * headDim)
        entry.sequence.forEachBlock(layer: layer, positions: span) { _, values, position, rows in
            (values + kvOffset).withMemoryRebound(to: UInt16.self, capacity: rows * stride) {
                pk_attn_accumulate_f16_heads(scores + (position - first), capacity, Int64(n), $0, stride, Int64(rows),
                                             Int64(headDim), o, headDim)
            }
        }
    }
}
