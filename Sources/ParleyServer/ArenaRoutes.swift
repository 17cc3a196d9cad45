import Foundation
import Hummingbird
import ParleyEngine
import ParleyEval
import ParleyStore
import ParleyTokenizer

/// The arena: one prompt, two models the user cannot see (local ones and/or configured providers' ones), both
/// answers streamed side by side; the user votes A, B, tie or both bad and only then learns who was who. The
/// leaderboard fits Bradley–Terry ratings (ParleyEval.BradleyTerry: ties and "both bad" as half a win each, one
/// virtual tie per pair as prior) to every vote, with seeded bootstrap intervals, beside benchmark figures.
extension ChatApp {
    static let arenaMaxTokens = 512
    static let arenaResamples = 200

    func registerArena(_ add: AddRoute) {
        let app = self
        add(.get, "/api/arena/models") { _, context in
            _ = try Self.me(context)
            return AppJSON.response(.obj([("count", .int(try await app.arenaModels().count))]))
        }
        add(.post, "/api/arena/battles") { request, context in try await app.startBattle(request, context) }
        add(.get, "/api/arena/battles/:id") { _, context in
            let me = try Self.me(context)
            let store = try app.arenaStore()
            guard let battle = try await db({ try await store.battle(id: try Self.id(context), userID: me.user.id) }) else {
                throw AppError.notFound("Battle")
            }
            return AppJSON.response(Self.battleJSON(battle))
        }
        add(.post, "/api/arena/battles/:id/vote") { request, context in
            let me = try Self.me(context)
            let store = try app.arenaStore()
            let id = try Self.id(context)
            let b = try await app.body(request, limit: 4096)
            let raw = try b.requiredString("winner", maxLength: 20)
            guard let winner = ArenaBattle.Winner(rawValue: raw) else {
                throw AppError.badRequest("'winner' must be a, b, tie or both_bad.")
            }
            guard let battle = try await db({ try await store.battle(id: id, userID: me.user.id) }) else { throw AppError.notFound("Battle") }
            // Both answers are written together when both have ended.
            guard !battle.answerA.isEmpty || battle.winner != nil else {
                throw AppError(.conflict, "conflict", "The answers are not finished yet; vote when both have ended.")
            }
            guard try await db({ try await store.voteBattle(id: id, userID: me.user.id, winner: winner, now: Date()) }) else {
                throw AppError(.conflict, "conflict", "This battle was already voted on.")
            }
            let voted = try await db { try await store.battle(id: id, userID: me.user.id) } ?? battle
            return AppJSON.response(Self.battleJSON(voted))
        }
        add(.get, "/api/arena/leaderboard") { _, context in
            _ = try Self.me(context)
            return AppJSON.response(try await app.leaderboard())
        }
        add(.post, "/api/arena/eval-results") { request, context in
            guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
            let store = try app.arenaStore()
            let b = try await app.body(request, limit: 1 << 20)
            let model = try b.requiredString("model", maxLength: 200)
            var items: [AppBody] = []
            if case .array(let list)? = b.object["results"] {
                for raw in list {
                    guard case .object(let o) = raw else { throw AppError.badRequest("'results' must hold objects.") }
                    items.append(AppBody(object: o))
                }
            } else {
                items = [b]
            }
            guard !items.isEmpty, items.count <= 1000 else { throw AppError.badRequest("Send 1 to 1000 results.") }
            var saved: [EvalResultRecord] = []
            for item in items {
                // The shape `parley eval run --json` prints: task, metric, value (percent), n.
                guard let value = try item.number("value", in: -1e9...1e9) else { throw AppError.badRequest("'value' is required.") }
                let record = EvalResultRecord(
                    model: model, task: try item.requiredString("task", maxLength: 200),
                    metric: try item.requiredString("metric", maxLength: 100),
                    value: value, n: try item.int("n") ?? 0, method: try item.string("method", maxLength: 100))
                guard record.n >= 0 else { throw AppError.badRequest("'n' must be at least 0.") }
                try await db { try await store.saveEvalResult(record) }
                saved.append(record)
            }
            return AppJSON.response(.obj([("saved", .int(saved.count))]), status: .created)
        }
    }

