import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress with rate and ETA on stderr: a redrawn bar on a terminal, otherwise a line every 10 % or 30 s.
public final class ProgressReporter {
    let label: String
    let total: Int
    let started = Date()
    let interactive: Bool
    let enabled: Bool
    private var lastLine = Date.distantPast
    private var lastFraction = -1.0
    /// Items done before this process started (a resumed run); the rate counts only new ones.
    private let resumed: Int

    public init(label: String, total: Int, alreadyDone: Int, enabled: Bool = true) {
        self.label = label
        self.total = total
        resumed = alreadyDone
        self.enabled = enabled
        interactive = isatty(STDERR_FILENO) == 1
    }

    public static func format(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    public func update(done: Int) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(started)
        let fresh = done - resumed
        let rate = fresh > 0 ? Double(fresh) / max(elapsed, 1e-6) : 0
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(fraction * 24)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 24 - filled)
        let line = "\(label) [\(bar)] \(done)/\(total) \(String(format: "%.2f", rate)) items/s elapsed \(Self.format(seconds: elapsed)) ETA \(Self.format(seconds: eta))"
        if interactive {
            FileHandle.standardError.write(Data(("\r" + line + (done == total ? "\n" : "")).utf8))
        } else if done == total || fraction - lastFraction >= 0.1 || Date().timeIntervalSince(lastLine) >= 30 {
            FileHandle.standardError.write(Data((line + "\n").utf8))
            lastLine = Date()
            lastFraction = fraction
        }
    }
}
