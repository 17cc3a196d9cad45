import Foundation
import Hummingbird
import ParleyEngine
import ParleyStore
import ParleyTokenizer

/// One event of a reply stream (`event: NAME\ndata: JSON\n\n`).
struct ReplyEvent: Sendable {
    var name: String
    var data: TemplateValue

    var text: String { "event: \(name)\ndata: \(data.jsonString())\n\n" }
}

/// A reply being generated: the scheduler's handle, and who may stop it.
final class ActiveReply: Sendable {
    let messageID: RecordID
    let userID: RecordID
    let conversationID: RecordID
    private let stopFlag = LockedFlag()
    private let handle = LockedBox<GenerationHandle>()
    /// What stops a reply that no scheduler generates (a provider's stream).
    private let stopHook = LockedBox<StopHook>()

    init(messageID: RecordID, userID: RecordID, conversationID: RecordID) {
        self.messageID = messageID
        self.userID = userID
        self.conversationID = conversationID
    }

    func attach(_ h: GenerationHandle) {
        handle.set(h)
        if stopFlag.value { h.cancel() }
    }

    func onStop(_ action: @escaping @Sendable () -> Void) {
        stopHook.set(StopHook(action: action))
        if stopFlag.value { action() }
    }

    /// Stops generation; what was written is kept (`incomplete`).
    func stop() {
        stopFlag.set()
        handle.get()?.cancel()
        stopHook.get()?.action()
    }
}

struct StopHook: Sendable {
    let action: @Sendable () -> Void
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ v: T?) { lock.withLock { value = v } }
    func get() -> T? { lock.withLock { value } }
}

/// The replies being generated, by assistant message id; finished ones are remembered a while so a late stop
/// is still a success.
final class ReplyRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var active: [RecordID: ActiveReply] = [:]
    private var finished: [RecordID: (userID: RecordID, at: Date)] = [:]

    func add(_ reply: ActiveReply) { lock.withLock { active[reply.messageID] = reply } }

    func remove(_ reply: ActiveReply) {
        lock.withLock {
            active[reply.messageID] = nil
            let now = Date()
            finished[reply.messageID] = (reply.userID, now)
            if finished.count > 1000 { finished = finished.filter { now.timeIntervalSince($0.value.at) < 600 } }
        }
    }

    /// Stops the user's reply; false when the user has no such reply, running or recently finished.
    func stop(messageID: RecordID, userID: RecordID) -> Bool {
        let (reply, recent) = lock.withLock { (active[messageID], finished[messageID]) }
        if let reply, reply.userID == userID {
            reply.stop()
            return true
        }
        if let recent, recent.userID == userID, Date().timeIntervalSince(recent.at) < 600 { return true }
        return false
    }

    func stopAll(conversationID: RecordID, userID: RecordID) {
        let replies = lock.withLock { active.values.filter { $0.conversationID == conversationID && $0.userID == userID } }
        for r in replies { r.stop() }
    }

    var count: Int { lock.withLock { active.count } }
}

/// The text of a reply as it grows, and whether the store has seen all of it.
final class ReplyText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    private var dirty = false

    func append(_ s: String) {
        lock.withLock {
            text += s
            dirty = true
        }
    }

    /// The text when it changed since the last call.
    func takeIfChanged() -> String? {
        lock.withLock {
            guard dirty else { return nil }
            dirty = false
            return text
        }
    }

    var value: String { lock.withLock { text } }
}

/// The prompt of a reply, built as docs/app-api.md says.
struct ReplyPrompt {
    var tokens: [TokenID]
    /// Messages of the branch left out (oldest first) so the prompt fits the context.
    var dropped: Int
}

enum PromptBuilder {
    /// System prompt (the conversation's, else the default), the custom instructions, the wellbeing guidance for
    /// this reply when there is one, then the branch rendered
    /// with the model's chat template. Empty replies are skipped and neighbours of one role merged, so templates
    /// that insist on alternating roles accept it; the oldest turns go first when the prompt would leave less
    /// than `reserve` tokens for the reply.
    static func build(model: Model, context: Int, systemPrompt: String?, defaultSystemPrompt: String,
                      instructions: CustomInstructions, branch: [Message], guidance: String? = nil) throws -> ReplyPrompt {
        let (system, turns) = systemAndTurns(systemPrompt: systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
                                             instructions: instructions, branch: branch, guidance: guidance)
        return try fit(model: model, context: context, system: system, turns: turns)
    }

    /// The messages a provider gets: the same system text and merged turns as a local model's prompt (the
    /// provider applies its own template and context limit).
    static func turns(systemPrompt: String?, defaultSystemPrompt: String, instructions: CustomInstructions,
                      branch: [Message], guidance: String? = nil) -> [(role: String, content: String)] {
        let (system, turns) = systemAndTurns(systemPrompt: systemPrompt, defaultSystemPrompt: defaultSystemPrompt,
                                             instructions: instructions, branch: branch, guidance: guidance)
        return (system.isEmpty ? [] : [("system", system)]) + turns
    }

