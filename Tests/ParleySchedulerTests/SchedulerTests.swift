import Foundation
import ParleyEngine
import ParleyTestSupport
import ParleyTokenizer
import Testing

/// Continuous batching must give each request what it would get alone, share prefixes, bound its queue and
/// free cancelled sequences.
@Suite(.serialized) struct SchedulerTests {
    static let model = try! Model(path: TestModels.smolLM2)

    static func chatPrompt(_ text: String, system: String = "You are a helpful assistant.") -> [TokenID] {
        let rendered = try! model.renderChat([ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: text)])
        return model.tokenizePrompt(rendered)
    }

    static func greedy(_ maxTokens: Int) -> GenerationParameters {
        var p = GenerationParameters()
        p.sampling = .greedy
        p.maxTokens = maxTokens
        return p
    }

    static func scheduler(parallel: Int = 8, queue: Int = 64, context: Int = 1024) -> Scheduler {
        var c = SchedulerConfiguration()
        c.parallel = parallel
        c.maxQueue = queue
        c.contextLength = context
        c.threads = 2
        c.stepTokens = 256
        return Scheduler(model: model, configuration: c)
    }

    struct Outcome {
        var tokens: [TokenID] = []
        var text = ""
        var summary: GenerationSummary?
        var cached = 0
    }

    static func collect(_ handle: GenerationHandle) async -> Outcome {
        var o = Outcome()
        for await event in handle.events {
            switch event {
            case .started(_, let cached): o.cached = cached
            case .token(let t):
                if t.id >= 0 { o.tokens.append(t.id) }
                o.text += t.text
            case .finished(let s): o.summary = s
            case .failed(let m): Issue.record("failed: \(m)")
            }
        }
        return o
    }

    @Test func eightConcurrentSequencesMatchEachRunAlone() async throws {
        let questions = ["What is the capital of France?", "Name three colors.", "Count from one to five.",
                         "What is 2 + 2?", "Say hello in Spanish.", "What do bees make?",
                         "Which planet is largest?", "Write a haiku about rain."]
        let prompts = questions.map { Self.chatPrompt($0) }
        // Alone: the single-sequence session.
        var alone: [[TokenID]] = []
        for p in prompts {
            let session = Self.model.makeSession(contextLength: 1024, threads: 2)
            alone.append(try session.generate(prompt: p, parameters: Self.greedy(20)).tokens)
        }
        let scheduler = Self.scheduler()
        defer { scheduler.shutdown() }
        let handles = try prompts.map { try scheduler.submit(SchedulerRequest(prompt: $0, parameters: Self.greedy(20))) }
        var outcomes: [Outcome] = []
        for h in handles { outcomes.append(await Self.collect(h)) }
        for (i, o) in outcomes.enumerated() {
            #expect(o.tokens == alone[i], "request \(i) differs from its solo run")
            #expect(o.summary?.completionTokens == alone[i].count)
        }
        // They shared forward steps: far fewer steps than tokens generated.
        let total = alone.reduce(0) { $0 + $1.count }
        #expect(scheduler.stats.steps < total / 2)
        #expect(Set(outcomes.map(\.text)).count > 4, "independent outputs")
    }

    @Test func aRepeatedPrefixComesFromTheCache() async throws {
        let scheduler = Self.scheduler(parallel: 2)
        defer { scheduler.shutdown() }
        let system = String(repeating: "You are a careful assistant who answers briefly and politely. ", count: 4)
        let first = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: Self.chatPrompt("Hi!", system: system), parameters: Self.greedy(8))))
        let second = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: Self.chatPrompt("Hello?", system: system), parameters: Self.greedy(8))))
        #expect(first.cached == 0)
        #expect(second.cached >= 32)
        #expect(scheduler.stats.promptTokensFromCache >= 32)
        // And reuse does not change the result.
        let again = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: Self.chatPrompt("Hi!", system: system), parameters: Self.greedy(8))))
        #expect(again.tokens == first.tokens)
    }

    @Test func theQueueIsBounded() async throws {
        let scheduler = Self.scheduler(parallel: 1, queue: 1)
        defer { scheduler.shutdown() }
        var accepted: [GenerationHandle] = []
        var refused = 0
        for _ in 0..<4 {
            do {
                accepted.append(try scheduler.submit(SchedulerRequest(prompt: Self.chatPrompt("Tell a story."), parameters: Self.greedy(40))))
            } catch SchedulerError.queueFull {
                refused += 1
            }
        }
        #expect(refused >= 2)
        for h in accepted { h.cancel() }
    }

    @Test func aCancelledSequenceIsFreedPromptly() async throws {
        let scheduler = Self.scheduler(parallel: 2)
        defer { scheduler.shutdown() }
        let handle = try scheduler.submit(SchedulerRequest(prompt: Self.chatPrompt("Tell a long story."), parameters: Self.greedy(500)))
        var seen = 0
        for await event in handle.events {
            if case .token = event { seen += 1 }
            if seen == 3 { break }
        }
        handle.cancel()
        let deadline = Date().addingTimeInterval(5)
        while scheduler.stats.active > 0 && Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        #expect(scheduler.stats.active == 0)
        #expect(seen == 3)
    }

    @Test func promptsThatDoNotFitAreRefused() throws {
        let scheduler = Self.scheduler(context: 64)
        defer { scheduler.shutdown() }
        let long = Self.chatPrompt(String(repeating: "word ", count: 100))
        #expect(throws: SchedulerError.promptTooLong(tokens: long.count, context: 64)) {
            _ = try scheduler.submit(SchedulerRequest(prompt: long, parameters: Self.greedy(4)))
        }
    }

    @Test func stopStringsAndSeedsWork() async throws {
        let scheduler = Self.scheduler()
        defer { scheduler.shutdown() }
        var p = Self.greedy(40)
        p.stopStrings = [","]
        let prompt = Self.chatPrompt("List four fruits separated by commas.")
        let stopped = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: p)))
        #expect(!stopped.text.contains(","))
        #expect(stopped.summary?.finishReason == .stop)

        var sampled = GenerationParameters()
        sampled.maxTokens = 24
        sampled.sampling.temperature = 1.0
        sampled.sampling.seed = 1234
        let a = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: sampled)))
        let b = await Self.collect(try scheduler.submit(SchedulerRequest(prompt: prompt, parameters: sampled)))
        #expect(a.tokens == b.tokens)
    }

    @Test func embeddingsAreNormalisedAndDistinguishTexts() async throws {
        let scheduler = Self.scheduler()
        defer { scheduler.shutdown() }
        let tok = { (s: String) in Self.model.tokenizePrompt(s) }
        let a = try await scheduler.embed(tok("The cat sat on the mat."))
        let a2 = try await scheduler.embed(tok("The cat sat on the mat."))
        let b = try await scheduler.embed(tok("Quarterly revenue grew by eight percent."))
        #expect(a.count == Self.model.hyperparameters.embeddingLength)
        let norm = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-3)
        #expect(zip(a, a2).allSatisfy { abs($0 - $1) < 1e-5 })
        let cosine = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(cosine < 0.999)
    }
}
