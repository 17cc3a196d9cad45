import Foundation
import ParleyTokenizer
import ParleyWellbeing

/// What the wellbeing assessor said about the user turn a reply answers, when it asks for more than an ordinary
/// reply: the policy's guidance (a system instruction for this generation only) and what the client is told
/// (category, severity, action and, for actions that show the resource card, the crisis lines for the user's
/// locale). Carries names, numbers and the deployment's resource data only, never the conversation's text.
struct WellbeingNotice: Sendable {
    let assessment: Assessment
    let guidance: String
    let resources: [CrisisResource]
    /// The policy's honest word to the user when this turn opened a human-review case (chat app only).
    var reviewNotice: String? = nil

    /// The assessor shared with `/v1/moderations`.
    static var assessor: WellbeingAssessor { Moderations.assessor }
    static let resourceSet = CrisisResources.builtIn

    /// Assesses the last user turn of `turns` (earlier ones are context); nil when the action is `none`.
    static func assess(_ turns: [ChatTurn], acceptLanguage: String?, assessor: WellbeingAssessor = WellbeingNotice.assessor,
                       usage: UsagePattern? = nil) -> WellbeingNotice? {
        let a = assessor.assess(turns, usage: usage)
        guard a.action != .none else { return nil }
        let policy = assessor.policy
        let guidance = (policy.guidance[a.action] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let resources = policy.showsResourceCard(for: a.action)
            ? resourceSet.card(forLocale: locale(fromAcceptLanguage: acceptLanguage)) : []
        return WellbeingNotice(assessment: a, guidance: guidance, resources: resources)
    }

    /// The preferred language tag of an `Accept-Language` header (highest q, first on ties); "" when absent or
    /// `*`, which gives the international entries only.
    static func locale(fromAcceptLanguage header: String?) -> String {
        guard let header else { return "" }
        var best: (tag: String, q: Double)?
        for part in header.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = fields.first, !tag.isEmpty, tag != "*" else { continue }
            var q = 1.0
            for f in fields.dropFirst() where f.lowercased().hasPrefix("q=") { q = Double(f.dropFirst(2)) ?? 0 }
            guard q > 0 else { continue }
            if best == nil || q > best!.q { best = (tag, q) }
        }
        return best?.tag ?? ""
    }

    /// How one line is reached, in words: "Call 988 · Text 988 · https://988lifeline.org/".
    static func contact(_ r: CrisisResource) -> String {
        var parts: [String] = []
        if let p = r.phone { parts.append("Call \(p)") }
        if let t = r.text { parts.append(t.allSatisfy({ $0.isNumber || $0 == " " }) ? "Text \(t)" : t) }
        if let u = r.url { parts.append(u) }
        return parts.joined(separator: " · ")
    }

    /// `{"category","severity","action","resources":[…]}`: the `wellbeing` event and the `parley_wellbeing` field.
    var json: TemplateValue {
        var fields: [(String, TemplateValue)] = [
            ("category", .string(assessment.category.rawValue)), ("severity", .int(assessment.severity)),
            ("action", .string(assessment.action.rawValue)),
            ("resources", .array(resources.map { r -> TemplateValue in
                .obj([("name", .string(r.name)), ("contact", .string(Self.contact(r))), ("phone", .str(r.phone)),
                      ("text", .str(r.text)), ("url", .str(r.url)), ("hours", .str(r.hours)),
                      ("emergency", .str(r.emergency)), ("source", .string(r.source))])
            })),
        ]
        if let reviewNotice { fields.append(("review_notice", .string(reviewNotice))) }
        return .obj(fields)
    }

    /// The `X-Parley-Wellbeing` header value.
    var header: String {
        "category=\(assessment.category.rawValue); severity=\(assessment.severity); action=\(assessment.action.rawValue)"
    }
}
