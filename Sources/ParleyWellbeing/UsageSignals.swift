import Foundation

/// The reliance signals of a usage pattern, computed from when someone wrote (message times) and how many of
/// their recent stored assessments were emotional reliance: never from the text itself.
public struct UsageSignals: Codable, Sendable, Equatable {
    /// The pattern the assessor reads.
    public var pattern: UsagePattern
    /// Days the averages are taken over.
    public var windowDays: Int
    /// Active chat sessions in the window (runs of messages without a gap over the policy's session gap).
    public var sessions: Int
    /// Which of the policy's reliance limits the pattern reaches.
    public var heavyDailyUse: Bool
    public var mostlyLateNight: Bool
    public var exclusivityAcrossSessions: Bool

    /// - Parameters:
    ///   - messageTimes: when the user sent messages, any order; those outside `[now - windowDays, now]` are ignored.
    ///   - relianceRecords: the user's stored emotional-reliance assessments in the same window.
    ///   - timeZone: the user's, which says what "late night" means for them.
    public static func compute(messageTimes: [Date], relianceRecords: Int, now: Date, timeZone: TimeZone,
                               windowDays: Int = 7, policy: WellbeingPolicy) -> UsageSignals {
        let windowStart = now.addingTimeInterval(-Double(windowDays) * 86_400)
        let times = messageTimes.filter { $0 >= windowStart && $0 <= now }.sorted()
        let gap = policy.breakReminders.sessionGapMinutes * 60
        // A lone message still costs the time to read and write it: each session counts at least this long.
        let minimumSession = 60.0
        var active = 0.0, lateNight = 0.0, sessions = 0
        var start: Date?, last: Date?
        func closeSession() {
            guard let s = start, let l = last else { return }
            let end = max(l, s.addingTimeInterval(minimumSession))
            active += end.timeIntervalSince(s)
            lateNight += BreakReminder.lateNightSeconds(from: s, to: end, timeZone: timeZone, policy: policy.breakReminders)
            sessions += 1
        }
        for t in times {
            if let l = last, t.timeIntervalSince(l) <= gap {
                last = t
            } else {
                closeSession()
                start = t
                last = t
            }
        }
        closeSession()
        let pattern = UsagePattern(hoursPerDay: active / 3600 / Double(windowDays),
                                   lateNightShare: active > 0 ? min(1, lateNight / active) : 0,
                                   exclusivityMentions: relianceRecords)
        let limits = policy.reliance
        return UsageSignals(pattern: pattern, windowDays: windowDays, sessions: sessions,
                            heavyDailyUse: pattern.hoursPerDay >= limits.hoursPerDay,
                            mostlyLateNight: pattern.lateNightShare >= limits.lateNightShare,
                            exclusivityAcrossSessions: pattern.exclusivityMentions >= limits.exclusivityMentions)
    }
}
