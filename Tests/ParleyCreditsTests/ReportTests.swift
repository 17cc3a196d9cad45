import Foundation
import ParleyCredits
import ParleyStore
import Testing

/// The portfolio report against a scenario computed by hand.
@Suite struct ReportTests {
    /// core LLM: P1 asks 100, approved in 2 h; P2 asks 50, 30 granted in 4 h. video: P3 asks 200, denied in 1 h,
    /// then 100, 20 granted in 3 h. economics: P4 asks 40, pending. Usage: P1 3 credits, P2 1, P3 2.
    ///
    /// Decided requests ask 450 in all and get 150: core asks 150 (1/3) and gets 130 (13/15); video asks 300 (2/3)
    /// and gets 20 (2/15), under half its requested share, so it is flagged.
    @Test(arguments: Backend.available) func reportMatchesAHandComputedScenario(_ backend: Backend) async throws {
        let org = try await Org.make(backend)
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let core = try await org.area("core LLM"), video = try await org.area("video"), econ = try await org.area("economics")
        let p1 = try await org.project("P1", in: core, lead: lead), p2 = try await org.project("P2", in: core, lead: lead)
        let p3 = try await org.project("P3", in: video, lead: lead), p4 = try await org.project("P4", in: econ, lead: lead)
        let from = org.clock.date

        func ask(_ p: Project, _ amount: Int64) async throws -> CreditRequest {
            try await org.service.submitRequest(projectID: p.id, amount: credits(amount), justification: "work", by: lead)
        }
        func decide(_ r: CreditRequest, after hours: Double, _ d: CreditDecision, _ amount: Int64? = nil) async throws {
            org.clock.advance(hours * 3600)
            _ = try await org.service.decide(requestID: r.id, decision: d, amount: amount.map(credits),
                                             reason: d == .approve ? nil : "budget", by: org.admin)
            org.clock.advance(-hours * 3600)
        }
        try await decide(try await ask(p1, 100), after: 2, .approve)
        try await decide(try await ask(p2, 50), after: 4, .partial, 30)
        try await decide(try await ask(p3, 200), after: 1, .deny)
        try await decide(try await ask(p3, 100), after: 3, .partial, 20)
        _ = try await ask(p4, 40)
        for (project, promptTokens) in [(p1, 3000), (p2, 1000), (p3, 2000)] {
            let meter = try await org.service.openMeter(projectID: project.id, idempotencyKey: nil, model: "m",
                                                        promptTokens: promptTokens, maxCompletionTokens: 0)
            try await meter.settle(promptTokens: promptTokens, completionTokens: 0)
        }

        let report = try await org.service.report(from: from, to: from.addingTimeInterval(86400))
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.researchArea, $0) })
        #expect(Set(rows.keys) == ["core LLM", "video", "economics"])

        let c = try #require(rows["core LLM"])
        #expect((c.requests, c.decided, c.requested, c.granted, c.used) == (2, 2, credits(150), credits(130), credits(4)))
        #expect(c.approvalRate == 1.0)
        #expect(c.medianSecondsToDecision == 10_800.0)
        #expect(abs(c.requestedShare - 1.0 / 3) < 1e-12 && abs(c.grantedShare - 13.0 / 15) < 1e-12)
        #expect(!c.underfunded)
        #expect(c.topProjects.map(\.name) == ["P1", "P2"])
        #expect(c.topProjects.map(\.used) == [credits(3), credits(1)])

        let v = try #require(rows["video"])
        #expect((v.requests, v.decided, v.requested, v.granted, v.used) == (2, 2, credits(300), credits(20), credits(2)))
        #expect(v.approvalRate == 0.5)
        #expect(v.medianSecondsToDecision == 7_200.0)
        #expect(abs(v.requestedShare - 2.0 / 3) < 1e-12 && abs(v.grantedShare - 2.0 / 15) < 1e-12)
        #expect(v.underfunded)

        let e = try #require(rows["economics"])
        #expect((e.requests, e.decided, e.requested, e.granted, e.used) == (1, 0, credits(40), 0, 0))
        #expect(e.approvalRate == nil && e.medianSecondsToDecision == nil && !e.underfunded)

        // A period before any of it is empty.
        let before = try await org.service.report(from: from.addingTimeInterval(-86400), to: from)
        #expect(before.rows.allSatisfy { $0.requests == 0 && $0.used == 0 })

        let csv = report.csv.split(separator: "\n").map(String.init)
        #expect(csv[0].hasPrefix("research_area,requests,decided,requested,granted,approval_rate,median_hours_to_decision,used"))
        #expect(csv.contains("video,2,2,300,20,0.5,2,2,0.6667,0.1333,true,P3"))
        #expect(csv.contains("core LLM,2,2,150,130,1,3,4,0.3333,0.8667,false,P1; P2"))
        #expect(csv.contains("economics,1,0,40,0,,,0,0,0,false,"))
    }

    @Test func csvFieldsAreQuotedAndFormulasDefused() {
        #expect(PortfolioReport.csvField("a,b") == "\"a,b\"")
        #expect(PortfolioReport.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(PortfolioReport.csvField("=SUM(A1)") == "'=SUM(A1)")
        #expect(PortfolioReport.csvField("-3") == "-3")
    }
}
