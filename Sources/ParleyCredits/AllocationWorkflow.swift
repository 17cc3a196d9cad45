import Foundation
import ParleyStore

/// Who is acting, and what they are to the project in question.
public struct CreditsActor: Sendable, Equatable {
    public var userID: RecordID
    public var isAdmin: Bool

    public init(userID: RecordID, isAdmin: Bool) { self.userID = userID; self.isAdmin = isAdmin }
}

/// What a reviewer decides.
public enum CreditDecision: String, Sendable, CaseIterable {
    /// The full amount asked for.
    case approve
    /// Part of it (an amount below the request's); a reason is required.
    case partial
    /// Nothing; a reason is required.
    case deny
}

/// The allocation-request state machine, free of storage: each transition checks who acts and what it needs and
/// returns the updated request with its audit event (and, for a grant, the amount to credit). Statuses:
///
///     pending ──approve──▶ approved
///        │ └───partial──▶ partial
///        └─────deny─────▶ denied ──appeal──▶ pending (for a different reviewer)
///
/// Nobody decides on a request of a project they belong to; reviewers are admins and the reviewers of the
/// project's research area; a reviewer who decided a request before an appeal may not decide it again.
public enum AllocationWorkflow {
    public struct Transition: Sendable, Equatable {
        public var request: CreditRequest
        public var event: CreditRequestEvent
        /// Micro-credits to credit the project with, when the transition grants any.
        public var grant: Int64?
    }

    /// The facts about the project a transition needs.
    public struct ProjectFacts: Sendable {
        public var project: Project
        public var members: [ProjectMember]
        public var areaReviewers: [RecordID]

        public init(project: Project, members: [ProjectMember], areaReviewers: [RecordID]) {
            self.project = project; self.members = members; self.areaReviewers = areaReviewers
        }

        func isMember(_ user: RecordID) -> Bool { members.contains { $0.userID == user } || project.leadID == user }
        func isLead(_ user: RecordID) -> Bool {
            project.leadID == user || members.contains { $0.userID == user && $0.role == .lead }
        }
    }

    public static let maxTextLength = 10_000

    /// A new request by the project's lead (or an admin).
    public static func submit(projectFacts facts: ProjectFacts, by actor: CreditsActor, kind: CreditRequestKind,
                              amount: Int64, periodStart: Date, periodEnd: Date, justification: String,
                              expectedOutcome: String, now: Date) throws -> Transition {
        guard facts.isLead(actor.userID) || actor.isAdmin else {
            throw CreditsError.forbidden("Only the project's lead may request credits for it.")
        }
        guard amount > 0 else { throw CreditsError.invalid("'amount' must be more than 0 credits.") }
        let justification = justification.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !justification.isEmpty else { throw CreditsError.invalid("'justification' is required.") }
        guard justification.count <= maxTextLength, expectedOutcome.count <= maxTextLength else {
            throw CreditsError.invalid("'justification' and 'expected_outcome' are at most \(maxTextLength) characters.")
        }
        guard periodEnd > periodStart else { throw CreditsError.invalid("The period must end after it starts.") }
        let request = CreditRequest(projectID: facts.project.id, kind: kind, amount: amount, periodStart: periodStart,
                                    periodEnd: periodEnd, justification: justification,
                                    expectedOutcome: expectedOutcome.trimmingCharacters(in: .whitespacesAndNewlines),
                                    status: .pending, requestedBy: actor.userID, createdAt: now)
        let event = CreditRequestEvent(requestID: request.id, actorID: actor.userID, action: "submit", fromStatus: nil,
                                       toStatus: .pending, amount: amount, reason: nil, at: now)
        return Transition(request: request, event: event, grant: nil)
    }

    /// Whether `actor` may review requests of this project at all (before looking at a particular request).
    public static func mayReview(_ facts: ProjectFacts, _ actor: CreditsActor) -> Bool {
        (actor.isAdmin || facts.areaReviewers.contains(actor.userID)) && !facts.isMember(actor.userID)
    }

    public static func decide(_ request: CreditRequest, projectFacts facts: ProjectFacts, by actor: CreditsActor,
                              decision: CreditDecision, amount: Int64?, reason: String?, now: Date) throws -> Transition {
        guard actor.isAdmin || facts.areaReviewers.contains(actor.userID) else {
            throw CreditsError.forbidden("Only an administrator or a reviewer of this research area may decide requests.")
        }
        guard !facts.isMember(actor.userID) else {
            throw CreditsError.forbidden("Nobody decides on a request of their own project.")
        }
        guard !request.excludedReviewers.contains(actor.userID) else {
            throw CreditsError.forbidden("This request was appealed against your decision; a different reviewer decides it.")
        }
        guard request.status == .pending else {
            throw CreditsError.conflict("The request is \(request.status.rawValue), not pending.")
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        if let reason, reason.count > maxTextLength {
            throw CreditsError.invalid("'reason' is at most \(maxTextLength) characters.")
        }
        var updated = request
        let granted: Int64
        switch decision {
        case .approve:
            if let amount, amount != request.amount {
                throw CreditsError.invalid("'approve' grants the full amount asked for; use 'partial' for another amount.")
            }
            granted = request.amount
            updated.status = .approved
        case .partial:
            guard let amount else { throw CreditsError.invalid("'partial' needs the 'amount' granted.") }
            guard amount > 0, amount < request.amount else {
                throw CreditsError.invalid("A partial grant is more than 0 and less than the \(CreditAmount.text(request.amount)) credits asked for.")
            }
            guard reason != nil else { throw CreditsError.invalid("A reason is required unless the request is approved in full.") }
            granted = amount
            updated.status = .partial
        case .deny:
            guard reason != nil else { throw CreditsError.invalid("A reason is required unless the request is approved in full.") }
            granted = 0
            updated.status = .denied
        }
        updated.granted = granted
        updated.decidedAt = now
        updated.decidedBy = actor.userID
        updated.reason = reason
        let event = CreditRequestEvent(requestID: request.id, actorID: actor.userID, action: decision.rawValue,
                                       fromStatus: request.status, toStatus: updated.status, amount: granted,
                                       reason: reason, at: now)
        return Transition(request: updated, event: event, grant: granted > 0 ? granted : nil)
    }

    /// The lead contests a denial: the request is pending again, and whoever denied it may not decide it again.
    public static func appeal(_ request: CreditRequest, projectFacts facts: ProjectFacts, by actor: CreditsActor,
                              reason: String?, now: Date) throws -> Transition {
        guard facts.isLead(actor.userID) else { throw CreditsError.forbidden("Only the project's lead may appeal.") }
        guard request.status == .denied else {
            throw CreditsError.conflict("Only a denied request can be appealed; this one is \(request.status.rawValue).")
        }
        guard let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty else {
            throw CreditsError.invalid("An appeal needs a reason.")
        }
        var updated = request
        updated.status = .pending
        if let reviewer = request.decidedBy, !updated.excludedReviewers.contains(reviewer) {
            updated.excludedReviewers.append(reviewer)
        }
        updated.granted = nil
        updated.decidedAt = nil
        updated.decidedBy = nil
        updated.reason = nil
        let event = CreditRequestEvent(requestID: request.id, actorID: actor.userID, action: "appeal",
                                       fromStatus: .denied, toStatus: .pending, amount: nil, reason: reason, at: now)
        return Transition(request: updated, event: event, grant: nil)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
