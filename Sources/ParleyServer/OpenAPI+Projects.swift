import Foundation
import ParleyTokenizer

/// The projects part of the `/api` OpenAPI document (docs/app-api.md, "Projects").
enum ProjectOpenAPI {
    private static func ref(_ name: String) -> TemplateValue { .obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    private static func arrayOf(_ item: TemplateValue) -> TemplateValue { .obj([("type", "array"), ("items", item)]) }
    private static func type(_ name: String) -> TemplateValue { .obj([("type", .string(name))]) }
    private static let time: TemplateValue = .obj([("type", "string"), ("format", "date-time")])

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", .obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map(TemplateValue.string)))) }
        return .obj(pairs)
    }

    private static func op(_ summary: String, parameters: [TemplateValue] = [], body: TemplateValue? = nil, rawBody: Bool = false,
                           ok: (String, String, TemplateValue?)) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", .array(["projects"]))]
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", .obj([("required", true), ("content", .obj([("application/json", .obj([("schema", body)]))]))]))) }
        if rawBody {
            let binary: TemplateValue = .obj([("schema", .obj([("type", "string"), ("format", "binary")]))])
            pairs.append(("requestBody", .obj([("required", true), ("content", .obj([("text/plain", binary), ("text/markdown", binary),
                                                                                     ("application/pdf", binary)]))])))
        }
        var success: [(String, TemplateValue)] = [("description", .string(ok.1))]
        if let schema = ok.2 { success.append(("content", .obj([("application/json", .obj([("schema", schema)]))]))) }
        var responses: [(String, TemplateValue)] = [(ok.0, .obj(success))]
        for (code, name) in [("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound")] {
            responses.append((code, .obj([("$ref", .string("#/components/responses/\(name)"))])))
        }
        pairs.append(("responses", .obj(responses)))
        return .obj(pairs)
    }

    private static func path(_ name: String, _ description: String) -> TemplateValue {
        .obj([("name", .string(name)), ("in", "path"), ("required", true), ("description", .string(description)), ("schema", type("string"))])
    }

    private static let id = path("id", "The project's id.")
    private static let fileID = path("file_id", "The file's id.")
    private static let fileName: TemplateValue = .obj([("name", "name"), ("in", "query"), ("required", true),
                                                       ("description", "The file's name (.txt, .md or .pdf)"), ("schema", type("string"))])
    private static let edit = object([("name", type("string")), ("instructions", type("string"))])

    static let paths: [(String, TemplateValue)] = [
        ("/api/chat-projects", .obj([
            ("get", op("The user's projects, most recently updated first",
                       ok: ("200", "Projects", object([("projects", arrayOf(ref("ChatProject")))])))),
            ("post", op("Create a project", body: edit, ok: ("201", "The project", ref("ChatProject")))),
        ])),
        ("/api/chat-projects/{id}", .obj([
            ("get", op("A project with its files and the ids of its conversations", parameters: [id],
                       ok: ("200", "The project", object([("project", ref("ChatProject")), ("files", arrayOf(ref("ChatProjectFile"))),
                                                          ("conversation_ids", arrayOf(type("string")))])))),
            ("patch", op("Rename or re-instruct a project", parameters: [id], body: edit, ok: ("200", "The project", ref("ChatProject")))),
            ("delete", op("Delete a project, its files and their index (its conversations stay)", parameters: [id], ok: ("204", "Deleted", nil))),
        ])),
        ("/api/chat-projects/{id}/files", .obj([
            ("post", op("Add a file (the raw bytes as the body): text, Markdown or PDF; its text is extracted, chunked and indexed",
                        parameters: [id, fileName], rawBody: true, ok: ("201", "The file", ref("ChatProjectFile")))),
        ])),
        ("/api/chat-projects/{id}/files/{file_id}", .obj([
            ("delete", op("Delete a file and its index", parameters: [id, fileID], ok: ("204", "Deleted", nil))),
        ])),
    ]

    static let schemas: [(String, TemplateValue)] = [
        ("ChatProject", object([("id", type("string")), ("name", type("string")), ("instructions", type("string")),
                            ("created_at", time), ("updated_at", time)], required: ["id", "name", "instructions", "created_at", "updated_at"])),
        ("ChatProjectFile", object([("id", type("string")), ("project_id", type("string")), ("name", type("string")),
                                ("media_type", type("string")), ("size", type("integer")), ("chunks", type("integer")), ("created_at", time)],
                               required: ["id", "project_id", "name", "media_type", "size", "chunks", "created_at"])),
    ]
}
