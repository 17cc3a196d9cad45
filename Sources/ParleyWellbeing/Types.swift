import Foundation

/// What a user turn is about, from the wellbeing point of view. Raw values are the wire names.
public enum WellbeingCategory: String, Codable, CaseIterable, Sendable {
    case selfHarmAcute = "self_harm_acute"
    case selfHarmIdeation = "self_harm_ideation"
    case psychosisMania = "psychosis_mania"
    case emotionalReliance = "emotional_reliance"
    case distressOther = "distress_other"
    case none

    /// The risk categories, most urgent first: when several fire, the first one wins.
    public static let riskOrder: [WellbeingCategory] = [
        .selfHarmAcute, .selfHarmIdeation, .psychosisMania, .emotionalReliance, .distressOther,
    ]

    public var isRisk: Bool { self != .none }
}

/// How the assistant's reply should be steered. Raw values are the wire names.
public enum WellbeingAction: String, Codable, CaseIterable, Sendable {
    case crisisSupport = "crisis_support"
    case gentleCheckIn = "gentle_check_in"
    case groundAndRealityCheck = "ground_and_reality_check"
    case encourageHumanConnection = "encourage_human_connection"
    case none
}

/// One message of a conversation, as the chat API carries it.
public struct ChatTurn: Codable, Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// How someone has been using the assistant lately, computed by the server from session metadata (never text).
public struct UsagePattern: Codable, Sendable, Equatable {
    /// Average hours of active chat per day over the recent window (e.g. 7 days).
    public var hoursPerDay: Double
    /// Share of that time spent in the policy's late-night hours, 0...1.
    public var lateNightShare: Double
    /// Turns across recent sessions whose assessment carried an exclusivity signal ("you're all I need").
    public var exclusivityMentions: Int

    public init(hoursPerDay: Double, lateNightShare: Double, exclusivityMentions: Int = 0) {
        self.hoursPerDay = hoursPerDay
        self.lateNightShare = lateNightShare
        self.exclusivityMentions = exclusivityMentions
    }
}

/// The verdict on one user turn. Carries names and numbers only: never any of the conversation's text.
public struct Assessment: Codable, Sendable, Equatable {
    public var category: WellbeingCategory
    /// 0 (nothing) ... 3 (imminent danger).
    public var severity: Int
    public var action: WellbeingAction
    /// Why: names of the rules that fired (e.g. `en.acute.method_plan`, `context.escalation`), sorted, unique.
    public var signals: [String]
    /// True when the policy sends this severity to the human-review queue.
    public var needsHumanReview: Bool
    /// The language pack(s) whose patterns matched, or the detected script (`en`, `zh`).
    public var language: String

    public init(category: WellbeingCategory, severity: Int, action: WellbeingAction, signals: [String],
                needsHumanReview: Bool, language: String) {
        self.category = category
        self.severity = severity
        self.action = action
        self.signals = signals
        self.needsHumanReview = needsHumanReview
        self.language = language
    }
}
