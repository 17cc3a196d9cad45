import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyServer
import ParleyStore
import ParleyTestSupport
import ParleyWellbeing
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The chat app's wellbeing safeguards end to end over `/api`: stored records (never the text), the human-review
/// queue with its audit trail and operator webhook (a local HTTP receiver), export and deletion, usage signals,
/// break reminders on a simulated clock, and the retention purge.
@Suite(.serialized) struct WellbeingAppTests {
    static let crisisText = "I have the pills ready and I'm going to end my life tonight"

    @Test func severeTurnOpensAReviewCaseWithAuditTrailAndWebhook() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { receiver.stop() }
        let setup = try WellbeingSetupFiles(policy: { p in
            p["humanReview"] = ["userMessage": "A trained person may review the risk level of this chat (not your words).",
                                "webhookURL": "http://127.0.0.1:\(receiver.port)/hook"]
        })
        try await WellbeingTestApp.run(setup) { client, _ in
            let admin = Browser(client)
            try await admin.signUp("admin@example.com")
            let bob = Browser(client)
            try await bob.signUp("bob@example.com")

            let id = try await bob.newConversation(#"{"temperature": 0}"#)
            let r = try await bob.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(Self.crisisText))}"#)
            #expect(r.status == .ok, "\(r.text)")
            let wb = r.events.first { $0.name == "wellbeing" }?.data ?? [:]
            #expect(wb["severity"] as? Int == 3)
            #expect(wb["review_notice"] as? String == "A trained person may review the risk level of this chat (not your words).")
            #expect(r.events.last?.name == "done", "the reply completes")

            // The operator hears about the case, without the message text.
            let hooks = try await eventually("the webhook is called") { receiver.bodies.isEmpty ? nil : receiver.bodies }
            let hook = try #require(try JSONSerialization.jsonObject(with: Data(hooks[0].utf8)) as? [String: Any])
            #expect(hook["event"] as? String == "wellbeing.review_case.opened")
            #expect(hook["category"] as? String == "self_harm_acute")
            #expect(hook["severity"] as? Int == 3)
            #expect(hook["conversation_id"] as? String == id)
            #expect(!hooks[0].contains("pills") && !hooks[0].contains("tonight"), "\(hooks[0])")

            // Only administrators see the queue.
            #expect(try await bob.get("/api/admin/wellbeing/cases").status == .forbidden)
            let list = try await admin.get("/api/admin/wellbeing/cases?status=open")
            let cases = list.json["cases"] as? [[String: Any]] ?? []
            #expect(cases.count == 1, "\(list.text)")
            let caseID = try #require(cases.first?["id"] as? String)
            #expect((cases.first?["user"] as? [String: Any])?["email"] as? String == "bob@example.com")
            #expect((cases.first?["record"] as? [String: Any])?["action"] as? String == "crisis_support")
            #expect(hook["case_id"] as? String == caseID)
            #expect(!list.text.contains("pills"))

