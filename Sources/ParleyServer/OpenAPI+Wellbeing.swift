import Foundation
import ParleyTokenizer

/// The wellbeing part of the `/api` OpenAPI document (docs/app-api.md, "Wellbeing"), spliced into
/// `OpenAPIDocument`'s paths and schemas.
enum WellbeingOpenAPI {
    private static func ref(_ name: String) -> TemplateValue { .obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    private static func arrayOf(_ item: TemplateValue) -> TemplateValue { .obj([("type", "array"), ("items", item)]) }
    private static func type(_ name: String) -> TemplateValue { .obj([("type", .string(name))]) }
    private static func nullable(_ schema: TemplateValue) -> TemplateValue { .obj([("oneOf", .array([schema, .obj([("type", "null")])]))]) }
    private static let time: TemplateValue = .obj([("type", "string"), ("format", "date-time")])
    private static func enumOf(_ values: [String]) -> TemplateValue { .obj([("type", "string"), ("enum", .array(values.map(TemplateValue.string)))]) }

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", .obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map(TemplateValue.string)))) }
        return .obj(pairs)
    }

    private static func op(_ summary: String, parameters: [TemplateValue] = [], body: TemplateValue? = nil,
                           ok: (String, TemplateValue)) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", .array(["wellbeing"]))]
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", .obj([("required", true), ("content", .obj([("application/json", .obj([("schema", body)]))]))]))) }
        var responses: [(String, TemplateValue)] = [
            ("200", .obj([("description", .string(ok.0)), ("content", .obj([("application/json", .obj([("schema", ok.1)]))]))])),
        ]
        for (code, name) in [("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound")] {
            responses.append((code, .obj([("$ref", .string("#/components/responses/\(name)"))])))
        }
        pairs.append(("responses", .obj(responses)))
        return .obj(pairs)
    }

    private static func query(_ name: String, _ schema: TemplateValue, _ description: String) -> TemplateValue {
        .obj([("name", .string(name)), ("in", "query"), ("required", false), ("description", .string(description)), ("schema", schema)])
    }

    private static let tz = query("tz", type("string"), "The user's IANA time zone (what 'late night' means for them); default: the server's.")
    private static let caseID: TemplateValue = .obj([("name", "id"), ("in", "path"), ("required", true),
                                                    ("description", "The review case's id."), ("schema", type("string"))])
    private static let caseStatus = enumOf(["open", "in_review", "closed"])

    static let paths: [(String, TemplateValue)] = [
        ("/api/wellbeing/usage", .obj([
            ("get", op("The user's usage signals for reliance over the last 7 days, with the policy's limits", parameters: [tz],
                       ok: ("Usage signals", ref("WellbeingUsage")))),
        ])),
        ("/api/wellbeing/records", .obj([
            ("get", op("The user's stored assessments (no text) and how long they are kept",
                       ok: ("Records", object([("records", arrayOf(ref("WellbeingRecord"))), ("retention_days", type("integer"))])))),
            ("delete", op("Delete all the user's assessment records (and review cases made from them)",
                          ok: ("How many were deleted", object([("deleted", type("integer"))])))),
        ])),
        ("/api/wellbeing/break-reminder", .obj([
            ("get", op("Whether to suggest a break now (the server decides from the policy's thresholds)", parameters: [tz],
                       ok: ("The reminder, or null", object([("reminder", nullable(ref("BreakReminder")))], required: ["reminder"])))),
            ("post", op("Dismiss the reminder (none again for the policy's repeat interval) or snooze it",
                        body: object([("action", enumOf(["dismiss", "snooze"])),
                                      ("minutes", .obj([("type", "number"), ("minimum", 1), ("maximum", 1440),
                                                        ("description", "Snooze length; default 30.")]))], required: ["action"]),
                        ok: ("Until when reminders are snoozed", object([("snoozed_until", nullable(time))])))),
        ])),
        ("/api/admin/wellbeing/cases", .obj([
            ("get", op("The human-review queue (administrators), newest first",
                       parameters: [query("status", caseStatus, "Only cases with this status."),
                                    query("limit", .obj([("type", "integer"), ("minimum", 1), ("maximum", 500)]), "At most this many (default 100).")],
                       ok: ("Cases", object([("cases", arrayOf(ref("ReviewCase")))])))),
        ])),
        ("/api/admin/wellbeing/cases/{id}", .obj([
            ("get", op("One case with its audit trail; the view itself is recorded in the trail", parameters: [caseID],
                       ok: ("The case", ref("ReviewCaseDetail")))),
        ])),
        ("/api/admin/wellbeing/cases/{id}/events", .obj([
            ("post", op("Act on a case: change its status, add a note, or both (each recorded with who and when)", parameters: [caseID],
                        body: object([("status", caseStatus), ("note", .obj([("type", "string"), ("maxLength", 4000)]))]),
                        ok: ("The case", ref("ReviewCaseDetail")))),
        ])),
        ("/api/admin/wellbeing/policy", .obj([
            ("get", op("The wellbeing policy in force: its file and why the last reload was rejected, if it was",
                       ok: ("Policy status", object([("source", type("string")), ("last_error", nullable(type("string"))),
                                                     ("retention_days", type("integer")), ("human_review_min_severity", type("integer")),
                                                     ("webhook", type("boolean"))])))),
        ])),
    ]

    static let schemas: [(String, TemplateValue)] = [
        ("WellbeingRecord", object([("id", type("string")), ("conversation_id", nullable(type("string"))),
                                    ("category", type("string")), ("severity", .obj([("type", "integer"), ("minimum", 0), ("maximum", 3)])),
                                    ("action", type("string")), ("created_at", time)],
                                   required: ["id", "conversation_id", "category", "severity", "action", "created_at"])),
        ("WellbeingUsage", object([
            ("window_days", type("integer")), ("sessions", type("integer")), ("hours_per_day", type("number")),
            ("late_night_share", type("number")), ("exclusivity_mentions", type("integer")),
            ("limits", object([("hours_per_day", type("number")), ("late_night_share", type("number")), ("exclusivity_mentions", type("integer"))])),
            ("signals", object([("heavy_daily_use", type("boolean")), ("mostly_late_night", type("boolean")),
                                ("exclusivity_across_sessions", type("boolean"))])),
        ])),
        ("BreakReminder", object([("reason", enumOf(["long_session", "late_night"])), ("session_minutes", type("integer")),
                                  ("late_night_minutes", type("integer"))], required: ["reason", "session_minutes", "late_night_minutes"])),
        ("ReviewCase", object([("id", type("string")), ("status", caseStatus), ("created_at", time), ("updated_at", time),
                               ("user", object([("id", type("string")), ("email", type("string"))])), ("record", ref("WellbeingRecord"))],
                              required: ["id", "status", "created_at", "updated_at", "user", "record"])),
        ("ReviewEvent", object([("event", enumOf(["opened", "viewed", "status", "note", "webhook_delivered", "webhook_failed"])),
                                ("actor", type("string")), ("actor_id", nullable(type("string"))), ("detail", nullable(type("string"))),
                                ("created_at", time)], required: ["event", "actor", "created_at"])),
        ("ReviewCaseDetail", object([("case", ref("ReviewCase")), ("events", arrayOf(ref("ReviewEvent")))], required: ["case", "events"])),
    ]
}
