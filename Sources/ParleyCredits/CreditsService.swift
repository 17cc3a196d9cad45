import Foundation
import ParleyStore

/// Compute credits over a store: research areas, projects, prices, the allocation workflow, the ledger, metering,
/// alerts and the portfolio report. Every operation takes the acting user and checks what they may do.
public final class CreditsService: Sendable {
    public typealias Store = any ParleyStore & CreditsStore

    public let store: Store
    public let ledger: CreditLedger
    public let fairShare: FairShare
    public let alerts: AlertCenter
    /// The clock (tests move it).
    let clock: @Sendable () -> Date

    public init(store: Store, fairShare: FairShare = FairShare(), notifier: (any AlertNotifier)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        ledger = CreditLedger(store: store)
        self.fairShare = fairShare
        alerts = AlertCenter(store: store, notifier: notifier)
        self.clock = clock
    }

    public static let defaultPeriod: TimeInterval = 90 * 24 * 3600

    // MARK: Areas and projects

    public func createResearchArea(name: String, by actor: CreditsActor) async throws -> ResearchArea {
        guard actor.isAdmin else { throw CreditsError.forbidden("Only an administrator may add research areas.") }
        let area = ResearchArea(name: try Self.name(name, "name"), createdAt: clock())
        try await mapStore { try await store.createResearchArea(area) }
        return area
    }

    public func researchAreas() async throws -> [ResearchArea] { try await store.researchAreas() }

    public func addAreaReviewer(areaID: RecordID, userID: RecordID, by actor: CreditsActor) async throws {
        guard actor.isAdmin else { throw CreditsError.forbidden("Only an administrator may name reviewers.") }
        guard try await store.researchAreas().contains(where: { $0.id == areaID }) else { throw CreditsError.notFound("Research area not found.") }
        guard try await store.user(id: userID) != nil else { throw CreditsError.notFound("User not found.") }
        try await store.addAreaReviewer(areaID: areaID, userID: userID)
    }

    /// Anyone signed in may open a project in an existing area; they become its lead.
    public func createProject(name: String, researchAreaID: RecordID, policy: PeriodEndPolicy = .expire,
                              by actor: CreditsActor) async throws -> Project {
        guard try await store.researchAreas().contains(where: { $0.id == researchAreaID }) else {
            throw CreditsError.invalid("'research_area_id' names no research area.")
        }
        let project = Project(name: try Self.name(name, "name"), researchAreaID: researchAreaID, leadID: actor.userID,
                              periodEndPolicy: policy, createdAt: clock())
        try await mapStore { try await store.createProject(project) }
        return project
    }

    public func project(_ id: RecordID) async throws -> Project {
        guard let project = try await store.project(id: id) else { throw CreditsError.notFound("Project not found.") }
        return project
    }

    /// Finds a user by id or by sign-in name.
    public func user(_ reference: String) async throws -> User {
        let trimmed = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        if let user = try await store.user(id: trimmed) { return user }
        if let user = try await store.user(email: trimmed) { return user }
        throw CreditsError.notFound("No user '\(trimmed)'.")
    }

    public func addMember(projectID: RecordID, user reference: String, role: ProjectRole = .member,
                          by actor: CreditsActor) async throws -> ProjectMember {
        let facts = try await self.facts(projectID)
        guard facts.isLead(actor.userID) || actor.isAdmin else {
            throw CreditsError.forbidden("Only the project's lead or an administrator may add members.")
        }
        let user = try await self.user(reference)
        let member = ProjectMember(projectID: projectID, userID: user.id, role: role)
        try await store.setProjectMember(member)
        return member
    }

    public func facts(_ projectID: RecordID) async throws -> AllocationWorkflow.ProjectFacts {
        let project = try await self.project(projectID)
        return AllocationWorkflow.ProjectFacts(project: project, members: try await store.projectMembers(projectID: projectID),
                                               areaReviewers: try await store.areaReviewers(areaID: project.researchAreaID))
    }

    /// Members see their project; so do admins and the area's reviewers.
    public func checkCanView(_ facts: AllocationWorkflow.ProjectFacts, _ actor: CreditsActor) throws {
        guard actor.isAdmin || facts.isMember(actor.userID) || facts.areaReviewers.contains(actor.userID) else {
            throw CreditsError.forbidden("Only the project's members, its area's reviewers and administrators may see this.")
        }
    }

