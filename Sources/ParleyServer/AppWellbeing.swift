import Foundation
import Logging
import ParleyStore
import ParleyWellbeing

/// The chat app's wellbeing safeguards around each reply: the assessment with the user's usage pattern, the
/// stored record (never the text), the human-review case and its webhook for severe turns, break reminders with
/// snooze, usage signals for the user's settings, and the retention purge. Failures here are logged and never
/// stop a reply.
final class AppWellbeing: Sendable {
    let policies: PolicyStore
    /// Nil when the store keeps no wellbeing records (then nothing is stored and no case is opened).
    let store: (any WellbeingStore)?
    let clock: WellbeingClock
    private let logger: Logger
    private let state = BreakStates()
    /// How far back usage is averaged.
    static let usageWindowDays = 7

    init(policies: PolicyStore, store: (any WellbeingStore)?, clock: WellbeingClock, logger: Logger = Logger(label: "parley.wellbeing")) {
        self.policies = policies
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    var policy: WellbeingPolicy { policies.policy }

    // MARK: Replies

    /// Assesses the branch's last user turn with the user's usage pattern; nil when the reply needs no steering.
    /// When the turn will open a review case, the notice carries the policy's word to the user about it.
    func notice(for branch: [Message], userID: RecordID, acceptLanguage: String?) async -> WellbeingNotice? {
        let turns = branch.filter { $0.role == .user || $0.role == .assistant }
            .map { ChatTurn(role: $0.role.rawValue, content: $0.content) }
        let usage = try? await usageSignals(userID: userID, timeZone: state.timeZone(userID)).pattern
        let assessor = policies.assessor
        guard var notice = WellbeingNotice.assess(turns, acceptLanguage: acceptLanguage, assessor: assessor, usage: usage) else {
            return nil
        }
        if store != nil, notice.assessment.needsHumanReview { notice.reviewNotice = assessor.policy.humanReview.userMessage }
        return notice
    }

    /// Stores the assessment of a user turn just written (category, severity, action, time, conversation) and, for
    /// a severe one, opens a review case and notifies the operator webhook in the background.
    func record(_ notice: WellbeingNotice?, userID: RecordID, conversationID: RecordID?) async {
        guard let notice, let store else { return }
        let a = notice.assessment
        let record = WellbeingRecord(userID: userID, conversationID: conversationID, category: a.category.rawValue,
                                     severity: a.severity, action: a.action.rawValue, createdAt: clock.now())
        do {
            guard let opened = try await store.addWellbeingRecord(record, openReviewCase: a.needsHumanReview) else { return }
            logger.notice("wellbeing review case opened", metadata: ["case": "\(opened.id)", "category": "\(a.category.rawValue)",
                                                                    "severity": "\(a.severity)"])
            if let url = policy.humanReview.webhookURL {
                Task.detached { [logger, clock] in
                    let failure = await WellbeingWebhook.deliver(opened, to: url)
                    if let failure {
                        logger.error("wellbeing webhook failed", metadata: ["case": "\(opened.id)", "url": "\(url.absoluteString)",
                                                                            "error": "\(failure)"])
                    }
                    let event = ReviewEvent(caseID: opened.id, actorID: nil, actor: "system",
                                            kind: failure == nil ? .webhookDelivered : .webhookFailed,
                                            detail: failure ?? url.host, createdAt: clock.now())
                    try? await store.addReviewEvent(event, newStatus: nil)
                }
            }
        } catch {
            logger.error("could not store a wellbeing record", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Usage and break reminders

    func usageSignals(userID: RecordID, timeZone: TimeZone) async throws -> UsageSignals {
        let now = clock.now()
        let since = now.addingTimeInterval(-Double(Self.usageWindowDays) * 86_400)
        let policy = self.policy
        guard let store else {
            return UsageSignals.compute(messageTimes: [], relianceRecords: 0, now: now, timeZone: timeZone,
                                        windowDays: Self.usageWindowDays, policy: policy)
        }
        async let times = store.userMessageTimes(userID: userID, since: since)
        async let records = store.wellbeingRecords(userID: userID, since: since)
        let reliance = try await records.filter { $0.category == WellbeingCategory.emotionalReliance.rawValue }.count
        return UsageSignals.compute(messageTimes: try await times, relianceRecords: reliance, now: now, timeZone: timeZone,
                                    windowDays: Self.usageWindowDays, policy: policy)
    }

    /// What `BreakReminder.evaluate` says now for the user, unless they snoozed or dismissed one recently.
    func breakReminder(userID: RecordID, timeZone: TimeZone) async throws -> BreakReminder? {
        state.setTimeZone(timeZone, for: userID)
        guard let store else { return nil }
        let now = clock.now()
        let user = state.get(userID)
        if let until = user.snoozedUntil, until > now { return nil }
        let policy = self.policy.breakReminders
        // A session cannot be longer than this look-back (BreakReminder walks at most 48 hours).
        let times = try await store.userMessageTimes(userID: userID, since: now.addingTimeInterval(-48 * 3600))
        return BreakReminder.evaluate(messageTimes: times, now: now, timeZone: timeZone, lastReminder: user.dismissedAt,
                                      policy: policy)
    }

    /// The user closed the reminder: none again for the policy's `repeatAfterMinutes`.
    func dismissBreakReminder(userID: RecordID) {
        let now = clock.now()
        state.update(userID) { $0.dismissedAt = now }
    }

    /// The user asked to be reminded again in `minutes`.
    func snoozeBreakReminder(userID: RecordID, minutes: Double) -> Date {
        let until = clock.now().addingTimeInterval(minutes * 60)
        state.update(userID) { $0.snoozedUntil = until }
        return until
    }

    // MARK: Retention

    /// Deletes records (and their cases) older than the policy's retention; returns how many.
    @discardableResult
    func purgeExpired() async -> Int {
        guard let store else { return 0 }
        let cutoff = clock.now().addingTimeInterval(-Double(policy.retentionDays) * 86_400)
        do {
            let n = try await store.purgeWellbeingRecords(before: cutoff)
            if n > 0 { logger.info("wellbeing retention purge", metadata: ["deleted": "\(n)", "retention_days": "\(policy.retentionDays)"]) }
            return n
        } catch {
            logger.error("wellbeing retention purge failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// Runs the purge now and then every `interval` seconds for as long as this object lives.
    func startPurging(every interval: TimeInterval = 3600) {
        Task { [weak self] in
            // Holds the object only while purging, so the loop ends once the app is gone.
            while await self?.purgeExpired() != nil {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            }
        }
    }
}

/// Per-user break-reminder state (snooze, dismissal) and the time zone the user's app last reported. Kept in
/// memory: a restart forgets a snooze, which at worst shows one reminder early.
final class BreakStates: @unchecked Sendable {
    struct UserState {
        var dismissedAt: Date?
        var snoozedUntil: Date?
        var timeZone: TimeZone?
    }

    private let lock = NSLock()
    private var users: [RecordID: UserState] = [:]

    func get(_ userID: RecordID) -> UserState { lock.withLock { users[userID] ?? UserState() } }

    func update(_ userID: RecordID, _ change: (inout UserState) -> Void) {
        lock.withLock { change(&users[userID, default: UserState()]) }
    }

    func setTimeZone(_ zone: TimeZone, for userID: RecordID) { update(userID) { $0.timeZone = zone } }
    func timeZone(_ userID: RecordID) -> TimeZone { get(userID).timeZone ?? .current }
}