    static func systemAndTurns(systemPrompt: String?, defaultSystemPrompt: String, instructions: CustomInstructions,
                               branch: [Message], guidance: String?) -> (String, [(role: String, content: String)]) {
        var system = systemPrompt.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            ?? defaultSystemPrompt
        let about = instructions.aboutMe.trimmingCharacters(in: .whitespacesAndNewlines)
        let how = instructions.howToAnswer.trimmingCharacters(in: .whitespacesAndNewlines)
        if !about.isEmpty { system += (system.isEmpty ? "" : "\n\n") + "About the user: " + about }
        if !how.isEmpty { system += (system.isEmpty ? "" : "\n\n") + "How to answer: " + how }

        var turns: [(role: String, content: String)] = []
        for m in branch {
            if m.role == .assistant && m.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            let role = m.role.rawValue
            if role == "system" {
                system += (system.isEmpty ? "" : "\n\n") + m.content
                continue
            }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].content += "\n\n" + m.content
            } else {
                turns.append((role, m.content))
            }
        }
        // The wellbeing guidance for this reply: last in the system text, never stored as a message.
        if let guidance, !guidance.isEmpty { system += (system.isEmpty ? "" : "\n\n") + guidance }
        return (system, turns)
    }

    static func fit(model: Model, context: Int, system: String, turns: [(role: String, content: String)]) throws -> ReplyPrompt {
        let reserve = min(256, context / 4)
        var start = 0
        while true {
            // Start at a user turn.
            while start < turns.count - 1, turns[start].role != "user" { start += 1 }
            var messages: [ChatMessage] = []
            if !system.isEmpty { messages.append(ChatMessage(role: "system", content: system)) }
            messages += turns[start...].map { ChatMessage(role: $0.role, content: $0.content) }
            let text: String
            do {
                text = try model.renderChat(messages, addGenerationPrompt: true)
            } catch {
                throw AppError.badRequest("The model's chat template could not render this conversation: \(error)")
            }
            let tokens = model.tokenizePrompt(text)
            if tokens.count + reserve <= context { return ReplyPrompt(tokens: tokens, dropped: start) }
            if start >= turns.count - 1 {
                throw AppError(.badRequest, "context_length_exceeded",
                               "The message is too long: its prompt has \(tokens.count) tokens and the model's context holds \(context) (with \(reserve) kept for the reply).")
            }
            start += 1
        }
    }
}

extension ChatApp {
    /// Generates a reply under `parent` (already committed) and answers with its event stream. The assistant row
    /// is created at once (`generating`), flushed while it grows, and finished `complete` or `incomplete`.
    func streamReply(identity: Identity, conversation: Conversation, branch: [Message], parent: Message,
                     userMessage: Message?, newTitle: String?, prompt: ReplyPrompt, served: ServedModel,
                     wellbeing: WellbeingNotice? = nil, memoryEvent: ReplyEvent? = nil) async throws -> Response {
        let userID = identity.user.id
        let assistant = try await db {
            try await store.appendMessage(Message(conversationID: conversation.id, parentID: parent.id, role: .assistant,
                                                  content: "", model: served.id, status: .generating), userID: userID)
        }
        let reply = ActiveReply(messageID: assistant.id, userID: userID, conversationID: conversation.id)
        replies.add(reply)

        var parameters = GenerationParameters()
        parameters.sampling.temperature = Float(conversation.temperature ?? 0.7)
        parameters.maxTokens = max(1, served.scheduler.configuration.contextLength - prompt.tokens.count)
        parameters.stopStrings = served.model.chatStopStrings

        var first: [ReplyEvent] = []
        if let userMessage { first.append(ReplyEvent(name: "user", data: AppJSON.message(userMessage))) }
        if let wellbeing { first.append(ReplyEvent(name: "wellbeing", data: wellbeing.json)) }
        if let memoryEvent { first.append(memoryEvent) }
        first.append(ReplyEvent(name: "assistant", data: AppJSON.message(assistant)))

        let (events, continuation) = AsyncStream<ReplyEvent>.makeStream(bufferingPolicy: .unbounded)
        let submitted: Result<GenerationHandle, ReplySubmitError>
        do {
            submitted = .success(try served.scheduler.submit(SchedulerRequest(prompt: prompt.tokens, parameters: parameters,
                                                                                adapter: served.adapter)))
        } catch SchedulerError.queueFull(let n) {
            submitted = .failure(ReplySubmitError(message: "The server is busy (\(n) requests waiting); try again shortly."))
        } catch {
            submitted = .failure(ReplySubmitError(message: "\(error)"))
        }
        if case .success(let handle) = submitted { reply.attach(handle) }
        let job = ReplyJob(store: store, registry: replies, metrics: metrics, flushInterval: flushInterval, reply: reply,
                           assistant: assistant, userID: userID, newTitle: newTitle, continuation: continuation)
        Task.detached { await job.run(submitted) }
        let opening = first.map(\.text).joined()
        let body = ResponseBody { writer in
            try await ReplyJob.send(opening: opening, events: events, reply: reply, to: &writer)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store",
                                               .init("X-Accel-Buffering")!: "no"], body: body)
    }
}

