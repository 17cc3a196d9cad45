import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// Several sequences in one batch, and sequences sharing cached prefix blocks, must give the same
/// distributions as each sequence run alone.
@Suite(.serialized) struct BatchingTests {
    static let model = try! Model(path: TestModels.smolLM2)
    static let prompt: [TokenID] = Array(model.tokenizer.encode(
        "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
            + "How vexingly quick daft zebras jump! Sphinx of black quartz, judge my vow. "
            + "The five boxing wizards jump quickly, and Jackdaws love my big sphinx of quartz.",
        addSpecial: false, parseSpecial: true))

    /// Last-position logits of `tokens` run alone on a fresh cache.
    @Test func promptIsLongEnough() {
        #expect(Self.prompt.count >= 48)
    }

    func aloneLogits(_ tokens: [TokenID]) throws -> [Float] {
        let model = Self.model
        let pool = model.makeKVPool(blocks: 16)
        let ws = model.makeWorkspace(threads: 2, maxBatch: 64, maxLogitRows: 4, maxSequenceLength: 256)
        let seq = SequenceCache(pool: pool, capacity: 256)
        let batch = tokens.enumerated().map {
            BatchEntry(token: $1, position: $0, sequence: seq, wantsLogits: $0 == tokens.count - 1)
        }
        try model.run(batch, workspace: ws)
        return Array(UnsafeBufferPointer(start: ws.logits, count: model.hyperparameters.vocabularySize))
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test func twoSequencesInOneBatchMatchEachAlone() throws {
        let model = Self.model
        let vocab = model.hyperparameters.vocabularySize
        let a = Array(Self.prompt.prefix(20)), b = Array(Self.prompt.suffix(13))
        let pool = model.makeKVPool(blocks: 16)
        let ws = model.makeWorkspace(threads: 2, maxBatch: 64, maxLogitRows: 4, maxSequenceLength: 256)
        let seqA = SequenceCache(pool: pool, capacity: 256), seqB = SequenceCache(pool: pool, capacity: 256)
        // Prefill both prompts in one batch, all but their last tokens.
        var batch: [BatchEntry] = []
        for (i, t) in a.dropLast().enumerated() { batch.append(BatchEntry(token: t, position: i, sequence: seqA, wantsLogits: false)) }
        for (i, t) in b.dropLast().enumerated() { batch.append(BatchEntry(token: t, position: i, sequence: seqB, wantsLogits: false)) }
        try model.run(batch, workspace: ws)
        // Then one "decode" step for each, together.
        try model.run([BatchEntry(token: a.last!, position: a.count - 1, sequence: seqA, wantsLogits: true),
                       BatchEntry(token: b.last!, position: b.count - 1, sequence: seqB, wantsLogits: true)],
                      workspace: ws)
        let logitsA = Array(UnsafeBufferPointer(start: ws.logits, count: vocab))
        let logitsB = Array(UnsafeBufferPointer(start: ws.logits + vocab, count: vocab))
        #expect(maxDifference(logitsA, try aloneLogits(a)) < 1e-3)
        #expect(maxDifference(logitsB, try aloneLogits(b)) < 1e-3)
        #expect(seqA.length == a.count && seqB.length == b.count)
    }

    @Test func adoptedPrefixBlocksGiveTheSameResult() throws {
        let model = Self.model
        let vocab = model.hyperparameters.vocabularySize
        let pool = model.makeKVPool(blocks: 16)
        let ws = model.makeWorkspace(threads: 2, maxBatch: 64, maxLogitRows: 4, maxSequenceLength: 256)
        let first = Array(Self.prompt.prefix(40))
        let owner = SequenceCache(pool: pool, capacity: 256)
        try model.run(first.enumerated().map { BatchEntry(token: $1, position: $0, sequence: owner, wantsLogits: false) },
                      workspace: ws)
        let usedBefore = pool.usedBlocks

        // A second request sharing the first 40 tokens adopts the two full blocks (32 positions).
        let extended = first + Array(Self.prompt.suffix(5))
        let reader = SequenceCache(pool: pool, capacity: 256)
        let adopted = reader.adoptCachedPrefix(of: extended)
        #expect(adopted == 2 * KVBlockPool.blockSize)
        #expect(pool.usedBlocks == usedBefore)  // shared, not copied
        let rest = extended[adopted...].enumerated().map {
            BatchEntry(token: $1, position: adopted + $0, sequence: reader, wantsLogits: adopted + $0 == extended.count - 1)
        }
        try model.run(rest, workspace: ws)
        let logits = Array(UnsafeBufferPointer(start: ws.logits, count: vocab))
        let fresh = try aloneLogits(extended)
        #expect(maxDifference(logits, fresh) < 1e-3, "max difference \(maxDifference(logits, fresh))")

        // Rewinding into a shared block copies it first, so the owner's prefix stays intact.
        reader.truncate(to: 20)
        let divergent: [TokenID] = Array(first.prefix(20)) + Array(Self.prompt.suffix(7))
        try model.run(divergent[20...].enumerated().map {
            BatchEntry(token: $1, position: 20 + $0, sequence: reader, wantsLogits: 20 + $0 == divergent.count - 1)
        }, workspace: ws)
        #expect(maxDifference(Array(UnsafeBufferPointer(start: ws.logits, count: vocab)), try aloneLogits(divergent)) < 1e-3)

        let third = SequenceCache(pool: pool, capacity: 256)
        #expect(third.adoptCachedPrefix(of: extended) == 32)
        try model.run(extended[32...].enumerated().map {
            BatchEntry(token: $1, position: 32 + $0, sequence: third, wantsLogits: 32 + $0 == extended.count - 1)
        }, workspace: ws)
        #expect(maxDifference(Array(UnsafeBufferPointer(start: ws.logits, count: vocab)), logits) < 1e-3)
    }

    @Test func aFullPoolIsAnErrorNotACrash() throws {
        let model = Self.model
        let pool = model.makeKVPool(blocks: 2)
        let ws = model.makeWorkspace(threads: 1, maxBatch: 64, maxLogitRows: 1, maxSequenceLength: 256)
        let seq = SequenceCache(pool: pool, capacity: 256)
        let tokens = Array(Self.prompt.prefix(40))
        #expect(throws: EngineError.cacheExhausted(blocks: 2)) {
            try model.run(tokens.enumerated().map { BatchEntry(token: $1, position: $0, sequence: seq, wantsLogits: false) },
                          workspace: ws)
        }
        // Freed blocks come back.
        let other = SequenceCache(pool: pool, capacity: 256)
        seq.truncate(to: 0)
        try model.run(tokens.prefix(30).enumerated().map { BatchEntry(token: $1, position: $0, sequence: other, wantsLogits: false) },
                      workspace: ws)
        #expect(other.length == 30)
    }
}