    func arenaStore() throws -> any ArenaStore { try providerRegistry().store }

    /// Every model the arena may pick: the loaded local ones, then the providers'.
    func arenaModels() async throws -> [String] {
        catalog.all.map(\.id) + (try await providers?.models().map(\.id) ?? [])
    }

    static func battleJSON(_ b: ArenaBattle) -> TemplateValue {
        let revealed = b.winner != nil
        return .obj([("id", .string(b.id)), ("prompt", .string(b.prompt)), ("answer_a", .string(b.answerA)),
                     ("answer_b", .string(b.answerB)), ("winner", .str(b.winner?.rawValue)),
                     // Who answered is told only after the vote.
                     ("model_a", revealed ? .string(b.modelA) : .none), ("model_b", revealed ? .string(b.modelB) : .none),
                     ("created_at", .time(b.createdAt)), ("voted_at", .time(b.votedAt))])
    }

    func leaderboard() async throws -> TemplateValue {
        let store = try arenaStore()
        let votes = try await db { try await store.arenaVotes() }
        let outcomes = votes.map { v -> PairwiseOutcome in
            let result: PairwiseOutcome.Result = v.winner == .a ? .aWins : v.winner == .b ? .bWins : .tie
            return PairwiseOutcome(a: v.modelA, b: v.modelB, result: result)
        }
        let ratings = BradleyTerry.ratings(outcomes, models: try await arenaModels(), priorTies: 1,
                                           resamples: Self.arenaResamples, seed: 42)
        let evals = try await db { try await store.evalResults() }
        return .obj([
            ("method", "Bradley–Terry maximum likelihood on the Elo scale (1000 + 400·log10 strength); ties and 'both bad' count as half a win for each side; one virtual tie per pair as prior; 95 % intervals from 200 seeded bootstrap resamples of the votes"),
            ("votes", .int(votes.count)),
            ("ratings", .array(ratings.map { r in
                .obj([("model", .string(r.model)), ("rating", .double(r.rating)), ("low", .double(r.low)), ("high", .double(r.high)),
                      ("battles", .int(r.battles)), ("wins", .int(r.wins)), ("losses", .int(r.losses)), ("ties", .int(r.ties))])
            })),
            ("eval_results", .array(evals.map { e in
                .obj([("model", .string(e.model)), ("task", .string(e.task)), ("metric", .string(e.metric)),
                      ("value", .double(e.value)), ("n", .int(e.n)), ("method", .str(e.method)), ("created_at", .time(e.createdAt))])
            })),
        ])
    }

