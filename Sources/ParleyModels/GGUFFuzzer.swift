import Foundation
import ParleyGGUF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutation fuzzer for the GGUF reader.
///
/// Each seed is a real model's header — everything before the tensor data: magic, metadata, tensor table —
/// written to a work file that is then extended, sparsely, to the model's full size, so the pristine work file
/// loads exactly like the model. Every case applies a few mutations to that file (structure-aware field edits,
/// bit flips, random bytes, splices, inserted or deleted bytes, truncation), opens it with `GGUFFile`,
/// summarises what loaded with `ModelFacts`, and restores the file. A case passes when it loads or throws a
/// one-line `GGUFError`; it fails the run when it throws anything else, takes longer than the time limit, or
/// raises the process's peak memory above the limit. A crash (a trap or a fault) prints the case being run and
/// how to reproduce it before the process dies.
public final class GGUFFuzzer: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var cases = 10_000
        public var seed: UInt64 = 0x5EED
        public var workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))
        /// A single case taking longer fails the run (it counts as a hang).
        public var caseTimeLimit: Double = 10
        /// Peak resident memory (VmHWM) the process may reach; nil: what loading the pristine seeds took plus
        /// 256 MB or 16× the largest header, whichever is more.
        public var memoryLimitBytes: Int?
        /// Only this case (for reproducing one).
        public var onlyCase: Int?
        public var workDirectory = URL(fileURLWithPath: NSTemporaryDirectory())

        public init() {}
    }

    public struct Report: Sendable, Codable {
        public var cases = 0
        public var loaded = 0
        public var rejected = 0
        public var seeds: [String] = []
        public var mutations: [String: Int] = [:]
        public var seconds = 0.0
        public var slowestCaseSeconds = 0.0
        public var slowestCase = ""
        public var baselinePeakRSSBytes = 0
        public var peakRSSBytes = 0
        public var memoryLimitBytes = 0
        /// A few distinct rejection messages, as examples of what users see.
        public var sampleErrors: [String] = []
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    struct Field {
        var offset: Int
        var width: Int
        var kind: Kind
    }

    enum Kind: String, CaseIterable {
        case headerCount, keyLength, valueType, stringLength, arrayType, arrayCount, scalar
        case tensorNameLength, dimensionCount, dimension, tensorType, tensorOffset
    }

    final class Seed {
        let name: String
        let header: [UInt8]
        let fullSize: Int
        let fields: [Kind: [Field]]

        init(path: String) throws {
            let file = try GGUFFile(path: path)
            let headerSize = file.dataOffset
            guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure(description: "cannot read \(path)") }
            defer { try? handle.close() }
            let data = try handle.read(upToCount: headerSize) ?? Data()
            guard data.count == headerSize else { throw Failure(description: "\(path): short read of the header") }
            name = (path as NSString).lastPathComponent
            header = [UInt8](data)
            fullSize = file.fileSize
            fields = try Self.mapFields(header)
        }

        /// Walks the (valid) header and records where each structural field is.
        static func mapFields(_ b: [UInt8]) throws -> [Kind: [Field]] {
            var fields: [Kind: [Field]] = [:]
            var at = 0
            func u32() throws -> Int {
                guard at + 4 <= b.count else { throw Failure(description: "seed header ends early") }
                var v = 0
                for i in 0..<4 { v |= Int(b[at + i]) << (8 * i) }
                at += 4
                return v
            }
            func u64() throws -> Int {
                guard at + 8 <= b.count else { throw Failure(description: "seed header ends early") }
                var v: UInt64 = 0
                for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
                at += 8
                guard v <= UInt64(b.count) else { throw Failure(description: "seed count \(v) exceeds the header") }
                return Int(v)
            }
            func note(_ kind: Kind, _ width: Int) { fields[kind, default: []].append(Field(offset: at, width: width, kind: kind)) }
            func string(_ kind: Kind) throws {
                note(kind, 8)
                let n = try u64()
                guard n >= 0, at + n <= b.count else { throw Failure(description: "seed string out of bounds") }
                at += n
            }
            func value(_ type: Int) throws {
                switch type {
                case 0, 1, 7: note(.scalar, 1); at += 1
                case 2, 3: note(.scalar, 2); at += 2
                case 4, 5, 6: note(.scalar, 4); at += 4
                case 10, 11, 12: note(.scalar, 8); at += 8
                case 8: try string(.stringLength)
                case 9:
                    note(.arrayType, 4)
                    let elementType = try u32()
                    note(.arrayCount, 8)
                    let count = try u64()
                    for _ in 0..<count { try value(elementType) }
                default: throw Failure(description: "seed has value type \(type)")
                }
            }
            at = 8
            note(.headerCount, 8)
            let tensorCount = try u64()
            note(.headerCount, 8)
            let kvCount = try u64()
            for _ in 0..<kvCount {
                try string(.keyLength)
                note(.valueType, 4)
                try value(try u32())
            }
            for _ in 0..<tensorCount {
                try string(.tensorNameLength)
                note(.dimensionCount, 4)
                let dims = try u32()
                for _ in 0..<dims {
                    note(.dimension, 8)
                    at += 8
                }
                note(.tensorType, 4)
                at += 4
                note(.tensorOffset, 8)
                at += 8
            }
            return fields
        }
    }

    /// One case's changes to the work file.
    struct Edit {
        var bytes: [UInt8]
        /// The header region that differs from the seed (to restore afterwards).
        var dirty: Range<Int>?
        var truncateTo: Int?
        var labels: [String] = []
    }

    let seeds: [Seed]
    public let configuration: Configuration

    public init(models: [String], configuration: Configuration = Configuration()) throws {
        guard !models.isEmpty else { throw Failure(description: "no model files to take headers from") }
        seeds = try models.map { path in
            do { return try Seed(path: path) } catch {
                throw Failure(description: "\(path) cannot seed the fuzzer: \(error)")
            }
        }
        self.configuration = configuration
    }

    /// Headers' sizes, for reports.
    public var seedDescriptions: [String] {
        seeds.map { "\($0.name) (header \($0.header.count) bytes of \($0.fullSize))" }
    }

    // MARK: - Running

    public func run(progress: ((Int) -> Void)? = nil) throws -> Report {
        let started = Date()
        let workers = max(1, configuration.onlyCase == nil ? configuration.workers : 1)
        // Work files: one per worker and seed.
        var workFiles: [[(path: String, fd: Int32)]] = []
        defer {
            for files in workFiles {
                for f in files {
                    close(f.fd)
                    unlink(f.path)
                }
            }
        }
        let processBase = Self.peakRSS()
        for w in 0..<workers {
            var files: [(String, Int32)] = []
            for (s, seed) in seeds.enumerated() {
                let path = configuration.workDirectory.appendingPathComponent("parley-fuzz-\(getpid())-\(w)-\(s).gguf").path
                let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
                files.append((path, fd))
                try Self.pwriteAll(fd, seed.header[...], at: 0)
                guard ftruncate(fd, off_t(seed.fullSize)) == 0 else {
                    throw Failure(description: "cannot size \(path): \(String(cString: strerror(errno)))")
                }
                // The pristine work file must load: otherwise the seed is not what it claims.
                _ = ModelFacts(file: try GGUFFile(path: path))
            }
            workFiles.append(files)
        }

        var report = Report()
        report.seeds = seedDescriptions
        report.baselinePeakRSSBytes = Self.peakRSS()
        let largestHeader = seeds.map(\.header.count).max() ?? 0
        // What one worker may hold: what a pristine header took to load, plus room for the largest metadata
        // the reader accepts (GGUFFile.maxMetadataArrayElements inline values) or 16× the header.
        let perWorker = (report.baselinePeakRSSBytes - processBase)
            + max(384 << 20, GGUFFile.maxMetadataArrayElements * 64, 16 * largestHeader)
        let memoryLimit = configuration.memoryLimitBytes ?? processBase + workers * perWorker
        report.memoryLimitBytes = memoryLimit

        let caseIndices: [Int] = configuration.onlyCase.map { [$0] } ?? Array(0..<configuration.cases)
        let files = workFiles
        let state = RunState(workers: workers)
        CrashNotes.install(workers: workers)
        let watchdog = Watchdog(state: state, limit: configuration.caseTimeLimit, seed: configuration.seed)
        watchdog.start()
        defer { watchdog.stop() }

        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local = Report()
            for index in caseIndices where index % workers == worker || configuration.onlyCase != nil {
                if state.failed { break }
                let s = index % seeds.count
                let seed = seeds[s]
                var rng = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
                let edit = makeEdit(seed, &rng)
                let label = "case \(index): \(seed.name): \(edit.labels.joined(separator: ", "))"
                CrashNotes.set(worker, "parley fuzz-gguf: crashed in \(label); reproduce: parley fuzz-gguf --seed \(configuration.seed) --case \(index) <the same models>\n")
                let (path, fd) = files[worker][s]
                do {
                    try apply(edit, to: fd, seed: seed)
                } catch {
                    state.fail("\(label): cannot write the work file: \(error)")
                    break
                }
                state.begin(worker, label)
                let t0 = DispatchTime.now().uptimeNanoseconds
                var outcome: String?
                do {
                    let file = try GGUFFile(path: path)
                    let facts = ModelFacts(file: file)
                    _ = facts.parameterCount
                    local.loaded += 1
                } catch let error as GGUFError {
                    local.rejected += 1
                    if error.message.isEmpty || error.description.contains("\n") {
                        outcome = "\(label): the error is not one clear line: \(String(error.description.debugDescription.prefix(600)))"
                    } else if local.sampleErrors.count < 12 {
                        local.sampleErrors.append(error.message)
                    }
                } catch {
                    outcome = "\(label): threw \(type(of: error)) instead of GGUFError: \(error)"
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                state.end(worker)
                do {
                    try restore(edit, fd: fd, seed: seed)
                } catch {
                    state.fail("\(label): cannot restore the work file: \(error)")
                    break
                }
                if let outcome { state.fail(outcome); break }
                if seconds > configuration.caseTimeLimit {
                    state.fail("\(label): took \(seconds) s (limit \(configuration.caseTimeLimit) s)")
                    break
                }
                let peak = Self.peakRSS()
                if peak > memoryLimit {
                    state.fail("\(label): peak memory reached \(peak >> 20) MB (limit \(memoryLimit >> 20) MB)")
                    break
                }
                local.cases += 1
                for l in edit.labels { local.mutations[l.split(separator: "(").first.map(String.init) ?? l, default: 0] += 1 }
                if seconds > local.slowestCaseSeconds {
                    local.slowestCaseSeconds = seconds
                    local.slowestCase = label
                }
                if let progress, worker == 0, local.cases % 500 == 0 { progress(local.cases * workers) }
            }
            state.merge(local)
        }
        CrashNotes.clear()
        if let failure = state.failure {
            throw Failure(description: failure + "; reproduce: parley fuzz-gguf --seed \(configuration.seed) --case N (N as above) with the same models")
        }
        let merged = state.report
        report.cases = merged.cases
        report.loaded = merged.loaded
        report.rejected = merged.rejected
        report.mutations = merged.mutations
        report.slowestCase = merged.slowestCase
        report.slowestCaseSeconds = merged.slowestCaseSeconds
        var seen = Set<String>()
        report.sampleErrors = merged.sampleErrors.filter { seen.insert(String($0.prefix(40))).inserted }.prefix(8).map { $0 }
        report.seconds = Date().timeIntervalSince(started)
        report.peakRSSBytes = Self.peakRSS()
        return report
    }

    // MARK: - Mutations

    static let interesting: [UInt64] = [
        0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 16, 31, 32, 33, 64, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
        0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF,
        0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFE,
    ]

    func makeEdit(_ seed: Seed, _ rng: inout SplitMix64) -> Edit {
        var edit = Edit(bytes: seed.header)
        let count = 1 + Int(rng.next() % 3)
        for _ in 0..<count {
            mutate(&edit, seed, &rng)
            if edit.truncateTo != nil { break }
        }
        return edit
    }

    private func touch(_ edit: inout Edit, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        if let d = edit.dirty {
            edit.dirty = min(d.lowerBound, range.lowerBound)..<max(d.upperBound, range.upperBound)
        } else {
            edit.dirty = range
        }
    }

    private func mutate(_ edit: inout Edit, _ seed: Seed, _ rng: inout SplitMix64) {
        let n = edit.bytes.count
        switch rng.next() % 100 {
        case 0..<45:  // a structural field gets an interesting value
            let kinds = Kind.allCases.filter { !(seed.fields[$0]?.isEmpty ?? true) }
            let kind = kinds[Int(rng.next() % UInt64(kinds.count))]
            let list = seed.fields[kind]!
            // Early fields (header, first keys) more often: they steer everything after them.
            let pick = rng.next() % 4 == 0 ? Int(rng.next() % UInt64(min(list.count, 8))) : Int(rng.next() % UInt64(list.count))
            let field = list[pick]
            guard field.offset + field.width <= n else { return }
            var old: UInt64 = 0
            for i in 0..<field.width { old |= UInt64(edit.bytes[field.offset + i]) << (8 * UInt64(i)) }
            let value: UInt64
            switch rng.next() % 8 {
            case 0: value = old &+ 1
            case 1: value = old &- 1
            case 2: value = UInt64(seed.fullSize - field.offset)
            case 3: value = UInt64(n - field.offset) &+ (rng.next() % 3)
            case 4: value = rng.next()
            case 5: value = old << (1 + rng.next() % 16)
            default: value = Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))]
            }
            for i in 0..<field.width { edit.bytes[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            touch(&edit, field.offset..<(field.offset + field.width))
            edit.labels.append("\(kind.rawValue)(@\(field.offset)=\(value))")
        case 45..<60:  // bit flips
            let flips = 1 + Int(rng.next() % 8)
            let at = Int(rng.next() % UInt64(n))
            for _ in 0..<flips {
                let p = min(n - 1, at + Int(rng.next() % 64))
                edit.bytes[p] ^= UInt8(1) << UInt8(rng.next() % 8)
                touch(&edit, p..<(p + 1))
            }
            edit.labels.append("bitflip(@\(at)x\(flips))")
        case 60..<70:  // random bytes
            let len = 1 + Int(rng.next() % 16)
            let at = Int(rng.next() % UInt64(max(1, n - len)))
            for i in 0..<len where at + i < n { edit.bytes[at + i] = UInt8(truncatingIfNeeded: rng.next()) }
            touch(&edit, at..<min(n, at + len))
            edit.labels.append("bytes(@\(at)+\(len))")
        case 70..<78:  // splice: copy a block from elsewhere in the header
            let len = 1 + Int(rng.next() % 64)
            let from = Int(rng.next() % UInt64(max(1, n - len)))
            let to = Int(rng.next() % UInt64(max(1, n - len)))
            guard from + len <= n, to + len <= n else { return }
            let block = Array(edit.bytes[from..<(from + len)])
            edit.bytes.replaceSubrange(to..<(to + len), with: block)
            touch(&edit, to..<(to + len))
            edit.labels.append("splice(\(from)->\(to)+\(len))")
        case 78..<86:  // insert or delete bytes: everything after shifts
            let at = Int(rng.next() % UInt64(n))
            let len = 1 + Int(rng.next() % 9)
            if rng.next() % 2 == 0 {
                edit.bytes.insert(contentsOf: (0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                edit.labels.append("insert(@\(at)+\(len))")
            } else {
                edit.bytes.removeSubrange(at..<min(n, at + len))
                edit.labels.append("delete(@\(at)+\(len))")
            }
            touch(&edit, at..<max(n, edit.bytes.count))
        default:  // truncation: inside the header, at a field, or inside the tensor data
            let cut: Int
            switch rng.next() % 3 {
            case 0: cut = Int(rng.next() % UInt64(n))
            case 1:
                let kinds = Kind.allCases.compactMap { seed.fields[$0] }
                let all = kinds.isEmpty ? [] : kinds[Int(rng.next() % UInt64(kinds.count))]
                cut = all.isEmpty ? 0 : min(n, all[Int(rng.next() % UInt64(all.count))].offset + Int(rng.next() % 9))
            default: cut = n + Int(rng.next() % UInt64(max(1, seed.fullSize - n)))
            }
            edit.truncateTo = cut
            touch(&edit, min(cut, n)..<n)
            edit.labels.append("truncate(\(cut))")
        }
    }

    private func apply(_ edit: Edit, to fd: Int32, seed: Seed) throws {
        if let dirty = edit.dirty {
            let upper = min(dirty.upperBound, edit.bytes.count)
            if dirty.lowerBound < upper {
                try Self.pwriteAll(fd, edit.bytes[dirty.lowerBound..<upper], at: dirty.lowerBound)
            }
        }
        if let cut = edit.truncateTo, ftruncate(fd, off_t(cut)) != 0 {
            throw Failure(description: "ftruncate: \(String(cString: strerror(errno)))")
        }
    }

    private func restore(_ edit: Edit, fd: Int32, seed: Seed) throws {
        if edit.truncateTo != nil, ftruncate(fd, off_t(seed.fullSize)) != 0 {
            throw Failure(description: "ftruncate: \(String(cString: strerror(errno)))")
        }
        if let dirty = edit.dirty {
            // An insertion may have pushed bytes past the header: zero them again.
            let end = max(dirty.upperBound, edit.bytes.count)
            let headerEnd = min(end, seed.header.count)
            if dirty.lowerBound < headerEnd {
                try Self.pwriteAll(fd, seed.header[dirty.lowerBound..<headerEnd], at: dirty.lowerBound)
            }
            if end > seed.header.count {
                try Self.pwriteAll(fd, [UInt8](repeating: 0, count: end - seed.header.count)[...], at: seed.header.count)
            }
        }
    }

    static func pwriteAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "pwrite: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }

    /// VmHWM of this process in bytes (0 where /proc is missing).
    public static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return digits * 1024
        }
        return 0
    }
}

