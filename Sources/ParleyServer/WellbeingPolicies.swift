import Foundation
import ParleyWellbeing

/// The wellbeing policy in force for this process: `parley serve --wellbeing-policy FILE` installs a store that
/// reloads the file without a restart; until then (and without the option) the built-in policy. Moderations and
/// the OpenAI API read it here; the chat app holds the same store.
enum WellbeingPolicies {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = PolicyStore()

    static var current: PolicyStore {
        get { lock.withLock { installed } }
        set { lock.withLock { installed = newValue } }
    }
}

/// What "now" is for the wellbeing features (break reminders, usage windows, record times). The system clock,
/// or for browser tests only (`parley serve --wellbeing-test-clock FILE`) the system clock moved forward by the
/// number of seconds the file holds, so a test can skip an hour without waiting one.
public struct WellbeingClock: Sendable {
    private let offsetFile: URL?

    public static let system = WellbeingClock(offsetFile: nil)

    /// The clock moved by the seconds written in `file` (read on every call; a missing or unreadable file is 0).
    public static func testOffset(file: URL) -> WellbeingClock { WellbeingClock(offsetFile: file) }

    public func now() -> Date {
        guard let offsetFile, let text = try? String(contentsOf: offsetFile, encoding: .utf8),
              let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), seconds.isFinite else { return Date() }
        return Date().addingTimeInterval(seconds)
    }
}

/// How `parley serve` puts its policy in force.
enum WellbeingSetup {
    /// Loads the policy file (a start with an invalid file fails: there is nothing to fall back to yet), installs it
    /// for the process, and watches it: each change is reloaded, and a rejected one is logged through `log` while
    /// the previous policy stays in force.
    static func policies(path: String?, log: @escaping @Sendable (String) -> Void, interval: TimeInterval = 2) throws -> PolicyStore {
        guard let path else {
            let builtIn = PolicyStore()
            WellbeingPolicies.current = builtIn
            return builtIn
        }
        let store: PolicyStore
        do {
            store = try PolicyStore(url: URL(fileURLWithPath: path))
        } catch {
            throw ServerStartError("--wellbeing-policy \(path): \(error)")
        }
        store.onReload = { outcome in
            switch outcome {
            case .reloaded: log("wellbeing policy reloaded from \(path)")
            case .rejected(let why): log("wellbeing policy NOT reloaded, the previous one stays in force: \(why)")
            case .unchanged: break
            }
        }
        WellbeingPolicies.current = store
        store.startWatching(interval: interval)
        log("wellbeing policy: \(path) (watched for changes)")
        return store
    }
}
