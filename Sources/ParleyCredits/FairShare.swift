import Foundation
import ParleyStore

/// Fair-share priority as Slurm's classic formula: F = 2^(−U/S), where S is the project's share of the credits
/// granted (normalised to 1 over all projects) and U its share of recent usage, each charge decaying with a
/// half-life. A project that used exactly its share gets 0.5; one that used nothing gets 1; a heavy user tends to
/// 0. Requests with no project (no key, a personal key) get `unmeteredPriority`.
public final class FairShare: @unchecked Sendable {
    // @unchecked: all state is behind `lock`; the scheduler asks from its own thread.
    public let halfLife: TimeInterval
    public let unmeteredPriority: Double
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var granted: [RecordID: Int64] = [:]
    /// Decayed usage per project, as of `decayedAt`.
    private var usage: [RecordID: Double] = [:]
    private var decayedAt: Date

    public init(halfLife: TimeInterval = 3600, unmeteredPriority: Double = 0.5, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.halfLife = max(1, halfLife)
        self.unmeteredPriority = unmeteredPriority
        self.clock = clock
        decayedAt = clock()
    }

    public func setGranted(_ granted: [RecordID: Int64]) {
        lock.withLock { self.granted = granted }
    }

    /// Adds a charge to the project's recent usage.
    public func record(projectID: RecordID, usage amount: Int64) {
        guard amount > 0 else { return }
        lock.withLock {
            decay()
            usage[projectID, default: 0] += Double(amount)
        }
    }

    /// F = 2^(−U/S) for the project; `unmeteredPriority` for nil. A project with no share gets 0 once it has used
    /// anything (it is admitted only when nobody with a share waits) and 1 before.
    public func priority(projectID: RecordID?) -> Double {
        guard let projectID else { return unmeteredPriority }
        return lock.withLock {
            decay()
            let totalGranted = granted.values.reduce(0, +)
            let totalUsage = usage.values.reduce(0, +)
            let u = totalUsage > 0 ? (usage[projectID] ?? 0) / totalUsage : 0
            let s = totalGranted > 0 ? Double(granted[projectID] ?? 0) / Double(totalGranted) : 0
            if u == 0 { return 1 }
            if s == 0 { return 0 }
            return pow(2, -u / s)
        }
    }

    /// Called with `lock` held: ages every usage to now.
    private func decay() {
        let now = clock()
        let elapsed = now.timeIntervalSince(decayedAt)
        guard elapsed > 0 else { return }
        let factor = pow(0.5, elapsed / halfLife)
        for key in usage.keys { usage[key]! *= factor }
        decayedAt = now
    }
}
