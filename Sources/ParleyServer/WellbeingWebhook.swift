import Foundation
import ParleyStore
import ParleyTokenizer

/// The operator webhook of the human-review queue: one POST of JSON per new case, carrying the case's names,
/// numbers and ids, never any message text. Runs off the reply's path: a slow or failing endpoint is logged
/// and written to the case's audit trail, and never delays or breaks the reply.
enum WellbeingWebhook {
    static let timeout: TimeInterval = 5

    /// The body sent for a new case.
    static func payload(_ c: ReviewCase) -> TemplateValue {
        .obj([("event", .string("wellbeing.review_case.opened")), ("case_id", .string(c.id)),
              ("user_id", .string(c.record.userID)), ("conversation_id", .str(c.record.conversationID)),
              ("category", .string(c.record.category)), ("severity", .int(c.record.severity)),
              ("action", .string(c.record.action)), ("created_at", .time(c.createdAt))])
    }

    /// Posts `payload(c)` to `url`; nil on a 2xx answer, else why it failed.
    static func deliver(_ c: ReviewCase, to url: URL) async -> String? {
        await WebhookPoster.post(url: url, json: payload(c).jsonString(), userAgent: "parley-wellbeing", timeout: timeout)
    }
}
