import Foundation
import ParleyTokenizer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a `Scheduler` shares one model between many requests.
public struct SchedulerConfiguration: Sendable {
    /// Sequences generating at once; more requests wait in the queue.
    public var parallel: Int = 8
    /// Most positions (prompt + completion) one sequence may hold.
    public var contextLength: Int = 4096
    /// Worker threads of the forward pass.
    public var threads: Int = Model.defaultThreads
    /// Requests that may wait when every slot is taken; one more is refused (`SchedulerError.queueFull`).
    public var maxQueue: Int = 64
    /// Most tokens in one forward step: one decode token per generating sequence plus prompt chunks.
    public var stepTokens: Int = 512
    /// KV-cache blocks; nil sizes the pool so every slot can reach `contextLength`, plus a quarter more to keep
    /// shared prefixes cached.
    public var kvBlocks: Int?
    /// Keep the scheduler thread (which runs its share of each forward pass) and the worker threads on
    /// different cores (Linux; see `ThreadAffinity`).
    public var pinThreads = true
    /// Which waiting request a free slot takes; nil is first come, first served.
    public var admission: (any AdmissionPolicy)?

    public init() {}
}

public enum SchedulerError: Error, Equatable, Sendable, CustomStringConvertible {
    case queueFull(waiting: Int)
    case promptTooLong(tokens: Int, context: Int)
    case emptyPrompt
    case shuttingDown

    public var description: String {
        switch self {
        case .queueFull(let n): "the server is busy: \(n) requests are already waiting"
        case .promptTooLong(let t, let c):
            "the prompt has \(t) tokens, but the context holds \(c) (prompt plus at least one generated token)"
        case .emptyPrompt: "the prompt is empty"
        case .shuttingDown: "the server is shutting down"
        }
    }
}

/// One generation job: tokens to continue, how, and optionally a constraint on what may be generated.
public struct SchedulerRequest: @unchecked Sendable {
    public var prompt: [TokenID]
    public var parameters: GenerationParameters
    /// Restricts the tokens that may be sampled (JSON, tool calls); owned by this request alone.
    public var constraint: DecodingConstraint?
    /// Who the request is for, as the configuration's `admission` policy ranks it (a tenant, say).
    public var admissionKey: String?
    /// A LoRA adapter for this request alone (validated for the model by the caller): its sequence runs with it
    /// in the same batches as the others, and shares cached prefixes only with requests of the same adapter.
    public var adapter: LoRAAdapter?

    public init(prompt: [TokenID], parameters: GenerationParameters, constraint: DecodingConstraint? = nil,
                admissionKey: String? = nil, adapter: LoRAAdapter? = nil) {
        self.prompt = prompt
        self.parameters = parameters
        self.constraint = constraint
        self.admissionKey = admissionKey
        self.adapter = adapter
    }
}

/// What a request's stream delivers, in order: `started` once its prompt is evaluated, a `token` per generated
/// token, then exactly one `finished` (or `failed`).
public enum SchedulerEvent: Sendable {
    /// The prompt is in the cache; `cachedTokens` of it came from the prefix cache.
    case started(promptTokens: Int, cachedTokens: Int)
    case token(GeneratedToken)
    case finished(GenerationSummary)
    case failed(String)
}

public struct GenerationSummary: Sendable {
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var cachedPromptTokens: Int
    public var completionTokens: Int
}

/// A snapshot of the scheduler, for metrics and health.
public struct SchedulerStats: Sendable {
    public var waiting: Int
    public var active: Int
    public var kvBlocksUsed: Int
    public var kvBlocksTotal: Int
    public var steps: Int
    public var promptTokensFromCache: Int
}

/// Continuous batching over one model: every step runs one forward pass holding the next token of each
/// generating sequence plus chunks of newly admitted prompts, so the weights are read once per step for all of
/// them. Sequences share one paged KV pool, and prompts adopt cached blocks of a shared prefix.
///
/// The loop runs on its own thread (a forward pass blocks for milliseconds); requests arrive and results leave
/// through `AsyncStream`s. A stream whose consumer goes away (a disconnected client) frees its sequence at the
/// next step.
public final class Scheduler: @unchecked Sendable {
    public let model: Model
    public let configuration: SchedulerConfiguration
    public let pool: KVBlockPool
    let workspace: Workspace
    let vocabulary: VocabularyBytes