struct ReplySubmitError: Error {
    let message: String
}

/// Consumes a reply's scheduler events: persists the text as it grows (every `flushInterval`) and at the end,
/// and turns the events into the stream's.
struct ReplyJob: Sendable {
    let store: any ParleyStore
    let registry: ReplyRegistry
    let metrics: ServerMetrics
    let flushInterval: TimeInterval
    let reply: ActiveReply
    let assistant: Message
    let userID: RecordID
    let newTitle: String?
    let continuation: AsyncStream<ReplyEvent>.Continuation

    func run(_ submitted: Result<GenerationHandle, ReplySubmitError>) async {
        let text = ReplyText()
        var failure: String?
        var reason: FinishReason?
        switch submitted {
        case .failure(let e): failure = e.message
        case .success(let handle):
            let flusher = Task { await flushLoop(text) }
            var timer = TokenTimer(start: Date(), metrics: metrics)
            for await event in handle.events {
                switch event {
                case .started: break
                case .token(let t):
                    timer.tick()
                    if !t.text.isEmpty {
                        text.append(t.text)
                        continuation.yield(ReplyEvent(name: "delta", data: .obj([("text", .string(t.text))])))
                    }
                case .finished(let s):
                    reason = s.finishReason
                    metrics.countTokens(prompt: s.promptTokens, completion: s.completionTokens)
                case .failed(let m): failure = m
                }
            }
            flusher.cancel()
            await flusher.value
        }
        // Only a reply the model ended itself is complete; stopped, cut off by the context or failed: incomplete.
        let status: MessageStatus = (failure == nil && reason == .stop) ? .complete : .incomplete
        var final = assistant
        final.content = text.value
        final.status = status
        final.updatedAt = Date()
        do {
            try await store.updateMessage(id: assistant.id, userID: userID, content: final.content, status: status)
        } catch {
            // The conversation was deleted meanwhile, or the database is gone: the stream still ends.
            if failure == nil { failure = "The reply could not be saved: \(error)" }
        }
        registry.remove(reply)
        if let failure { continuation.yield(ReplyEvent(name: "error", data: .obj([("message", .string(failure))]))) }
        var done = AppJSON.messagePairs(final)
        if let newTitle { done.append(("title", .string(newTitle))) }
        continuation.yield(ReplyEvent(name: "done", data: .obj(done)))
        continuation.finish()
    }

    /// The same for a provider's streamed reply: deltas as they come, the end of the stream is a complete reply,
    /// an error or a stop (the task cancelled) an incomplete one.
    func run(provider stream: AsyncThrowingStream<String, Error>) async {
        let text = ReplyText()
        var failure: String?
        let flusher = Task { await flushLoop(text) }
        do {
            for try await delta in stream {
                text.append(delta)
                continuation.yield(ReplyEvent(name: "delta", data: .obj([("text", .string(delta))])))
            }
            if Task.isCancelled { failure = "" }
        } catch {
            failure = Task.isCancelled ? "" : "\(error)"
        }
        flusher.cancel()
        await flusher.value
        let status: MessageStatus = failure == nil ? .complete : .incomplete
        var final = assistant
        final.content = text.value
        final.status = status
        final.updatedAt = Date()
        do {
            try await store.updateMessage(id: assistant.id, userID: userID, content: final.content, status: status)
        } catch {
            if failure == nil || failure == "" { failure = "The reply could not be saved: \(error)" }
        }
        registry.remove(reply)
        if let failure, !failure.isEmpty { continuation.yield(ReplyEvent(name: "error", data: .obj([("message", .string(failure))]))) }
        var done = AppJSON.messagePairs(final)
        if let newTitle { done.append(("title", .string(newTitle))) }
        continuation.yield(ReplyEvent(name: "done", data: .obj(done)))
        continuation.finish()
    }

    /// Writes the text while it changes, until cancelled.
    private func flushLoop(_ text: ReplyText) async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(flushInterval * 1e9))
            if Task.isCancelled { return }
            if let snapshot = text.takeIfChanged() {
                try? await store.updateMessage(id: assistant.id, userID: userID, content: snapshot, status: .generating)
            }
        }
    }

    /// Writes the stream to the client. A client that goes away stops the generation; the reply is kept as far
    /// as it got.
    static func send(opening: String, events: AsyncStream<ReplyEvent>, reply: ActiveReply,
                     to writer: inout any ResponseBodyWriter) async throws {
        do {
            try await writer.write(ByteBuffer(string: opening))
            for await event in events {
                try await writer.write(ByteBuffer(string: event.text))
            }
            if Task.isCancelled { reply.stop() }
            try await writer.finish(nil)
        } catch {
            reply.stop()
            throw error
        }
    }
}