    /// The projects the actor belongs to, and (for reviewers and admins) those they review.
    public func visibleProjects(_ actor: CreditsActor) async throws -> [Project] {
        let all = try await store.projects()
        if actor.isAdmin { return all }
        let mine = Set(try await store.memberships(userID: actor.userID).map(\.projectID))
        var reviewed = Set<RecordID>()
        for area in try await store.researchAreas() {
            if try await store.areaReviewers(areaID: area.id).contains(actor.userID) { reviewed.insert(area.id) }
        }
        return all.filter { mine.contains($0.id) || reviewed.contains($0.researchAreaID) }
    }

    // MARK: Prices

    public func setPrice(unit: PriceUnit, model: String, credits: Double, effectiveFrom: Date?,
                         by actor: CreditsActor) async throws -> Price {
        guard actor.isAdmin else { throw CreditsError.forbidden("Only an administrator may set prices.") }
        let price = Price(unit: unit, model: model.trimmingCharacters(in: .whitespaces), microCredits: try CreditAmount.micro(credits: credits),
                          effectiveFrom: effectiveFrom ?? clock(), setBy: actor.userID.isEmpty ? nil : actor.userID)
        try await store.addPrice(price)
        return price
    }

    public func priceBook() async throws -> PriceBook { PriceBook(try await store.prices()) }

    // MARK: Allocation requests

    public func submitRequest(projectID: RecordID, kind: CreditRequestKind = .initial, amount: Int64,
                              periodStart: Date? = nil, periodEnd: Date? = nil, justification: String,
                              expectedOutcome: String = "", by actor: CreditsActor) async throws -> CreditRequest {
        let facts = try await self.facts(projectID)
        let now = clock()
        let granted = try await store.creditRequests(projectID: projectID).filter { ($0.granted ?? 0) > 0 }
        var start = periodStart ?? now, end = periodEnd
        switch kind {
        case .initial:
            break
        case .supplement:
            // More credits for the period running now.
            guard let current = granted.last(where: { $0.periodStart <= now && now < $0.periodEnd }) else {
                throw CreditsError.invalid("A supplement adds to a granted allocation whose period is running; this project has none.")
            }
            start = current.periodStart
            end = current.periodEnd
        case .renewal:
            // The next period, after the latest granted one.
            guard let last = granted.max(by: { $0.periodEnd < $1.periodEnd }) else {
                throw CreditsError.invalid("A renewal continues a granted allocation; this project has none yet.")
            }
            start = periodStart ?? last.periodEnd
            end = periodEnd ?? start.addingTimeInterval(last.periodEnd.timeIntervalSince(last.periodStart))
        }
        let transition = try AllocationWorkflow.submit(projectFacts: facts, by: actor, kind: kind, amount: amount,
                                                       periodStart: start, periodEnd: end ?? start.addingTimeInterval(Self.defaultPeriod),
                                                       justification: justification, expectedOutcome: expectedOutcome, now: now)
        try await store.createCreditRequest(transition.request, event: transition.event)
        return transition.request.normalizedForStore
    }

    public func request(_ id: RecordID) async throws -> CreditRequest {
        guard let request = try await store.creditRequest(id: id) else { throw CreditsError.notFound("Credit request not found.") }
        return request
    }

    public func decide(requestID: RecordID, decision: CreditDecision, amount: Int64?, reason: String?,
                       by actor: CreditsActor) async throws -> CreditRequest {
        let request = try await self.request(requestID)
        let facts = try await self.facts(request.projectID)
        let transition = try AllocationWorkflow.decide(request, projectFacts: facts, by: actor, decision: decision,
                                                       amount: amount, reason: reason, now: clock())
        let grant = transition.grant.map {
            CreditLedger.grant(projectID: request.projectID, amount: $0, requestID: request.id, eventAt: transition.event.at)
        }
        guard try await store.transitionCreditRequest(transition.request, expected: request.status, event: transition.event,
                                                      grant: grant) else {
            throw CreditsError.conflict("The request changed while you decided; reload it.")
        }
        if grant != nil { try await refreshShares() }
        return transition.request
    }