            // The audit trail: opened, the webhook's delivery, then each view and action with who and when.
            _ = try await eventually("the webhook delivery is in the trail") { () -> Bool? in
                let events = try await admin.get("/api/admin/wellbeing/cases/\(caseID)").json["events"] as? [[String: Any]] ?? []
                return events.contains { $0["event"] as? String == "webhook_delivered" } ? true : nil
            }
            #expect(try await admin.get("/api/admin/wellbeing/cases/\(caseID)").status == .ok)  // one more view
            let acted = try await admin.post("/api/admin/wellbeing/cases/\(caseID)/events", #"{"status": "in_review", "note": "Reached out by email"}"#)
            #expect(acted.status == .ok, "\(acted.text)")
            #expect((acted.json["case"] as? [String: Any])?["status"] as? String == "in_review")
            let events = acted.json["events"] as? [[String: Any]] ?? []
            let kinds = events.compactMap { $0["event"] as? String }
            #expect(kinds.first == "opened")
            #expect(kinds.suffix(2) == ["status", "note"], "\(kinds)")
            #expect(kinds.filter { $0 == "viewed" }.count >= 2, "\(kinds)")
            let note = events.last ?? [:]
            #expect(note["actor"] as? String == "admin@example.com")
            #expect(note["detail"] as? String == "Reached out by email")
            #expect((events.first?["actor"] as? String) == "system")
            let stillOpen = try await admin.get("/api/admin/wellbeing/cases?status=open").json["cases"] as? [Any]
            #expect(stillOpen?.isEmpty == true, "a case in review is no longer open")
            #expect(try await admin.post("/api/admin/wellbeing/cases/\(caseID)/events", #"{}"#).status == .badRequest)
            #expect(try await admin.post("/api/admin/wellbeing/cases/\(caseID)/events", #"{"status": "done"}"#).status == .badRequest)
            #expect(try await admin.get("/api/admin/wellbeing/cases/nope").status == .notFound)

            // A look-alike stores nothing; the user's records, export and deletion.
            let calm = try await bob.post("/api/conversations/\(id)/messages", #"{"content": "this traffic is killing me"}"#)
            #expect(!calm.events.contains { $0.name == "wellbeing" })
            let records = try await bob.get("/api/wellbeing/records").json["records"] as? [[String: Any]] ?? []
            #expect(records.count == 1)
            #expect(Set(records.first?.keys.map { $0 } ?? []) == ["id", "conversation_id", "category", "severity", "action", "created_at"])
            let export = try await bob.get("/api/export")
            let exported = export.json["wellbeing_records"] as? [[String: Any]] ?? []
            #expect(exported.count == 1)
            #expect(exported.first?["id"] as? String == records.first?["id"] as? String)
            #expect((try await admin.get("/api/export").json["wellbeing_records"] as? [Any])?.isEmpty == true, "another user's records are not exported")
            let deleted = try await bob.call(.delete, "/api/wellbeing/records")
            #expect(deleted.json["deleted"] as? Int == 1)
            #expect((try await bob.get("/api/wellbeing/records").json["records"] as? [Any])?.isEmpty == true)
            #expect((try await admin.get("/api/admin/wellbeing/cases").json["cases"] as? [Any])?.isEmpty == true, "the case goes with its record")
        }
    }

    @Test func aFailingWebhookNeverBlocksTheReplyAndIsAudited() async throws {
        let closedPort = try freePort()
        let setup = try WellbeingSetupFiles(policy: { p in
            p["humanReview"] = ["webhookURL": "http://127.0.0.1:\(closedPort)/hook"]
        })
        try await WellbeingTestApp.run(setup, accounts: false) { client, _ in
            let me = Browser(client)
            let id = try await me.newConversation(#"{"temperature": 0}"#)
            let r = try await me.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(Self.crisisText))}"#)
            #expect(r.events.last?.name == "done", "\(r.text.prefix(300))")
            let caseID = try #require((try await me.get("/api/admin/wellbeing/cases").json["cases"] as? [[String: Any]])?.first?["id"] as? String)
            _ = try await eventually("the failure is in the trail") { () -> Bool? in
                let events = try await me.get("/api/admin/wellbeing/cases/\(caseID)").json["events"] as? [[String: Any]] ?? []
                return events.contains { $0["event"] as? String == "webhook_failed" } ? true : nil
            }
            // Usage signals come from message times and records: one short session so far.
            let usage = try await me.get("/api/wellbeing/usage?tz=Europe/London")
            #expect(usage.status == .ok, "\(usage.text)")
            #expect(usage.json["sessions"] as? Int == 1)
            #expect((usage.json["hours_per_day"] as? Double ?? 0) > 0)
            #expect(usage.json["exclusivity_mentions"] as? Int == 0)
            #expect(try await me.get("/api/wellbeing/usage?tz=Mars/Olympus").status == .badRequest)
            // Deleting the conversation deletes its records (and so the case).
            #expect(try await me.call(.delete, "/api/conversations/\(id)").status == .noContent)
            #expect((try await me.get("/api/wellbeing/records").json["records"] as? [Any])?.isEmpty == true)
            #expect((try await me.get("/api/admin/wellbeing/cases").json["cases"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func breakReminderFollowsThePolicyOnASimulatedClock() async throws {
        let setup = try WellbeingSetupFiles(policy: { p in
            p["breakReminders"] = ["continuousMinutes": 60, "sessionGapMinutes": 1440, "lateNightMinutes": 1440, "repeatAfterMinutes": 60]
        })
        try await WellbeingTestApp.run(setup, accounts: false) { client, _ in
            let me = Browser(client)
            let id = try await me.newConversation(#"{"temperature": 0}"#)
            #expect(try await me.post("/api/conversations/\(id)/messages", #"{"content": "Hello there"}"#).status == .ok)
            let path = "/api/wellbeing/break-reminder?tz=UTC"
            #expect(try await me.get(path).json["reminder"] is NSNull)

            try setup.moveClock(by: 61 * 60)
            let reminder = try await me.get(path).json["reminder"] as? [String: Any] ?? [:]
            #expect(reminder["reason"] as? String == "long_session")
            #expect((reminder["session_minutes"] as? Int ?? 0) >= 61)

            let snoozed = try await me.post("/api/wellbeing/break-reminder", #"{"action": "snooze", "minutes": 30}"#)
            #expect(snoozed.json["snoozed_until"] is String, "\(snoozed.text)")
            #expect(try await me.get(path).json["reminder"] is NSNull, "snoozed")
            try setup.moveClock(by: 61 * 60 + 31 * 60)
            #expect(try await me.get(path).json["reminder"] is [String: Any], "the snooze is over")
            #expect(try await me.post("/api/wellbeing/break-reminder", #"{"action": "dismiss"}"#).status == .ok)
            #expect(try await me.get(path).json["reminder"] is NSNull, "dismissed for repeatAfterMinutes")
            #expect(try await me.post("/api/wellbeing/break-reminder", #"{"action": "later"}"#).status == .badRequest)
        }
    }

    @Test func retentionPurgeDeletesRecordsOlderThanThePolicySays() async throws {
        let setup = try WellbeingSetupFiles(policy: { p in p["records"] = ["retentionDays": 1] })
        let store = try await Backend.sqlite.open()
        try await WellbeingTestApp.run(setup, accounts: false, store: store) { client, _ in
            let me = Browser(client)
            let id = try await me.newConversation(#"{"temperature": 0}"#)
            _ = try await me.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(Self.crisisText))}"#)
            #expect((try await me.get("/api/wellbeing/records").json["records"] as? [Any])?.count == 1)
        }
        // The next start, two days later, purges it.
        try setup.moveClock(by: 2 * 86_400)
        try await WellbeingTestApp.run(setup, accounts: false, store: store) { client, _ in
            let me = Browser(client)
            _ = try await eventually("the purge ran") { () -> Bool? in
                (try await me.get("/api/wellbeing/records").json["records"] as? [Any])?.isEmpty == true ? true : nil
            }
        }
        try? await store.close()
    }
}

// MARK: - Harness

/// A policy file (the built-in policy with `edit` applied) and a test-clock file in a temporary directory.
struct WellbeingSetupFiles {
    let directory: URL
    let policyFile: URL
    let clockFile: URL

