import Foundation
import ParleyStore
import Testing

// The wellbeing records and review queue, the same behaviours on both backends.

@Suite("Wellbeing store (SQLite)")
struct SQLiteWellbeingStoreTests {
    @Test("behaviour", arguments: WellbeingBehaviour.allCases)
    func behaviour(_ behaviour: WellbeingBehaviour) async throws {
        try await behaviour.run(on: .sqlite)
    }
}

@Suite(
    "Wellbeing store (PostgreSQL)",
    .serialized,
    .enabled(
        if: PostgresTestServer.shouldRun,
        "SKIPPED: PostgreSQL store tests need PARLEY_TEST_POSTGRES_URL (eval \"$(scripts/start-test-postgres.sh)\"); set PARLEY_REQUIRE_POSTGRES=1 to make its absence a failure"
    )
)
struct PostgresWellbeingStoreTests {
    @Test("behaviour", arguments: WellbeingBehaviour.allCases)
    func behaviour(_ behaviour: WellbeingBehaviour) async throws {
        try await behaviour.run(on: .postgres)
    }
}

enum WellbeingBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case recordsRoundTripOldestFirstAndScopedToTheirUser
    case recordsRefuseOtherUsersConversationsAndBadSeverities
    case severeRecordOpensACaseWithAnAuditTrail
    case retentionPurgeDeletesOldRecordsWithTheirCases
    case deletionByUserOrConversationTakesTheRecords
    case messageTimesAreTheUsersOwnUserTurns

    var testDescription: String { rawValue }

    func run(on backend: Backend) async throws {
        try await withHarness(backend) { h in
            let store = try #require(h.store as? any WellbeingStore, "the \(backend) store keeps wellbeing records")
            switch self {
            case .recordsRoundTripOldestFirstAndScopedToTheirUser: try await recordsRoundTrip(h.store, store)
            case .recordsRefuseOtherUsersConversationsAndBadSeverities: try await recordsRefuse(h.store, store)
            case .severeRecordOpensACaseWithAnAuditTrail: try await reviewCase(h.store, store)
            case .retentionPurgeDeletesOldRecordsWithTheirCases: try await purge(h.store, store)
            case .deletionByUserOrConversationTakesTheRecords: try await deletion(h.store, store)
            case .messageTimesAreTheUsersOwnUserTurns: try await messageTimes(h.store, store)
            }
        }
    }

    private func record(_ user: User, _ conversation: Conversation?, _ category: String = "distress_other", severity: Int = 1,
                        action: String = "gentle_check_in", at time: Date) -> WellbeingRecord {
        WellbeingRecord(userID: user.id, conversationID: conversation?.id, category: category, severity: severity,
                        action: action, createdAt: time)
    }

    private func recordsRoundTrip(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let ann = try await chat.makeUser("ann"), bob = try await chat.makeUser("bob")
        let c = try await chat.makeConversation(ann, "one")
        let later = record(ann, c, "emotional_reliance", action: "encourage_human_connection", at: at(60))
        let earlier = record(ann, nil, at: at(0))
        #expect(try await store.addWellbeingRecord(later, openReviewCase: false) == nil)
        try await store.addWellbeingRecord(earlier, openReviewCase: false)
        try await store.addWellbeingRecord(record(bob, nil, at: at(30)), openReviewCase: false)
        #expect(try await store.wellbeingRecords(userID: ann.id, since: nil) == [earlier, later])
        #expect(try await store.wellbeingRecords(userID: ann.id, since: at(1)) == [later])
        #expect(try await store.wellbeingRecords(userID: bob.id, since: nil).map(\.userID) == [bob.id])
    }

    private func recordsRefuse(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let ann = try await chat.makeUser("ann"), bob = try await chat.makeUser("bob")
        let bobs = try await chat.makeConversation(bob, "bob's")
        await expectStoreError(.notFound) { try await store.addWellbeingRecord(record(ann, bobs, at: t0), openReviewCase: true) }
        await expectStoreError(.invalid) { try await store.addWellbeingRecord(record(ann, nil, severity: 4, at: t0), openReviewCase: false) }
        await expectStoreError(.notFound) {
            try await store.addWellbeingRecord(WellbeingRecord(userID: "nobody", conversationID: nil, category: "none", severity: 0,
                                                               action: "none", createdAt: t0), openReviewCase: false)
        }
        #expect(try await store.wellbeingRecords(userID: ann.id, since: nil).isEmpty)
        #expect(try await store.reviewCases(status: nil, limit: 10).isEmpty, "nothing half-written")
    }

    private func reviewCase(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let admin = try await chat.makeUser("admin"), ann = try await chat.makeUser("ann")
        let c = try await chat.makeConversation(ann, "night")
        let severe = record(ann, c, "self_harm_acute", severity: 3, action: "crisis_support", at: at(10))
        let opened = try #require(try await store.addWellbeingRecord(severe, openReviewCase: true))
        #expect(opened.status == .open)
        #expect(opened.record == severe)
        #expect(opened.userEmail == "ann@example.com")
        try await store.addWellbeingRecord(record(ann, c, "self_harm_acute", severity: 3, action: "crisis_support", at: at(20)),
                                           openReviewCase: true)
        #expect(try await store.reviewCase(id: opened.id) == opened)
        #expect(try await store.reviewCases(status: .open, limit: 10).map(\.record.createdAt) == [at(20), at(10)], "newest first")
        #expect(try await store.reviewCases(status: nil, limit: 1).count == 1)

        try await store.addReviewEvent(ReviewEvent(caseID: opened.id, actorID: admin.id, actor: admin.email, kind: .viewed, createdAt: at(30)),
                                       newStatus: nil)
        try await store.addReviewEvent(ReviewEvent(caseID: opened.id, actorID: admin.id, actor: admin.email, kind: .status,
                                                   detail: "closed", createdAt: at(40)), newStatus: .closed)
        try await store.addReviewEvent(ReviewEvent(caseID: opened.id, actorID: admin.id, actor: admin.email, kind: .note,
                                                   detail: "Talked it through", createdAt: at(40)), newStatus: nil)
        let trail = try await store.reviewEvents(caseID: opened.id)
        #expect(trail.map(\.kind) == [.opened, .viewed, .status, .note], "in the order they happened, same-millisecond ones too")
        #expect(trail[0].actor == "system" && trail[0].actorID == nil)
        #expect(trail[3].detail == "Talked it through" && trail[3].actorID == admin.id)
        let closed = try #require(try await store.reviewCase(id: opened.id))
        #expect(closed.status == .closed)
        #expect(closed.updatedAt == at(40))
        #expect(try await store.reviewCases(status: .closed, limit: 10).map(\.id) == [opened.id])
        #expect(try await store.reviewCases(status: .open, limit: 10).count == 1)
        await expectStoreError(.notFound) {
            try await store.addReviewEvent(ReviewEvent(caseID: "missing", actorID: nil, actor: "system", kind: .note), newStatus: nil)
        }
    }

    private func purge(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let ann = try await chat.makeUser("ann")
        let old = try #require(try await store.addWellbeingRecord(record(ann, nil, "self_harm_acute", severity: 3, action: "crisis_support", at: at(0)),
                                                                  openReviewCase: true))
        let fresh = record(ann, nil, at: at(100))
        try await store.addWellbeingRecord(fresh, openReviewCase: false)
        #expect(try await store.purgeWellbeingRecords(before: at(50)) == 1)
        #expect(try await store.wellbeingRecords(userID: ann.id, since: nil) == [fresh])
        #expect(try await store.reviewCase(id: old.id) == nil, "the case goes with its record")
        #expect(try await store.reviewEvents(caseID: old.id).isEmpty, "and its trail")
        #expect(try await store.purgeWellbeingRecords(before: at(50)) == 0)
    }

    private func deletion(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let ann = try await chat.makeUser("ann"), bob = try await chat.makeUser("bob")
        let one = try await chat.makeConversation(ann, "one"), two = try await chat.makeConversation(ann, "two")
        try await store.addWellbeingRecord(record(ann, one, at: at(0)), openReviewCase: false)
        let kept = record(ann, two, at: at(1))
        try await store.addWellbeingRecord(kept, openReviewCase: false)
        try await store.addWellbeingRecord(record(bob, nil, at: at(2)), openReviewCase: true)
        #expect(try await chat.deleteConversation(id: one.id, userID: ann.id))
        #expect(try await store.wellbeingRecords(userID: ann.id, since: nil) == [kept], "the conversation's records went with it")
        #expect(try await store.deleteWellbeingRecords(userID: ann.id) == 1)
        #expect(try await store.wellbeingRecords(userID: ann.id, since: nil).isEmpty)
        #expect(try await store.wellbeingRecords(userID: bob.id, since: nil).count == 1, "only ann's")
        #expect(try await store.deleteWellbeingRecords(userID: bob.id) == 1)
        #expect(try await store.reviewCases(status: nil, limit: 10).isEmpty)
    }

    private func messageTimes(_ chat: any ParleyStore, _ store: any WellbeingStore) async throws {
        let ann = try await chat.makeUser("ann"), bob = try await chat.makeUser("bob")
        let c = try await chat.makeConversation(ann, "a"), d = try await chat.makeConversation(ann, "b")
        let first = try await chat.say(c, ann, .user, "hi", parent: nil, at: at(0))
        _ = try await chat.say(c, ann, .assistant, "hello", parent: first, at: at(5))
        _ = try await chat.say(d, ann, .user, "again", parent: nil, at: at(120))
        let e = try await chat.makeConversation(bob, "bob")
        _ = try await chat.say(e, bob, .user, "mine", parent: nil, at: at(60))
        #expect(try await store.userMessageTimes(userID: ann.id, since: t0) == [at(0), at(120)])
        #expect(try await store.userMessageTimes(userID: ann.id, since: at(1)) == [at(120)])
    }
}
