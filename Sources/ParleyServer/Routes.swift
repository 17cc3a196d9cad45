import Foundation
import Hummingbird
import ParleyCredits
import ParleyEngine
import ParleyTokenizer

/// The HTTP API over a catalog of models: the OpenAI-compatible `/v1`, and, with a chat app, its `/api`, the
/// web UI and the accounts that guard them.
public struct ParleyAPI: Sendable {
    public let catalog: ModelCatalog
    public let metrics: ServerMetrics
    public let apiKey: String?
    public let maxBodyBytes: Int
    /// The chat app (accounts, conversations); nil serves only the OpenAI API, guarded by `apiKey` when set.
    public let app: ChatApp?
    /// The `/api` routes `makeRouter` registered.
    public let apiRoutes = RouteRecorder()
    /// Sentence-embedding models, served by `/v1/embeddings` beside the chat models.
    public let encoders: EncoderCatalog

    public init(catalog: ModelCatalog, metrics: ServerMetrics = ServerMetrics(), apiKey: String? = nil,
                maxBodyBytes: Int = 4 << 20, app: ChatApp? = nil, encoders: EncoderCatalog = EncoderCatalog()) {
        self.catalog = catalog
        self.encoders = encoders
        self.metrics = metrics
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.app = app
    }

    public func makeRouter() -> Router<ParleyRequestContext> {
        let router = Router(context: ParleyRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware(metrics: metrics))
        router.add(middleware: SecurityHeadersMiddleware())
        if let app {
            router.add(middleware: AuthMiddleware(auth: app.auth))
        } else if let apiKey, !apiKey.isEmpty {
            router.add(middleware: APIKeyMiddleware(key: apiKey))
        }
        let api = self
        router.get("/health") { _, _ in api.health() }
        router.get("/metrics") { _, _ in api.metricsResponse() }
        router.get("/v1/models") { _, _ in try await api.listModels() }
        router.get("/v1/models/:id") { _, context in try api.showModel(context.parameters.get("id") ?? "") }
        router.post("/v1/chat/completions") { request, context in
            let f = try await api.fields(request)
            // A configured provider's model (`PROVIDER/MODEL`): relayed to the provider, not metered here.
            if let registry = api.app?.providers, let remote = try await registry.model(try f.string("model")) {
                return try await api.forwardChat(f, model: remote, registry: registry)
            }
            var plan = try planChat(f, catalog: api.catalog, acceptLanguage: request.headers[.acceptLanguage])
            plan.meter = try await api.openMeter(request, context, model: plan.served.id, promptTokens: plan.prompt.count,
                                                 maxTokens: plan.parameters.maxTokens)
            // A user's key: the turn's assessment is stored like the app's (no conversation, never the text).
            if let app = api.app, let user = context.identity?.user {
                await app.safeguards.record(plan.wellbeing, userID: user.id, conversationID: nil)
            }
            return try await api.metered(plan.meter) { try await api.chat(plan, started: Date()) }
        }
        router.post("/v1/completions") { request, context in
            let f = try await api.fields(request)
            return try await api.complete(f, started: Date()) { model, prompt, maxTokens in
                try await api.openMeter(request, context, model: model, promptTokens: prompt, maxTokens: maxTokens)
            }
        }
        router.post("/v1/embeddings") { request, context in
            try await api.embeddings(try await api.fields(request)) { model, prompt, _ in
                try await api.openMeter(request, context, model: model, promptTokens: prompt, maxTokens: 0)
            }
        }
        router.post("/v1/moderations") { request, _ in
            try Moderations.respond(try await api.fields(request))
        }
        if let app {
            app.register(on: router, recorder: apiRoutes)
            app.credits?.register(on: router, recorder: apiRoutes)
            StaticUI.register(on: router)
        }
        return router
    }

    func fields(_ request: Request) async throws -> RequestFields {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        return try RequestFields(body: Array(buffer.readableBytesView))
    }

