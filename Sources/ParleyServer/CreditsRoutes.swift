import Foundation
import Hummingbird
import ParleyCredits
import ParleyStore
import ParleyTokenizer

/// The compute-credits part of `/api` (docs/app-api.md, "Compute credits"): research areas, projects and members,
/// allocation requests and decisions, balances, prices, alerts and the portfolio report.
public final class CreditsAPI: Sendable {
    public let service: CreditsService
    let auth: AppAuth
    let maxBodyBytes: Int

    /// Nil when the store keeps no credits (every backend here does).
    init?(store: any ParleyStore, auth: AppAuth, maxBodyBytes: Int) {
        guard let both = store as? any ParleyStore & CreditsStore else { return nil }
        service = CreditsService(store: both, notifier: WebhookNotifier(store: store))
        self.auth = auth
        self.maxBodyBytes = maxBodyBytes
    }

    static func actor(_ context: ParleyRequestContext) throws -> CreditsActor {
        let me = try ChatApp.me(context)
        return CreditsActor(userID: me.user.id, isAdmin: me.isAdmin)
    }

    /// Runs a credits call, turning its errors into API errors.
    static func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as CreditsError {
            throw AppError(e)
        } catch let e as StoreError {
            throw AppError(e)
        }
    }

    func body(_ request: Request) async throws -> AppBody { try await AppBody(request, limit: maxBodyBytes) }

    func register(on router: Router<ParleyRequestContext>, recorder: RouteRecorder) {
        let api = self
        func add(_ method: HTTPRequest.Method, _ path: String,
                 _ handler: @escaping @Sendable (Request, ParleyRequestContext) async throws -> Response) {
            recorder.record(method: method, path: path)
            router.on(RouterPath(path), method: method) { request, context in
                try await Self.call { try await handler(request, context) }
            }
        }
        let service = self.service

        // Research areas
        add(.post, "/api/research-areas") { request, context in
            let b = try await api.body(request)
            let area = try await service.createResearchArea(name: try b.requiredString("name", maxLength: 200), by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.area(area, reviewers: []), status: .created)
        }
        add(.get, "/api/research-areas") { _, context in
            _ = try Self.actor(context)
            var items: [TemplateValue] = []
            for area in try await service.researchAreas() {
                items.append(CreditsJSON.area(area, reviewers: try await service.store.areaReviewers(areaID: area.id)))
            }
            return AppJSON.response(.obj([("research_areas", .array(items))]))
        }
        add(.post, "/api/research-areas/:id/reviewers") { request, context in
            let b = try await api.body(request)
            let user = try await service.user(try b.requiredString("user", maxLength: 320))
            try await service.addAreaReviewer(areaID: try ChatApp.id(context), userID: user.id, by: try Self.actor(context))
            return AppJSON.response(.obj([("research_area_id", .string(try ChatApp.id(context))), ("user_id", .string(user.id))]),
                                    status: .created)
        }

        // Projects and members
        add(.post, "/api/projects") { request, context in
            let b = try await api.body(request)
            let policy = try b.string("period_end_policy", maxLength: 20).map { raw -> PeriodEndPolicy in
                guard let p = PeriodEndPolicy(rawValue: raw) else { throw AppError.badRequest("'period_end_policy' is 'expire' or 'rollover'.") }
                return p
            } ?? .expire
            let project = try await service.createProject(name: try b.requiredString("name", maxLength: 200),
                                                          researchAreaID: try b.requiredString("research_area_id", maxLength: 100),
                                                          policy: policy, by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.project(project), status: .created)
        }
        add(.get, "/api/projects") { _, context in
            let actor = try Self.actor(context)
            var items: [TemplateValue] = []
            for project in try await service.visibleProjects(actor) {
                let balance = try await service.ledger.balance(projectID: project.id)
                let members = try await service.store.projectMembers(projectID: project.id)
                let role = members.first { $0.userID == actor.userID }?.role.rawValue
                items.append(CreditsJSON.project(project, extra: [("balance", CreditsJSON.balance(balance)), ("my_role", .str(role))]))
            }
            return AppJSON.response(.obj([("projects", .array(items))]))
        }
        add(.get, "/api/projects/:id") { _, context in
            let actor = try Self.actor(context)
            let facts = try await service.facts(try ChatApp.id(context))
            try service.checkCanView(facts, actor)
            let balance = try await service.ledger.balance(projectID: facts.project.id)
            var members: [TemplateValue] = []
            for m in facts.members {
                let user = try await service.store.user(id: m.userID)
                members.append(.obj([("user_id", .string(m.userID)), ("name", .str(user?.email)), ("role", .string(m.role.rawValue))]))
            }
            let requests = try await service.store.creditRequests(projectID: facts.project.id)
            return AppJSON.response(CreditsJSON.project(facts.project, extra: [
                ("balance", CreditsJSON.balance(balance)), ("members", .array(members)),
                ("credit_requests", .array(requests.map { CreditsJSON.request($0) })),
                ("may_review", .bool(AllocationWorkflow.mayReview(facts, actor))),
            ]))
        }
        add(.post, "/api/projects/:id/members") { request, context in
            let b = try await api.body(request)
            let role = try b.string("role", maxLength: 10).map { raw -> ProjectRole in
                guard let r = ProjectRole(rawValue: raw) else { throw AppError.badRequest("'role' is 'lead' or 'member'.") }
                return r
            } ?? .member
            let member = try await service.addMember(projectID: try ChatApp.id(context), user: try b.requiredString("user", maxLength: 320),
                                                     role: role, by: try Self.actor(context))
            return AppJSON.response(.obj([("project_id", .string(member.projectID)), ("user_id", .string(member.userID)),
                                          ("role", .string(member.role.rawValue))]), status: .created)
        }
        add(.get, "/api/projects/:id/balance") { _, context in
            let balance = try await service.balance(projectID: try ChatApp.id(context), by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.balance(balance))
        }
        add(.get, "/api/projects/:id/alerts") { _, context in
            let actor = try Self.actor(context)
            let id = try ChatApp.id(context)
            try service.checkCanView(try await service.facts(id), actor)
            let alerts = try await service.store.alerts(projectID: id)
            return AppJSON.response(.obj([("alerts", .array(alerts.map(CreditsJSON.alert)))]))
        }

        // Allocation requests
        add(.post, "/api/projects/:id/credit-requests") { request, context in
            let b = try await api.body(request)
            guard let credits = try b.number("amount", in: 0...CreditAmount.maximumCredits) else {
                throw AppError.badRequest("'amount' is required.")
            }
            let kind = try b.string("kind", maxLength: 20).map { raw -> CreditRequestKind in
                guard let k = CreditRequestKind(rawValue: raw) else {
                    throw AppError.badRequest("'kind' is 'initial', 'supplement' or 'renewal'.")
                }
                return k
            } ?? .initial
            let created = try await service.submitRequest(
                projectID: try ChatApp.id(context), kind: kind, amount: try CreditAmount.micro(credits: credits),
                periodStart: try Self.date(b, "period_start"), periodEnd: try Self.date(b, "period_end"),
                justification: try b.string("justification", maxLength: 10_000) ?? "",
                expectedOutcome: try b.string("expected_outcome", maxLength: 10_000) ?? "", by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.request(created), status: .created)
        }
        add(.get, "/api/credit-requests") { request, context in
            let actor = try Self.actor(context)
            let list = queryValue(request, "scope") == "review"
                ? try await service.reviewQueue(actor) : try await service.requests(visibleTo: actor)
            var names: [RecordID: String] = [:]
            for p in try await service.store.projects() { names[p.id] = p.name }
            return AppJSON.response(.obj([("credit_requests", .array(list.map {
                CreditsJSON.request($0, extra: [("project_name", .str(names[$0.projectID]))])
            }))]))
        }
        add(.get, "/api/credit-requests/:id") { _, context in
            let actor = try Self.actor(context)
            let request = try await service.request(try ChatApp.id(context))
            try service.checkCanView(try await service.facts(request.projectID), actor)
            let events = try await service.store.creditRequestEvents(requestID: request.id)
            return AppJSON.response(CreditsJSON.request(request, extra: [("events", .array(events.map(CreditsJSON.event)))]))
        }
        add(.post, "/api/credit-requests/:id/decision") { request, context in
            let actor = try Self.actor(context)
            let b = try await api.body(request)
            let raw = try b.requiredString("decision", maxLength: 20)
            guard let decision = CreditDecision(rawValue: raw) else {
                throw AppError.badRequest("'decision' is 'approve', 'partial' or 'deny'.")
            }
            let amount = try b.number("amount", in: 0...CreditAmount.maximumCredits).map { try CreditAmount.micro(credits: $0) }
            let decided = try await service.decide(requestID: try ChatApp.id(context), decision: decision, amount: amount,
                                                   reason: try b.string("reason", maxLength: 10_000), by: actor)
            return AppJSON.response(CreditsJSON.request(decided))
        }
        add(.post, "/api/credit-requests/:id/appeal") { request, context in
            let b = try await api.body(request)
            let appealed = try await service.appeal(requestID: try ChatApp.id(context), reason: try b.string("reason", maxLength: 10_000),
                                                    by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.request(appealed))
        }

        // Prices, period end, report, settings
        add(.get, "/api/credits/prices") { _, context in
            _ = try Self.actor(context)
            let book = try await service.priceBook()
            return AppJSON.response(.obj([
                ("current", .array(book.current(at: Date()).map(CreditsJSON.price))),
                ("history", .array(book.versions.map(CreditsJSON.price))),
                ("defaults", .obj(PriceUnit.allCases.map { unit -> (String, TemplateValue) in
                    (unit.rawValue, .double(CreditAmount.credits(PriceBook.defaults[unit] ?? 0)))
                })),
            ]))
        }
        add(.post, "/api/credits/prices") { request, context in
            let b = try await api.body(request)
            let raw = try b.requiredString("unit", maxLength: 40)
            guard let unit = PriceUnit(rawValue: raw) else {
                throw AppError.badRequest("'unit' is one of " + PriceUnit.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            guard let credits = try b.number("credits", in: 0...CreditAmount.maximumCredits) else { throw AppError.badRequest("'credits' is required.") }
            let price = try await service.setPrice(unit: unit, model: try b.string("model", maxLength: 200) ?? "", credits: credits,
                                                   effectiveFrom: try Self.date(b, "effective_from"), by: try Self.actor(context))
            return AppJSON.response(CreditsJSON.price(price), status: .created)
        }
        add(.post, "/api/credits/close-periods") { _, context in
            guard try Self.actor(context).isAdmin else { throw AppError.notAdmin }
            let expired = try await service.closeEndedPeriods()
            let amounts = expired.sorted { $0.key < $1.key }.map { entry -> (String, TemplateValue) in
                (entry.key, .double(CreditAmount.credits(entry.value)))
            }
            return AppJSON.response(.obj([("expired", .obj(amounts))]))
        }
        add(.get, "/api/credits/report") { request, context in
            _ = try Self.actor(context)
            let from = try Self.queryDate(request, "from") ?? Date(timeIntervalSince1970: 0)
            let to = try Self.queryDate(request, "to") ?? Date().addingTimeInterval(24 * 3600)
            let report = try await service.report(from: from, to: to)
            if queryValue(request, "format") == "csv" {
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"credits-report.csv\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv)))
            }
            return AppJSON.response(CreditsJSON.report(report))
        }
        add(.get, "/api/credits/settings") { _, context in
            guard try Self.actor(context).isAdmin else { throw AppError.notAdmin }
            let url = try await service.store.setting(WebhookNotifier.settingKey)
            return AppJSON.response(.obj([("alert_webhook_url", .str(url))]))
        }
        add(.put, "/api/credits/settings") { request, context in
            guard try Self.actor(context).isAdmin else { throw AppError.notAdmin }
            let b = try await api.body(request)
            let url = try b.string("alert_webhook_url", maxLength: 2000)?.trimmingCharacters(in: .whitespaces) ?? ""
            if !url.isEmpty {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
                    throw AppError.badRequest("'alert_webhook_url' must be an http(s) URL.")
                }
            }
            try await service.store.setSetting(WebhookNotifier.settingKey, value: url)
            return AppJSON.response(.obj([("alert_webhook_url", .str(url.isEmpty ? nil : url))]))
        }
    }

    /// `POST /api/keys` with a `project_id`: a key that charges the project, answered as `{key: "pk-…", …}`.
    func createProjectKey(_ b: AppBody, _ context: ParleyRequestContext, projectID: String) async throws -> Response {
        let me = try ChatApp.me(context)
        var name = try b.string("name", maxLength: 100)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty { name = "Project key" }
        let actor = CreditsActor(userID: me.user.id, isAdmin: me.isAdmin)
        let (secret, key) = auth.makeAPIKey(userID: me.user.id, name: name)
        // Checked before the key exists, so a refused request leaves no key behind.
        let facts = try await service.facts(projectID)
        guard facts.members.contains(where: { $0.userID == me.user.id }) || facts.project.leadID == me.user.id else {
            throw AppError(.forbidden, "forbidden", "Only members of the project may make keys that charge it.")
        }
        try await db { try await service.store.createAPIKey(key) }
        try await service.attach(apiKey: key, projectID: projectID, by: actor)
        var fields = AppJSON.apiKey(key)
        if case .object(var o) = fields {
            o["key"] = .string(secret)
            o["secret"] = .string(secret)
            o["project_id"] = .string(projectID)
            fields = .object(o)
        }
        return AppJSON.response(fields, status: .created)
    }

    static func date(_ b: AppBody, _ key: String) throws -> Date? {
        guard let raw = try b.string(key, maxLength: 40) else { return nil }
        guard let date = parseDate(raw) else { throw AppError.badRequest("'\(key)' must be an ISO 8601 date or time.") }
        return date
    }

    static func queryDate(_ request: Request, _ key: String) throws -> Date? {
        guard let raw = queryValue(request, key), !raw.isEmpty else { return nil }
        guard let date = parseDate(raw) else { throw AppError.badRequest("'\(key)' must be an ISO 8601 date or time.") }
        return date
    }

    /// `2026-11-29T10:00:00Z` or a plain `2026-11-29` (midnight UTC).
    static func parseDate(_ raw: String) -> Date? {
        if let d = ISOTime.parse(raw) { return d }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(raw)
    }
}

extension AppError {
    init(_ error: CreditsError) {
        switch error {
        case .forbidden(let m): self.init(.forbidden, "forbidden", m)
        case .invalid(let m): self.init(.badRequest, "invalid_request", m)
        case .notFound(let m): self.init(.notFound, "not_found", m)
        case .conflict(let m): self.init(.conflict, "conflict", m)
        case .insufficient: self.init(.paymentRequired402, "insufficient_credits", error.description)
        }
    }
}
