import ParleyGGUF
import ParleyTokenizer

/// One conversation's state on a loaded model: a KV cache, a workspace and the tokens already evaluated,
/// so a follow-up prompt that extends the previous one only evaluates what is new.
public final class Session: @unchecked Sendable {
    public let model: Model
    public let cache: SequenceCache
    let workspace: Workspace
    /// Tokens whose keys and values are in the cache, in order.
    public private(set) var evaluated: [TokenID] = []
    private var batch: [BatchEntry] = []

    init(model: Model, contextLength: Int, threads: Int, maxBatch: Int) {
        self.model = model
        let hp = model.network.hyperparameters
        let blocks = (contextLength + KVBlockPool.blockSize - 1) / KVBlockPool.blockSize
        cache = SequenceCache(pool: KVBlockPool(layers: hp.blockCount, kvLength: hp.kvLength, blocks: blocks),
                              capacity: contextLength)
        // Logit rows cost a vocabulary of floats each; 64 MiB of them bounds prompt scoring's memory.
        let logitRows = min(maxBatch, max(1, (64 << 20) / (hp.vocabularySize * 4)))
        workspace = model.makeWorkspace(threads: threads, maxBatch: maxBatch, maxLogitRows: logitRows,
                                        maxSequenceLength: contextLength)
    }

    public var contextLength: Int { cache.capacity }
    var vocabularySize: Int { model.network.hyperparameters.vocabularySize }

    /// Forgets the conversation.
    public func reset() {
        evaluated.removeAll()
        cache.truncate(to: 0)
    }

    /// Evaluates `tokens` after what is cached. Calls `onLogits(i, row)` for each token index i in
    /// `logitsFor` (row = the next-token logits after tokens[i]).
    func evaluate(_ tokens: ArraySlice<TokenID>, logitsFor wanted: (Int) -> Bool, candidatesNeeded: Int = 0,
                  onLogits: (Int, UnsafeMutablePointer<Float>) -> Void) throws {
        let vocab = vocabularySize
        for t in tokens where t < 0 || Int(t) >= vocab {
            throw EngineError.tokenOutOfRange(t, vocabulary: vocab)
        }
        guard evaluated.count + tokens.count <= cache.capacity else {
            throw EngineError.contextFull(capacity: cache.capacity)
        }
        var index = tokens.startIndex
        while index < tokens.endIndex {
            // A chunk is bounded by the batch size and by how many logit rows it may return.
            batch.removeAll(keepingCapacity: true)
            var rows: [Int] = []
            while index < tokens.endIndex, batch.count < workspace.maxBatch {
                let want = wanted(index - tokens.startIndex)
                if want && rows.count == workspace.maxLogitRows { break }
                if want { rows.append(index - tokens.startIndex) }
                batch.append(BatchEntry(token: tokens[index], position: evaluated.count, sequence: cache, wantsLogits: want,
                                        candidatesNeeded: candidatesNeeded))
                evaluated.append(tokens[index])
                index += 1
            }
            try model.run(batch, workspace: workspace)
            for (r, i) in rows.enumerated() { onLogits(i, workspace.logits + r * vocab) }
        }
    }

    /// Runs one generated token and copies out its next-token logits, reusing the batch storage (no allocation).
    private func decodeStep(_ token: TokenID, candidatesNeeded: Int, into logits: UnsafeMutablePointer<Float>) throws {
        batch.removeAll(keepingCapacity: true)
        batch.append(BatchEntry(token: token, position: evaluated.count, sequence: cache, wantsLogits: true,
                                candidatesNeeded: candidatesNeeded))
        try model.run(batch, workspace: workspace)
        evaluated.append(token)
        logits.update(from: workspace.logits, count: vocabularySize)
    }

    /// Generates a continuation of `prompt`, streaming each token to `onToken` (return false to stop).
    ///
    /// The cached prefix shared with the previous call is reused.
    @discardableResult
    public func generate(prompt: [TokenID], parameters: GenerationParameters,
                         onToken: (GeneratedToken) -> Bool = { _ in true }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw EngineError.emptyPrompt }
        let vocab = vocabularySize
        let tokenizer = model.tokenizer
        var sampler = Sampler(parameters.sampling)
        for t in prompt { sampler.accept(t) }