/// Shared state of the workers.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [UInt64?]
    private var labels: [String]
    private(set) var failure: String?
    private(set) var report = GGUFFuzzer.Report()

    init(workers: Int) {
        started = Array(repeating: nil, count: workers)
        labels = Array(repeating: "", count: workers)
    }

    var failed: Bool { lock.lock(); defer { lock.unlock() }; return failure != nil }

    func fail(_ message: String) {
        lock.lock()
        if failure == nil { failure = message }
        lock.unlock()
    }

    func begin(_ worker: Int, _ label: String) {
        lock.lock()
        started[worker] = DispatchTime.now().uptimeNanoseconds
        labels[worker] = label
        lock.unlock()
    }

    func end(_ worker: Int) {
        lock.lock()
        started[worker] = nil
        lock.unlock()
    }

    /// The longest-running case now: (seconds, label).
    func longestRunning() -> (Double, String)? {
        lock.lock()
        defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        return started.indices.compactMap { i in started[i].map { (Double(now - $0) / 1e9, labels[i]) } }.max { $0.0 < $1.0 }
    }

    func merge(_ local: GGUFFuzzer.Report) {
        lock.lock()
        report.cases += local.cases
        report.loaded += local.loaded
        report.rejected += local.rejected
        for (k, v) in local.mutations { report.mutations[k, default: 0] += v }
        if local.slowestCaseSeconds > report.slowestCaseSeconds {
            report.slowestCaseSeconds = local.slowestCaseSeconds
            report.slowestCase = local.slowestCase
        }
        report.sampleErrors += local.sampleErrors
        lock.unlock()
    }
}

