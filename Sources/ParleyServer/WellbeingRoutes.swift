import Foundation
import Hummingbird
import ParleyStore
import ParleyTokenizer
import ParleyWellbeing

/// The chat app's wellbeing routes (docs/app-api.md, "Wellbeing"): a user's own records, usage signals and break
/// reminders; the administrators' human-review queue with its audit trail.
extension ChatApp {
    typealias AddRoute = (HTTPRequest.Method, String, @escaping @Sendable (Request, ParleyRequestContext) async throws -> Response) -> Void

    func registerWellbeing(_ add: AddRoute) {
        let app = self
        add(.get, "/api/wellbeing/usage") { request, context in
            let me = try Self.me(context)
            let signals = try await db { try await app.safeguards.usageSignals(userID: me.user.id, timeZone: try Self.timeZone(request)) }
            return AppJSON.response(WellbeingJSON.usage(signals, limits: app.safeguards.policy.reliance))
        }
        add(.get, "/api/wellbeing/records") { _, context in
            let me = try Self.me(context)
            let records = try await db { try await app.safeguards.store?.wellbeingRecords(userID: me.user.id, since: nil) ?? [] }
            return AppJSON.response(.obj([("records", .array(records.map(WellbeingJSON.record))),
                                          ("retention_days", .int(app.safeguards.policy.retentionDays))]))
        }
        add(.delete, "/api/wellbeing/records") { _, context in
            let me = try Self.me(context)
            let n = try await db { try await app.safeguards.store?.deleteWellbeingRecords(userID: me.user.id) ?? 0 }
            return AppJSON.response(.obj([("deleted", .int(n))]))
        }
        add(.get, "/api/wellbeing/break-reminder") { request, context in
            let me = try Self.me(context)
            let reminder = try await db { try await app.safeguards.breakReminder(userID: me.user.id, timeZone: try Self.timeZone(request)) }
            return AppJSON.response(.obj([("reminder", reminder.map(WellbeingJSON.reminder) ?? .none)]))
        }
        add(.post, "/api/wellbeing/break-reminder") { request, context in
            let me = try Self.me(context)
            let b = try await app.body(request, limit: 4096)
            switch try b.requiredString("action", maxLength: 20) {
            case "dismiss":
                app.safeguards.dismissBreakReminder(userID: me.user.id)
                return AppJSON.response(.obj([("snoozed_until", .none)]))
            case "snooze":
                let minutes = try b.number("minutes", in: 1...1440) ?? 30
                let until = app.safeguards.snoozeBreakReminder(userID: me.user.id, minutes: minutes)
                return AppJSON.response(.obj([("snoozed_until", .time(until))]))
            default:
                throw AppError.badRequest("'action' must be \"dismiss\" or \"snooze\".")
            }
        }

        // The human-review queue: administrators only.
        add(.get, "/api/admin/wellbeing/cases") { request, context in
            guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
            let status = try Self.caseStatus(queryValue(request, "status"))
            let limit = try queryInt(request, "limit", default: 100, in: 1...500)
            let cases = try await db { try await app.reviewStore().reviewCases(status: status, limit: limit) }
            return AppJSON.response(.obj([("cases", .array(cases.map(WellbeingJSON.reviewCase)))]))
        }
        add(.get, "/api/admin/wellbeing/cases/:id") { _, context in
            let me = try Self.me(context)
            guard me.isAdmin else { throw AppError.notAdmin }
            let id = try Self.id(context)
            let store = try app.reviewStore()
            guard try await db({ try await store.reviewCase(id: id) }) != nil else { throw AppError.notFound("Review case") }
            // Opening a case is part of its audit trail.
            try await db { try await store.addReviewEvent(ReviewEvent(caseID: id, actorID: me.user.id, actor: Self.actor(me), kind: .viewed,
                                                                      createdAt: app.safeguards.clock.now()), newStatus: nil) }
            return try await app.caseResponse(id, store)
        }
        add(.post, "/api/admin/wellbeing/cases/:id/events") { request, context in
            let me = try Self.me(context)
            guard me.isAdmin else { throw AppError.notAdmin }
            let id = try Self.id(context)
            let b = try await app.body(request, limit: 16 << 10)
            let status = try Self.caseStatus(try b.string("status", maxLength: 20))
            let note = try b.string("note", maxLength: 4000)?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard status != nil || note?.isEmpty == false else {
                throw AppError.badRequest("Send 'status' (open, in_review, closed), a 'note', or both.")
            }
            let store = try app.reviewStore()
            let now = app.safeguards.clock.now()
            if let status {
                try await db { try await store.addReviewEvent(ReviewEvent(caseID: id, actorID: me.user.id, actor: Self.actor(me), kind: .status,
                                                                          detail: status.rawValue, createdAt: now), newStatus: status) }
            }
            if let note, !note.isEmpty {
                try await db { try await store.addReviewEvent(ReviewEvent(caseID: id, actorID: me.user.id, actor: Self.actor(me), kind: .note,
                                                                          detail: note, createdAt: now), newStatus: nil) }
            }
            return try await app.caseResponse(id, store)
        }
        add(.get, "/api/admin/wellbeing/policy") { _, context in
            guard try Self.me(context).isAdmin else { throw AppError.notAdmin }
            let policies = app.safeguards.policies
            let policy = policies.policy
            return AppJSON.response(.obj([
                ("source", .string(policies.url?.path ?? "built-in")), ("last_error", .str(policies.lastError)),
                ("retention_days", .int(policy.retentionDays)), ("human_review_min_severity", .int(policy.humanReviewMinSeverity)),
                ("webhook", .bool(policy.humanReview.webhookURL != nil)),
            ]))
        }
    }