    static func json(_ value: TemplateValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonString())))
    }

    func health() -> Response {
        switch catalog.state {
        case .ready: return Self.json(.obj([("status", "ok")]))
        case .loading: return Self.json(.obj([("status", "loading")]), status: .serviceUnavailable)
        case .failed(let m): return Self.json(.obj([("status", "error"), ("message", .string(m))]), status: .serviceUnavailable)
        }
    }

    func metricsResponse() -> Response {
        let text = metrics.render(schedulers: catalog.all.map { ($0.id, $0.scheduler.stats) })
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func modelObject(_ m: ServedModel) -> TemplateValue {
        .obj([("id", .string(m.id)), ("object", "model"), ("created", .int(m.created)), ("owned_by", "parley"),
              ("context_length", .int(m.scheduler.configuration.contextLength))])
    }

    func listModels() async throws -> Response {
        if case .loading = catalog.state { _ = try catalog.resolve(nil) }
        // Configured providers' models (`PROVIDER/MODEL`), which /v1/chat/completions relays.
        let remote = (try? await app?.providers?.models()) ?? []
        let providerObjects: [TemplateValue] = remote.map {
            .obj([("id", .string($0.id)), ("object", "model"), ("created", .int(Int($0.provider.createdAt.timeIntervalSince1970))),
                  ("owned_by", .string($0.provider.name))])
        }
        return Self.json(.obj([("object", "list"), ("data", .array(catalog.all.map(modelObject) + encoderModelObjects + providerObjects))]))
    }

    func showModel(_ id: String) throws -> Response {
        Self.json(modelObject(try catalog.resolve(id)))
    }

    /// Queues the plan; queue full is a 429 with `Retry-After`.
    func submit(_ plan: GenerationPlan) throws -> SubmittedGeneration {
        do {
            let handle = try plan.served.scheduler.submit(SchedulerRequest(prompt: plan.prompt, parameters: plan.parameters,
                                                                           constraint: plan.constraint,
                                                                           admissionKey: plan.meter?.projectID,
                                                                           adapter: plan.served.adapter))
            return SubmittedGeneration(handle, meter: plan.meter)
        } catch SchedulerError.queueFull(let n) {
            var e = OpenAIError(status: .tooManyRequests,
                                message: "The server is busy (\(n) requests waiting); retry shortly.",
                                type: "rate_limit_error", code: "rate_limit_exceeded")
            e.headers[.retryAfter] = "1"
            throw e
        } catch SchedulerError.promptTooLong(let t, let c) {
            throw OpenAIError.invalid("messages", "The prompt has \(t) tokens; the context holds \(c).", code: "context_length_exceeded")
        } catch let e as SchedulerError {
            throw OpenAIError(status: .serviceUnavailable, message: e.description, type: "server_error")
        } catch let e as EngineError {
            throw OpenAIError.invalid("prompt", e.description)
        }
    }

    // MARK: - Chat

    func chat(_ plan: GenerationPlan, started: Date) async throws -> Response {
        let handle = try submit(plan)
        let id = makeID("chatcmpl-")
        let created = Int(Date().timeIntervalSince1970)
        let tokenizer = plan.served.model.tokenizer
        let wantLogprobs = plan.parameters.logprobs
        let metrics = self.metrics
        let modelID = plan.served.id
        let wellbeing = plan.wellbeing

        @Sendable func logprobObject(_ lp: TokenLogprob) -> TemplateValue {
            func entry(_ id: TokenID, _ v: Float) -> [(String, TemplateValue)] {
                let bytes = tokenizer.pieceBytes(id, renderSpecial: true)
                return [("token", .string(String(decoding: bytes, as: UTF8.self))), ("logprob", .num(v)),
                        ("bytes", .array(bytes.map { .int(Int($0)) }))]
            }
            return .obj(entry(lp.id, lp.logprob) + [("top_logprobs", .array(lp.top.map { .obj(entry($0.id, $0.logprob)) }))])
        }
        @Sendable func usage(_ s: GenerationSummary) -> TemplateValue {
            .obj([("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.completionTokens)),
                  ("total_tokens", .int(s.promptTokens + s.completionTokens)),
                  ("prompt_tokens_details", .obj([("cached_tokens", .int(s.cachedPromptTokens))]))])
        }
        @Sendable func finishReason(_ s: GenerationSummary, toolCall: Bool) -> String {
            switch s.finishReason {
            case .length, .contextFull: return "length"
            default: return toolCall ? "tool_calls" : "stop"
            }
        }

        if !plan.stream {
            defer { handle.cancel() }
            var splitter = ToolCallSplitter(allowText: !(plan.tools?.required ?? true))
            var content = ""
            var logprobs: [TemplateValue] = []
            var summary: GenerationSummary?
            var timer = TokenTimer(start: started, metrics: metrics)
            for await event in handle.events {
                switch event {
                case .started: break
                case .token(let t):
                    timer.tick()
                    if let lp = t.logprob, wantLogprobs { logprobs.append(logprobObject(lp)) }
                    if plan.tools != nil { _ = splitter.feed(t.text) } else { content += t.text }
                case .finished(let s): summary = s
                case .failed(let m): throw OpenAIError(status: .internalServerError, message: m, type: "server_error")
                }
            }
            guard let summary else { throw OpenAIError(status: .serviceUnavailable, message: "generation was interrupted", type: "server_error") }
            metrics.countTokens(prompt: summary.promptTokens, completion: summary.completionTokens)
            var message: [(String, TemplateValue)] = [("role", "assistant")]
            var toolCall = false
            if plan.tools != nil {
                _ = splitter.finish()
                if splitter.isToolCall, let name = splitter.name {
                    toolCall = true
                    let args = ToolCallSplitter.nameAndArguments(splitter.text).map { String(splitter.text[$0.1...]) } ?? "{}"
                    var trimmed = Substring(args)
                    while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
                    if trimmed.last == "}" { trimmed.removeLast() }
                    message.append(("content", .none))
                    message.append(("tool_calls", .array([.obj([
                        ("id", .string(makeID("call_"))), ("type", "function"),
                        ("function", .obj([("name", .string(name)),
                                           ("arguments", .string(String(trimmed).trimmingCharacters(in: .whitespacesAndNewlines)))])),
                    ])])))
                } else {
                    message.append(("content", .string(splitter.text)))
                }
            } else {
                message.append(("content", .string(content)))
            }
            let choice: TemplateValue = .obj([
                ("index", 0), ("message", .obj(message)),
                ("logprobs", wantLogprobs ? .obj([("content", .array(logprobs))]) : .none),
                ("finish_reason", .string(finishReason(summary, toolCall: toolCall))),
            ])
            var fields: [(String, TemplateValue)] = [
                ("id", .string(id)), ("object", "chat.completion"), ("created", .int(created)),
                ("model", .string(modelID)), ("system_fingerprint", "parley"),
                ("choices", .array([choice])), ("usage", usage(summary)),
            ]
            if let wellbeing { fields.append(("parley_wellbeing", wellbeing.json)) }
            var response = Self.json(.obj(fields))
            if let wellbeing { response.headers[.init("X-Parley-Wellbeing")!] = wellbeing.header }
            return response
        }

        // Streaming: server-sent events, one chunk per piece of text.
        let includeUsage = plan.includeUsage
        let tools = plan.tools
        let body = ResponseBody { writer in
            defer { handle.cancel() }
            func chunk(_ delta: TemplateValue, finish: String? = nil, logprobs: [TemplateValue]? = nil) -> TemplateValue {
                .obj([("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                      ("model", .string(modelID)), ("system_fingerprint", "parley"),
                      ("choices", .array([.obj([("index", 0), ("delta", delta),
                                                ("logprobs", logprobs.map { .obj([("content", .array($0))]) } ?? .none),
                                                ("finish_reason", .str(finish))])]))])
            }
            var out = ByteBuffer()
            func send(_ value: TemplateValue) { out.writeString("data: " + value.jsonString() + "\n\n") }
            func flush() async throws {
                if out.readableBytes > 0 {
                    try await writer.write(out)
                    out.clear()
                }
            }
            var opening = chunk(.obj([("role", "assistant"), ("content", "")]))
            if let wellbeing, case .object(var o) = opening {
                o["parley_wellbeing"] = wellbeing.json
                opening = .object(o)
            }
            send(opening)
            try await flush()
            var splitter = ToolCallSplitter(allowText: !(tools?.required ?? true))
            let callID = makeID("call_")
            var timer = TokenTimer(start: started, metrics: metrics)
            func toolDeltas(_ deltas: [ToolCallSplitter.Delta]) {
                for d in deltas {
                    switch d {
                    case .content(let s): send(chunk(.obj([("content", .string(s))])))
                    case .name(let n):
                        send(chunk(.obj([("tool_calls", .array([.obj([
                            ("index", 0), ("id", .string(callID)), ("type", "function"),
                            ("function", .obj([("name", .string(n)), ("arguments", "")])),
                        ])]))])))
                    case .arguments(let a):
                        send(chunk(.obj([("tool_calls", .array([.obj([
                            ("index", 0), ("function", .obj([("arguments", .string(a))])),
                        ])]))])))
                    }
                }
            }
            for await event in handle.events {
                switch event {
                case .started: break
                case .token(let t):
                    timer.tick()
                    let lps = wantLogprobs ? t.logprob.map { [logprobObject($0)] } : nil
                    if tools != nil {
                        toolDeltas(splitter.feed(t.text))
                    } else if !t.text.isEmpty || lps != nil {
                        send(chunk(.obj([("content", .string(t.text))]), logprobs: lps))
                    }
                case .finished(let s):
                    if tools != nil { toolDeltas(splitter.finish()) }
                    metrics.countTokens(prompt: s.promptTokens, completion: s.completionTokens)
                    send(chunk(.obj([]), finish: finishReason(s, toolCall: splitter.isToolCall)))
                    if includeUsage {
                        send(.obj([("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                                   ("model", .string(modelID)), ("choices", .array([])), ("usage", usage(s))]))
                    }
                case .failed(let m):
                    send(OpenAIError(status: .internalServerError, message: m, type: "server_error").body)
                }
                try await flush()
            }
            out.writeString("data: [DONE]\n\n")
            try await flush()
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        if let wellbeing { headers[.init("X-Parley-Wellbeing")!] = wellbeing.header }
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: - Text completions

    /// `openMeter` (model id, prompt tokens, most completion tokens) holds credits for a metered caller.
    func complete(_ f: RequestFields, started: Date,
                  openMeter: (String, Int, Int) async throws -> UsageMeter? = { _, _, _ in nil }) async throws -> Response {
        let served = try catalog.resolve(try f.string("model"))
        let model = served.model
        var prompt: [TokenID]
        switch f.value("prompt") {
        case .string(let s)?: prompt = model.tokenizePrompt(s)
        case .array(let items)? where items.count == 1 && items[0].stringValue != nil:
            prompt = model.tokenizePrompt(items[0].stringValue!)
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ if case .int = $0 { return true }; return false }):
            prompt = items.map { if case .int(let i) = $0 { return TokenID(truncatingIfNeeded: i) }; return 0 }
            let vocab = model.hyperparameters.vocabularySize
            guard prompt.allSatisfy({ $0 >= 0 && Int($0) < vocab }) else {
                throw OpenAIError.invalid("prompt", "Token ids must lie in 0..<\(vocab).")
            }
        case .array(let items)? where items.count == 1 && items[0].arrayValue != nil:
            let inner = items[0].arrayValue!
            prompt = try inner.map {
                guard case .int(let i) = $0, i >= 0, i < model.hyperparameters.vocabularySize else {
                    throw OpenAIError.invalid("prompt", "Token ids must be integers within the vocabulary.")
                }
                return TokenID(i)
            }
        case nil:
            throw OpenAIError.invalid("prompt", "'prompt' is required.", code: "missing_required_parameter")
        default:
            throw OpenAIError.invalid("prompt", "'prompt' must be a string, one string in an array, or token ids (batches of several prompts are not supported).")
        }
        guard !prompt.isEmpty else { throw OpenAIError.invalid("prompt", "'prompt' is empty.") }
        let context = served.scheduler.configuration.contextLength
        guard prompt.count < context else {
            throw OpenAIError.invalid("prompt", "This model's maximum context length is \(context) tokens. However, your prompt has \(prompt.count) tokens.",
                                      code: "context_length_exceeded")
        }
        let parameters = try generationParameters(f, promptTokens: prompt.count, context: context, chat: false)
        let echo = try f.bool("echo") ?? false
        let (stream, includeUsage) = try streamOptions(f)
        var constraint: JSONConstraint?
        if let format = f.value("response_format") { constraint = try responseFormatConstraint(format) }
        var plan = GenerationPlan(served: served, prompt: prompt, parameters: parameters, constraint: constraint,
                                  tools: nil, stream: stream, includeUsage: includeUsage)
        plan.meter = try await openMeter(served.id, prompt.count, parameters.maxTokens)
        return try await metered(plan.meter) { try await completeSubmitted(plan, echo: echo, started: started) }
    }

    private func completeSubmitted(_ plan: GenerationPlan, echo: Bool, started: Date) async throws -> Response {
        let (served, model, prompt, parameters) = (plan.served, plan.served.model, plan.prompt, plan.parameters)
        let (stream, includeUsage) = (plan.stream, plan.includeUsage)
        let handle = try submit(plan)
        let id = makeID("cmpl-")
        let created = Int(Date().timeIntervalSince1970)
        let tokenizer = model.tokenizer
        let metrics = self.metrics
        let wantLogprobs = parameters.logprobs
        let echoText = echo ? tokenizer.decode(prompt) : ""

        @Sendable func tokenText(_ t: TokenID) -> String { String(decoding: tokenizer.pieceBytes(t, renderSpecial: true), as: UTF8.self) }
        @Sendable func logprobs(_ items: [TokenLogprob], promptTokens: [TokenID], offset: Int) -> TemplateValue {
            var tokens: [TemplateValue] = [], values: [TemplateValue] = [], tops: [TemplateValue] = [], offsets: [TemplateValue] = []
            var at = offset
            for t in promptTokens {
                tokens.append(.string(tokenText(t))); values.append(.none); tops.append(.none); offsets.append(.int(at))
                at += tokenText(t).count
            }
            for lp in items {
                tokens.append(.string(tokenText(lp.id))); values.append(.num(lp.logprob))
                tops.append(.obj(lp.top.map { (tokenText($0.id), TemplateValue.num($0.logprob)) }))
                offsets.append(.int(at))
                at += tokenText(lp.id).count
            }
            return .obj([("tokens", .array(tokens)), ("token_logprobs", .array(values)), ("top_logprobs", .array(tops)),
                         ("text_offset", .array(offsets))])
        }
        @Sendable func usage(_ s: GenerationSummary) -> TemplateValue {
            .obj([("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.completionTokens)),
                  ("total_tokens", .int(s.promptTokens + s.completionTokens))])
        }
        @Sendable func reason(_ s: GenerationSummary) -> String { s.finishReason == .length || s.finishReason == .contextFull ? "length" : "stop" }

        if !stream {
            defer { handle.cancel() }
            var text = echoText
            var lps: [TokenLogprob] = []
            var summary: GenerationSummary?
            var timer = TokenTimer(start: started, metrics: metrics)
            for await event in handle.events {
                switch event {
                case .started: break
                case .token(let t):
                    timer.tick()
                    text += t.text
                    if let lp = t.logprob { lps.append(lp) }
                case .finished(let s): summary = s
                case .failed(let m): throw OpenAIError(status: .internalServerError, message: m, type: "server_error")
                }
            }
            guard let summary else { throw OpenAIError(status: .serviceUnavailable, message: "generation was interrupted", type: "server_error") }
            metrics.countTokens(prompt: summary.promptTokens, completion: summary.completionTokens)
            return Self.json(.obj([
                ("id", .string(id)), ("object", "text_completion"), ("created", .int(created)), ("model", .string(served.id)),
                ("choices", .array([.obj([("text", .string(text)), ("index", 0),
                                          ("logprobs", wantLogprobs ? logprobs(lps, promptTokens: echo ? prompt : [], offset: 0) : .none),
                                          ("finish_reason", .string(reason(summary)))])])),
                ("usage", usage(summary)),
            ]))
        }
        let modelID = served.id
        let body = ResponseBody { writer in
            defer { handle.cancel() }
            func chunk(_ text: String, finish: String?, lp: TemplateValue = .none) -> TemplateValue {
                .obj([("id", .string(id)), ("object", "text_completion"), ("created", .int(created)), ("model", .string(modelID)),
                      ("choices", .array([.obj([("text", .string(text)), ("index", 0), ("logprobs", lp), ("finish_reason", .str(finish))])]))])
            }
            var timer = TokenTimer(start: started, metrics: metrics)
            if echo {
                try await writer.write(ByteBuffer(string: "data: " + chunk(echoText, finish: nil).jsonString() + "\n\n"))
            }
            for await event in handle.events {
                var line: TemplateValue?
                switch event {
                case .started: break
                case .token(let t):
                    timer.tick()
                    let lp = wantLogprobs ? t.logprob.map { logprobs([$0], promptTokens: [], offset: 0) } ?? .none : .none
                    if !t.text.isEmpty || lp != .none { line = chunk(t.text, finish: nil, lp: lp) }
                case .finished(let s):
                    metrics.countTokens(prompt: s.promptTokens, completion: s.completionTokens)
                    var out = "data: " + chunk("", finish: reason(s)).jsonString() + "\n\n"
                    if includeUsage {
                        out += "data: " + TemplateValue.obj([("id", .string(id)), ("object", "text_completion"), ("created", .int(created)),
                                                             ("model", .string(modelID)), ("choices", .array([])), ("usage", usage(s))]).jsonString() + "\n\n"
                    }
                    try await writer.write(ByteBuffer(string: out))
                case .failed(let m):
                    line = OpenAIError(status: .internalServerError, message: m, type: "server_error").body
                }
                if let line { try await writer.write(ByteBuffer(string: "data: " + line.jsonString() + "\n\n")) }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    // MARK: - Embeddings

    /// `openMeter` (model id, prompt tokens, 0) holds credits for a metered caller; inputs are charged as prompt tokens.
    func embeddings(_ f: RequestFields,
                    openMeter: (String, Int, Int) async throws -> UsageMeter? = { _, _, _ in nil }) async throws -> Response {
        if let id = try f.string("model"), let encoder = encoders.encoder(id) { return try await encoderEmbeddings(f, encoder: encoder) }
        let served = try catalog.resolve(try f.string("model"))
        let model = served.model
        var inputs: [[TokenID]] = []
        func tokens(_ v: TemplateValue, _ path: String) throws -> [TokenID] {
            switch v {
            case .string(let s): return model.tokenizePrompt(s)
            case .array(let ids) where ids.allSatisfy({ if case .int = $0 { return true }; return false }):
                return try ids.map {
                    guard case .int(let i) = $0, i >= 0, i < model.hyperparameters.vocabularySize else {
                        throw OpenAIError.invalid(path, "Token ids must lie within the vocabulary.")
                    }
                    return TokenID(i)
                }
            default: throw OpenAIError.invalid(path, "'\(path)' must be a string or token ids.", code: "invalid_type")
            }
        }
        switch f.value("input") {
        case nil: throw OpenAIError.invalid("input", "'input' is required.", code: "missing_required_parameter")
        case .string(let s)?: inputs = [model.tokenizePrompt(s)]
        case .array(let items)? where !items.isEmpty:
            if items.allSatisfy({ if case .int = $0 { return true }; return false }) {
                inputs = [try tokens(.array(items), "input")]
            } else {
                guard items.count <= 256 else { throw OpenAIError.invalid("input", "At most 256 inputs per request.") }
                inputs = try items.enumerated().map { try tokens($1, "input[\($0)]") }
            }
        default: throw OpenAIError.invalid("input", "'input' must be a non-empty string or array.", code: "invalid_type")
        }
        let format = try f.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw OpenAIError.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.")
        }
        let context = served.scheduler.configuration.contextLength
        for (i, input) in inputs.enumerated() {
            guard !input.isEmpty else { throw OpenAIError.invalid("input", "An input is empty.") }
            guard input.count <= context else {
                throw OpenAIError.invalid("input", "Input \(i) has \(input.count) tokens; the context holds \(context).", code: "context_length_exceeded")
            }
        }
        let meter = try await openMeter(served.id, inputs.reduce(0) { $0 + $1.count }, 0)
        return try await metered(meter) {
            let response = try await embed(inputs, served: served, format: format)
            if let meter { await SubmittedGeneration.settle(meter, prompt: response.tokens, completion: 0) }
            return response.response
        }
    }

    private func embed(_ inputs: [[TokenID]], served: ServedModel, format: String) async throws -> (response: Response, tokens: Int) {
        var data: [TemplateValue] = []
        var total = 0
        for (i, input) in inputs.enumerated() {
            let vector = try await served.scheduler.embed(input)
            total += input.count
            let embedding: TemplateValue
            if format == "base64" {
                var bytes = Data(capacity: vector.count * 4)
                for v in vector { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                embedding = .string(bytes.base64EncodedString())
            } else {
                embedding = .array(vector.map { .double(Double($0)) })
            }
            data.append(.obj([("object", "embedding"), ("index", .int(i)), ("embedding", embedding)]))
        }
        metrics.countTokens(prompt: total, completion: 0)
        return (Self.json(.obj([("object", "list"), ("data", .array(data)), ("model", .string(served.id)),
                                ("usage", .obj([("prompt_tokens", .int(total)), ("total_tokens", .int(total))]))])), total)
    }
}

/// Records time to first token and the gaps between tokens.
struct TokenTimer {
    let start: Date
    let metrics: ServerMetrics
    var last: Date?

    init(start: Date, metrics: ServerMetrics) {
        self.start = start
        self.metrics = metrics
    }

    mutating func tick() {
        let now = Date()
        if let last {
            metrics.observeInterToken(now.timeIntervalSince(last))
        } else {
            metrics.observeTimeToFirstToken(now.timeIntervalSince(start))
        }
        last = now
    }
}
