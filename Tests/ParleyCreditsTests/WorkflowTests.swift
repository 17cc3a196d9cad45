import Foundation
import ParleyCredits
import ParleyStore
import Testing

/// The allocation workflow through the service: every decision kind, appeals, supplements, renewals, the reasons
/// it requires and who may do what. Each transition is audited.
@Suite struct WorkflowTests {
    @Test func approveInFullCreditsTheProjectAndRecordsWhoWhenAndWhy() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let reviewer = try await org.user("rita"), lead = try await org.user("lena")
        let area = try await org.area("core LLM", reviewers: [reviewer])
        let project = try await org.project("tokenizer", in: area, lead: lead)
        let request = try await org.service.submitRequest(projectID: project.id, amount: credits(500),
                                                          justification: "pretraining ablations", expectedOutcome: "a paper", by: lead)
        #expect(request.status == .pending)
        org.clock.advance(7200)
        let decided = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: reviewer)
        #expect(decided.status == .approved)
        #expect(decided.granted == credits(500))
        #expect(decided.decidedBy == reviewer.userID)
        #expect(decided.decidedAt!.timeIntervalSince(decided.createdAt) == 7200)

        let balance = try await org.service.balance(projectID: project.id, by: lead)
        #expect(balance.granted == credits(500) && balance.remaining == credits(500) && balance.used == 0)

        let events = try await org.db.store.creditRequestEvents(requestID: request.id)
        #expect(events.map(\.action) == ["submit", "approve"])
        #expect(events.map(\.actorID) == [lead.userID, reviewer.userID])
        #expect(events[1].fromStatus == .pending && events[1].toStatus == .approved)
    }

    @Test func partialAndDenyNeedAReasonAndPartialAnAmountBelowTheRequest() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let area = try await org.area("video")
        let project = try await org.project("clips", in: area, lead: lead)
        let a = try await org.service.submitRequest(projectID: project.id, amount: credits(100), justification: "x", by: lead)

        await expectCreditsError(isInvalid, "a reason required for partial") {
            _ = try await org.service.decide(requestID: a.id, decision: .partial, amount: credits(40), reason: nil, by: org.admin)
        }
        await expectCreditsError(isInvalid, "a reason required for partial (blank)") {
            _ = try await org.service.decide(requestID: a.id, decision: .partial, amount: credits(40), reason: "  ", by: org.admin)
        }
        await expectCreditsError(isInvalid, "partial needs an amount") {
            _ = try await org.service.decide(requestID: a.id, decision: .partial, amount: nil, reason: "budget", by: org.admin)
        }
        await expectCreditsError(isInvalid, "partial below the request") {
            _ = try await org.service.decide(requestID: a.id, decision: .partial, amount: credits(100), reason: "budget", by: org.admin)
        }
        await expectCreditsError(isInvalid, "a reason required for deny") {
            _ = try await org.service.decide(requestID: a.id, decision: .deny, amount: nil, reason: nil, by: org.admin)
        }
        let partial = try await org.service.decide(requestID: a.id, decision: .partial, amount: credits(40),
                                                   reason: "budget is tight this quarter", by: org.admin)
        #expect(partial.status == .partial && partial.granted == credits(40) && partial.reason == "budget is tight this quarter")
        #expect(try await org.service.balance(projectID: project.id, by: lead).granted == credits(40))

        // A decided request is not decided again.
        await expectCreditsError(isConflict, "a second decision") {
            _ = try await org.service.decide(requestID: a.id, decision: .approve, amount: nil, reason: nil, by: org.admin)
        }
    }

    @Test func permissions() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena"), member = try await org.user("mo"), outsider = try await org.user("otto")
        let econReviewer = try await org.user("erin"), coreReviewer = try await org.user("carl")
        let core = try await org.area("core LLM", reviewers: [coreReviewer])
        _ = try await org.area("economics", reviewers: [econReviewer])
        let project = try await org.project("scaling", in: core, lead: lead)
        _ = try await org.service.addMember(projectID: project.id, user: "mo", by: lead)

        // Only the lead (or an admin) requests credits; only the lead or an admin adds members.
        await expectCreditsError(isForbidden, "a member requesting") {
            _ = try await org.service.submitRequest(projectID: project.id, amount: credits(10), justification: "x", by: member)
        }
        await expectCreditsError(isForbidden, "a member adding members") {
            _ = try await org.service.addMember(projectID: project.id, user: "otto", by: member)
        }
        // Areas and prices are the admins'.
        await expectCreditsError(isForbidden, "a user adding an area") {
            _ = try await org.service.createResearchArea(name: "model policy", by: outsider)
        }
        await expectCreditsError(isForbidden, "a user setting a price") {
            _ = try await org.service.setPrice(unit: .promptKTokens, model: "", credits: 1, effectiveFrom: nil, by: outsider)
        }
        let request = try await org.service.submitRequest(projectID: project.id, amount: credits(10), justification: "x", by: lead)
        // Not a reviewer, a reviewer of another area, and the project's own people may not decide.
        for actor in [outsider, econReviewer, member, lead] {
            await expectCreditsError(isForbidden, "a decision by a non-reviewer") {
                _ = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: actor)
            }
        }
        // An admin who belongs to the project may not decide either.
        let adminMember = CreditsActor(userID: org.admin.userID, isAdmin: true)
        _ = try await org.service.addMember(projectID: project.id, user: "admin", by: lead)
        await expectCreditsError(isForbidden, "an admin deciding their own project's request") {
            _ = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: adminMember)
        }
        // Permission is checked before the reason: a non-reviewer denying without one is forbidden, not invalid.
        await expectCreditsError(isForbidden, "a non-reviewer's deny without reason") {
            _ = try await org.service.decide(requestID: request.id, decision: .deny, amount: nil, reason: nil, by: outsider)
        }
        // Outsiders do not see the balance; members do.
        await expectCreditsError(isForbidden, "an outsider reading the balance") {
            _ = try await org.service.balance(projectID: project.id, by: outsider)
        }
        #expect(try await org.service.balance(projectID: project.id, by: member).granted == 0)
        let approved = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: coreReviewer)
        #expect(approved.status == .approved)
        #expect(try await org.service.reviewQueue(coreReviewer).isEmpty)
    }

    @Test func anAppealReopensADenialForADifferentReviewer() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena"), first = try await org.user("rita"), second = try await org.user("sam")
        let area = try await org.area("continual learning", reviewers: [first, second])
        let project = try await org.project("replay", in: area, lead: lead)
        let request = try await org.service.submitRequest(projectID: project.id, amount: credits(300), justification: "x", by: lead)
        let denied = try await org.service.decide(requestID: request.id, decision: .deny, amount: nil,
                                                  reason: "outside the main line", by: first)
        #expect(denied.status == .denied && denied.granted == 0)

        await expectCreditsError(isForbidden, "an appeal by someone else than the lead") {
            _ = try await org.service.appeal(requestID: request.id, reason: "please", by: second)
        }
        await expectCreditsError(isInvalid, "an appeal without a reason") {
            _ = try await org.service.appeal(requestID: request.id, reason: nil, by: lead)
        }
        let reopened = try await org.service.appeal(requestID: request.id, reason: "it serves the main line: see section 2", by: lead)
        #expect(reopened.status == .pending)
        #expect(try await org.service.reviewQueue(first).isEmpty)
        #expect(try await org.service.reviewQueue(second).map(\.id) == [request.id])
        await expectCreditsError(isForbidden, "the first reviewer deciding again") {
            _ = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: first)
        }
        let approved = try await org.service.decide(requestID: request.id, decision: .approve, amount: nil, reason: nil, by: second)
        #expect(approved.status == .approved && approved.granted == credits(300))
        let events = try await org.db.store.creditRequestEvents(requestID: request.id)
        #expect(events.map(\.action) == ["submit", "deny", "appeal", "approve"])
        #expect(events[1].reason == "outside the main line")
        #expect(events[2].reason == "it serves the main line: see section 2")
        // Only a denial can be appealed.
        await expectCreditsError(isConflict, "appealing an approval") {
            _ = try await org.service.appeal(requestID: request.id, reason: "more", by: lead)
        }
    }

    @Test func supplementsAddToTheRunningPeriodAndRenewalsContinueIt() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let area = try await org.area("model policy")
        let project = try await org.project("rlhf", in: area, lead: lead)
        await expectCreditsError(isInvalid, "a supplement before any grant") {
            _ = try await org.service.submitRequest(projectID: project.id, kind: .supplement, amount: credits(5), justification: "x", by: lead)
        }
        await expectCreditsError(isInvalid, "a renewal before any grant") {
            _ = try await org.service.submitRequest(projectID: project.id, kind: .renewal, amount: credits(5), justification: "x", by: lead)
        }
        let start = org.clock.date
        let first = try await org.service.submitRequest(projectID: project.id, amount: credits(100), periodStart: start,
                                                        periodEnd: start.addingTimeInterval(30 * 86400), justification: "x", by: lead)
        _ = try await org.service.decide(requestID: first.id, decision: .approve, amount: nil, reason: nil, by: org.admin)

        org.clock.advance(86400)
        let supplement = try await org.service.submitRequest(projectID: project.id, kind: .supplement, amount: credits(20),
                                                             justification: "a rerun", by: lead)
        #expect(supplement.kind == .supplement)
        #expect(supplement.periodStart == first.periodStart && supplement.periodEnd == first.periodEnd)
        _ = try await org.service.decide(requestID: supplement.id, decision: .approve, amount: nil, reason: nil, by: org.admin)

        let renewal = try await org.service.submitRequest(projectID: project.id, kind: .renewal, amount: credits(80),
                                                          justification: "next month", by: lead)
        #expect(renewal.periodStart == first.periodEnd)
        #expect(renewal.periodEnd.timeIntervalSince(renewal.periodStart) == 30 * 86400)
        _ = try await org.service.decide(requestID: renewal.id, decision: .partial, amount: credits(50), reason: "usage was low", by: org.admin)
        #expect(try await org.service.balance(projectID: project.id, by: lead).granted == credits(170))
    }

    @Test func periodEndExpiresUnusedCreditsOrRollsThemOver() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let lead = try await org.user("lena")
        let area = try await org.area("economics")
        let expiring = try await org.project("auctions", in: area, lead: lead)
        let rolling = try await org.service.createProject(name: "markets", researchAreaID: area.id, policy: .rollover, by: lead)
        let start = org.clock.date
        for project in [expiring, rolling] {
            let r = try await org.service.submitRequest(projectID: project.id, amount: credits(10), periodStart: start,
                                                        periodEnd: start.addingTimeInterval(86400), justification: "x", by: lead)
            _ = try await org.service.decide(requestID: r.id, decision: .approve, amount: nil, reason: nil, by: org.admin)
        }
        let meter = try await org.service.openMeter(projectID: expiring.id, idempotencyKey: "k1", model: "m", promptTokens: 1000,
                                                    maxCompletionTokens: 1000)
        try await meter.settle(promptTokens: 1000, completionTokens: 1000)  // 2 credits at the default prices

        #expect(try await org.service.closeEndedPeriods().isEmpty)  // nothing has ended yet
        org.clock.advance(86400)
        let expired = try await org.service.closeEndedPeriods()
        #expect(expired == [expiring.id: credits(8)])
        #expect(try await org.service.closeEndedPeriods().isEmpty)  // once per period
        let e = try await org.service.balance(projectID: expiring.id, by: lead)
        #expect(e.granted == credits(10) && e.used == credits(2) && e.expired == credits(8) && e.remaining == 0)
        #expect(try await org.service.balance(projectID: rolling.id, by: lead).remaining == credits(10))
    }

    @Test func pricesAreVersionedAndApplyFromTheirTime() async throws {
        let org = try await Org.make()
        defer { Task { await org.cleanup() } }
        let now = org.clock.date
        _ = try await org.service.setPrice(unit: .promptKTokens, model: "", credits: 2, effectiveFrom: now, by: org.admin)
        _ = try await org.service.setPrice(unit: .promptKTokens, model: "", credits: 3, effectiveFrom: now.addingTimeInterval(3600), by: org.admin)
        _ = try await org.service.setPrice(unit: .completionKTokens, model: "big", credits: 10, effectiveFrom: now, by: org.admin)
        let book = try await org.service.priceBook()
        #expect(book.rate(.promptKTokens, model: "any", at: now.addingTimeInterval(-1)) == PriceBook.defaults[.promptKTokens])
        #expect(book.rate(.promptKTokens, model: "any", at: now) == credits(2))
        #expect(book.rate(.promptKTokens, model: "any", at: now.addingTimeInterval(3600)) == credits(3))
        #expect(book.rate(.completionKTokens, model: "big", at: now) == credits(10))
        #expect(book.rate(.completionKTokens, model: "small", at: now) == PriceBook.defaults[.completionKTokens])
        // 1500 prompt tokens at 2/1k + 7 completion tokens at 10/1k = 3.07 credits.
        #expect(book.tokenCost(promptTokens: 1500, completionTokens: 7, model: "big", at: now) == 3_070_000)
        // Rounded up to the micro-credit, never down.
        #expect(book.tokenCost(promptTokens: 1, completionTokens: 0, model: "x", at: now.addingTimeInterval(-10)) == 1000)
    }
}
