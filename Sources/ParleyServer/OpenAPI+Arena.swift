import Foundation
import ParleyTokenizer

/// The arena and provider paths of the OpenAPI document (ArenaRoutes.swift, Providers.swift).
enum ArenaOpenAPI {
    private static func obj(_ pairs: [(String, TemplateValue)]) -> TemplateValue { .obj(pairs) }
    private static let string: TemplateValue = obj([("type", "string")])
    private static let nullableString: TemplateValue = obj([("type", .array(["string", "null"]))])
    private static let number: TemplateValue = obj([("type", "number")])
    private static let integer: TemplateValue = obj([("type", "integer")])
    private static let time: TemplateValue = obj([("type", "string"), ("format", "date-time")])
    private static func array(_ item: TemplateValue) -> TemplateValue { obj([("type", "array"), ("items", item)]) }
    private static func enumeration(_ values: [String]) -> TemplateValue { obj([("type", "string"), ("enum", .array(values.map { .string($0) }))]) }

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map { .string($0) }))) }
        return obj(pairs)
    }

    private static func errorRef(_ name: String) -> TemplateValue { obj([("$ref", .string("#/components/responses/\(name)"))]) }

    private static func op(_ summary: String, tag: String, id: Bool = false, body: TemplateValue? = nil, status: String = "200",
                           reply: TemplateValue?, contentType: String = "application/json") -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", .array([.string(tag)]))]
        if id {
            pairs.append(("parameters", .array([obj([("name", "id"), ("in", "path"), ("required", true),
                                                     ("description", "The record's id."), ("schema", string)])])))
        }
        if let body {
            pairs.append(("requestBody", obj([("required", true), ("content", obj([("application/json", obj([("schema", body)]))]))])))
        }
        let ok: TemplateValue = reply.map { obj([("description", "OK"), ("content", obj([(contentType, obj([("schema", $0)]))]))]) }
            ?? obj([("description", "No content")])
        pairs.append(("responses", obj([(status, ok), ("400", errorRef("BadRequest")), ("401", errorRef("Unauthorized")),
                                        ("403", errorRef("Forbidden")), ("404", errorRef("NotFound"))])))
        return obj(pairs)
    }

    static let battle = object([("id", string), ("prompt", string), ("answer_a", string), ("answer_b", string),
                                ("winner", obj([("type", .array(["string", "null"])), ("enum", .array(["a", "b", "tie", "both_bad", TemplateValue.none]))])),
                                ("model_a", nullableString), ("model_b", nullableString), ("created_at", time),
                                ("voted_at", obj([("type", .array(["string", "null"])), ("format", "date-time")]))],
                               required: ["id", "winner", "model_a", "model_b"])
    static let provider = object([("id", string), ("name", string), ("models", array(string)), ("base_url", string),
                                  ("has_key", obj([("type", "boolean")])), ("created_at", time)], required: ["id", "name", "models"])
    static let rating = object([("model", string), ("rating", number), ("low", number), ("high", number), ("battles", integer),
                                ("wins", integer), ("losses", integer), ("ties", integer)], required: ["model", "rating", "low", "high"])
    static let evalResult = object([("model", string), ("task", string), ("metric", string), ("value", number), ("n", integer),
                                    ("method", nullableString), ("created_at", time)])
    static let evalInput = object([("task", string), ("metric", string), ("value", number), ("n", integer), ("method", string)],
                                  required: ["task", "metric", "value"])

    static let paths: [(String, TemplateValue)] = [
        ("/api/arena/models", obj([
            ("get", op("How many models the arena can pick from (names stay hidden)", tag: "arena", reply: object([("count", integer)]))),
        ])),
        ("/api/arena/battles", obj([
            ("post", op("Start a blind battle: two models answer the prompt; an event stream of `battle` {id, prompt}, `delta` {side, text}, `end` {side[, error]} and `done` {id}",
                        tag: "arena", body: object([("prompt", string), ("model_a", string), ("model_b", string)], required: ["prompt"]),
                        reply: string, contentType: "text/event-stream")),
        ])),
        ("/api/arena/battles/{id}", obj([
            ("get", op("A battle of the user's; the models are named only once it is voted on", tag: "arena", id: true, reply: battle)),
        ])),
        ("/api/arena/battles/{id}/vote", obj([
            ("post", op("Vote once (a, b, tie or both_bad) after both answers ended; answers with the battle, models revealed (409 when already voted)",
                        tag: "arena", id: true, body: object([("winner", enumeration(["a", "b", "tie", "both_bad"]))], required: ["winner"]),
                        reply: battle)),
        ])),
        ("/api/arena/leaderboard", obj([
            ("get", op("Bradley–Terry ratings of every vote with 95 % bootstrap intervals, and benchmark results", tag: "arena",
                       reply: object([("method", string), ("votes", integer), ("ratings", array(rating)), ("eval_results", array(evalResult))]))),
        ])),
        ("/api/arena/eval-results", obj([
            ("post", op("Admins: add benchmark figures for a model (the JSON of `parley eval run --json`, one or under 'results')",
                        tag: "arena", body: object([("model", string), ("task", string), ("metric", string), ("value", number), ("n", integer),
                                                    ("results", array(evalInput))], required: ["model"]),
                        status: "201", reply: object([("saved", integer)]))),
        ])),
        ("/api/providers", obj([
            ("get", op("Configured OpenAI-compatible providers and their model ids (`PROVIDER/MODEL`); admins also see the base URL and whether a key is set — never the key",
                       tag: "providers", reply: object([("providers", array(provider))]))),
            ("post", op("Admins: configure a provider; the key is sealed with AES-GCM under the server's key file and never returned",
                        tag: "providers", body: object([("name", string), ("base_url", string), ("models", array(string)), ("api_key", string)],
                                                       required: ["name", "base_url", "models"]),
                        status: "201", reply: provider)),
        ])),
        ("/api/providers/{id}", obj([
            ("delete", op("Admins: remove a provider", tag: "providers", id: true, status: "204", reply: nil)),
        ])),
    ]
}
