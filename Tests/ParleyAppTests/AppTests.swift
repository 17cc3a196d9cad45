import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyServer
import ParleyStore
import Testing

/// The chat app's `/api` in process over SQLite (and PostgreSQL when PARLEY_TEST_POSTGRES_URL is set) with
/// the real SmolLM2 model.
@Suite(.serialized) struct AppTests {
    // MARK: Accounts, sessions, CSRF

    @Test func signupSigninSessionsAndCSRF() async throws {
        try await TestApp.make().test { client in
            let a = Browser(client)
            let fresh = try await a.get("/api/session")
            #expect(fresh.status == .ok)
            #expect(fresh.json["user"] is NSNull)
            #expect(fresh.json["signup_enabled"] as? Bool == true)
            #expect(fresh.json["auth"] as? Bool == true)

            // The first account is the admin; the cookie is HttpOnly, SameSite=Lax, Path=/, and not Secure over http.
            let signup = try await a.post("/api/auth/signup", #"{"email": " Ann@Example.com ", "password": "correct horse", "display_name": "Ann"}"#)
            #expect(signup.status == .created)
            let ann = signup.json["user"] as? [String: Any]
            #expect(ann?["is_admin"] as? Bool == true)
            #expect(ann?["email"] as? String == "ann@example.com")
            #expect(ann?.keys.contains("password_hash") == false)
            let cookie = signup.headers[.setCookie] ?? ""
            #expect(cookie.hasPrefix("parley_session="))
            for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] { #expect(cookie.contains(flag), "\(cookie)") }
            #expect(!cookie.contains("Secure"))
            #expect((signup.json["csrf_token"] as? String)?.count ?? 0 >= 32)
            let session = try await a.get("/api/session")
            #expect((session.json["user"] as? [String: Any])?["email"] as? String == "ann@example.com")
            #expect(session.json["csrf_token"] as? String == a.csrf)

            // Bad input and a taken email.
            let b = Browser(client)
            #expect(try await b.post("/api/auth/signup", #"{"email": "bob@example.com", "password": "short"}"#).status == .badRequest)
            #expect(try await b.post("/api/auth/signup", #"{"email": "not-an-email", "password": "long enough"}"#).status == .badRequest)
            #expect(try await b.post("/api/auth/signup", #"{"email": 5, "password": "long enough"}"#).status == .badRequest)
            #expect(try await b.post("/api/auth/signup", "{oops").errorCode == "invalid_json")
            let taken = try await b.post("/api/auth/signup", #"{"email": "ann@example.com", "password": "long enough"}"#)
            #expect(taken.status == .conflict)
            #expect(taken.errorCode == "email_taken")

            // The second account is not an admin; over HTTPS (said by the proxy) the cookie is Secure.
            b.extraHeaders[.init("X-Forwarded-Proto")!] = "https"
            let bob = try await b.post("/api/auth/signup", #"{"email": "bob@example.com", "password": "bob's password"}"#)
            #expect((bob.json["user"] as? [String: Any])?["is_admin"] as? Bool == false)
            #expect(bob.headers[.setCookie]?.contains("; Secure") == true)
            b.extraHeaders = [:]
            #expect(try await b.get("/api/admin/settings").status == .forbidden)
            #expect(try await b.call(.put, "/api/admin/settings", #"{"signup_enabled": false}"#).status == .forbidden)

            // CSRF: a state-changing request with the cookie needs the session's token.
            let noToken = try await a.call(.post, "/api/conversations", "{}", sendCSRF: false)
            #expect(noToken.status == .forbidden)
            #expect(noToken.errorCode == "csrf")
            let saved = a.csrf
            a.csrf = "wrong"
            #expect(try await a.post("/api/conversations").errorCode == "csrf")
            a.csrf = saved
            #expect(try await a.post("/api/conversations").status == .created)
            #expect(try await a.get("/api/conversations").status == .ok)  // reads need no token

            // The admin closes sign-up.
            #expect(try await a.get("/api/admin/settings").json["signup_enabled"] as? Bool == true)
            let closed = try await a.call(.put, "/api/admin/settings", #"{"signup_enabled": false}"#)
            #expect(closed.json["signup_enabled"] as? Bool == false)
            #expect(try await a.call(.put, "/api/admin/settings", #"{"signup_enabled": "no"}"#).status == .badRequest)
            let c = Browser(client)
            #expect(try await c.get("/api/session").json["signup_enabled"] as? Bool == false)
            let refused = try await c.post("/api/auth/signup", #"{"email": "carol@example.com", "password": "long enough"}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "signup_closed")

            // Sign-in: a wrong password is 401; a right one issues a new token and ends the one the browser had.
            let wrong = try await c.post("/api/auth/signin", #"{"email": "ann@example.com", "password": "wrong password"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_credentials")
            #expect(try await c.post("/api/auth/signin", #"{"email": "nobody@example.com", "password": "whatever1"}"#).status == .unauthorized)
            let before = a.cookie
            let again = try await a.post("/api/auth/signin", #"{"email": "ANN@example.com", "password": "correct horse"}"#)
            #expect(again.status == .ok)
            #expect(a.cookie != nil && a.cookie != before)
            let stale = Browser(client)
            stale.cookie = before
            #expect(try await stale.get("/api/session").json["user"] is NSNull)
            #expect(try await stale.get("/api/conversations").status == .unauthorized)
            #expect(try await a.get("/api/conversations").status == .ok)

            // Sign-out needs the token too, ends the session and clears the cookie.
            let token = a.cookie
            #expect(try await a.call(.post, "/api/auth/signout", "{}", sendCSRF: false).status == .forbidden)
            let out = try await a.post("/api/auth/signout")
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let gone = Browser(client)
            gone.cookie = token
            #expect(try await gone.get("/api/session").json["user"] is NSNull)
            #expect(try await Browser(client).get("/api/conversations").status == .unauthorized)
        }
    }

    @Test func signinIsRateLimited() async throws {
        try await TestApp.make().test { client in
            let a = Browser(client)
            try await a.signUp("dora@example.com")
            let b = Browser(client)
            for _ in 0..<5 {
                let r = try await b.post("/api/auth/signin", #"{"email": "dora@example.com", "password": "guess guess"}"#)
                #expect(r.status == .unauthorized)
            }
            // Over the limit even the right password waits.
            let limited = try await b.post("/api/auth/signin", #"{"email": "dora@example.com", "password": "correct horse"}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            let retry = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect(retry >= 1 && retry <= 60)
        }
    }

    // MARK: API keys

    @Test func apiKeysAuthenticateV1AndAPIAndCanBeRevoked() async throws {
        try await TestApp.make(staticKey: "static-secret").test { client in
            let a = Browser(client)
            try await a.signUp("erin@example.com")
            let created = try await a.post("/api/keys", #"{"name": "laptop"}"#)
            #expect(created.status == .created)
            let secret = created.json["secret"] as? String ?? ""
            let key = created.json["key"] as? [String: Any] ?? [:]
            #expect(secret.hasPrefix("pk-") && secret.count > 40)
            #expect(key["name"] as? String == "laptop")
            #expect(secret.hasPrefix(key["prefix"] as? String ?? "-"))
            #expect(key["last_used_at"] is NSNull)

            let chat = #"{"model": "smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0}"#
            let anonymous = Browser(client)
            #expect(try await anonymous.post("/v1/chat/completions", chat).status == .unauthorized)
            anonymous.cookie = a.cookie  // a session cookie is not a key for /v1
            #expect(try await anonymous.post("/v1/chat/completions", chat).status == .unauthorized)
            let user = Browser(client)
            user.bearer = secret
            let ok = try await user.post("/v1/chat/completions", chat)
            #expect(ok.status == .ok, "\(ok.text)")
            #expect(ok.json["object"] as? String == "chat.completion")
            #expect(try await user.get("/v1/models").status == .ok)
            let server = Browser(client)
            server.bearer = "static-secret"
            #expect(try await server.get("/v1/models").status == .ok)
            #expect(try await server.get("/api/conversations").status == .unauthorized)  // the static key has no user

            // A key also works on /api, without CSRF.
            #expect(try await user.post("/api/conversations", #"{"title": "via key"}"#).status == .created)
            let listed = try await a.get("/api/keys").json["keys"] as? [[String: Any]] ?? []
            #expect(listed.count == 1)
            #expect(listed.first?["last_used_at"] is String)
            #expect(listed.first?.keys.contains("secret") == false)
            #expect(listed.first?.keys.contains("key_hash") == false)

            #expect(try await a.call(.delete, "/api/keys/\(key["id"] as? String ?? "")").status == .noContent)
            #expect(try await user.post("/v1/chat/completions", chat).status == .unauthorized)
            #expect(try await user.get("/api/conversations").status == .unauthorized)
            let revoked = try await a.get("/api/keys").json["keys"] as? [[String: Any]] ?? []
            #expect(revoked.first?["revoked_at"] is String)
        }
    }

    // MARK: Isolation

    @Test func usersSeeOnlyTheirOwnRecords() async throws {
        try await TestApp.make().test { client in
            let a = Browser(client), b = Browser(client)
            try await a.signUp("fay@example.com")
            try await b.signUp("gus@example.com")
            let id = try await a.newConversation(#"{"title": "Fay's secret plans", "temperature": 0}"#)
            let stream = try await a.post("/api/conversations/\(id)/messages", #"{"content": "Say hello to Fay."}"#)
            let reply = stream.events.last { $0.name == "done" }?.data["id"] as? String ?? ""
            #expect(!reply.isEmpty)
            let keySecret = try await a.post("/api/keys", #"{"name": "fay"}"#)
            let keyID = (keySecret.json["key"] as? [String: Any])?["id"] as? String ?? ""

            for r in [try await b.get("/api/conversations/\(id)"),
                      try await b.call(.patch, "/api/conversations/\(id)", #"{"title": "mine now"}"#),
                      try await b.post("/api/conversations/\(id)/messages", #"{"content": "hi"}"#),
                      try await b.post("/api/conversations/\(id)/regenerate", #"{"message_id": "\#(reply)"}"#),
                      try await b.call(.put, "/api/messages/\(reply)/feedback", #"{"rating": -1}"#),
                      try await b.post("/api/messages/\(reply)/stop"),
                      try await b.call(.delete, "/api/keys/\(keyID)"),
                      try await b.call(.delete, "/api/conversations/\(id)")] {
                #expect(r.status == .notFound, "\(r.text)")
                #expect(r.errorCode == "not_found")
            }
            #expect((try await b.get("/api/conversations").json["conversations"] as? [Any])?.count == 0)
            #expect((try await b.get("/api/conversations?q=secret").json["conversations"] as? [Any])?.count == 0)
            #expect((try await b.get("/api/export").json["conversations"] as? [Any])?.count == 0)
            // A's conversation and key are untouched.
            let tree = try await a.tree(id)
            #expect(tree.conversation["title"] as? String == "Fay's secret plans")
            #expect(tree.feedback.isEmpty)
            let keys = try await a.get("/api/keys").json["keys"] as? [[String: Any]] ?? []
            #expect(keys.first?["revoked_at"] is NSNull)
            // And B's own key does not open A's records.
            let bKey = try await b.post("/api/keys", "{}").json["secret"] as? String ?? ""
            let bAPI = Browser(client)
            bAPI.bearer = bKey
            #expect(try await bAPI.get("/api/conversations/\(id)").status == .notFound)
        }
    }

    // MARK: Conversations

    @Test func conversationsCRUDSearchAndValidation() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            let session = try await a.get("/api/session")
            #expect(session.json["auth"] as? Bool == false)
            #expect((session.json["user"] as? [String: Any])?["is_admin"] as? Bool == true)

            let created = try await a.post("/api/conversations", #"{"title": "Tomato soup", "system_prompt": "Be brief.", "temperature": 0.2, "model": "smollm2"}"#)
            #expect(created.status == .created)
            let id = created.json["id"] as? String ?? ""
            #expect(created.json["system_prompt"] as? String == "Be brief.")
            #expect(created.json["temperature"] as? Double == 0.2)
            #expect(created.json["current_leaf_id"] is NSNull)
            _ = try await a.newConversation(#"{"title": "Bicycle repair"}"#)
            _ = try await a.newConversation()

            let all = try await a.get("/api/conversations").json["conversations"] as? [[String: Any]] ?? []
            #expect(all.count == 3)
            let found = try await a.get("/api/conversations?q=TOMATO").json["conversations"] as? [[String: Any]] ?? []
            #expect(found.map { $0["id"] as? String } == [id])
            let spaced = try await a.get("/api/conversations?q=bicycle+rep").json["conversations"] as? [[String: Any]] ?? []
            #expect(spaced.count == 1)
            #expect((try await a.get("/api/conversations?q=bicycle%20rep").json["conversations"] as? [Any])?.count == 1)
            let page = try await a.get("/api/conversations?limit=1&offset=1").json["conversations"] as? [[String: Any]] ?? []
            #expect(page.count == 1)

            let patched = try await a.call(.patch, "/api/conversations/\(id)", #"{"title": "Soup", "system_prompt": null, "temperature": 1.5}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.json["title"] as? String == "Soup")
            #expect(patched.json["system_prompt"] is NSNull)
            #expect(patched.json["temperature"] as? Double == 1.5)
            #expect(patched.json["model"] as? String == "smollm2")

            // Bad input is a 400 naming the problem; the server carries on.
            for (method, path, body) in [(HTTPRequest.Method.patch, "/api/conversations/\(id)", #"{"temperature": "hot"}"#),
                                         (.patch, "/api/conversations/\(id)", #"{"temperature": 9}"#),
                                         (.patch, "/api/conversations/\(id)", #"{"current_leaf_id": "no-such-message"}"#),
                                         (.patch, "/api/conversations/\(id)", "[1, 2]"),
                                         (.post, "/api/conversations", #"{"model": "no-such-model"}"#),
                                         (.post, "/api/conversations", #"{"title": 7}"#),
                                         (.post, "/api/conversations/\(id)/messages", #"{"content": ""}"#),
                                         (.post, "/api/conversations/\(id)/messages", #"{"content": 42}"#),
                                         (.post, "/api/conversations/\(id)/messages", #"{"content": "x""#),
                                         (.put, "/api/messages/x/feedback", #"{"rating": 3}"#),
                                         (.get, "/api/conversations?limit=lots", nil)] {
                let r = try await a.call(method, path, body)
                #expect(r.status == .badRequest, "\(method) \(path) \(body ?? ""): \(r.text)")
                #expect(r.errorCode != nil && !(((r.json["error"] as? [String: Any])?["message"] as? String) ?? "").isEmpty)
            }
            #expect(try await a.get("/api/conversations/no-such-id").status == .notFound)
            #expect(try await a.get("/api/nothing-here").status == .notFound)

            #expect(try await a.call(.delete, "/api/conversations/\(id)").status == .noContent)
            #expect(try await a.get("/api/conversations/\(id)").status == .notFound)
            #expect(try await a.call(.delete, "/api/conversations/\(id)").status == .notFound)
            #expect((try await a.get("/api/conversations").json["conversations"] as? [Any])?.count == 2)

            // Settings (custom instructions) and models.
            #expect(try await a.get("/api/settings").json["about_me"] as? String == "")
            let set = try await a.call(.put, "/api/settings", #"{"about_me": "I cook.", "how_to_answer": "Briefly."}"#)
            #expect(set.json["how_to_answer"] as? String == "Briefly.")
            #expect(try await a.get("/api/settings").json["about_me"] as? String == "I cook.")
            let models = try await a.get("/api/models").json
            #expect(models["default"] as? String == "smollm2")
            #expect((models["models"] as? [[String: Any]])?.first?["context_length"] as? Int == 1024)
        }
    }

    // MARK: Replies

    static func checkStream(_ r: Reply, expectUser: Bool, sourceLocation: SourceLocation = #_sourceLocation) -> (user: [String: Any]?, done: [String: Any]) {
        #expect(r.status == .ok, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.headers[.contentType] == "text/event-stream", sourceLocation: sourceLocation)
        let events = r.events
        let names = events.map(\.name)
        var i = 0
        var user: [String: Any]?
        if expectUser {
            #expect(names.first == "user", sourceLocation: sourceLocation)
            user = events.first?.data
            #expect(user?["role"] as? String == "user", sourceLocation: sourceLocation)
            i = 1
        }
        #expect(names.count > i && names[i] == "assistant", "\(names)", sourceLocation: sourceLocation)
        let assistant = events.count > i ? events[i].data : [:]
        #expect(assistant["status"] as? String == "generating", sourceLocation: sourceLocation)
        #expect(assistant["content"] as? String == "", sourceLocation: sourceLocation)
        #expect(names.last == "done", sourceLocation: sourceLocation)
        #expect(names.dropFirst(i + 1).dropLast().allSatisfy { $0 == "delta" }, "\(names)", sourceLocation: sourceLocation)
        let done = events.last?.data ?? [:]
        let text = events.filter { $0.name == "delta" }.map { $0.data["text"] as? String ?? "" }.joined()
        #expect(done["id"] as? String == assistant["id"] as? String, sourceLocation: sourceLocation)
        #expect(done["content"] as? String == text, sourceLocation: sourceLocation)
        #expect(!text.isEmpty, sourceLocation: sourceLocation)
        return (user, done)
    }

    // MARK: Wellbeing

    static let crisisText = "I have the pills ready and I'm going to end my life tonight"

    @Test func crisisMessageGetsWellbeingEventAndTheReplyStillStreams() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            a.extraHeaders[.acceptLanguage] = "en-GB,en;q=0.8"
            let id = try await a.newConversation(#"{"temperature": 0}"#)
            let r = try await a.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(Self.crisisText))}"#)
            #expect(r.status == .ok, "\(r.text)")
            let events = r.events
            let names = events.map(\.name)
            #expect(Array(names.prefix(3)) == ["user", "wellbeing", "assistant"], "\(names)")
            let wb = events.first { $0.name == "wellbeing" }?.data ?? [:]
            #expect(wb["action"] as? String == "crisis_support")
            #expect(wb["category"] as? String == "self_harm_acute")
            #expect((wb["severity"] as? Int ?? 0) >= 1)
            #expect(Set(wb.keys).isSuperset(of: ["category", "severity", "action", "resources"]))
            let resources = wb["resources"] as? [[String: Any]] ?? []
            let names2 = resources.compactMap { $0["name"] as? String }
            // en-GB: the UK lines first, then the international fallback.
            #expect(names2.first == "Samaritans", "\(names2)")
            #expect(names2.contains("Find A Helpline"), "\(names2)")
            #expect(!names2.contains("988 Suicide & Crisis Lifeline"), "\(names2)")
            for res in resources {
                #expect((res["contact"] as? String ?? "").isEmpty == false, "\(res)")
                #expect((res["source"] as? String ?? "").hasPrefix("http"), "\(res)")
            }
            // The reply still streams and is saved; the guidance is no message of the conversation.
            #expect(names.last == "done")
            let text = events.filter { $0.name == "delta" }.map { $0.data["text"] as? String ?? "" }.joined()
            #expect(!text.isEmpty)
            let done = events.last?.data ?? [:]
            let tree = try await a.tree(id)
            #expect(tree.messages.count == 2)
            #expect(tree.messages.allSatisfy { ($0["role"] as? String) != "system" })
            #expect(tree.messages.first { $0["role"] as? String == "user" }?["content"] as? String == Self.crisisText)

            // Regenerating the reply assesses the same turn: the event comes first (no `user` event).
            let again = try await a.post("/api/conversations/\(id)/regenerate", #"{"message_id": "\#(done["id"] as? String ?? "")"}"#)
            #expect(Array(again.events.map(\.name).prefix(2)) == ["wellbeing", "assistant"], "\(again.text.prefix(300))")

            // Without Accept-Language: the international entries only.
            a.extraHeaders = [:]
            let plain = try await a.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(Self.crisisText))}"#)
            let plainWB = plain.events.first { $0.name == "wellbeing" }?.data ?? [:]
            let plainNames = (plainWB["resources"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(plainNames == ["Find A Helpline", "IASP crisis centres directory"], "\(plainNames)")
        }
    }

    @Test func ordinaryMessageGetsNoWellbeingEvent() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            a.extraHeaders[.acceptLanguage] = "en-US"
            let id = try await a.newConversation(#"{"temperature": 0}"#)
            let r = try await a.post("/api/conversations/\(id)/messages", #"{"content": "this traffic is killing me"}"#)
            _ = Self.checkStream(r, expectUser: true)
            #expect(!r.events.contains { $0.name == "wellbeing" })
        }
    }

    @Test func chatCompletionsReportWellbeingOnlyWhenItSteers() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            a.extraHeaders[.acceptLanguage] = "en-US"
            func body(_ text: String, stream: Bool) -> String {
                #"{"model": "smollm2", "messages": [{"role": "user", "content": \#(jsonString(text))}], "max_tokens": 8, "temperature": 0, "stream": \#(stream)}"#
            }
            func header(_ r: Reply) -> String? { r.headers[.init("X-Parley-Wellbeing")!] }
            let crisis = try await a.post("/v1/chat/completions", body(Self.crisisText, stream: false))
            #expect(crisis.status == .ok, "\(crisis.text)")
            let value = header(crisis) ?? ""
            #expect(value.hasPrefix("category=self_harm_acute; severity=") && value.hasSuffix("; action=crisis_support"), "\(value)")
            #expect(crisis.json["object"] as? String == "chat.completion")
            let field = crisis.json["parley_wellbeing"] as? [String: Any] ?? [:]
            #expect(field["action"] as? String == "crisis_support")
            #expect(field["category"] as? String == "self_harm_acute")
            let resources = field["resources"] as? [[String: Any]] ?? []
            #expect(resources.first?["name"] as? String == "988 Suicide & Crisis Lifeline", "\(resources)")
            #expect(resources.allSatisfy { ($0["source"] as? String ?? "").hasPrefix("http") })

            let streamed = try await a.post("/v1/chat/completions", body(Self.crisisText, stream: true))
            #expect(header(streamed) == value)
            let chunks = streamed.events.filter { !$0.data.isEmpty }
            #expect((chunks.first?.data["parley_wellbeing"] as? [String: Any])?["action"] as? String == "crisis_support")
            #expect(chunks.dropFirst().allSatisfy { $0.data["parley_wellbeing"] == nil })

            for stream in [false, true] {
                let neutral = try await a.post("/v1/chat/completions", body("this traffic is killing me", stream: stream))
                #expect(neutral.status == .ok)
                #expect(header(neutral) == nil)
                #expect(!neutral.text.contains("parley_wellbeing"))
            }
        }
    }

    @Test(arguments: Backend.available)
    func messageStreamsAndIsPersisted(backend: Backend) async throws {
        try await TestApp.make(accounts: false, backend: backend).test { client in
            let a = Browser(client)
            let id = try await a.newConversation(#"{"temperature": 0}"#)
            let content = "Hello! Please greet me back in one short sentence, and tell me your favourite colour, thanks."
            let r = try await a.post("/api/conversations/\(id)/messages", #"{"content": \#(jsonString(content))}"#)
            let (user, done) = Self.checkStream(r, expectUser: true)
            #expect(user?["content"] as? String == content)
            #expect(user?["parent_id"] is NSNull)
            #expect(done["status"] as? String == "complete")
            #expect(done["model"] as? String == "smollm2")
            #expect(done["parent_id"] as? String == user?["id"] as? String)
            let title = done["title"] as? String ?? ""
            #expect(title.hasPrefix("Hello! Please greet me back") && title.count <= 61, "\(title)")

            let tree = try await a.tree(id)
            #expect(tree.conversation["title"] as? String == title)
            #expect(tree.conversation["current_leaf_id"] as? String == done["id"] as? String)
            #expect(tree.messages.count == 2)
            let saved = tree.messages.first { $0["id"] as? String == done["id"] as? String }
            #expect(saved?["status"] as? String == "complete")
            #expect(saved?["content"] as? String == done["content"] as? String)
            #expect(saved?["role"] as? String == "assistant")

            // A follow-up goes under the current leaf; the title stays.
            let next = try await a.post("/api/conversations/\(id)/messages", #"{"content": "And another colour?"}"#)
            let (user2, done2) = Self.checkStream(next, expectUser: true)
            #expect(user2?["parent_id"] as? String == done["id"] as? String)
            #expect(done2["title"] == nil)
            #expect(try await a.tree(id).messages.count == 4)
            #expect((try await a.get("/api/conversations?q=favourite").json["conversations"] as? [Any])?.count == 1)
        }
    }

    @Test func regenerateAndEditMakeBranches() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            let id = try await a.newConversation(#"{"temperature": 0.9, "title": "Branches"}"#)
            let first = Self.checkStream(try await a.post("/api/conversations/\(id)/messages", #"{"content": "Name a fruit."}"#), expectUser: true)
            let u1 = first.user?["id"] as? String ?? "", a1 = first.done["id"] as? String ?? ""
            #expect(first.done["title"] == nil)  // it had a title

            // Regenerate: a sibling reply under the same user message.
            let regen = Self.checkStream(try await a.post("/api/conversations/\(id)/regenerate", #"{"message_id": "\#(a1)"}"#), expectUser: false)
            let a2 = regen.done["id"] as? String ?? ""
            #expect(a2 != a1)
            #expect(regen.done["parent_id"] as? String == u1)
            #expect(try await a.post("/api/conversations/\(id)/regenerate", #"{"message_id": "\#(u1)"}"#).status == .badRequest)
            #expect(try await a.post("/api/conversations/\(id)/regenerate", #"{"message_id": "nope"}"#).status == .notFound)

            // Edit of the first message: a new root (parent null) with its own reply.
            let edit = Self.checkStream(try await a.post("/api/conversations/\(id)/messages", #"{"content": "Name a vegetable.", "parent_id": null}"#), expectUser: true)
            let u1b = edit.user?["id"] as? String ?? ""
            #expect(edit.user?["parent_id"] is NSNull)
            // A message under the first reply (going back to the old branch).
            let deeper = Self.checkStream(try await a.post("/api/conversations/\(id)/messages", #"{"content": "Another one?", "parent_id": "\#(a1)"}"#), expectUser: true)
            let u2 = deeper.user?["id"] as? String ?? ""
            #expect(deeper.user?["parent_id"] as? String == a1)
            #expect(try await a.post("/api/conversations/\(id)/messages", #"{"content": "x", "parent_id": "missing"}"#).status == .notFound)

            let tree = try await a.tree(id)
            let parents = Dictionary(uniqueKeysWithValues: tree.messages.map { ($0["id"] as? String ?? "", $0["parent_id"] as? String) })
            #expect(tree.messages.count == 7)
            #expect(parents[u1] == .some(nil) && parents[u1b] == .some(nil))
            #expect(parents[a1] == u1 && parents[a2] == u1)
            #expect(parents[edit.done["id"] as? String ?? ""] == u1b)
            #expect(parents[u2] == a1)
            #expect(parents[deeper.done["id"] as? String ?? ""] == u2)
            #expect(tree.conversation["current_leaf_id"] as? String == deeper.done["id"] as? String)
            #expect(tree.messages.allSatisfy { ($0["status"] as? String) != "generating" })

            // The UI switches branches by moving the leaf.
            let moved = try await a.call(.patch, "/api/conversations/\(id)", #"{"current_leaf_id": "\#(a2)"}"#)
            #expect(moved.json["current_leaf_id"] as? String == a2)
        }
    }

    @Test func stopKeepsTheReplyIncomplete() async throws {
        try await TestApp.make(accounts: false).test { client in
            let a = Browser(client)
            let id = try await a.newConversation(#"{"temperature": 0.8}"#)
            let streaming = Task {
                try await a.post("/api/conversations/\(id)/messages",
                                 #"{"content": "Write a very long story about a dragon who learns to bake bread. Use many chapters."}"#)
            }
            // Wait until the reply row exists and has text, then stop it.
            var replyID: String?
            let deadline = Date().addingTimeInterval(60)
            while replyID == nil && Date() < deadline {
                let messages = try await Browser(client).tree(id).messages
                if let m = messages.first(where: { $0["role"] as? String == "assistant" && $0["status"] as? String == "generating" }),
                   !(m["content"] as? String ?? "").isEmpty {
                    replyID = m["id"] as? String
                } else {
                    try await Task.sleep(nanoseconds: 20_000_000)
                }
            }
            let stopID = try #require(replyID)
            #expect(try await a.post("/api/messages/\(stopID)/stop").status == .noContent)
            let r = try await streaming.value
            let (_, done) = Self.checkStream(r, expectUser: true)
            #expect(done["status"] as? String == "incomplete")
            let saved = try await a.tree(id).messages.first { $0["id"] as? String == stopID }
            #expect(saved?["status"] as? String == "incomplete")
            #expect(saved?["content"] as? String == done["content"] as? String)
            let kept = saved?["content"] as? String ?? ""
            #expect(!kept.isEmpty)
            // Stopping again is harmless; an unknown id is not found.
            #expect(try await a.post("/api/messages/\(stopID)/stop").status == .noContent)
            #expect(try await a.post("/api/messages/unknown/stop").status == .notFound)
        }
    }

    @Test func feedbackExportAndImport() async throws {
        try await TestApp.make().test { client in
            let a = Browser(client), b = Browser(client)
            try await a.signUp("hal@example.com")
            try await b.signUp("ivy@example.com")
            let id = try await a.newConversation(#"{"temperature": 0, "system_prompt": "You are terse."}"#)
            let first = Self.checkStream(try await a.post("/api/conversations/\(id)/messages", #"{"content": "What is 2+2?"}"#), expectUser: true)
            let reply = first.done["id"] as? String ?? ""
            _ = Self.checkStream(try await a.post("/api/conversations/\(id)/regenerate", #"{"message_id": "\#(reply)"}"#), expectUser: false)

            let up = try await a.call(.put, "/api/messages/\(reply)/feedback", #"{"rating": 1, "comment": "right"}"#)
            #expect(up.status == .ok, "\(up.text)")
            #expect(up.json["rating"] as? Int == 1)
            let down = try await a.call(.put, "/api/messages/\(reply)/feedback", #"{"rating": -1}"#)
            #expect(down.json["rating"] as? Int == -1)
            let fb = try await a.tree(id).feedback
            #expect(fb.count == 1)
            #expect(fb.first?["rating"] as? Int == -1 && fb.first?["message_id"] as? String == reply)
            #expect(try await a.call(.put, "/api/messages/\(reply)/feedback", #"{"rating": "up"}"#).status == .badRequest)

            let export = try await a.get("/api/export")
            #expect(export.status == .ok)
            #expect(export.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            #expect(export.json["version"] as? Int == 1)
            let exported = export.json["conversations"] as? [[String: Any]] ?? []
            #expect(exported.count == 1)

            // Into another account: same titles, texts, tree shape and feedback, under fresh ids.
            let imported = try await b.post("/api/import", export.text)
            #expect(imported.status == .ok, "\(imported.text)")
            #expect(imported.json["imported"] as? Int == 1)
            let list = try await b.get("/api/conversations").json["conversations"] as? [[String: Any]] ?? []
            #expect(list.count == 1)
            let newID = list.first?["id"] as? String ?? ""
            #expect(newID != id)
            let original = try await a.tree(id), copy = try await b.tree(newID)
            #expect(copy.conversation["title"] as? String == original.conversation["title"] as? String)
            #expect(copy.conversation["system_prompt"] as? String == "You are terse.")
            func shape(_ messages: [[String: Any]]) -> [String] {
                let byID = Dictionary(uniqueKeysWithValues: messages.map { ($0["id"] as? String ?? "", $0) })
                return messages.map { m in
                    let parent = (m["parent_id"] as? String).flatMap { byID[$0]?["content"] as? String } ?? "-"
                    return "\(m["role"] ?? "") \(m["content"] ?? "") <- \(parent) [\(m["status"] ?? "")]"
                }.sorted()
            }
            #expect(shape(copy.messages) == shape(original.messages))
            #expect(Set(copy.messages.compactMap { $0["id"] as? String }).isDisjoint(with: original.messages.compactMap { $0["id"] as? String }))
            #expect(copy.feedback.count == 1 && copy.feedback.first?["rating"] as? Int == -1)
            // The feedback follows its message to the new id.
            let rated = copy.messages.first { $0["id"] as? String == copy.feedback.first?["message_id"] as? String }
            #expect(rated?["role"] as? String == "assistant")
            #expect(rated?["content"] as? String == first.done["content"] as? String)
            // A second import into the same account adds another copy; a bad document is a 400.
            #expect(try await a.post("/api/import", export.text).json["imported"] as? Int == 1)
            #expect((try await a.get("/api/conversations").json["conversations"] as? [Any])?.count == 2)
            #expect(try await a.post("/api/import", #"{"version": 1, "conversations": [{"conversation": {"title": 3}}]}"#).status == .badRequest)
            #expect(try await a.post("/api/import", #"{"version": 2, "conversations": []}"#).status == .badRequest)
            #expect(try await a.post("/api/import", #"{"conversations": "all"}"#).status == .badRequest)
        }
    }

    // MARK: OpenAPI and the UI

    @Test func openAPIDescribesEveryAPIRoute() async throws {
        let app = try await TestApp.make()
        _ = app.api.makeRouter()
        let registered = app.api.apiRoutes.routes
        #expect(registered.count >= 20)
        try await app.test { client in
            let r = try await Browser(client).get("/api/openapi.json")
            #expect(r.status == .ok)
            #expect(r.json["openapi"] as? String == "3.1.0")
            let paths = r.json["paths"] as? [String: [String: Any]] ?? [:]
            for route in registered {
                #expect(paths[route.path]?[route.method.lowercased()] != nil, "\(route.method) \(route.path) is not in the OpenAPI document")
            }
            // And nothing is described that is not served.
            for (path, operations) in paths {
                for method in operations.keys {
                    #expect(registered.contains { $0.path == path && $0.method.lowercased() == method }, "\(method) \(path) is documented but not served")
                }
            }
        }
    }

    @Test func webUIIsServedWithStrictHeaders() async throws {
        try await TestApp.make().test { client in
            let b = Browser(client)
            let index = try await b.get("/")
            #expect(index.status == .ok)
            #expect(index.headers[.contentType] == "text/html; charset=utf-8")
            #expect(index.text.lowercased().contains("<html"))
            let csp = index.headers[.init("Content-Security-Policy")!] ?? ""
            #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            #expect(index.headers[.init("X-Content-Type-Options")!] == "nosniff")
            #expect(index.headers[.cacheControl] == "no-cache")
            let etag = try #require(index.headers[.eTag])
            b.extraHeaders[.ifNoneMatch] = etag
            #expect(try await b.get("/").status == .notModified)
            b.extraHeaders = [:]
            #expect(try await b.get("/ui/index.html").text == index.text)
            for name in StaticUI.names where name.hasSuffix(".js") || name.hasSuffix(".css") {
                let file = try await b.get("/ui/\(name)")
                #expect(file.status == .ok)
                #expect(file.headers[.contentType]?.hasPrefix(name.hasSuffix(".js") ? "text/javascript" : "text/css") == true)
            }
            #expect(try await b.get("/ui/missing.js").status == .notFound)
            #expect(try await b.get("/ui/..%2FPackage.swift").status == .notFound)
        }
    }
}
