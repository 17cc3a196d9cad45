import Foundation

/// Holds the policy in force and the assessor built from it; reloads from a file without a restart.
/// A file that fails validation is rejected with its error, and the previous policy stays in force.
public final class PolicyStore: @unchecked Sendable {
    public enum ReloadOutcome: Equatable, Sendable {
        case unchanged
        case reloaded
        case rejected(String)
    }

    public let url: URL?
    private let lock = NSLock()
    private var _assessor: WellbeingAssessor
    private var _lastError: String?
    private var fingerprint: Data?
    private var timer: DispatchSourceTimer?
    private let queue = DispatchQueue(label: "parley.wellbeing.policy")
    /// Called (on a private queue) after each reload attempt that changed something or failed.
    public var onReload: (@Sendable (ReloadOutcome) -> Void)?

    /// The built-in default policy, no file.
    public init() {
        url = nil
        _assessor = WellbeingAssessor(policy: .default)
    }

    /// Loads `url`; throws `PolicyError` when the file is missing or invalid (nothing to fall back to yet).
    public init(url: URL) throws {
        self.url = url
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PolicyError(path: url.path, message: "cannot read the policy file")
        }
        _assessor = WellbeingAssessor(policy: try WellbeingPolicy.parse(data))
        fingerprint = data
    }

    public var assessor: WellbeingAssessor { lock.lock(); defer { lock.unlock() }; return _assessor }
    public var policy: WellbeingPolicy { assessor.policy }
    /// Why the last reload was rejected, or nil when the file in force is the file on disk.
    public var lastError: String? { lock.lock(); defer { lock.unlock() }; return _lastError }

    /// Re-reads the file now. Unchanged contents are not parsed again.
    @discardableResult
    public func reload() -> ReloadOutcome {
        guard let url else { return .unchanged }
        guard let data = try? Data(contentsOf: url) else {
            return record(.rejected(PolicyError(path: url.path, message: "cannot read the policy file").description))
        }
        lock.lock()
        let same = data == fingerprint
        lock.unlock()
        if same { return .unchanged }
        do {
            let assessor = WellbeingAssessor(policy: try WellbeingPolicy.parse(data))
            lock.lock()
            _assessor = assessor
            fingerprint = data
            _lastError = nil
            lock.unlock()
            return record(.reloaded)
        } catch {
            lock.lock()
            fingerprint = data  // do not re-report the same broken file every tick
            lock.unlock()
            return record(.rejected("\(error)"))
        }
    }

    private func record(_ outcome: ReloadOutcome) -> ReloadOutcome {
        if case .rejected(let message) = outcome {
            lock.lock(); _lastError = message; lock.unlock()
        }
        if outcome != .unchanged { onReload?(outcome) }
        return outcome
    }

    /// Polls the file every `interval` seconds and reloads it when its contents change.
    public func startWatching(interval: TimeInterval = 2) {
        guard url != nil else { return }
        lock.lock(); defer { lock.unlock() }
        guard timer == nil else { return }
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler { [weak self] in self?.reload() }
        t.resume()
        timer = t
    }

    public func stopWatching() {
        lock.lock(); defer { lock.unlock() }
        timer?.cancel()
        timer = nil
    }

    deinit { timer?.cancel() }
}
