import Foundation
import ParleyTokenizer

/// The memory part of the `/api` OpenAPI document (docs/app-api.md, "Memory"), spliced into `OpenAPIDocument`.
enum MemoryOpenAPI {
    private static func ref(_ name: String) -> TemplateValue { .obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    private static func arrayOf(_ item: TemplateValue) -> TemplateValue { .obj([("type", "array"), ("items", item)]) }
    private static func type(_ name: String) -> TemplateValue { .obj([("type", .string(name))]) }
    private static let time: TemplateValue = .obj([("type", "string"), ("format", "date-time")])

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", .obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map(TemplateValue.string)))) }
        return .obj(pairs)
    }

    private static func op(_ summary: String, parameters: [TemplateValue] = [], body: TemplateValue? = nil,
                           ok: (String, String, TemplateValue?)) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", .array(["memory"]))]
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", .obj([("required", true), ("content", .obj([("application/json", .obj([("schema", body)]))]))]))) }
        var success: [(String, TemplateValue)] = [("description", .string(ok.1))]
        if let schema = ok.2 { success.append(("content", .obj([("application/json", .obj([("schema", schema)]))]))) }
        var responses: [(String, TemplateValue)] = [(ok.0, .obj(success))]
        for (code, name) in [("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound")] {
            responses.append((code, .obj([("$ref", .string("#/components/responses/\(name)"))])))
        }
        responses.append(("503", .obj([("description", "No embedding model is loaded (serve --embedding-model)")])))
        pairs.append(("responses", .obj(responses)))
        return .obj(pairs)
    }

    private static let id: TemplateValue = .obj([("name", "id"), ("in", "path"), ("required", true),
                                                ("description", "The memory's id."), ("schema", type("string"))])
    private static let q: TemplateValue = .obj([("name", "q"), ("in", "query"), ("required", false),
                                               ("description", "Search (the hybrid retrieval chat uses), best first"), ("schema", type("string"))])
    private static let settings = object([("available", type("boolean")), ("auto_memory", type("boolean"))], required: ["available", "auto_memory"])

    static let paths: [(String, TemplateValue)] = [
        ("/api/memories", .obj([
            ("get", op("The user's saved memories, newest first, or those matching q", parameters: [q],
                       ok: ("200", "Memories", object([("available", type("boolean")), ("memories", arrayOf(ref("Memory")))])))),
            ("post", op("Save a memory", body: object([("text", type("string"))], required: ["text"]),
                        ok: ("201", "The memory", ref("Memory")))),
        ])),
        ("/api/memories/{id}", .obj([
            ("patch", op("Edit a memory's text (it is embedded again)", parameters: [id],
                         body: object([("text", type("string"))], required: ["text"]), ok: ("200", "The memory", ref("Memory")))),
            ("delete", op("Delete a memory", parameters: [id], ok: ("204", "Deleted", nil))),
        ])),
        ("/api/memory/settings", .obj([
            ("get", op("Whether memory is available and auto-memory is on", ok: ("200", "Settings", settings))),
            ("put", op("Turn auto-memory on or off", body: object([("auto_memory", type("boolean"))], required: ["auto_memory"]),
                       ok: ("200", "Settings", settings))),
        ])),
        ("/api/account", .obj([
            ("delete", op("Delete the account and everything of it: conversations, memories, the history index and all vectors, keys, records. A browser session confirms with the password.",
                          body: object([("password", type("string"))]), ok: ("204", "Deleted; the session cookie is cleared", nil))),
        ])),
    ]

    static let schemas: [(String, TemplateValue)] = [
        ("Memory", object([("id", type("string")), ("text", type("string")), ("created_at", time), ("updated_at", time),
                           ("score", type("number"))], required: ["id", "text", "created_at", "updated_at"])),
    ]
}
