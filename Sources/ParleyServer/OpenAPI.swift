import Foundation
import ParleyTokenizer

/// The OpenAPI 3.1 description of `/api` (docs/app-api.md), served at `/api/openapi.json`. Written by hand;
/// a test checks that every registered `/api` route is in it.
enum OpenAPIDocument {
    static let json: String = document.jsonString(indent: 2)

    // MARK: Building blocks

    private static func ref(_ name: String) -> TemplateValue { .obj([("$ref", .string("#/components/schemas/\(name)"))]) }
    private static func arrayOf(_ item: TemplateValue) -> TemplateValue { .obj([("type", "array"), ("items", item)]) }
    private static func nullable(_ type: String, _ extra: [(String, TemplateValue)] = []) -> TemplateValue {
        .obj([("type", .array([.string(type), "null"]))] + extra)
    }
    private static let string: TemplateValue = .obj([("type", "string")])
    private static let time: TemplateValue = .obj([("type", "string"), ("format", "date-time")])
    private static let nullableTime: TemplateValue = nullable("string", [("format", "date-time")])

    private static func object(_ properties: [(String, TemplateValue)], required: [String] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("type", "object"), ("properties", .obj(properties))]
        if !required.isEmpty { pairs.append(("required", .array(required.map(TemplateValue.string)))) }
        return .obj(pairs)
    }

    private static func jsonContent(_ schema: TemplateValue) -> TemplateValue {
        .obj([("application/json", .obj([("schema", schema)]))])
    }

    private static func reply(_ description: String, _ schema: TemplateValue? = nil, headers: [(String, TemplateValue)] = []) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("description", .string(description))]
        if let schema { pairs.append(("content", jsonContent(schema))) }
        if !headers.isEmpty { pairs.append(("headers", .obj(headers))) }
        return .obj(pairs)
    }

    private static let errors: [(String, TemplateValue)] = [
        ("400", .obj([("$ref", "#/components/responses/BadRequest")])),
        ("401", .obj([("$ref", "#/components/responses/Unauthorized")])),
        ("403", .obj([("$ref", "#/components/responses/Forbidden")])),
        ("404", .obj([("$ref", "#/components/responses/NotFound")])),
    ]

    private static func op(_ summary: String, tag: String, parameters: [TemplateValue] = [], body: TemplateValue? = nil,
                           responses: [(String, TemplateValue)], open: Bool = false) -> TemplateValue {
        var pairs: [(String, TemplateValue)] = [("summary", .string(summary)), ("tags", .array([.string(tag)]))]
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body { pairs.append(("requestBody", .obj([("required", true), ("content", jsonContent(body))]))) }
        pairs.append(("responses", .obj(responses + errors.filter { code, _ in !responses.contains { $0.0 == code } })))
        if open { pairs.append(("security", .array([]))) }
        return .obj(pairs)
    }

    private static func pathParameter(_ name: String, _ description: String) -> TemplateValue {
        .obj([("name", .string(name)), ("in", "path"), ("required", true), ("description", .string(description)),
              ("schema", string)])
    }

    private static func queryParameter(_ name: String, _ schema: TemplateValue, _ description: String) -> TemplateValue {
        .obj([("name", .string(name)), ("in", "query"), ("required", false), ("description", .string(description)),
              ("schema", schema)])
    }

    private static let replyStream: TemplateValue = .obj([
        ("description", """
            A text/event-stream of `event: NAME` / `data: JSON` events: `user` (the committed user Message; absent \
            for regenerate), `assistant` (the new Message, status generating), `delta` many times ({"text"}), then \
            `done` (the final assistant Message, complete or incomplete, plus "title" when the conversation just got \
            its title). On failure `error` ({"message"}) comes before `done`; the partial reply is kept as incomplete.
            """),
        ("content", .obj([("text/event-stream", .obj([("schema", .obj([("type", "string")]))]))])),
    ])

    // MARK: The document

    static let document: TemplateValue = .obj([
        ("openapi", "3.1.0"),
        ("info", .obj([
            ("title", "Parley chat API"), ("version", "1"),
            ("description", "The REST API of Parley's web app. Authenticate with the session cookie `parley_session` (state-changing requests also send `X-CSRF-Token`) or `Authorization: Bearer pk-…`. Errors are `{\"error\": {\"code\", \"message\"}}`."),
        ])),
        ("servers", .array([.obj([("url", "/")])])),
        ("security", .array([.obj([("session", .array([])), ("csrf", .array([]))]), .obj([("apiKey", .array([]))])])),
        ("paths", merged(paths, CreditsOpenAPI.paths + ArenaOpenAPI.paths)),
        ("components", components),
    ])

    private static let idParameter = pathParameter("id", "The record's id.")

    private static func merged(_ paths: TemplateValue, _ more: [(String, TemplateValue)]) -> TemplateValue {
        guard case .object(var o) = paths else { return paths }
        for (path, operations) in more { o[path] = operations }
        return .object(o)
    }

    private static let paths: TemplateValue = .obj(appPaths + WellbeingOpenAPI.paths + MemoryOpenAPI.paths + ProjectOpenAPI.paths)

    private static let appPaths: [(String, TemplateValue)] = [
        ("/api/session", .obj([
            ("get", op("Who is signed in, the CSRF token, whether sign-up is open and whether accounts are on", tag: "auth",
                       responses: [("200", reply("The session", ref("Session")))], open: true)),
        ])),
        ("/api/auth/signup", .obj([
            ("post", op("Create an account and sign in (the first account is the admin)", tag: "auth",
                        body: object([("email", string), ("password", .obj([("type", "string"), ("minLength", 8)])),
                                      ("display_name", string)], required: ["email", "password"]),
                        responses: [("201", reply("Signed up; sets the session cookie", ref("SignedIn"),
                                                  headers: [("Set-Cookie", .obj([("schema", string)]))])),
                                    ("409", .obj([("$ref", "#/components/responses/Conflict")]))], open: true)),
        ])),
        ("/api/auth/signin", .obj([
            ("post", op("Sign in (a new session token every time)", tag: "auth",
                        body: object([("email", string), ("password", string)], required: ["email", "password"]),
                        responses: [("200", reply("Signed in; sets the session cookie", ref("SignedIn"),
                                                  headers: [("Set-Cookie", .obj([("schema", string)]))])),
                                    ("429", .obj([("$ref", "#/components/responses/TooManyRequests")]))], open: true)),
        ])),
        ("/api/auth/signout", .obj([
            ("post", op("Sign out: the session ends and the cookie is cleared", tag: "auth",
                        responses: [("204", reply("Signed out"))], open: true)),
        ])),
        ("/api/models", .obj([
            ("get", op("The models served", tag: "models", responses: [("200", reply("Models", object([
                ("models", arrayOf(object([("id", string), ("context_length", .obj([("type", "integer")]))]))),
                ("default", nullable("string")),
            ])))])),
        ])),
        ("/api/settings", .obj([
            ("get", op("The user's custom instructions", tag: "settings", responses: [("200", reply("Instructions", ref("CustomInstructions")))])),
            ("put", op("Set the user's custom instructions", tag: "settings", body: ref("CustomInstructions"),
                       responses: [("200", reply("Instructions", ref("CustomInstructions")))])),
        ])),
        ("/api/admin/settings", .obj([
            ("get", op("Server settings (admin only)", tag: "admin", responses: [("200", reply("Settings", ref("AdminSettings")))])),
            ("put", op("Change server settings (admin only)", tag: "admin", body: ref("AdminSettings"),
                       responses: [("200", reply("Settings", ref("AdminSettings")))])),
        ])),
        ("/api/keys", .obj([
            ("get", op("The user's API keys, revoked ones included, newest first", tag: "keys",
                       responses: [("200", reply("Keys", object([("keys", arrayOf(ref("APIKey")))])))])),
            ("post", op("Create an API key; its secret is shown only in this reply. With `project_id` (a project you belong to) the key's /v1 requests are charged to the project, and the reply is the key's fields with `key` (the secret) and `project_id`", tag: "keys",
                        body: object([("name", string), ("project_id", string)]),
                        responses: [("201", reply("The key", object([("key", ref("APIKey")), ("secret", string)])))])),
        ])),
        ("/api/keys/{id}", .obj([
            ("delete", op("Revoke an API key", tag: "keys", parameters: [idParameter], responses: [("204", reply("Revoked"))])),
        ])),
        ("/api/conversations", .obj([
            ("get", op("The user's conversations, newest first", tag: "conversations",
                       parameters: [queryParameter("q", string, "Search titles and message text"),
                                    queryParameter("limit", .obj([("type", "integer"), ("minimum", 1), ("maximum", 500), ("default", 50)]), "Page size"),
                                    queryParameter("offset", .obj([("type", "integer"), ("minimum", 0), ("default", 0)]), "Skip this many")],
                       responses: [("200", reply("Conversations", object([("conversations", arrayOf(ref("Conversation")))])))])),
            ("post", op("Start a conversation", tag: "conversations",
                        body: object([("title", string), ("system_prompt", nullable("string")),
                                      ("temperature", nullable("number", [("minimum", 0), ("maximum", 2)])),
                                      ("model", nullable("string")), ("temporary", .obj([("type", "boolean")])),
                                      ("project_id", nullable("string"))]),
                        responses: [("201", reply("The conversation", ref("Conversation")))])),
        ])),
        ("/api/conversations/{id}", .obj([
            ("get", op("A conversation with its whole message tree and feedback", tag: "conversations", parameters: [idParameter],
                       responses: [("200", reply("The conversation", object([("conversation", ref("Conversation")),
                                                                             ("messages", arrayOf(ref("Message"))),
                                                                             ("feedback", arrayOf(ref("Feedback")))])))])),
            ("patch", op("Change a conversation (null clears a field)", tag: "conversations", parameters: [idParameter],
                         body: object([("title", nullable("string")), ("system_prompt", nullable("string")),
                                       ("temperature", nullable("number", [("minimum", 0), ("maximum", 2)])),
                                       ("model", nullable("string")), ("current_leaf_id", nullable("string"))]),
                         responses: [("200", reply("The conversation", ref("Conversation")))])),
            ("delete", op("Delete a conversation, its messages and feedback", tag: "conversations", parameters: [idParameter],
                          responses: [("204", reply("Deleted"))])),
        ])),
        ("/api/conversations/{id}/messages", .obj([
            ("post", op("Add a user message and stream the reply. parent_id absent: under the current leaf; null: a new root; an id: under that message (an edit branches)",
                        tag: "messages", parameters: [idParameter],
                        body: object([("content", string), ("parent_id", nullable("string"))], required: ["content"]),
                        responses: [("200", replyStream)])),
        ])),
        ("/api/conversations/{id}/regenerate", .obj([
            ("post", op("Stream a new reply beside an assistant message (same parent)", tag: "messages", parameters: [idParameter],
                        body: object([("message_id", string)], required: ["message_id"]),
                        responses: [("200", replyStream)])),
        ])),
        ("/api/messages/{id}/stop", .obj([
            ("post", op("Stop a reply being generated; it is kept as incomplete", tag: "messages", parameters: [idParameter],
                        responses: [("204", reply("Stopped"))])),
        ])),
        ("/api/messages/{id}/feedback", .obj([
            ("put", op("Rate an assistant message (one rating per user and message)", tag: "messages", parameters: [idParameter],
                       body: object([("rating", .obj([("type", "integer"), ("enum", .array([1, -1]))])), ("comment", nullable("string"))],
                                    required: ["rating"]),
                       responses: [("200", reply("The feedback", ref("Feedback")))])),
        ])),
        ("/api/export", .obj([
            ("get", op("Everything of the user as one document (an attachment)", tag: "export",
                       responses: [("200", reply("The export", ref("Export")))])),
        ])),
        ("/api/import", .obj([
            ("post", op("Import an export document (under fresh ids)", tag: "export", body: ref("Export"),
                        responses: [("200", reply("How many conversations were imported", object([("imported", .obj([("type", "integer")]))])))])),
        ])),
        ("/api/openapi.json", .obj([
            ("get", op("This document", tag: "meta", responses: [("200", reply("OpenAPI 3.1", .obj([("type", "object")])))], open: true)),
        ])),
    ]

    private static func errorResponse(_ description: String) -> TemplateValue {
        reply(description, ref("Error"))
    }

    private static let components: TemplateValue = .obj([
        ("securitySchemes", .obj([
            ("session", .obj([("type", "apiKey"), ("in", "cookie"), ("name", "parley_session")])),
            ("csrf", .obj([("type", "apiKey"), ("in", "header"), ("name", "X-CSRF-Token"),
                           ("description", "Required with the cookie on POST, PUT, PATCH and DELETE.")])),
            ("apiKey", .obj([("type", "http"), ("scheme", "bearer"), ("description", "A `pk-…` key from POST /api/keys.")])),
        ])),
        ("responses", .obj([
            ("BadRequest", errorResponse("Bad input")),
            ("Unauthorized", errorResponse("Not signed in")),
            ("Forbidden", errorResponse("CSRF token missing or wrong, sign-up closed, or not an admin")),
            ("NotFound", errorResponse("No such record, or not yours")),
            ("Conflict", errorResponse("The email is taken")),
            ("TooManyRequests", .obj([("description", "Too many failed sign-ins"), ("content", jsonContent(ref("Error"))),
                                      ("headers", .obj([("Retry-After", .obj([("schema", .obj([("type", "integer")]))]))]))])),
        ])),
        ("schemas", .obj(schemas + WellbeingOpenAPI.schemas + MemoryOpenAPI.schemas + ProjectOpenAPI.schemas)),
    ])

    private static let schemas: [(String, TemplateValue)] = [
            ("Error", object([("error", object([("code", string), ("message", string)], required: ["code", "message"]))], required: ["error"])),
            ("User", object([("id", string), ("email", string), ("display_name", string), ("is_admin", .obj([("type", "boolean")])),
                             ("created_at", time)], required: ["id", "email", "display_name", "is_admin", "created_at"])),
            ("Session", object([("user", .obj([("oneOf", .array([ref("User"), .obj([("type", "null")])]))])),
                                ("csrf_token", nullable("string")), ("signup_enabled", .obj([("type", "boolean")])),
                                ("auth", .obj([("type", "boolean")]))], required: ["user", "csrf_token", "signup_enabled", "auth"])),
            ("SignedIn", object([("user", ref("User")), ("csrf_token", string)], required: ["user", "csrf_token"])),
            ("APIKey", object([("id", string), ("name", string), ("prefix", string), ("created_at", time),
                               ("last_used_at", nullableTime), ("revoked_at", nullableTime)],
                              required: ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"])),
            ("Conversation", object([("id", string), ("title", string), ("system_prompt", nullable("string")),
                                     ("temperature", nullable("number")), ("model", nullable("string")),
                                     ("current_leaf_id", nullable("string")), ("created_at", time), ("updated_at", time),
                                     ("temporary", .obj([("type", "boolean")]))],
                                    required: ["id", "title", "system_prompt", "temperature", "model", "current_leaf_id", "created_at", "updated_at"])),
            ("Message", object([("id", string), ("conversation_id", string), ("parent_id", nullable("string")),
                                ("role", .obj([("type", "string"), ("enum", .array(["system", "user", "assistant"]))])),
                                ("content", string), ("model", nullable("string")),
                                ("status", .obj([("type", "string"), ("enum", .array(["complete", "generating", "incomplete"]))])),
                                ("created_at", time), ("updated_at", time)],
                               required: ["id", "conversation_id", "parent_id", "role", "content", "model", "status", "created_at", "updated_at"])),
            ("Feedback", object([("message_id", string), ("rating", .obj([("type", "integer"), ("enum", .array([1, -1]))])),
                                 ("comment", nullable("string")), ("created_at", time)], required: ["message_id", "rating", "created_at"])),
            ("CustomInstructions", object([("about_me", string), ("how_to_answer", string)])),
            ("AdminSettings", object([("signup_enabled", .obj([("type", "boolean")]))], required: ["signup_enabled"])),
            ("Export", object([
                ("version", .obj([("type", "integer"), ("const", 1)])),
                ("conversations", arrayOf(object([("conversation", ref("Conversation")), ("messages", arrayOf(ref("Message"))),
                                                  ("feedback", arrayOf(ref("Feedback")))], required: ["conversation"]))),
                ("wellbeing_records", arrayOf(ref("WellbeingRecord"))),
            ], required: ["conversations"])),
    ]
}
