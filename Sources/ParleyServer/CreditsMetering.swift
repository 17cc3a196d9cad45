import Foundation
import Hummingbird
import ParleyCredits
import ParleyEngine
import ParleyStore
import ParleyTokenizer

/// Ranks waiting requests by their project's fair-share priority (ParleyCredits' F = 2^(−U/S)); the scheduler
/// only sees the project id as an opaque key.
struct FairShareAdmission: AdmissionPolicy {
    let fairShare: FairShare
    func priority(of key: String?) -> Double { fairShare.priority(projectID: key) }
}

/// A submitted generation as the routes consume it: the scheduler's events (seen by the meter on the way, when
/// the request is metered) and a way to abandon it.
struct SubmittedGeneration: Sendable {
    let handle: GenerationHandle
    let events: AsyncStream<SchedulerEvent>

    func cancel() { handle.cancel() }

    init(_ handle: GenerationHandle, meter: UsageMeter?) {
        self.handle = handle
        guard let meter else {
            events = handle.events
            return
        }
        events = AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let forward = Task {
                var prompt = 0, completion = 0
                for await event in handle.events {
                    switch event {
                    case .started(let p, _): prompt = p
                    case .token: completion += 1
                    case .finished(let summary):
                        // Charged before the client sees the end, so a balance read afterwards includes it.
                        await SubmittedGeneration.settle(meter, prompt: summary.promptTokens, completion: summary.completionTokens)
                    case .failed: break
                    }
                    continuation.yield(event)
                }
                // Stopped early (a disconnect, a failure): what ran is charged.
                await SubmittedGeneration.settle(meter, prompt: prompt, completion: completion)
                continuation.finish()
            }
            continuation.onTermination = { _ in
                forward.cancel()
                handle.cancel()
            }
        }
    }

    /// Settles outside the caller's task, which may be cancelled (a client gone) while the ledger must still be
    /// written. Failures are logged by the caller's absence: the hold stays on the ledger, visible as `held`.
    static func settle(_ meter: UsageMeter, prompt: Int, completion: Int) async {
        _ = await Task.detached { try? await meter.settle(promptTokens: prompt, completionTokens: completion) }.value
    }
}

extension ParleyAPI {
    /// The meter of a `/v1` request made with a key tied to a project (nil for every other caller): holds the
    /// maximum cost, or refuses with 402 and the balance before anything is generated.
    func openMeter(_ request: Request, _ context: ParleyRequestContext, model: String, promptTokens: Int,
                   maxTokens: Int) async throws -> UsageMeter? {
        guard let credits = app?.credits, let identity = context.identity, case .apiKey(let key) = identity.method else { return nil }
        guard let projectID = try await credits.service.project(forAPIKey: key.id) else { return nil }
        var idempotencyKey: String?
        if let raw = request.headers[.init("Idempotency-Key")!]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard raw.count <= 200 else {
                throw OpenAIError(status: .badRequest, message: "The Idempotency-Key header is at most 200 characters.")
            }
            idempotencyKey = raw
        }
        let meter: UsageMeter
        do {
            meter = try await credits.service.openMeter(projectID: projectID, idempotencyKey: idempotencyKey, model: model,
                                                        promptTokens: promptTokens, maxCompletionTokens: maxTokens)
        } catch CreditsError.insufficient(_, let available, let needed) {
            throw OpenAIError(status: .paymentRequired402,
                              message: "Insufficient credits: the project's balance is \(CreditAmount.text(available)) credits, and this "
                                  + "request may cost up to \(CreditAmount.text(needed)) (\(promptTokens) prompt tokens + up to "
                                  + "\(maxTokens) completion tokens). Lower max_tokens or request more credits.",
                              type: "insufficient_quota", param: nil, code: "insufficient_credits")
        } catch let e as CreditsError {
            throw OpenAIError(status: .internalServerError, message: e.description, type: "server_error")
        } catch let e as StoreError {
            throw OpenAIError(status: .serviceUnavailable, message: e.description, type: "server_error")
        }
        // A key seen before names a request that was charged once already; running it again would be a free
        // generation, so it is refused (the retry costs nothing either way).
        guard !meter.isRetry else {
            throw OpenAIError(status: .conflict,
                              message: "This Idempotency-Key was already used: the request it names was charged once and is not "
                                  + "run again. Send a new key with a new request.",
                              type: "invalid_request_error", param: nil, code: "idempotency_key_reused")
        }
        return meter
    }

    /// Runs `body`; when it fails before the meter saw the generation end, the hold is released (nothing charged
    /// beyond what ran).
    func metered(_ meter: UsageMeter?, _ body: () async throws -> Response) async throws -> Response {
        guard let meter else { return try await body() }
        do {
            return try await body()
        } catch {
            await SubmittedGeneration.settle(meter, prompt: 0, completion: 0)
            throw error
        }
    }
}

/// Posts credit alerts to the webhook an admin set (`PUT /api/credits/settings`), as JSON; failures are ignored
/// (the alert is in the app either way).
struct WebhookNotifier: AlertNotifier {
    static let settingKey = "credits.alert_webhook_url"
    let store: any ParleyStore

    func deliver(_ alert: CreditAlert, project: Project) async {
        guard let raw = try? await store.setting(Self.settingKey), !raw.isEmpty, let url = URL(string: raw) else { return }
        let payload = CreditsJSON.alert(alert)
        let body: TemplateValue
        if case .object(var o) = payload {
            o["project_name"] = .string(project.name)
            o["event"] = "credits.alert"
            body = .object(o)
        } else {
            body = payload
        }
        await WebhookPoster.post(url: url, json: body.jsonString())
    }
}

extension HTTPResponse.Status {
    /// 402: the project's credits cannot cover the request (HTTPTypes names no constant for it).
    static let paymentRequired402 = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}