    private let lock = NSCondition()
    private var waiting: [Slot] = []
    private var jobs: [() -> Void] = []
    private var running = true
    private var thread: Thread?
    private var activeCount = 0
    private var stepCount = 0
    private var cachedTotal = 0

    // Scheduler-thread state.
    private var active: [Slot] = []
    private var batch: [BatchEntry] = []

    public init(model: Model, configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        var config = configuration
        config.parallel = max(1, config.parallel)
        config.contextLength = max(2, min(config.contextLength, model.hyperparameters.trainedContextLength))
        config.stepTokens = max(config.parallel + 1, config.stepTokens)
        self.model = model
        let perSequence = (config.contextLength + KVBlockPool.blockSize - 1) / KVBlockPool.blockSize
        let blocks = config.kvBlocks ?? (config.parallel * perSequence + max(16, config.parallel * perSequence / 4))
        config.kvBlocks = max(blocks, perSequence + 1)
        self.configuration = config
        pool = model.makeKVPool(blocks: config.kvBlocks!)
        // Workers are created under a mask without the scheduler's core (see ThreadAffinity).
        var schedulerCPU: Int?
        #if os(Linux)
        let saved = config.pinThreads ? ThreadAffinity.current() : nil
        if let saved {
            let cpus = ThreadAffinity.cpus(saved)
            if cpus.count >= 2, config.threads >= 2 {
                schedulerCPU = cpus[0]
                ThreadAffinity.set(ThreadAffinity.mask(Array(cpus.dropFirst())))
            }
        }
        #endif
        workspace = model.makeWorkspace(threads: config.threads, maxBatch: config.stepTokens,
                                        maxLogitRows: config.parallel, maxSequenceLength: config.contextLength)
        #if os(Linux)
        if let saved, schedulerCPU != nil { ThreadAffinity.set(saved) }
        #endif
        vocabulary = VocabularyBytes(model: model)
        warmUp()
        let thread = Thread {
            #if os(Linux)
            if let cpu = schedulerCPU { ThreadAffinity.set(ThreadAffinity.mask([cpu])) }
            #endif
            self.loop()
        }
        thread.name = "parley-scheduler"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Touches every page the steps will use before the first request: the KV pool, the workspace and the
    /// mapped weights. First touches are expensive (page faults, and far more so in a VM whose memory the host
    /// backs lazily); paid here, they would otherwise stall the first requests' steps for seconds.
    private func warmUp() {
        let kvCount = pool.layers * pool.blockCount * KVBlockPool.blockSize * pool.kvLength
        pool.keys.initialize(repeating: 0, count: kvCount)
        pool.values.initialize(repeating: 0, count: kvCount)
        let length = min(configuration.stepTokens, configuration.contextLength - 1)
        let sequence = SequenceCache(pool: pool, capacity: configuration.contextLength)
        let token = model.tokenizer.bos ?? 0
        let rows = workspace.maxLogitRows
        let prefill = (0..<length).map {
            BatchEntry(token: token, position: $0, sequence: sequence, wantsLogits: $0 >= length - rows, candidatesNeeded: 1)
        }
        // Candidate rows: the full-precision LM head stays paged out until a request needs whole distributions.
        try? model.run(prefill, workspace: workspace)
        try? model.run([BatchEntry(token: token, position: length, sequence: sequence, wantsLogits: true, candidatesNeeded: 1)],
                       workspace: workspace)
        sequence.truncate(to: 0)
    }

    /// Stops the loop: waiting requests fail, running ones finish with `.cancelled`.
    public func shutdown() {
        lock.lock()
        running = false
        lock.signal()
        lock.unlock()
    }

    public var stats: SchedulerStats {
        lock.lock()
        defer { lock.unlock() }
        return SchedulerStats(waiting: waiting.count, active: activeCount, kvBlocksUsed: pool.usedBlocks,
                              kvBlocksTotal: pool.blockCount, steps: stepCount, promptTokensFromCache: cachedTotal)
    }

    /// The bytes each token stands for (empty for control tokens), computed once per scheduler.
    public var tokenBytes: [[UInt8]] { vocabulary.bytes }

    /// Queues a request. Throws at once when the prompt cannot fit or the queue is full.
    public func submit(_ request: SchedulerRequest) throws -> GenerationHandle {
        guard !request.prompt.isEmpty else { throw SchedulerError.emptyPrompt }
        guard request.prompt.count < configuration.contextLength else {
            throw SchedulerError.promptTooLong(tokens: request.prompt.count, context: configuration.contextLength)
        }
        let vocab = model.hyperparameters.vocabularySize
        for t in request.prompt where t < 0 || Int(t) >= vocab {
            throw EngineError.tokenOutOfRange(t, vocabulary: vocab)
        }
        var continuation: AsyncStream<SchedulerEvent>.Continuation!
        let stream = AsyncStream<SchedulerEvent>(bufferingPolicy: .unbounded) { continuation = $0 }
        let slot = Slot(request: request, tokenizer: model.tokenizer, continuation: continuation)
        continuation.onTermination = { [weak slot] _ in slot?.cancel() }
        lock.lock()
        defer { lock.unlock() }
        guard running else { throw SchedulerError.shuttingDown }
        // Free slots take requests at once (they are admitted at the next step); beyond them, `maxQueue` wait.
        guard waiting.count + activeCount < configuration.parallel + configuration.maxQueue else {
            throw SchedulerError.queueFull(waiting: waiting.count)
        }
        waiting.append(slot)
        lock.signal()
        return GenerationHandle(events: stream, slot: slot)
    }

    /// Mean-pooled, L2-normalised final hidden states of `tokens` (see `Model.embedding`), computed on the
    /// scheduler thread between steps.
    public func embed(_ tokens: [TokenID]) async throws -> [Float] {
        guard !tokens.isEmpty else { throw SchedulerError.emptyPrompt }
        guard tokens.count <= configuration.contextLength else {
            throw SchedulerError.promptTooLong(tokens: tokens.count, context: configuration.contextLength)
        }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Float], Error>) in
            lock.lock()
            guard running else {
                lock.unlock()
                c.resume(throwing: SchedulerError.shuttingDown)
                return
            }
            jobs.append { [self] in
                do {
                    c.resume(returning: try model.embedding(of: tokens, pool: pool, workspace: workspace))
                } catch {
                    c.resume(throwing: error)
                }
            }
            lock.signal()
            lock.unlock()
        }
    }

    // MARK: - The loop

    private func loop() {
        while true {
            lock.lock()
            while running && waiting.isEmpty && jobs.isEmpty && active.isEmpty { lock.wait() }
            if !running {
                let dropped = waiting
                waiting.removeAll()
                lock.unlock()
                for slot in dropped { slot.fail(SchedulerError.shuttingDown.description) }
                for slot in active { finish(slot, .cancelled) }
                active.removeAll()
                lock.lock()
                activeCount = 0
                let pending = jobs
                jobs.removeAll()
                lock.unlock()
                for job in pending { job() }  // embeddings still answer
                return
            }
            let pendingJobs = jobs
            jobs.removeAll()
            // Admission up to `parallel` sequences: by the policy's priority, else first come, first served.
            while active.count < configuration.parallel, !waiting.isEmpty {
                let next = configuration.admission.flatMap { policy in
                    waiting.indexOfHighest(key: { $0.request.admissionKey }, score: policy.priority(of:))
                } ?? 0
                let slot = waiting.remove(at: next)
                if slot.isCancelled {
                    slot.continuation.finish()
                    continue
                }
                admit(slot)
                active.append(slot)
            }
            activeCount = active.count
            lock.unlock()

            for job in pendingJobs { job() }
            step()
        }
    }

    /// Called with `lock` held.
    private func admit(_ slot: Slot) {
        let cache = SequenceCache(pool: pool, capacity: configuration.contextLength)
        cache.adapter = slot.request.adapter
        slot.cache = cache
        // A prompt that repeats a cached prefix (a system prompt, earlier turns) starts after it.
        slot.cached = cache.adoptCachedPrefix(of: slot.request.prompt)
        slot.fed = slot.cached
        cachedTotal += slot.cached
    }

    /// One forward pass for every active sequence, then sampling.
    private func step() {
        // Sequences whose client went away leave before the pass.
        let before = active.count
        active.removeAll { slot in
            guard slot.isCancelled else { return false }
            finish(slot, .cancelled)
            return true
        }
        if active.count != before { publishActiveCount() }
        guard !active.isEmpty else { return }

        batch.removeAll(keepingCapacity: true)
        var logitOwners: [Slot] = []
        // Decode tokens first: one per generating sequence.
        for slot in active where slot.prefillDone {
            batch.append(BatchEntry(token: slot.nextInput, position: slot.position, sequence: slot.cache!, wantsLogits: true,
                                    candidatesNeeded: slot.candidatesNeeded))
            logitOwners.append(slot)
        }
        // Then prompt chunks, oldest first, within the step budget.
        var budget = configuration.stepTokens - batch.count
        for slot in active where !slot.prefillDone && budget > 0 {
            let prompt = slot.request.prompt
            let chunk = min(prompt.count - slot.fed, budget)
            for i in slot.fed..<(slot.fed + chunk) {
                let last = i == prompt.count - 1
                batch.append(BatchEntry(token: prompt[i], position: i, sequence: slot.cache!, wantsLogits: last,
                                        candidatesNeeded: slot.candidatesNeeded))
                if last { logitOwners.append(slot) }
            }
            slot.pendingFeed = chunk
            budget -= chunk
        }
        guard !batch.isEmpty else { return }

        do {
            try model.run(batch, workspace: workspace)
        } catch {
            // The pool is sized so this cannot happen; if it does, fail the sequences rather than the server.
            for slot in active { slot.fail("generation failed: \(error)") }
            active.removeAll()
            publishActiveCount()
            return
        }
        lock.lock()
        stepCount += 1
        lock.unlock()

        for slot in active where slot.pendingFeed > 0 {
            slot.fed += slot.pendingFeed
            slot.pendingFeed = 0
        }
        let vocab = model.hyperparameters.vocabularySize
        var finished: [Slot] = []
        for (row, slot) in logitOwners.enumerated() {
            if !slot.prefillDone {
                slot.prefillDone = true
                slot.position = slot.request.prompt.count
                slot.continuation.yield(.started(promptTokens: slot.request.prompt.count, cachedTokens: slot.cached))
            } else {
                slot.position += 1
            }
            if let reason = sample(slot, logits: workspace.logits + row * vocab) {
                finish(slot, reason)
                finished.append(slot)
            }
        }
        if !finished.isEmpty {
            active.removeAll { s in finished.contains { $0 === s } }
            publishActiveCount()
        }
    }

    private func publishActiveCount() {
        lock.lock()
        activeCount = active.count
        lock.unlock()
    }

    /// Chooses the slot's next token from `logits` and delivers it; returns a reason when the sequence ends.
    private func sample(_ slot: Slot, logits: UnsafeMutablePointer<Float>) -> FinishReason? {
        let vocab = model.hyperparameters.vocabularySize
        let parameters = slot.request.parameters
        let tokenizer = model.tokenizer
        let wantLogprobs = parameters.logprobs || parameters.topLogprobs > 0
        if wantLogprobs { logSoftmax(logits, count: vocab, into: slot.logprobRow(vocab)) }
        let token: TokenID
        if let constraint = slot.request.constraint, !constraint.isUnconstrained {
            constraint.tokensLeft(min(parameters.maxTokens - slot.generated, configuration.contextLength - slot.position))
            token = vocabulary.constrainedSample(logits, constraint: constraint, sampler: &slot.sampler)
        } else {
            token = slot.sampler.sample(logits, vocabularySize: vocab)
        }
        let info: TokenLogprob? = wantLogprobs
            ? TokenLogprob(id: token, logprob: slot.logprobRow(vocab)[Int(token)],
                           top: topEntries(slot.logprobRow(vocab), count: vocab, k: max(parameters.topLogprobs, 0)))
            : nil
        slot.sampler.accept(token)
        slot.generated += 1
        slot.nextInput = token

        let endOfGeneration = tokenizer.endOfGeneration.contains(token)
        if let constraint = slot.request.constraint, !endOfGeneration {
            constraint.advance(vocabulary.bytes[Int(token)])
        }
        if parameters.stopAtEndOfGeneration && endOfGeneration {
            let tail = slot.stops.flush() + slot.detokenizer.flush()
            slot.continuation.yield(.token(GeneratedToken(id: token, text: tail, logprob: info)))
            return .stop
        }
        let (piece, stopped) = slot.stops.append(slot.detokenizer.append(token))
        slot.continuation.yield(.token(GeneratedToken(id: token, text: piece, logprob: info)))
        if stopped { return .stop }
        if let constraint = slot.request.constraint, constraint.mustEnd { return .stop }
        if slot.generated >= parameters.maxTokens { return .length }
        if slot.position >= configuration.contextLength { return .contextFull }
        return nil
    }

    private func finish(_ slot: Slot, _ reason: FinishReason) {
        if reason != .stop && reason != .cancelled {
            let tail = slot.stops.flush() + slot.detokenizer.flush()
            if !tail.isEmpty {
                slot.continuation.yield(.token(GeneratedToken(id: -1, text: tail, logprob: nil)))
            }
        }
        slot.continuation.yield(.finished(GenerationSummary(
            finishReason: reason, promptTokens: slot.request.prompt.count, cachedPromptTokens: slot.cached,
            completionTokens: slot.generated)))
        slot.continuation.finish()
        slot.release()
    }
}