    public func appeal(requestID: RecordID, reason: String?, by actor: CreditsActor) async throws -> CreditRequest {
        let request = try await self.request(requestID)
        let facts = try await self.facts(request.projectID)
        let transition = try AllocationWorkflow.appeal(request, projectFacts: facts, by: actor, reason: reason, now: clock())
        guard try await store.transitionCreditRequest(transition.request, expected: request.status, event: transition.event,
                                                      grant: nil) else {
            throw CreditsError.conflict("The request changed meanwhile; reload it.")
        }
        return transition.request
    }

    /// The requests the actor may see: all for admins, their areas' for reviewers, their projects' for members.
    public func requests(visibleTo actor: CreditsActor) async throws -> [CreditRequest] {
        let projects = Set(try await visibleProjects(actor).map(\.id))
        return try await store.creditRequests(projectID: nil).filter { projects.contains($0.projectID) }
    }

    /// Pending requests the actor may decide.
    public func reviewQueue(_ actor: CreditsActor) async throws -> [CreditRequest] {
        var out: [CreditRequest] = []
        var factsByProject: [RecordID: AllocationWorkflow.ProjectFacts] = [:]
        for request in try await store.creditRequests(projectID: nil) where request.status == .pending {
            if factsByProject[request.projectID] == nil { factsByProject[request.projectID] = try await facts(request.projectID) }
            guard let facts = factsByProject[request.projectID] else { continue }
            if AllocationWorkflow.mayReview(facts, actor), !request.excludedReviewers.contains(actor.userID) { out.append(request) }
        }
        return out
    }

    // MARK: Balances and period end

    public func balance(projectID: RecordID, by actor: CreditsActor) async throws -> ProjectBalance {
        try checkCanView(try await facts(projectID), actor)
        return try await ledger.balance(projectID: projectID)
    }

    /// Ends the periods that are over at `now`: under `expire`, the project's available credits beyond what its
    /// still-running grants gave expire (once per ended period); under `rollover` they stay. Returns the
    /// micro-credits expired per project.
    @discardableResult
    public func closeEndedPeriods(now: Date? = nil) async throws -> [RecordID: Int64] {
        let now = now ?? clock()
        var expired: [RecordID: Int64] = [:]
        for project in try await store.projects() where project.periodEndPolicy == .expire {
            let granted = try await store.creditRequests(projectID: project.id).filter { ($0.granted ?? 0) > 0 }
            guard let ended = granted.filter({ $0.periodEnd <= now }).max(by: { $0.periodEnd < $1.periodEnd }) else { continue }
            let stillRunning = granted.filter { $0.periodEnd > now }.reduce(Int64(0)) { $0 + ($1.granted ?? 0) }
            let balance = try await ledger.balance(projectID: project.id)
            let amount = balance.remaining - stillRunning
            let key = "\(Int64(ended.periodEnd.timeIntervalSince1970 * 1000))"
            if amount > 0, try await ledger.expire(projectID: project.id, amount: amount, key: key, now: now) {
                expired[project.id] = amount
            }
        }
        return expired
    }

    // MARK: Fair share

    /// Gives the fair-share tracker each project's share of what is granted now.
    public func refreshShares() async throws {
        var granted: [RecordID: Int64] = [:]
        for project in try await store.projects() {
            granted[project.id] = try await ledger.balance(projectID: project.id).granted
        }
        fairShare.setGranted(granted)
    }

    // MARK: Helpers

    static func name(_ raw: String, _ field: String) throws -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw CreditsError.invalid("'\(field)' is required.") }
        guard trimmed.count <= 200 else { throw CreditsError.invalid("'\(field)' is at most 200 characters.") }
        return trimmed
    }

    /// A name taken is a conflict the caller can act on.
    func mapStore<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch StoreError.conflict {
            throw CreditsError.conflict("That name is taken.")
        }
    }
}

extension CreditRequest {
    /// Times rounded to the millisecond, as a later read returns them.
    var normalizedForStore: CreditRequest {
        func r(_ d: Date) -> Date { Date(timeIntervalSince1970: (d.timeIntervalSince1970 * 1000).rounded() / 1000) }
        var copy = self
        copy.periodStart = r(periodStart); copy.periodEnd = r(periodEnd); copy.createdAt = r(createdAt)
        copy.decidedAt = decidedAt.map(r)
        return copy
    }
}
