import Foundation
import ParleyTokenizer

/// The compute-credits paths of the OpenAPI document (CreditsRoutes.swift), merged into `OpenAPIDocument.paths`.
enum CreditsOpenAPI {
    private static func obj(_ pairs: [(String, TemplateValue)]) -> TemplateValue { .obj(pairs) }
    private static let string: TemplateValue = obj([("type", "string")])
    private static let number: TemplateValue = obj([("type", "number"), ("description", "Credits (decimal).")])
    private static let nullableNumber: TemplateValue = obj([("type", .array(["number", "null"]))])
    private static let time: TemplateValue = obj([("type", "string"), ("format", "date-time")])
    private static func ref(_ name: String) -> TemplateValue { obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    private static func array(_ item: TemplateValue) -> TemplateValue { obj([("type", "array"), ("items", item)]) }
    private static func enumeration(_ values: [String]) -> TemplateValue { obj([("type", "string"), ("enum", .array(values.map { .string($0) }))]) }

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map { .string($0) }))) }
        return obj(pairs)
    }

    private static func content(_ schema: TemplateValue) -> TemplateValue { obj([("application/json", obj([("schema", schema)]))]) }

    private static func errorRef(_ name: String) -> TemplateValue { obj([("$ref", .string("#/components/responses/\(name)"))]) }

    private static func op(_ summary: String, id: Bool = false, query: [(String, String)] = [], body: TemplateValue? = nil,
                           status: String = "200", reply: TemplateValue, extra: [(String, TemplateValue)] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", ["credits"])]
        var parameters: [TemplateValue] = []
        if id {
            parameters.append(obj([("name", "id"), ("in", "path"), ("required", true), ("description", "The record's id."), ("schema", string)]))
        }
        for (name, description) in query {
            parameters.append(obj([("name", .string(name)), ("in", "query"), ("required", false), ("description", .string(description)),
                                   ("schema", string)]))
        }
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", obj([("required", true), ("content", content(body))]))) }
        let responses: [(String, TemplateValue)] = [(status, obj([("description", "OK"), ("content", content(reply))]))]
            + [("400", errorRef("BadRequest")), ("401", errorRef("Unauthorized")), ("403", errorRef("Forbidden")),
               ("404", errorRef("NotFound"))] + extra
        pairs.append(("responses", obj(responses)))
        return obj(pairs)
    }

    static let balance = object([("granted", number), ("used", number), ("remaining", number), ("held", number), ("expired", number)],
                                required: ["granted", "used", "remaining"])
    static let project = object([("id", string), ("name", string), ("research_area_id", string), ("lead_id", string),
                                 ("period_end_policy", enumeration(["expire", "rollover"])), ("created_at", time)], required: ["id"])
    static let request = object([("id", string), ("project_id", string), ("kind", enumeration(["initial", "supplement", "renewal"])),
                                 ("status", enumeration(["pending", "approved", "partial", "denied"])), ("amount", number),
                                 ("granted", nullableNumber), ("period_start", time), ("period_end", time), ("justification", string),
                                 ("expected_outcome", string), ("reason", obj([("type", .array(["string", "null"]))])),
                                 ("waited_seconds", obj([("type", "number")]))], required: ["id", "status"])
    static let area = object([("id", string), ("name", string), ("reviewers", array(string)), ("created_at", time)], required: ["id"])
    static let price = object([("id", string), ("unit", string), ("model", string), ("credits", number), ("effective_from", time)])
    static let reportRow = object([("research_area", string), ("requested", number), ("granted", number),
                                   ("approval_rate", nullableNumber), ("used", number), ("requests", obj([("type", "integer")])),
                                   ("median_hours_to_decision", nullableNumber), ("requested_share", obj([("type", "number")])),
                                   ("granted_share", obj([("type", "number")])), ("underfunded", obj([("type", "boolean")])),
                                   ("top_projects", array(object([("name", string), ("used", number)])))],
                                  required: ["research_area", "requested", "granted", "approval_rate", "used"])
    static let conflict: [(String, TemplateValue)] = [("409", errorRef("Conflict"))]

    static let paths: [(String, TemplateValue)] = [
        ("/api/research-areas", obj([
            ("get", op("Research areas and their reviewers", reply: object([("research_areas", array(area))]))),
            ("post", op("Add a research area (admin)", body: object([("name", string)], required: ["name"]), status: "201",
                        reply: area, extra: conflict)),
        ])),
        ("/api/research-areas/{id}/reviewers", obj([
            ("post", op("Name a reviewer of the area (admin); `user` is a user id or sign-in name", id: true,
                        body: object([("user", string)], required: ["user"]), status: "201",
                        reply: object([("research_area_id", string), ("user_id", string)]))),
        ])),
        ("/api/projects", obj([
            ("get", op("Projects you belong to or review (all for admins), with balances", reply: object([("projects", array(project))]))),
            ("post", op("Open a project in an area; you become its lead", body: object([
                ("name", string), ("research_area_id", string), ("period_end_policy", enumeration(["expire", "rollover"])),
            ], required: ["name", "research_area_id"]), status: "201", reply: project, extra: conflict)),
        ])),
        ("/api/projects/{id}", obj([
            ("get", op("A project with its members, balance and requests", id: true, reply: project)),
        ])),
        ("/api/projects/{id}/members", obj([
            ("post", op("Add a member (lead or admin); `user` is a user id or sign-in name", id: true,
                        body: object([("user", string), ("role", enumeration(["lead", "member"]))], required: ["user"]),
                        status: "201", reply: object([("project_id", string), ("user_id", string), ("role", string)]))),
        ])),
        ("/api/projects/{id}/balance", obj([
            ("get", op("The project's balance, derived from its ledger", id: true, reply: balance)),
        ])),
        ("/api/projects/{id}/alerts", obj([
            ("get", op("Usage alerts (80 % and 100 % of the granted credits)", id: true,
                       reply: object([("alerts", array(object([("threshold", obj([("type", "integer")])), ("message", string)])))]))),
        ])),
        ("/api/projects/{id}/credit-requests", obj([
            ("post", op("Request credits (the project's lead)", id: true, body: object([
                ("amount", number), ("justification", string), ("expected_outcome", string),
                ("kind", enumeration(["initial", "supplement", "renewal"])), ("period_start", time), ("period_end", time),
            ], required: ["amount", "justification"]), status: "201", reply: request)),
        ])),
        ("/api/credit-requests", obj([
            ("get", op("Requests you may see; `scope=review` lists those waiting for your decision",
                       query: [("scope", "`review` for your review queue")], reply: object([("credit_requests", array(request))]))),
        ])),
        ("/api/credit-requests/{id}", obj([
            ("get", op("A request with its audit trail (who, when, why)", id: true, reply: request)),
        ])),
        ("/api/credit-requests/{id}/decision", obj([
            ("post", op("Decide (reviewers of the area and admins, never on their own project): approve in full, grant part "
                        + "(`amount`) or deny; a `reason` is required unless approved in full (400)", id: true, body: object([
                ("decision", enumeration(["approve", "partial", "deny"])), ("amount", number), ("reason", string),
            ], required: ["decision"]), reply: request, extra: conflict)),
        ])),
        ("/api/credit-requests/{id}/appeal", obj([
            ("post", op("Appeal a denial (the lead): pending again, for a different reviewer", id: true,
                        body: object([("reason", string)], required: ["reason"]), reply: request, extra: conflict)),
        ])),
        ("/api/credits/prices", obj([
            ("get", op("Prices in force, their history and the defaults", reply: object([("current", array(price)), ("history", array(price))]))),
            ("post", op("Set a price from a time on (admin)", body: object([
                ("unit", enumeration(["prompt_1k_tokens", "completion_1k_tokens", "cpu_second", "gb_month"])), ("model", string),
                ("credits", number), ("effective_from", time),
            ], required: ["unit", "credits"]), status: "201", reply: price)),
        ])),
        ("/api/credits/close-periods", obj([
            ("post", op("Expire the unused credits of ended periods (admin)", reply: object([("expired", obj([("type", "object")]))]))),
        ])),
        ("/api/credits/report", obj([
            ("get", op("The portfolio by research area: requested vs granted, approval rate, median time to decision, usage, "
                       + "top projects and a fairness flag; `format=csv` for CSV",
                       query: [("from", "ISO 8601 start (default: the beginning)"), ("to", "ISO 8601 end, exclusive (default: now)"),
                               ("format", "`csv` for a CSV download")],
                       reply: object([("rows", array(reportRow))], required: ["rows"]))),
        ])),
        ("/api/credits/settings", obj([
            ("get", op("Credits settings (admin)", reply: object([("alert_webhook_url", obj([("type", .array(["string", "null"]))]))]))),
            ("put", op("Set the alert webhook (admin)", body: object([("alert_webhook_url", string)]),
                       reply: object([("alert_webhook_url", obj([("type", .array(["string", "null"]))]))]))),
        ])),
    ]
}
