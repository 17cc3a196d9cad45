/// Scratch memory and threads for running one batch at a time through a model.
///
/// Everything is allocated once, sized for `maxBatch` tokens, so the forward pass allocates nothing.
public final class Workspace: @unchecked Sendable {
    public let pool: WorkerPool
    public let maxBatch: Int
    /// Rows of logits one forward pass can return.
    public let maxLogitRows: Int
    let hyper: Hyperparameters
    let attentionCapacity: Int

    // [maxBatch][embeddingLength]
    let hidden: FloatPointer
    let normed: FloatPointer
    let scratch: FloatPointer
    // [maxBatch][queryLength]
    let query: FloatPointer
    let attentionOut: FloatPointer
    // [maxBatch][kvLength]
    let key: FloatPointer
    let value: FloatPointer
    // [maxBatch][feedForwardLength]
    let gate: FloatPointer
    let up: FloatPointer
    // [threads][group][attentionCapacity] attention scores
    let scores: FloatPointer
    // [2 bases][maxBatch][ropeDimensions] rotary cos/sin
    let ropeTables: FloatPointer
    // [maxBatch][activation row bytes of the widest input]
    let quantizedActivations: UnsafeMutableRawPointer
    // [maxLogitRows][vocabularySize]
    public let logits: UnsafeMutablePointer<Float>
    /// Per logit row: how many of the most likely tokens sampling can use (`BatchEntry.candidatesNeeded`).
    let candidateCounts: UnsafeMutablePointer<Int>
    /// The head sketch's per-row working space: candidate ids and values, and an activation row.
    let candidateScratch: CandidateScratch

    /// Reused parallel jobs, so decode steps allocate nothing.
    let projectionJob = ProjectionJob()
    let attentionJob = AttentionJob()

    private var allocations: [UnsafeMutableRawPointer] = []

    init(hyper: Hyperparameters, threads: Int, maxBatch: Int, maxLogitRows: Int, attentionCapacity: Int) {
        self.pool = WorkerPool(threads: threads)
        self.hyper = hyper
        self.maxBatch = maxBatch
        self.maxLogitRows = maxLogitRows
        self.attentionCapacity = attentionCapacity
        var allocations: [UnsafeMutableRawPointer] = []
        func floats(_ count: Int) -> FloatPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            allocations.append(p)
            return p.bindMemory(to: Float.self, capacity: count)
        }
        let widest = max(hyper.embeddingLength, hyper.queryLength, hyper.feedForwardLength)
        hidden = floats(maxBatch * hyper.embeddingLength)
        normed = floats(maxBatch * hyper.embeddingLength)
        scratch = floats(maxBatch * max(hyper.embeddingLength, hyper.queryLength))
        query = floats(maxBatch * hyper.queryLength)
        attentionOut = floats(maxBatch * hyper.queryLength)
        key = floats(maxBatch * hyper.kvLength)
        value = floats(maxBatch * hyper.kvLength)
        gate = floats(maxBatch * hyper.feedForwardLength)
        up = floats(maxBatch * hyper.feedForwardLength)
        // one score row per query head of a KV-head group, per thread
        scores = floats(threads * attentionCapacity * max(1, hyper.headCount / max(1, hyper.kvHeadCount)))
        logits = floats(maxLogitRows * hyper.vocabularySize)
        candidateCounts = UnsafeMutablePointer<Int>.allocate(capacity: maxLogitRows)
        candidateCounts.initialize(repeating: 0, count: maxLogitRows)
        let perRow = HeadSketch.maximumCandidates
        candidateScratch = CandidateScratch(
            ids: floats(maxLogitRows * perRow).withMemoryRebound(to: Int32.self, capacity: maxLogitRows * perRow) { $0 },
            values: floats(maxLogitRows * perRow),
            activations: UnsafeMutableRawPointer(floats(maxLogitRows * ((hyper.embeddingLength + 255) / 256 + 1) * 73)))
        ropeTables = floats(2 * maxBatch * hyper.ropeDimensions)
        // Q8_K rows are the largest activation format: 292 bytes per 256 values (+ one block of slack).
        let qBytes = maxBatch * ((widest + 255) / 256 + 1) * 292
        quantizedActivations = UnsafeMutableRawPointer.allocate(byteCount: qBytes, alignment: 64)
        allocations.append(quantizedActivations)
        self.allocations = allocations
    }

    /// Rotary table `index` (0 or 1) for this batch.
    func ropeTable(_ index: Int) -> FloatPointer { ropeTables + index * maxBatch * hyper.ropeDimensions }

    /// Runs body(t) for each token of a batch, across the threads when the batch is large enough to pay.
    @inline(__always)
    func forEachToken(_ count: Int, _ body: (Int) -> Void) {
        if count >= 8 {
            pool.parallelFor(count) { rows in for t in rows { body(t) } }
        } else {
            for t in 0..<count { body(t) }
        }
    }

    deinit {
        for p in allocations { p.deallocate() }
        candidateCounts.deallocate()
    }
}

/// Scratch for `HeadSketch.logits`: `HeadSketch.maximumCandidates` ids and values per logit row, and room for
/// one quantized activation row per logit row.
struct CandidateScratch {
    let ids: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    let activations: UnsafeMutableRawPointer
}
