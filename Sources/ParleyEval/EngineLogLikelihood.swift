import ParleyEngine
import ParleyTokenizer

/// A (context, continuation) pair as token ids: the continuation is scored given the context.
public struct TokenRequest: Sendable, Equatable {
    public var context: [TokenID]
    public var continuation: [TokenID]
    public init(context: [TokenID], continuation: [TokenID]) {
        self.context = context
        self.continuation = continuation
    }
    /// What the model reads: everything but the last continuation token (nothing predicts past it).
    var input: [TokenID] { Array((context + continuation).dropLast()) }
}

/// The continuation's log-likelihood, whether greedy decoding would have produced it, and each token's
/// log-probability (natural log), in order.
public struct ContinuationScore: Sendable, Equatable {
    public var logLikelihood: Double
    public var isGreedy: Bool
    public var tokenLogprobs: [Float]
}

/// Log-likelihoods of continuations through the engine directly.
///
/// The requests of one item run together: their common prefix (a multiple-choice question) is evaluated once,
/// in its own sequence, and every choice adopts its cached KV blocks (whole 16-position blocks; at most 15
/// shared positions are recomputed per choice), then all choices' remaining tokens go through the network in
/// shared batches. Each wanted row gets the exact distribution (no head sketch), as `parley complete --echo`.
public final class EngineLogLikelihood: @unchecked Sendable {
    public let model: Model
    public let contextLength: Int
    private let workspace: Workspace
    private var pool: KVBlockPool

    public init(model: Model, threads: Int, contextLength: Int = 2048, maxBatch: Int = 256) {
        self.model = model
        self.contextLength = max(2, contextLength)
        let vocab = model.hyperparameters.vocabularySize
        // Logit rows cost a vocabulary of floats each; 64 MiB of them, as a session allows.
        let logitRows = min(maxBatch, max(1, (64 << 20) / (vocab * 4)))
        workspace = model.makeWorkspace(threads: threads, maxBatch: maxBatch, maxLogitRows: logitRows,
                                        maxSequenceLength: self.contextLength)
        pool = model.makeKVPool(blocks: 64)
    }

    /// Tokens of a (context, continuation) pair as lm-evaluation-harness encodes them (`_encode_pair`):
    /// trailing spaces of the context move to the continuation, the whole text is encoded once and the
    /// continuation is what follows the context's own encoding. BOS as the model's metadata says; an empty
    /// context becomes BOS (or EOS) alone.
    public func tokenize(context: String, continuation: String) -> TokenRequest {
        var context = context, continuation = continuation
        let trailing = context.reversed().prefix { $0 == " " }.count
        if trailing > 0 {
            continuation = String(context.suffix(trailing)) + continuation
            context = String(context.dropLast(trailing))
        }
        let tokenizer = model.tokenizer
        if context.isEmpty {
            let start = tokenizer.bos ?? tokenizer.eos ?? 0
            return TokenRequest(context: [start], continuation: tokenizer.encode(continuation, addSpecial: false, parseSpecial: false))
        }
        let whole = tokenizer.encode(context + continuation, addSpecial: true, parseSpecial: false)
        let contextTokens = tokenizer.encode(context, addSpecial: true, parseSpecial: false)
        // The shared encoding can differ at the seam; the whole text's tokens after the context's count decide.
        let split = min(contextTokens.count, whole.count - 1)
        return TokenRequest(context: Array(whole[..<split]), continuation: Array(whole[split...]))
    }

    /// Scores requests (typically one item's choices) together, sharing their common prefix.
    public func score(_ requests: [TokenRequest]) throws -> [ContinuationScore] {
        var requests = requests
        for i in requests.indices {
            guard !requests[i].continuation.isEmpty, !requests[i].context.isEmpty else {
                throw EvalError("a request with an empty context or continuation")
            }
            // Longer than the window: keep the end, as lm-evaluation-harness truncates from the left.
            let total = requests[i].context.count + requests[i].continuation.count - 1
            if total > contextLength {
                guard requests[i].continuation.count < contextLength else {
                    throw EvalError("a continuation of \(requests[i].continuation.count) tokens does not fit a \(contextLength)-token window")
                }
                requests[i].context.removeFirst(total - contextLength)
            }
        }
        let inputs = requests.map(\.input)
        // Positions before the first wanted logit row that every request shares.
        var shared = requests.map { $0.context.count - 1 }.min() ?? 0
        for input in inputs.dropFirst() {
            shared = min(shared, zip(inputs[0], input).prefix { $0 == $1 }.count)
        }
        let size = KVBlockPool.blockSize
        let blocksNeeded = shared / size + inputs.reduce(0) { $0 + $1.count / size + 2 }
        if pool.blockCount < blocksNeeded { pool = model.makeKVPool(blocks: max(blocksNeeded, 2 * pool.blockCount)) }

        // The shared prefix once; its full blocks become adoptable.
        let prefix = SequenceCache(pool: pool, capacity: contextLength)
        if shared >= size {
            try run(inputs[0][..<(shared / size * size)].enumerated().map { p, token in
                BatchEntry(token: token, position: p, sequence: prefix, wantsLogits: false)
            }, onRow: { _, _ in })
        }

        var sequences: [SequenceCache] = []
        var entries: [BatchEntry] = []
        var owners: [(request: Int, position: Int)] = []
        for (r, input) in inputs.enumerated() {
            let sequence = SequenceCache(pool: pool, capacity: contextLength)
            let firstWanted = requests[r].context.count - 1
            let adopted = sequence.adoptCachedPrefix(of: input)
            if adopted > firstWanted { sequence.truncate(to: firstWanted) }
            sequences.append(sequence)
            for p in sequence.length..<input.count {
                entries.append(BatchEntry(token: input[p], position: p, sequence: sequence, wantsLogits: p >= firstWanted))
                if p >= firstWanted { owners.append((r, p)) }
            }
        }

        var scores = requests.map { _ in ContinuationScore(logLikelihood: 0, isGreedy: true, tokenLogprobs: []) }
        let vocab = model.hyperparameters.vocabularySize
        let row = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        defer { row.deallocate() }
        try run(entries) { rowIndex, logits in
            let (r, p) = owners[rowIndex]
            let full = requests[r].context + requests[r].continuation
            let target = Int(full[p + 1])
            logSoftmax(logits, count: vocab, into: row)
            var best = 0
            for v in 1..<vocab where row[v] > row[best] { best = v }
            scores[r].tokenLogprobs.append(row[target])
            scores[r].logLikelihood += Double(row[target])
            if best != target { scores[r].isGreedy = false }
        }
        withExtendedLifetime((prefix, sequences)) {}
        return scores
    }

    /// Runs entries in batches the workspace allows, in order; `onRow(k, logits)` for the k-th wanted row overall.
    private func run(_ entries: [BatchEntry], onRow: (Int, UnsafePointer<Float>) -> Void) throws {
        let vocab = model.hyperparameters.vocabularySize
        var start = 0, rowsDone = 0
        while start < entries.count {
            var end = start, rows = 0
            while end < entries.count, end - start < workspace.maxBatch {
                if entries[end].wantsLogits {
                    if rows == workspace.maxLogitRows { break }
                    rows += 1
                }
                end += 1
            }
            try model.run(Array(entries[start..<end]), workspace: workspace)
            for k in 0..<rows { onRow(rowsDone + k, workspace.logits + k * vocab) }
            rowsDone += rows
            start = end
        }
    }
}