    func reviewStore() throws -> any WellbeingStore {
        guard let store = safeguards.store else {
            throw AppError(.serviceUnavailable, "unavailable", "This store keeps no wellbeing records.")
        }
        return store
    }

    func caseResponse(_ id: RecordID, _ store: any WellbeingStore) async throws -> Response {
        guard let c = try await db({ try await store.reviewCase(id: id) }) else { throw AppError.notFound("Review case") }
        let events = try await db { try await store.reviewEvents(caseID: id) }
        return AppJSON.response(.obj([("case", WellbeingJSON.reviewCase(c)), ("events", .array(events.map(WellbeingJSON.event)))]))
    }

    /// How an administrator appears in the audit trail.
    static func actor(_ me: Identity) -> String { me.user.email.isEmpty ? me.user.displayName : me.user.email }

    /// `?tz=Area/City` (the browser's IANA zone), which says what "late night" means for this user; the server's own
    /// zone when absent.
    static func timeZone(_ request: Request) throws -> TimeZone {
        guard let name = queryValue(request, "tz"), !name.isEmpty else { return .current }
        guard name.count <= 64, let zone = TimeZone(identifier: name) else {
            throw AppError.badRequest("'tz' must be an IANA time zone such as Europe/London.")
        }
        return zone
    }

    static func caseStatus(_ raw: String?) throws -> ReviewCaseStatus? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let status = ReviewCaseStatus(rawValue: raw) else {
            throw AppError.badRequest("'status' must be one of: \(ReviewCaseStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return status
    }
}

/// The wellbeing records as the API shows them (snake_case, like the rest of `/api`).
enum WellbeingJSON {
    static func record(_ r: WellbeingRecord) -> TemplateValue {
        .obj([("id", .string(r.id)), ("conversation_id", .str(r.conversationID)), ("category", .string(r.category)),
              ("severity", .int(r.severity)), ("action", .string(r.action)), ("created_at", .time(r.createdAt))])
    }

    static func reviewCase(_ c: ReviewCase) -> TemplateValue {
        .obj([("id", .string(c.id)), ("status", .string(c.status.rawValue)), ("created_at", .time(c.createdAt)),
              ("updated_at", .time(c.updatedAt)),
              ("user", .obj([("id", .string(c.record.userID)), ("email", .string(c.userEmail))])),
              ("record", record(c.record))])
    }

    static func event(_ e: ReviewEvent) -> TemplateValue {
        .obj([("event", .string(e.kind.rawValue)), ("actor", .string(e.actor)), ("actor_id", .str(e.actorID)),
              ("detail", .str(e.detail)), ("created_at", .time(e.createdAt))])
    }

    static func usage(_ s: UsageSignals, limits: WellbeingPolicy.Reliance) -> TemplateValue {
        .obj([("window_days", .int(s.windowDays)), ("sessions", .int(s.sessions)),
              ("hours_per_day", .double((s.pattern.hoursPerDay * 10_000).rounded() / 10_000)),  // a minute a day is 0.0167
              ("late_night_share", .double((s.pattern.lateNightShare * 100).rounded() / 100)),
              ("exclusivity_mentions", .int(s.pattern.exclusivityMentions)),
              ("limits", .obj([("hours_per_day", .double(limits.hoursPerDay)), ("late_night_share", .double(limits.lateNightShare)),
                               ("exclusivity_mentions", .int(limits.exclusivityMentions))])),
              ("signals", .obj([("heavy_daily_use", .bool(s.heavyDailyUse)), ("mostly_late_night", .bool(s.mostlyLateNight)),
                                ("exclusivity_across_sessions", .bool(s.exclusivityAcrossSessions))]))])
    }

    static func reminder(_ r: BreakReminder) -> TemplateValue {
        .obj([("reason", .string(r.reason.rawValue)), ("session_minutes", .int(Int(r.sessionMinutes.rounded()))),
              ("late_night_minutes", .int(Int(r.lateNightMinutes.rounded())))])
    }
}
