import Foundation

/// The wellbeing policy: which action each category gets, thresholds, human review, break reminders, reliance
/// limits and the reply guidance per action. Loaded from JSON (`WellbeingPolicy.parse`), validated strictly:
/// unknown keys, wrong types and out-of-range values are errors naming the exact path.
public struct WellbeingPolicy: Sendable, Equatable {
    public struct Escalation: Sendable, Equatable {
        public var category: WellbeingCategory
        public var minSeverity: Int
        public var action: WellbeingAction
    }
    public struct BreakReminders: Sendable, Equatable {
        public var enabled: Bool
        /// A session is continuous while no gap between messages exceeds this.
        public var sessionGapMinutes: Double
        /// Remind after this long in one continuous session.
        public var continuousMinutes: Double
        /// Late night is [startHour, endHour) local time, wrapping midnight when start > end.
        public var lateNightStartHour: Int
        public var lateNightEndHour: Int
        /// Remind after this many minutes of the current session fell in late night.
        public var lateNightMinutes: Double
        /// No second reminder within this many minutes of the last one.
        public var repeatAfterMinutes: Double
    }
    public struct Reliance: Sendable, Equatable {
        public var hoursPerDay: Double
        public var lateNightShare: Double
        public var exclusivityMentions: Int
    }
    /// What happens around the human-review queue (severity ≥ `humanReviewMinSeverity`).
    public struct HumanReview: Sendable, Equatable {
        /// Told to the user, honestly, when their message opens a review case.
        public var userMessage: String
        /// An operator endpoint that gets a POST (no message text) for each new case; nil: none.
        public var webhookURL: URL?
    }

    public var version: Int
    public var actions: [WellbeingCategory: WellbeingAction]
    public var escalations: [Escalation]
    public var thresholds: [WellbeingCategory: Double]
    public var humanReviewMinSeverity: Int
    public var resourceCardActions: Set<WellbeingAction>
    public var breakReminders: BreakReminders
    public var reliance: Reliance
    public var guidance: [WellbeingAction: String]
    /// Whether the trained model may act where no pattern fired, and an optional override of its threshold.
    public var modelEnabled: Bool
    public var modelThreshold: Double?
    /// Days stored assessment records (and the review cases made from them) are kept before the purge job
    /// deletes them.
    public var retentionDays: Int
    public var humanReview: HumanReview

    public func threshold(for category: WellbeingCategory) -> Double { thresholds[category] ?? 1.0 }

    public func action(for category: WellbeingCategory, severity: Int) -> WellbeingAction {
        guard category != .none else { return .none }
        for e in escalations where e.category == category && severity >= e.minSeverity { return e.action }
        return actions[category] ?? .none
    }

    /// Whether replies with this action carry the crisis resource card.
    public func showsResourceCard(for action: WellbeingAction) -> Bool { resourceCardActions.contains(action) }

    /// The policy built into the binary (`DefaultPolicy.json` text below); always valid.
    public static let `default`: WellbeingPolicy = {
        do { return try parse(Data(defaultJSON.utf8)) } catch { preconditionFailure("built-in wellbeing policy invalid: \(error)") }
    }()