/// Ends the process when a case runs far past the limit (a hang cannot be interrupted from inside).
private final class Watchdog: @unchecked Sendable {
    let state: RunState
    let limit: Double
    let seed: UInt64
    private var thread: Thread?
    private let stopped = NSCondition()
    private var done = false

    init(state: RunState, limit: Double, seed: UInt64) {
        self.state = state
        self.limit = limit
        self.seed = seed
    }

    func start() {
        let t = Thread { [self] in
            stopped.lock()
            while !done {
                _ = stopped.wait(until: Date().addingTimeInterval(0.1))
                if let longest = state.longestRunning(), longest.0 > limit * 2 {
                    let message = "parley fuzz-gguf: HANG: \(longest.1) has run \(Int(longest.0)) s (limit \(limit) s); reproduce: parley fuzz-gguf --seed \(seed) --case N\n"
                    FileHandle.standardError.write(Data(message.utf8))
                    exit(3)
                }
            }
            stopped.unlock()
        }
        thread = t
        t.start()
    }

    func stop() {
        stopped.lock()
        done = true
        stopped.signal()
        stopped.unlock()
    }
}

/// Per-worker notes printed by a fatal-signal handler, so a crash names its case.
private enum CrashNotes {
    static let capacity = 1024
    nonisolated(unsafe) static var buffers: [UnsafeMutablePointer<CChar>] = []

    static func install(workers: Int) {
        if buffers.count < workers {
            for _ in buffers.count..<workers {
                let b = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
                b.initialize(to: 0)
                buffers.append(b)
            }
        }
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT] {
            signal(sig, crashHandler)
        }
    }

    static func set(_ worker: Int, _ text: String) {
        let b = buffers[worker]
        b[0] = 0
        text.utf8CString.withUnsafeBufferPointer { src in
            let n = min(src.count, capacity) - 1
            for i in 0..<n { b[i + 1] = src[i + 1] }  // fill the tail first…
            b[n] = 0
            b[0] = src[0]  // …then make it visible
        }
    }

    static func clear() {
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT] { signal(sig, SIG_DFL) }
        for b in buffers { b[0] = 0 }
    }
}

private func crashHandler(_ sig: Int32) {
    for b in CrashNotes.buffers where b[0] != 0 {
        _ = write(2, b, strlen(b))
    }
    signal(sig, SIG_DFL)
    raise(sig)
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
