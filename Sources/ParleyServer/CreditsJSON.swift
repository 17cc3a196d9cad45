import Foundation
import ParleyCredits
import ParleyStore
import ParleyTokenizer

/// Credits records as `/api` shows them: snake_case, amounts as decimal credits, times in ISO 8601.
enum CreditsJSON {
    static func credits(_ micro: Int64) -> TemplateValue {
        micro % CreditAmount.microPerCredit == 0 ? .int(Int(micro / CreditAmount.microPerCredit)) : .double(CreditAmount.credits(micro))
    }

    static func credits(_ micro: Int64?) -> TemplateValue { micro.map { credits($0) } ?? .none }

    static func area(_ a: ResearchArea, reviewers: [RecordID]) -> TemplateValue {
        .obj([("id", .string(a.id)), ("name", .string(a.name)), ("reviewers", .array(reviewers.map { .string($0) })),
              ("created_at", .time(a.createdAt))])
    }

    static func project(_ p: Project, extra: [(String, TemplateValue)] = []) -> TemplateValue {
        .obj([("id", .string(p.id)), ("name", .string(p.name)), ("research_area_id", .string(p.researchAreaID)),
              ("lead_id", .string(p.leadID)), ("period_end_policy", .string(p.periodEndPolicy.rawValue)),
              ("created_at", .time(p.createdAt))] + extra)
    }

    static func balance(_ b: ProjectBalance) -> TemplateValue {
        .obj([("granted", credits(b.granted)), ("used", credits(b.used)), ("remaining", credits(b.remaining)),
              ("held", credits(b.held)), ("expired", credits(b.expired))])
    }

    static func request(_ r: CreditRequest, extra: [(String, TemplateValue)] = []) -> TemplateValue {
        let waited = (r.decidedAt ?? Date()).timeIntervalSince(r.createdAt)
        return .obj([("id", .string(r.id)), ("project_id", .string(r.projectID)), ("kind", .string(r.kind.rawValue)),
                      ("status", .string(r.status.rawValue)), ("amount", credits(r.amount)), ("granted", credits(r.granted)),
                      ("period_start", .time(r.periodStart)), ("period_end", .time(r.periodEnd)),
                      ("justification", .string(r.justification)), ("expected_outcome", .string(r.expectedOutcome)),
                      ("requested_by", .string(r.requestedBy)), ("created_at", .time(r.createdAt)),
                      ("decided_at", .time(r.decidedAt)), ("decided_by", .str(r.decidedBy)), ("reason", .str(r.reason)),
                      ("waited_seconds", .double(max(0, waited.rounded())))] + extra)
    }

    static func event(_ e: CreditRequestEvent) -> TemplateValue {
        .obj([("action", .string(e.action)), ("actor_id", .string(e.actorID)), ("from_status", .str(e.fromStatus?.rawValue)),
              ("to_status", .string(e.toStatus.rawValue)), ("amount", credits(e.amount)), ("reason", .str(e.reason)),
              ("at", .time(e.at))])
    }

    static func price(_ p: Price) -> TemplateValue {
        .obj([("id", .string(p.id)), ("unit", .string(p.unit.rawValue)), ("model", .string(p.model)),
              ("credits", credits(p.microCredits)), ("effective_from", .time(p.effectiveFrom)), ("set_by", .str(p.setBy))])
    }

    static func alert(_ a: CreditAlert) -> TemplateValue {
        .obj([("project_id", .string(a.projectID)), ("threshold", .int(a.threshold)), ("granted", credits(a.grantedLevel)),
              ("message", .string(a.message)), ("created_at", .time(a.createdAt))])
    }

    static func report(_ r: PortfolioReport) -> TemplateValue {
        .obj([("from", .time(r.from)), ("to", .time(r.to)), ("fairness_ratio", .double(r.fairnessRatio)),
              ("rows", .array(r.rows.map { row in
                  .obj([("research_area", .string(row.researchArea)), ("research_area_id", .string(row.researchAreaID)),
                        ("requested", credits(row.requested)), ("granted", credits(row.granted)),
                        ("approval_rate", .dbl(row.approvalRate)), ("used", credits(row.used)),
                        ("requests", .int(row.requests)), ("decided", .int(row.decided)),
                        ("median_hours_to_decision", .dbl(row.medianSecondsToDecision.map { $0 / 3600 })),
                        ("requested_share", .double(row.requestedShare)), ("granted_share", .double(row.grantedShare)),
                        ("underfunded", .bool(row.underfunded)),
                        ("top_projects", .array(row.topProjects.map {
                            .obj([("project_id", .string($0.projectID)), ("name", .string($0.name)), ("used", credits($0.used))])
                        }))])
              }))])
    }
}