        // Reuse the longest cached prefix, but always evaluate at least the last prompt token for its logits;
        // scoring the prompt needs every position, so it starts afresh.
        var reuse = 0
        if !parameters.echoPromptLogprobs {
            while reuse < min(evaluated.count, prompt.count - 1), evaluated[reuse] == prompt[reuse] { reuse += 1 }
        }
        evaluated.removeSubrange(reuse...)
        cache.truncate(to: reuse)

        let wantLogprobs = parameters.logprobs || parameters.topLogprobs > 0
        var promptLogprobs: [TokenLogprob?] = parameters.echoPromptLogprobs ? [nil] : []
        let logprobRow = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        defer { logprobRow.deallocate() }
        let nextLogits = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        defer { nextLogits.deallocate() }

        func describe(_ logits: UnsafePointer<Float>, chosen: TokenID) -> TokenLogprob {
            logSoftmax(logits, count: vocab, into: logprobRow)
            return TokenLogprob(id: chosen, logprob: logprobRow[Int(chosen)],
                                top: topEntries(logprobRow, count: vocab, k: max(parameters.topLogprobs, 0)))
        }

        let suffix = prompt[reuse...]
        let lastIndex = suffix.count - 1
        try evaluate(suffix, logitsFor: { i in i == lastIndex || parameters.echoPromptLogprobs },
                     candidatesNeeded: parameters.candidatesNeeded) { i, row in
            if parameters.echoPromptLogprobs, i < lastIndex {
                promptLogprobs.append(describe(row, chosen: prompt[reuse + i + 1]))
            }
            if i == lastIndex { nextLogits.update(from: row, count: vocab) }
        }

        var tokens: [TokenID] = []
        var logprobs: [TokenLogprob] = []
        var text = ""
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var stops = StopStringMatcher(parameters.stopStrings)
        var finish = FinishReason.length

        while tokens.count < parameters.maxTokens {
            // Logprobs describe the model's own distribution, before penalties and temperature.
            if wantLogprobs { logSoftmax(nextLogits, count: vocab, into: logprobRow) }
            let token = sampler.sample(nextLogits, vocabularySize: vocab)
            let info = wantLogprobs
                ? TokenLogprob(id: token, logprob: logprobRow[Int(token)],
                               top: topEntries(logprobRow, count: vocab, k: max(parameters.topLogprobs, 0)))
                : nil
            sampler.accept(token)
            tokens.append(token)
            if let info { logprobs.append(info) }

            if parameters.stopAtEndOfGeneration && tokenizer.endOfGeneration.contains(token) {
                finish = .stop
                let tail = stops.flush() + detokenizer.flush()
                text += tail
                _ = onToken(GeneratedToken(id: token, text: tail, logprob: info))
                break
            }
            let (piece, stopped) = stops.append(detokenizer.append(token))
            text += piece
            if stopped {
                finish = .stop
                _ = onToken(GeneratedToken(id: token, text: piece, logprob: info))
                break
            }
            if !onToken(GeneratedToken(id: token, text: piece, logprob: info)) {
                finish = .cancelled
                break
            }
            if tokens.count == parameters.maxTokens { break }
            if evaluated.count >= cache.capacity {
                finish = .contextFull
                break
            }
            try decodeStep(token, candidatesNeeded: parameters.candidatesNeeded, into: nextLogits)
        }
        if finish == .length || finish == .cancelled || finish == .contextFull {
            text += stops.flush() + detokenizer.flush()
        }
        return GenerationResult(promptTokens: prompt, tokens: tokens, text: text, finishReason: finish,
                                logprobs: logprobs, promptLogprobs: promptLogprobs)
    }

    /// Teacher-forced scoring: evaluates `tokens` from an empty cache and calls `body(i, logprobs)` with the
    /// log-probability row that follows tokens[0...i] (the distribution predicting tokens[i+1]).
    public func score(_ tokens: [TokenID], body: (Int, UnsafeBufferPointer<Float>) -> Void) throws {
        reset()
        let vocab = vocabularySize
        let row = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        defer { row.deallocate() }
        try evaluate(tokens[...], logitsFor: { _ in true }) { i, logits in
            logSoftmax(logits, count: vocab, into: row)
            body(i, UnsafeBufferPointer(start: row, count: vocab))
        }
    }
}

