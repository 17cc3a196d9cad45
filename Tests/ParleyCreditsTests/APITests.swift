import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCredits
import ParleyEngine
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// The REST contract of issue 8 and metering of `/v1`, through the real router with SmolLM2, on both backends.
@Suite(.serialized) struct APITests {
    /// One scheduler for these tests: 8 at once, room for 200 waiting (so none is refused for a full queue).
    static let served: ServedModel = {
        let model = try! Model(path: TestModels.smolLM2)
        var c = SchedulerConfiguration()
        c.parallel = 8
        c.maxQueue = 256
        c.contextLength = 512
        c.threads = 2
        return ServedModel(id: "smollm2", model: model, scheduler: Scheduler(model: model, configuration: c))
    }()

    struct Client: Sendable {
        let client: any TestClientProtocol
        let bearer: String

        func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil,
                  headers extra: [String: String] = [:]) async throws -> (status: Int, json: [String: Any], text: String) {
            var headers: HTTPFields = [.authorization: "Bearer \(bearer)"]
            if body != nil { headers[.contentType] = "application/json" }
            for (k, v) in extra { headers[.init(k)!] = v }
            return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
                let text = String(buffer: r.body)
                return (Int(r.status.code), (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:], text)
            }
        }

        func post(_ path: String, _ body: String) async throws -> (status: Int, json: [String: Any], text: String) {
            try await call(.post, path, body)
        }
    }

    static func chat(_ maxTokens: Int) -> String {
        #"{"model": "smollm2", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": \#(maxTokens), "temperature": 0}"#
    }

    @Test(arguments: Backend.available) func contractMeteringAndTwoHundredConcurrentChats(_ backend: Backend) async throws {
        let db = try await TestDatabase.make(backend)
        let catalog = ModelCatalog(ready: [Self.served])
        let app = try await ChatApp.start(store: db.store, catalog: catalog)
        let api = ParleyAPI(catalog: catalog, app: app)
        // `parley users add` does exactly this.
        let adminKey = try await UserProvisioning.addUser(name: "root", admin: true, store: db.store).key
        let leadKey = try await UserProvisioning.addUser(name: "lena", admin: false, store: db.store).key
        let memberKey = try await UserProvisioning.addUser(name: "mo", admin: false, store: db.store).key

        let receiver = try await WebhookReceiver.start()
        defer { receiver.stop() }
        try await Application(router: api.makeRouter()).test(.router) { client in
            let admin = Client(client: client, bearer: adminKey), lead = Client(client: client, bearer: leadKey)
            let member = Client(client: client, bearer: memberKey)

            // Alerts also go to the operator's webhook (a local receiver), set by an admin only.
            let hook = "http://127.0.0.1:\(receiver.port)/hook"
            #expect(try await lead.call(.put, "/api/credits/settings", #"{"alert_webhook_url": "\#(hook)"}"#).status == 403)
            #expect(try await admin.call(.put, "/api/credits/settings", #"{"alert_webhook_url": "ftp://x"}"#).status == 400)
            #expect(try await admin.call(.put, "/api/credits/settings", #"{"alert_webhook_url": "\#(hook)"}"#).status == 200)

            // Areas are the admins'.
            #expect(try await lead.post("/api/research-areas", #"{"name": "core LLM"}"#).status == 403)
            let area = try await admin.post("/api/research-areas", #"{"name": "core LLM"}"#)
            #expect(area.status == 201)
            let areaID = try #require(area.json["id"] as? String)
            let project = try await lead.post("/api/projects", #"{"name": "tokenizer", "research_area_id": "\#(areaID)"}"#)
            #expect(project.status == 201)
            let projectID = try #require(project.json["id"] as? String)
            #expect(try await lead.post("/api/projects/\(projectID)/members", #"{"user": "mo"}"#).status == 201)

            // Learn the prompt's length with the lead's own key (not tied to a project: not metered).
            let probe = try await lead.post("/v1/chat/completions", Self.chat(1))
            #expect(probe.status == 200, "\(probe.text)")
            let promptTokens = try #require((probe.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            let maxTokens = 4
            let maxCostMicro = Int64(promptTokens + maxTokens) * 1000  // 1 credit per 1k tokens either way

            // Enough for about 30 requests at their maximum cost.
            let grantMicro = maxCostMicro * 30
            let asked = try await lead.post("/api/projects/\(projectID)/credit-requests",
                                            #"{"amount": \#(CreditAmount.text(grantMicro)), "justification": "evaluation runs"}"#)
            #expect(asked.status == 201)
            #expect(asked.json["status"] as? String == "pending")
            let requestID = try #require(asked.json["id"] as? String)
            // Only reviewers decide (403), and a partial grant or a denial needs a reason (400).
            #expect(try await member.post("/api/credit-requests/\(requestID)/decision", #"{"decision": "approve"}"#).status == 403)
            #expect(try await lead.post("/api/credit-requests/\(requestID)/decision", #"{"decision": "approve"}"#).status == 403)
            #expect(try await admin.post("/api/credit-requests/\(requestID)/decision", #"{"decision": "deny"}"#).status == 400)
            #expect(try await admin.post("/api/credit-requests/\(requestID)/decision", #"{"decision": "partial", "amount": 1}"#).status == 400)
            let decided = try await admin.post("/api/credit-requests/\(requestID)/decision", #"{"decision": "approve"}"#)
            #expect(decided.status == 200, "\(decided.text)")
            #expect(decided.json["status"] as? String == "approved")

            let keyReply = try await member.post("/api/keys", #"{"name": "eval", "project_id": "\#(projectID)"}"#)
            #expect(keyReply.status == 201, "\(keyReply.text)")
            let projectKey = try #require(keyReply.json["key"] as? String)
            #expect(projectKey.hasPrefix("pk-"))
            // Outsiders cannot make keys that charge the project.
            let outsiderKey = try await UserProvisioning.addUser(name: "otto", admin: false, store: db.store).key
            #expect(try await Client(client: client, bearer: outsiderKey)
                .post("/api/keys", #"{"name": "x", "project_id": "\#(projectID)"}"#).status == 403)
            let metered = Client(client: client, bearer: projectKey)

            func balance() async throws -> (granted: Double, used: Double, remaining: Double) {
                let b = try await lead.call(.get, "/api/projects/\(projectID)/balance")
                #expect(b.status == 200)
                func n(_ k: String) -> Double { (b.json[k] as? NSNumber)?.doubleValue ?? -1 }
                return (n("granted"), n("used"), n("remaining"))
            }
            let granted = CreditAmount.credits(grantMicro)
            let start = try await balance()
            #expect(start.granted == granted && start.used == 0 && start.remaining == granted)

            // A retry with the same idempotency key is charged once.
            var chargedMicro: Int64 = 0
            let book = try await app.credits!.service.priceBook()
            func cost(_ reply: [String: Any]) -> Int64 {
                let usage = reply["usage"] as? [String: Any] ?? [:]
                return book.tokenCost(promptTokens: usage["prompt_tokens"] as? Int ?? -1000,
                                      completionTokens: usage["completion_tokens"] as? Int ?? 0, model: "smollm2", at: Date())
            }
            let once = try await metered.call(.post, "/v1/chat/completions", Self.chat(maxTokens), headers: ["Idempotency-Key": "retry-1"])
            #expect(once.status == 200, "\(once.text)")
            chargedMicro += cost(once.json)
            // Its retry is refused (a reused key must not buy a free generation) and costs nothing.
            let again = try await metered.call(.post, "/v1/chat/completions", Self.chat(maxTokens), headers: ["Idempotency-Key": "retry-1"])
            #expect(again.status == 409, "\(again.text)")
            #expect(try await balance().used == CreditAmount.credits(chargedMicro))

            // Embeddings are charged as prompt tokens.
            let embedded = try await metered.post("/v1/embeddings", #"{"model": "smollm2", "input": "compute credits"}"#)
            #expect(embedded.status == 200, "\(embedded.text)")
            chargedMicro += cost(embedded.json)
            #expect(try await balance().used == CreditAmount.credits(chargedMicro))

            // 200 at once: those the balance covers run and are charged their metered cost, the rest get 402.
            let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let r = try await metered.post("/v1/chat/completions", Self.chat(maxTokens))
                        return (r.status, r.text)
                    }
                }
                return try await group.reduce(into: [(Int, [String: Any])]()) {
                    $0.append(($1.0, (try? JSONSerialization.jsonObject(with: Data($1.1.utf8))) as? [String: Any] ?? [:]))
                }
            }
            let ok = replies.filter { $0.0 == 200 }, refused = replies.filter { $0.0 == 402 }
            #expect(ok.count + refused.count == 200, "statuses: \(Set(replies.map(\.0)))")
            #expect(ok.count >= 25 && refused.count > 0, "\(ok.count) ran, \(refused.count) refused")
            for (_, json) in refused.prefix(3) {
                let error = json["error"] as? [String: Any] ?? [:]
                #expect(error["type"] as? String == "insufficient_quota")
                #expect((error["message"] as? String ?? "").contains("balance is"))
            }
            chargedMicro += ok.reduce(Int64(0)) { $0 + cost($1.1) }
            let after = try await balance()
            #expect(after.used == CreditAmount.credits(chargedMicro))
            #expect(after.remaining == CreditAmount.credits(grantMicro - chargedMicro))
            #expect(after.remaining >= 0)
            let held = try await app.credits!.service.ledger.balance(projectID: projectID).held
            #expect(held == 0)

            // The report shows the area's request, grant and usage.
            let report = try await lead.call(.get, "/api/credits/report")
            #expect(report.status == 200)
            let rows = report.json["rows"] as? [[String: Any]] ?? []
            let row = try #require(rows.first { $0["research_area"] as? String == "core LLM" })
            #expect((row["requested"] as? NSNumber)?.doubleValue == granted)
            #expect((row["granted"] as? NSNumber)?.doubleValue == granted)
            #expect((row["approval_rate"] as? NSNumber)?.doubleValue == 1)
            #expect((row["used"] as? NSNumber)?.doubleValue == CreditAmount.credits(chargedMicro))
            let csv = try await lead.call(.get, "/api/credits/report?format=csv")
            #expect(csv.text.hasPrefix("research_area,"))
            // Usage past 80 % raised an alert.
            let alerts = try await lead.call(.get, "/api/projects/\(projectID)/alerts")
            #expect((alerts.json["alerts"] as? [[String: Any]] ?? []).contains { $0["threshold"] as? Int == 80 })
            // ... and reached the webhook as JSON naming the project and the threshold.
            var delivered: [[String: Any]] = []
            for _ in 0..<100 where !delivered.contains(where: { $0["threshold"] as? Int == 80 }) {
                delivered = receiver.bodies.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
                if !delivered.contains(where: { $0["threshold"] as? Int == 80 }) { try await Task.sleep(for: .milliseconds(50)) }
            }
            let posted = try #require(delivered.first { $0["threshold"] as? Int == 80 }, "\(receiver.bodies)")
            #expect(posted["event"] as? String == "credits.alert")
            #expect(posted["project_name"] as? String == "tokenizer")
        }
        await db.cleanup()
    }
}