    /// One side's answer as a stream of text: a local model through its scheduler, a provider's over HTTP.
    func arenaAnswer(model id: String, prompt: String) async throws -> AsyncThrowingStream<String, Error> {
        if let remote = try await providers?.model(id) {
            let client = try providerRegistry().client(remote)
            return client.streamChat([("system", defaultSystemPrompt), ("user", prompt)], maxTokens: Self.arenaMaxTokens,
                                     temperature: 0.7)
        }
        guard let served = catalog.all.first(where: { $0.id == id }) else { throw AppError.badRequest("Unknown model '\(id)'.") }
        let draft = Message(conversationID: "arena", parentID: nil, role: .user, content: prompt)
        let built = try PromptBuilder.build(model: served.model, context: served.scheduler.configuration.contextLength,
                                            systemPrompt: nil, defaultSystemPrompt: defaultSystemPrompt,
                                            instructions: CustomInstructions(), branch: [draft])
        var parameters = GenerationParameters()
        parameters.sampling.temperature = 0.7
        parameters.maxTokens = max(1, min(Self.arenaMaxTokens, served.scheduler.configuration.contextLength - built.tokens.count))
        parameters.stopStrings = served.model.chatStopStrings
        let handle: GenerationHandle
        do {
            handle = try served.scheduler.submit(SchedulerRequest(prompt: built.tokens, parameters: parameters))
        } catch SchedulerError.queueFull(let n) {
            throw AppError(.tooManyRequests, "rate_limited", "The server is busy (\(n) requests waiting); try again shortly.")
        }
        let metrics = self.metrics
        return AsyncThrowingStream { continuation in
            let task = Task {
                for await event in handle.events {
                    switch event {
                    case .started: break
                    case .token(let t): if !t.text.isEmpty { continuation.yield(t.text) }
                    case .finished(let s): metrics.countTokens(prompt: s.promptTokens, completion: s.completionTokens)
                    case .failed(let m): continuation.finish(throwing: AppError(.internalServerError, "internal_error", m)); return
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                handle.cancel()
                task.cancel()
            }
        }
    }

    /// `POST /api/arena/battles {"prompt"}`: picks two different models at random (or the `model_a`/`model_b`
    /// given), stores the battle and streams `battle` {id}, `delta` {side, text}, `end` {side[, error]} per side,
    /// then `done` {id}. Model names are not in the stream.
    func startBattle(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let me = try Self.me(context)
        let store = try arenaStore()
        let b = try await body(request)
        let prompt = try b.requiredString("prompt", maxLength: 32_000)
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw AppError.badRequest("'prompt' is empty.") }
        let available = try await arenaModels()
        let pair: [String]
        if let a = try b.string("model_a", maxLength: 200), let bModel = try b.string("model_b", maxLength: 200) {
            guard available.contains(a), available.contains(bModel) else { throw AppError.badRequest("Unknown arena model; both must be served or configured.") }
            guard a != bModel else { throw AppError.badRequest("'model_a' and 'model_b' must differ.") }
            pair = [a, bModel]
        } else {
            guard available.count >= 2 else {
                if case .loading = catalog.state { _ = try catalog.resolve(nil) }
                throw AppError(.serviceUnavailable, "unavailable", "The arena needs two models; this server has \(available.count). Serve another model or configure a provider.")
            }
            pair = Array(available.shuffled().prefix(2))
        }
        let battle = try await db {
            try await store.createBattle(ArenaBattle(userID: me.user.id, prompt: prompt, modelA: pair[0], modelB: pair[1]))
        }
        let streamA = try await arenaAnswer(model: pair[0], prompt: prompt)
        let streamB = try await arenaAnswer(model: pair[1], prompt: prompt)
        let (events, continuation) = AsyncStream<ReplyEvent>.makeStream(bufferingPolicy: .unbounded)
        let userID = me.user.id
        let job = Task.detached {
            let texts = await withTaskGroup(of: (Int, String).self) { group in
                for (side, stream) in [(0, streamA), (1, streamB)] {
                    group.addTask {
                        let name = side == 0 ? "a" : "b"
                        var text = ""
                        var failure: String?
                        do {
                            for try await delta in stream {
                                text += delta
                                continuation.yield(ReplyEvent(name: "delta", data: .obj([("side", .string(name)), ("text", .string(delta))])))
                            }
                        } catch {
                            failure = (error as? AppError)?.message ?? "\(error)"
                        }
                        var end: [(String, TemplateValue)] = [("side", .string(name))]
                        if let failure { end.append(("error", .string(failure))) }
                        continuation.yield(ReplyEvent(name: "end", data: .obj(end)))
                        return (side, text)
                    }
                }
                var out = ["", ""]
                for await (side, text) in group { out[side] = text }
                return out
            }
            // An empty answer is stored as what it is; a side that failed says so, so the vote is not blind to it.
            let a = texts[0].isEmpty ? "(no answer)" : texts[0]
            let b = texts[1].isEmpty ? "(no answer)" : texts[1]
            try? await store.updateBattleAnswers(id: battle.id, userID: userID, answerA: a, answerB: b)
            continuation.yield(ReplyEvent(name: "done", data: .obj([("id", .string(battle.id))])))
            continuation.finish()
        }
        let opening = ReplyEvent(name: "battle", data: .obj([("id", .string(battle.id)), ("prompt", .string(prompt))])).text
        let body = ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: opening))
                for await event in events { try await writer.write(ByteBuffer(string: event.text)) }
                try await writer.finish(nil)
            } catch {
                job.cancel()
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store",
                                               .init("X-Accel-Buffering")!: "no"], body: body)
    }
}