    init(policy edit: (inout [String: Any]) -> Void) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-wellbeing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        policyFile = directory.appendingPathComponent("policy.json")
        clockFile = directory.appendingPathComponent("clock")
        var object = try JSONSerialization.jsonObject(with: Data(WellbeingPolicy.defaultJSON.utf8)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: policyFile)
        try moveClock(by: 0)
    }

    /// Sets the simulated clock to the real one plus `seconds`.
    func moveClock(by seconds: Double) throws {
        try String(seconds).write(to: clockFile, atomically: true, encoding: .utf8)
    }
}

enum WellbeingTestApp {
    /// A chat app with the policy and clock of `setup` over `store` (a fresh SQLite one when nil), served in process.
    static func run(_ setup: WellbeingSetupFiles, accounts: Bool = true, store given: (any ParleyStore)? = nil,
                    _ body: @Sendable (any TestClientProtocol, any ParleyStore) async throws -> Void) async throws {
        let store: any ParleyStore
        if let given { store = given } else { store = try await Backend.sqlite.open() }
        let catalog = ModelCatalog(ready: [Shared.served])
        let app = try await ChatApp.start(store: store, catalog: catalog, accounts: accounts,
                                          wellbeingPolicies: try PolicyStore(url: setup.policyFile),
                                          wellbeingClock: .testOffset(file: setup.clockFile))
        let api = ParleyAPI(catalog: catalog, apiKey: nil, app: app)
        try await Application(router: api.makeRouter()).test(.router) { client in try await body(client, store) }
        if given == nil { try? await store.close() }
    }
}

/// Polls `check` (every 100 ms, up to 20 s) until it returns a value.
func eventually<T>(_ what: String, _ check: () async throws -> T?) async throws -> T {
    // Generous: in a full run on 2 cores the server processes these tests start can wait tens of seconds for a core.
    let deadline = Date().addingTimeInterval(90)
    while Date() < deadline {
        if let value = try await check() { return value }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw TestFailure("timed out waiting: \(what)")
}

/// A port nothing listens on (bound, then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw TestFailure("bind failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

