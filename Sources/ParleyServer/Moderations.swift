import Foundation
import Hummingbird
import ParleyTokenizer
import ParleyWellbeing

/// `POST /v1/moderations`: OpenAI's moderation shape, answered by the wellbeing assessor, so that a gateway in
/// front of other models can use Parley as its self-harm check.
///
/// Only the self-harm categories are assessed; every other OpenAI category is reported false with score 0 (not
/// judged here). Each result also carries `parley_wellbeing`: the assessor's category, severity, action and signals.
enum Moderations {
    /// The assessor of the policy in force (reloaded with its file).
    static var assessor: WellbeingAssessor { WellbeingPolicies.current.assessor }

    /// OpenAI's category names, in its order.
    static let categories = [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
        "violence/graphic",
    ]

    static func respond(_ f: RequestFields) throws -> Response {
        let texts: [String]
        switch f.value("input") {
        case nil:
            throw OpenAIError.invalid("input", "'input' is required.", code: "missing_required_parameter")
        case .string(let s)?:
            texts = [s]
        case .array(let items)? where !items.isEmpty && items.count <= 256:
            texts = try items.enumerated().map { i, item in
                switch item {
                case .string(let s): return s
                case .object(let parts):
                    // Multi-modal input: text parts are judged; other parts are not.
                    guard parts["type"]?.stringValue == "text", let s = parts["text"]?.stringValue else {
                        throw OpenAIError.invalid("input[\(i)]", "Only text inputs are supported.")
                    }
                    return s
                default:
                    throw OpenAIError.invalid("input[\(i)]", "'input[\(i)]' must be a string.", code: "invalid_type")
                }
            }
        default:
            throw OpenAIError.invalid("input", "'input' must be a string or an array of 1 to 256 strings.",
                                      code: "invalid_type")
        }
        let model = try f.string("model") ?? "parley-wellbeing"
        let results: [TemplateValue] = texts.map { text in
            let a = assessor.assess(text: text)
            let acute = a.category == .selfHarmAcute
            let selfHarm = acute || a.category == .selfHarmIdeation
            let score = selfHarm ? Double(max(1, a.severity)) / 3 : 0
            let flags: [String: Bool] = ["self-harm": selfHarm, "self-harm/intent": acute]
            let scores: [String: Double] = ["self-harm": score, "self-harm/intent": acute ? score : 0]
            return .obj([
                ("flagged", .bool(selfHarm)),
                ("categories", .obj(categories.map { ($0, .bool(flags[$0] ?? false)) })),
                ("category_scores", .obj(categories.map { ($0, .double(scores[$0] ?? 0)) })),
                ("category_applied_input_types", .obj(categories.map { ($0, .array(["text"])) })),
                ("parley_wellbeing", .obj([
                    ("category", .string(a.category.rawValue)), ("severity", .int(a.severity)),
                    ("action", .string(a.action.rawValue)), ("signals", .array(a.signals.map { .string($0) })),
                ])),
            ])
        }
        return ParleyAPI.json(.obj([("id", .string(makeID("modr-"))), ("model", .string(model)),
                                    ("results", .array(results))]))
    }
}
