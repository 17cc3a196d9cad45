import Foundation
import ParleyCredits
import ParleyStore
import Testing

/// Usage alerts: at 80 % and 100 % of the granted credits, once per threshold and granted level, kept for the app
/// and handed to the notifier (the server's webhook).
@Suite struct AlertTests {
    final class Recorder: AlertNotifier, @unchecked Sendable {
        private let lock = NSLock()
        private var delivered: [(Int, String)] = []
        func deliver(_ alert: CreditAlert, project: Project) async { lock.withLock { delivered.append((alert.threshold, project.name)) } }
        var thresholds: [Int] { lock.withLock { delivered.map(\.0) } }
    }

    @Test func alertsAt80And100PercentOncePerGrant() async throws {
        let db = try await TestDatabase.make(.sqlite)
        defer { Task { await db.cleanup() } }
        let recorder = Recorder()
        let service = CreditsService(store: db.store, notifier: recorder)
        let admin = try await db.store.createUser(email: "admin", displayName: "Admin", passwordHash: "!")
        let adminActor = CreditsActor(userID: admin.id, isAdmin: true)
        let leadUser = try await db.store.createUser(email: "lena", displayName: "Lena", passwordHash: "!")
        let lead = CreditsActor(userID: leadUser.id, isAdmin: false)
        let area = try await service.createResearchArea(name: "video", by: adminActor)
        let project = try await service.createProject(name: "clips", researchAreaID: area.id, by: lead)
        func grant(_ amount: Int64) async throws {
            let r = try await service.submitRequest(projectID: project.id, amount: credits(amount), justification: "x", by: lead)
            _ = try await service.decide(requestID: r.id, decision: .approve, amount: nil, reason: nil, by: adminActor)
        }
        func use(_ tokens: Int) async throws {
            let meter = try await service.openMeter(projectID: project.id, idempotencyKey: nil, model: "m", promptTokens: tokens,
                                                    maxCompletionTokens: 0)
            try await meter.settle(promptTokens: tokens, completionTokens: 0)
        }
        try await grant(10)
        try await use(7_000)  // 70 %: nothing yet
        #expect(recorder.thresholds.isEmpty)
        try await use(1_000)  // 80 %
        #expect(recorder.thresholds == [80])
        try await use(1_000)  // 90 %: no repeat
        #expect(recorder.thresholds == [80])
        try await use(1_000)  // 100 %
        #expect(recorder.thresholds == [80, 100])
        let stored = try await db.store.alerts(projectID: project.id)
        #expect(stored.map(\.threshold).sorted() == [80, 100])
        // A new grant re-arms them: 10 of 20 used is below 80 %.
        try await grant(10)
        try await use(6_000)  // 16 of 20 = 80 %
        #expect(recorder.thresholds == [80, 100, 80])
    }
}
