import Foundation

/// Prints pull events: on a terminal, one self-updating bar (bytes, rate, ETA); otherwise plain lines, one per
/// tenth of the file, so logs stay readable.
public final class PullProgressPrinter: @unchecked Sendable {
    private let output: FileHandle
    private let terminal: Bool
    private let lock = NSLock()
    private var started: Date?
    private var startBytes = 0
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private var barVisible = false

    public init(output: FileHandle = .standardError, terminal: Bool? = nil) {
        self.output = output
        self.terminal = terminal ?? (isatty(output.fileDescriptor) != 0)
    }

    public func handle(_ event: PullEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .waitingForLock(let name):
            line("waiting for another parley that is pulling \(name)…")
        case .trying(let source, let index, let count):
            resetTransfer()
            line("pulling from \(source)" + (count > 1 ? " (source \(index) of \(count))" : ""))
        case .stage(let text):
            line("  \(text)")
        case .verifying(let total):
            line("  verifying sha256 of \(Format.bytes(total))")
        case .sourceFailed(_, let reason):
            line("  failed: \(reason)")
        case .bytes(let done, let total):
            transfer(done: done, total: total)
        }
    }

    /// Ends the bar's line, if one is showing.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        if barVisible {
            write("\n")
            barVisible = false
        }
    }

    private func resetTransfer() {
        started = nil
        lastDecile = -1
        lastDraw = .distantPast
    }

    private func transfer(done: Int, total: Int?) {
        let now = Date()
        if started == nil {
            started = now
            startBytes = done
        }
        let elapsed = now.timeIntervalSince(started!)
        let rate = elapsed > 0.2 ? Double(done - startBytes) / elapsed : 0
        var parts = [total.map { "\(Format.bytes(done)) / \(Format.bytes($0))" } ?? Format.bytes(done)]
        if rate > 0 { parts.append("\(Format.bytes(Int(rate)))/s") }
        if let total, rate > 0, total >= done { parts.append("ETA \(Format.duration(Double(total - done) / rate))") }
        let complete = total.map { done >= $0 } ?? false
        if terminal {
            guard complete || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            var bar = ""
            if let total, total > 0 {
                let width = 30
                let filled = min(width, Int(Double(done) / Double(total) * Double(width)))
                bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                bar += String(format: "%3d%% ", Int(Double(done) / Double(total) * 100))
            }
            write("\r\u{1B}[K  " + bar + parts.joined(separator: "  "))
            barVisible = true
            if complete {
                write("\n")
                barVisible = false
            }
        } else if let total, total > 0 {
            let decile = min(10, Int(Double(done) / Double(total) * 10))
            guard decile > lastDecile else { return }
            lastDecile = decile
            write("  \(decile * 10)%  " + parts.joined(separator: "  ") + "\n")
        } else if now.timeIntervalSince(lastDraw) >= 5 {
            lastDraw = now
            write("  " + parts.joined(separator: "  ") + "\n")
        }
    }

    private func line(_ text: String) {
        if barVisible {
            write("\n")
            barVisible = false
        }
        write(text + "\n")
    }

    private func write(_ text: String) {
        output.write(Data(text.utf8))
    }
}