/// A submitted request: its events, and a way to abandon it (its sequence is freed at the next step).
public struct GenerationHandle: Sendable {
    public let events: AsyncStream<SchedulerEvent>
    let slot: Slot

    public func cancel() { slot.cancel() }
}

/// A request's state while it waits or runs.
final class Slot: @unchecked Sendable {
    let request: SchedulerRequest
    let continuation: AsyncStream<SchedulerEvent>.Continuation
    var cache: SequenceCache?
    var sampler: Sampler
    var detokenizer: StreamingDetokenizer
    var stops: StopStringMatcher
    var cached = 0
    /// Prompt tokens already in the cache.
    var fed = 0
    var pendingFeed = 0
    var prefillDone = false
    /// Position of `nextInput`.
    var position = 0
    var nextInput: TokenID = 0
    var generated = 0
    /// What its logit rows need (see `BatchEntry.candidatesNeeded`); a JSON constraint may need any token.
    let candidatesNeeded: Int
    private var row: UnsafeMutablePointer<Float>?
    private let cancelled = CancelFlag()

    init(request: SchedulerRequest, tokenizer: Tokenizer, continuation: AsyncStream<SchedulerEvent>.Continuation) {
        self.request = request
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        self.continuation = continuation
        var sampler = Sampler(request.parameters.sampling)
        for t in request.prompt { sampler.accept(t) }
        self.sampler = sampler
        stops = StopStringMatcher(request.parameters.stopStrings)
        candidatesNeeded = request.constraint == nil ? request.parameters.candidatesNeeded : 0
    }

    deinit { row?.deallocate() }

    var isCancelled: Bool { cancelled.value }
    func cancel() { cancelled.set() }

    func logprobRow(_ vocab: Int) -> UnsafeMutablePointer<Float> {
        if let row { return row }
        let r = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
        row = r
        return r
    }

    func fail(_ message: String) {
        continuation.yield(.failed(message))
        continuation.finish()
        release()
    }

    /// Gives the sequence's blocks back; full blocks stay cached as prefixes.
    func release() {
        cache = nil
    }
}

/// A flag set once, read from any thread.
final class CancelFlag: @unchecked Sendable {
    private var flag = false
    private let lock = Lock()
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}