    public static let defaultJSON = #"""
    {
      "version": 1,
      "actions": {
        "self_harm_acute": "crisis_support",
        "self_harm_ideation": "gentle_check_in",
        "psychosis_mania": "ground_and_reality_check",
        "emotional_reliance": "encourage_human_connection",
        "distress_other": "gentle_check_in"
      },
      "escalations": [
        {"category": "self_harm_ideation", "minSeverity": 3, "action": "crisis_support"},
        {"category": "psychosis_mania", "minSeverity": 3, "action": "crisis_support"}
      ],
      "thresholds": {
        "self_harm_acute": 1.0,
        "self_harm_ideation": 0.8,
        "psychosis_mania": 0.8,
        "emotional_reliance": 0.8,
        "distress_other": 0.7
      },
      "humanReviewMinSeverity": 3,
      "humanReview": {
        "userMessage": "Because of what you wrote, a trained person on this service's team may look at a record of this conversation's risk level (not your words) to check whether more support is needed. They will not contact anyone without a serious reason. If you are in danger now, please call the crisis line shown or your local emergency number."
      },
      "records": {"retentionDays": 90},
      "model": {"enabled": true},
      "resourceCardActions": ["crisis_support"],
      "breakReminders": {
        "enabled": true,
        "sessionGapMinutes": 30,
        "continuousMinutes": 120,
        "lateNightStartHour": 0,
        "lateNightEndHour": 5,
        "lateNightMinutes": 45,
        "repeatAfterMinutes": 60
      },
      "reliance": {
        "hoursPerDay": 4,
        "lateNightShare": 0.4,
        "exclusivityMentions": 3
      },
      "guidance": {
        "crisis_support": "The user may be in immediate danger. Stay with them: respond with warmth and without judgement, take what they said seriously, ask whether they are safe right now, encourage them to reach a real person now (someone nearby, a crisis line, emergency services) and offer the resources shown. Never give method or dose information.",
        "gentle_check_in": "The user may be struggling. Acknowledge the feeling, ask gently how they are doing and whether they have thoughts of harming themselves, and mention that talking to someone they trust or a professional can help. Do not lecture.",
        "ground_and_reality_check": "The user describes experiences that may not be shared reality. Respond calmly and kindly; do not confirm or elaborate on the beliefs, and do not argue. Focus on how they feel, on sleep and safety, and encourage contact with a doctor or someone they trust.",
        "encourage_human_connection": "The user leans on the assistant for companionship. Be warm, but do not encourage exclusivity or claim feelings; gently encourage time with people in their life and other sources of support.",
        "none": ""
      }
    }
    """#

    /// Parses and validates a policy document.
    public static func parse(_ data: Data) throws -> WellbeingPolicy {
        let object: JSONValue
        do { object = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PolicyError(path: "policy", message: "not valid JSON")
        }
        let v = Validator()
        let root = try v.object(object, "policy", allowed: ["version", "actions", "escalations", "thresholds", "humanReviewMinSeverity",
                                                           "resourceCardActions", "breakReminders", "reliance", "guidance", "model",
                                                           "humanReview", "records"],
                                required: ["version", "actions"])
        let version = try v.int(root["version"], "policy.version", range: 1...1)

        let actionsObject = try v.object(root["actions"]!, "policy.actions",
                                         allowed: WellbeingCategory.riskOrder.map(\.rawValue),
                                         required: WellbeingCategory.riskOrder.map(\.rawValue))
        var actions: [WellbeingCategory: WellbeingAction] = [:]
        for c in WellbeingCategory.riskOrder {
            actions[c] = try v.action(actionsObject[c.rawValue], "policy.actions.\(c.rawValue)")
        }

        var escalations: [Escalation] = []
        if let list = root["escalations"] {
            guard case .array(let array) = list else { throw PolicyError(path: "policy.escalations", message: "must be an array") }
            for (i, item) in array.enumerated() {
                let path = "policy.escalations[\(i)]"
                let o = try v.object(item, path, allowed: ["category", "minSeverity", "action"], required: ["category", "minSeverity", "action"])
                escalations.append(Escalation(category: try v.category(o["category"], "\(path).category"),
                                              minSeverity: try v.int(o["minSeverity"], "\(path).minSeverity", range: 0...3),
                                              action: try v.action(o["action"], "\(path).action")))
            }
        }

        var thresholds: [WellbeingCategory: Double] = [:]
        for c in WellbeingCategory.riskOrder { thresholds[c] = 1.0 }
        if let t = root["thresholds"] {
            let o = try v.object(t, "policy.thresholds", allowed: WellbeingCategory.riskOrder.map(\.rawValue), required: [])
            for (k, value) in o {
                thresholds[WellbeingCategory(rawValue: k)!] = try v.number(value, "policy.thresholds.\(k)", range: 0.1...10)
            }
        }

        let review = try root["humanReviewMinSeverity"].map { try v.int($0, "policy.humanReviewMinSeverity", range: 1...4) } ?? 3

        var cardActions: Set<WellbeingAction> = [.crisisSupport]
        if let list = root["resourceCardActions"] {
            guard case .array(let array) = list else { throw PolicyError(path: "policy.resourceCardActions", message: "must be an array of action names") }
            cardActions = Set(try array.enumerated().map { try v.action($1, "policy.resourceCardActions[\($0)]") })
        }

        var breaks = BreakReminders(enabled: true, sessionGapMinutes: 30, continuousMinutes: 120, lateNightStartHour: 0,
                                    lateNightEndHour: 5, lateNightMinutes: 45, repeatAfterMinutes: 60)
        if let b = root["breakReminders"] {
            let p = "policy.breakReminders"
            let o = try v.object(b, p, allowed: ["enabled", "sessionGapMinutes", "continuousMinutes", "lateNightStartHour",
                                                 "lateNightEndHour", "lateNightMinutes", "repeatAfterMinutes"], required: [])
            if let x = o["enabled"] { breaks.enabled = try v.bool(x, "\(p).enabled") }
            if let x = o["sessionGapMinutes"] { breaks.sessionGapMinutes = try v.number(x, "\(p).sessionGapMinutes", range: 1...1440) }
            if let x = o["continuousMinutes"] { breaks.continuousMinutes = try v.number(x, "\(p).continuousMinutes", range: 1...1440) }
            if let x = o["lateNightStartHour"] { breaks.lateNightStartHour = try v.int(x, "\(p).lateNightStartHour", range: 0...23) }
            if let x = o["lateNightEndHour"] { breaks.lateNightEndHour = try v.int(x, "\(p).lateNightEndHour", range: 0...23) }
            if let x = o["lateNightMinutes"] { breaks.lateNightMinutes = try v.number(x, "\(p).lateNightMinutes", range: 1...1440) }
            if let x = o["repeatAfterMinutes"] { breaks.repeatAfterMinutes = try v.number(x, "\(p).repeatAfterMinutes", range: 0...10080) }
            if breaks.lateNightStartHour == breaks.lateNightEndHour {
                throw PolicyError(path: "\(p).lateNightEndHour", message: "must differ from lateNightStartHour (the window would be empty)")
            }
        }

        var reliance = Reliance(hoursPerDay: 4, lateNightShare: 0.4, exclusivityMentions: 3)
        if let r = root["reliance"] {
            let p = "policy.reliance"
            let o = try v.object(r, p, allowed: ["hoursPerDay", "lateNightShare", "exclusivityMentions"], required: [])
            if let x = o["hoursPerDay"] { reliance.hoursPerDay = try v.number(x, "\(p).hoursPerDay", range: 0.1...24) }
            if let x = o["lateNightShare"] { reliance.lateNightShare = try v.number(x, "\(p).lateNightShare", range: 0...1) }
            if let x = o["exclusivityMentions"] { reliance.exclusivityMentions = try v.int(x, "\(p).exclusivityMentions", range: 1...1000) }
        }

        var guidance: [WellbeingAction: String] = [:]
        if let g = root["guidance"] {
            let o = try v.object(g, "policy.guidance", allowed: WellbeingAction.allCases.map(\.rawValue), required: [])
            for (k, value) in o {
                guard case .string(let s) = value else { throw PolicyError(path: "policy.guidance.\(k)", message: "must be a string") }
                guidance[WellbeingAction(rawValue: k)!] = s
            }
        }
        var humanReview = HumanReview(userMessage: "A person on this service's team may review a record of this conversation's risk level (not your words).", webhookURL: nil)
        if let h = root["humanReview"] {
            let p = "policy.humanReview"
            let o = try v.object(h, p, allowed: ["userMessage", "webhookURL"], required: [])
            if let x = o["userMessage"] {
                guard case .string(let s) = x, !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw PolicyError(path: "\(p).userMessage", message: "must be a non-empty string")
                }
                humanReview.userMessage = s
            }
            if let x = o["webhookURL"] { humanReview.webhookURL = try v.httpURL(x, "\(p).webhookURL") }
        }
        var retentionDays = 90
        if let r = root["records"] {
            let o = try v.object(r, "policy.records", allowed: ["retentionDays"], required: [])
            if let x = o["retentionDays"] { retentionDays = try v.int(x, "policy.records.retentionDays", range: 1...3650) }
        }
        var modelEnabled = true
        var modelThreshold: Double?
        if let m = root["model"] {
            let o = try v.object(m, "policy.model", allowed: ["enabled", "threshold"], required: [])
            if let x = o["enabled"] { modelEnabled = try v.bool(x, "policy.model.enabled") }
            if let x = o["threshold"] { modelThreshold = try v.number(x, "policy.model.threshold", range: 0.05...1) }
        }
        return WellbeingPolicy(version: version, actions: actions, escalations: escalations, thresholds: thresholds,
                               humanReviewMinSeverity: review, resourceCardActions: cardActions, breakReminders: breaks,
                               reliance: reliance, guidance: guidance, modelEnabled: modelEnabled, modelThreshold: modelThreshold,
                               retentionDays: retentionDays, humanReview: humanReview)
    }
}

/// A policy document that was rejected: where and why.
public struct PolicyError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public var description: String { "invalid wellbeing policy: \(path): \(message)" }
}

/// A JSON document as values, so validation can tell booleans from numbers and name exact paths.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

private struct Validator {
    func object(_ value: JSONValue, _ path: String, allowed: [String], required: [String]) throws -> [String: JSONValue] {
        guard case .object(let o) = value else { throw PolicyError(path: path, message: "must be an object") }
        let allowedSet = Set(allowed)
        if let unknown = o.keys.sorted().first(where: { !allowedSet.contains($0) }) {
            throw PolicyError(path: "\(path).\(unknown)", message: "unknown key (allowed: \(allowed.joined(separator: ", ")))")
        }
        if let missing = required.first(where: { o[$0] == nil }) {
            throw PolicyError(path: "\(path).\(missing)", message: "required")
        }
        return o
    }

    func number(_ value: JSONValue?, _ path: String, range: ClosedRange<Double>) throws -> Double {
        guard case .number(let d)? = value else { throw PolicyError(path: path, message: "must be a number") }
        guard d.isFinite, range.contains(d) else {
            throw PolicyError(path: path, message: "must be between \(range.lowerBound) and \(range.upperBound) (got \(d))")
        }
        return d
    }

    func int(_ value: JSONValue?, _ path: String, range: ClosedRange<Int>) throws -> Int {
        guard case .number(let d)? = value, d == d.rounded(), abs(d) < 1e9 else { throw PolicyError(path: path, message: "must be an integer") }
        let i = Int(d)
        guard range.contains(i) else { throw PolicyError(path: path, message: "must be between \(range.lowerBound) and \(range.upperBound) (got \(i))") }
        return i
    }

    /// An absolute http(s) URL with a host.
    func httpURL(_ value: JSONValue, _ path: String) throws -> URL {
        guard case .string(let s) = value else { throw PolicyError(path: path, message: "must be a URL string") }
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw PolicyError(path: path, message: "must be an absolute http:// or https:// URL (got \"\(s)\")")
        }
        return url
    }

    func bool(_ value: JSONValue, _ path: String) throws -> Bool {
        guard case .bool(let b) = value else { throw PolicyError(path: path, message: "must be true or false") }
        return b
    }

    func action(_ value: JSONValue?, _ path: String) throws -> WellbeingAction {
        guard case .string(let s)? = value else { throw PolicyError(path: path, message: "must be an action name") }
        guard let a = WellbeingAction(rawValue: s) else {
            throw PolicyError(path: path, message: "unknown action \"\(s)\" (one of: \(WellbeingAction.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return a
    }

    func category(_ value: JSONValue?, _ path: String) throws -> WellbeingCategory {
        guard case .string(let s)? = value else { throw PolicyError(path: path, message: "must be a category name") }
        guard let c = WellbeingCategory(rawValue: s), c != .none else {
            throw PolicyError(path: path, message: "unknown category \"\(s)\" (one of: \(WellbeingCategory.riskOrder.map(\.rawValue).joined(separator: ", ")))")
        }
        return c
    }
}
