import Foundation

/// Why a break is suggested.
public enum BreakReminderReason: String, Codable, Sendable {
    case longSession = "long_session"
    case lateNight = "late_night"
}

public struct BreakReminder: Codable, Sendable, Equatable {
    public var reason: BreakReminderReason
    /// Minutes of the current continuous session so far.
    public var sessionMinutes: Double
    /// Of those, minutes in the policy's late-night hours.
    public var lateNightMinutes: Double
}

extension BreakReminder {
    /// Decides whether to suggest a break now. A pure function of the user's message times, the clock, the time
    /// zone that says what "late night" means for them, and when the last reminder was shown.
    ///
    /// The current session is the run of messages ending at the newest one in which no gap exceeds
    /// `sessionGapMinutes`; it counts as still going when `now` is within that gap of the newest message.
    public static func evaluate(messageTimes: [Date], now: Date, timeZone: TimeZone, lastReminder: Date?,
                                policy: WellbeingPolicy.BreakReminders) -> BreakReminder? {
        guard policy.enabled, !messageTimes.isEmpty else { return nil }
        let gap = policy.sessionGapMinutes * 60
        let times = messageTimes.filter { $0 <= now }.sorted()
        guard let last = times.last, now.timeIntervalSince(last) <= gap else { return nil }
        var start = last
        for t in times.reversed() {
            if start.timeIntervalSince(t) > gap { break }
            start = t
        }
        if let lastReminder, now.timeIntervalSince(lastReminder) < policy.repeatAfterMinutes * 60 { return nil }
        let sessionMinutes = now.timeIntervalSince(start) / 60
        let night = lateNightSeconds(from: start, to: now, timeZone: timeZone, policy: policy) / 60
        if night >= policy.lateNightMinutes {
            return BreakReminder(reason: .lateNight, sessionMinutes: sessionMinutes, lateNightMinutes: night)
        }
        if sessionMinutes >= policy.continuousMinutes {
            return BreakReminder(reason: .longSession, sessionMinutes: sessionMinutes, lateNightMinutes: night)
        }
        return nil
    }

    /// Seconds of [from, to) that fall in the late-night window, walked minute by minute (sessions are hours, not years).
    static func lateNightSeconds(from: Date, to: Date, timeZone: TimeZone, policy: WellbeingPolicy.BreakReminders) -> Double {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let startHour = policy.lateNightStartHour, endHour = policy.lateNightEndHour
        func isNight(_ hour: Int) -> Bool {
            startHour < endHour ? (hour >= startHour && hour < endHour) : (hour >= startHour || hour < endHour)
        }
        var total = 0.0
        var t = from
        let step = 60.0
        let limit = min(to.timeIntervalSince(from), 48 * 3600)
        var walked = 0.0
        while walked < limit {
            let slice = min(step, limit - walked)
            if isNight(calendar.component(.hour, from: t)) { total += slice }
            t = t.addingTimeInterval(slice)
            walked += slice
        }
        return total
    }
}
