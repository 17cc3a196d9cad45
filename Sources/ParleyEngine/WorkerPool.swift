#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CParleyKernels
import Synchronization

/// A persistent pool of worker threads that run one parallel job at a time, split into chunks that threads
/// claim as they go (llama.cpp's `current_chunk` scheme).
///
/// Claiming instead of a fixed split matters on a busy machine: if a worker is descheduled, the caller simply
/// runs the remaining chunks itself and waits only for chunks a worker has already started — a job never
/// waits a whole time slice for a sleeping thread. Between jobs a worker spins briefly (a forward pass starts the
/// next operation within microseconds), then sleeps on a condition variable, so an idle engine costs no CPU.
/// `run(chunks:job:)` with a preallocated job object allocates nothing (the decode loop uses it); the closure
/// form is for everything else — Swift boxes a borrowed closure before another thread may call it.
public final class WorkerPool: @unchecked Sendable {
    public let threadCount: Int

    /// (job generation << 32) | (chunk count << 16) | next unclaimed chunk. One word, so a claim can never mix
    /// two jobs: a worker descheduled across a whole job must not pair the old generation with the new count.
    private let ticket = Atomic<UInt64>(0)
    /// Chunks per job are at most this (a job with more is run in consecutive parts).
    public static let maxChunks = 0xFFFF
    private let completed = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// The job being run; the caller keeps it alive until `run` returns.
    private unowned(unsafe) var job: PoolJob = idleJob
    private let closureJob = ClosureJob()
    private let offsetJob = OffsetJob()
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var threads: [pthread_t] = []

    /// Spins before sleeping: a few tens of microseconds.
    private static let idleSpins = 1 << 12
    /// Spins while waiting for claimed chunks before yielding the core to whoever runs them.
    private static let waitSpins = 1 << 10

    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for index in 1..<threadCount {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            self.threads.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        ticket.add(1 << 32, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(&wake)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `job.run(chunk:thread:)` for every chunk in `0..<chunks`, spread over the threads (the caller is
    /// thread 0), and returns when all have finished. `thread` identifies per-thread scratch space.
    public func run(chunks: Int, job: PoolJob) {
        if chunks <= 0 { return }
        if threadCount == 1 || chunks == 1 {
            for c in 0..<chunks { job.run(chunk: c, thread: 0) }
            return
        }
        if chunks > Self.maxChunks {  // consecutive parts, each within the ticket's chunk field
            var first = 0
            while first < chunks {
                let part = min(Self.maxChunks, chunks - first)
                offsetJob.base = job
                offsetJob.offset = first
                run(chunks: part, job: offsetJob)
                first += part
            }
            offsetJob.base = idleJob
            return
        }
        self.job = job
        completed.store(0, ordering: .relaxed)
        let generation = (ticket.load(ordering: .relaxed) >> 32) &+ 1
        ticket.store(generation << 32 | UInt64(chunks) << 16, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
        }
        // Work alongside the workers, then wait only for chunks they have claimed.
        var done = 0
        while let chunk = claim(generation: generation) {
            job.run(chunk: chunk, thread: 0)
            done += 1
        }
        completed.add(done, ordering: .releasing)
        var spins = 0
        while completed.load(ordering: .acquiring) < chunks {
            spins += 1
            if spins < Self.waitSpins { pk_cpu_relax() } else { sched_yield() }
        }
        self.job = idleJob
    }

    /// The closure form of `run(chunks:job:)`.
    public func run(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if chunks <= 0 { return }
        if threadCount == 1 || chunks == 1 {
            for c in 0..<chunks { body(c, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            closureJob.body = escapable
            run(chunks: chunks, job: closureJob)
            closureJob.body = nil
        }
    }

    /// Splits `0..<count` into contiguous ranges (about four per thread) and runs `body(range)` on each.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(count, threadCount == 1 ? 1 : threadCount * 4)
        run(chunks: chunks) { chunk, _ in
            let begin = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if begin < end { body(begin..<end) }
        }
    }

    @inline(__always)
    private func claim(generation: UInt64) -> Int? {
        var current = ticket.load(ordering: .acquiring)
        while current >> 32 == generation, current & 0xFFFF < (current >> 16) & 0xFFFF {
            let (exchanged, original) = ticket.compareExchange(
                expected: current, desired: current &+ 1, ordering: .acquiringAndReleasing)
            if exchanged { return Int(original & 0xFFFF) }
            current = original
        }
        return nil
    }

    private func workerLoop(index: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            var generation = ticket.load(ordering: .acquiring) >> 32
            while generation == seen {
                if spins < Self.idleSpins {
                    spins += 1
                    pk_cpu_relax()
                } else {
                    pthread_mutex_lock(&mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen {
                        pthread_cond_wait(&wake, &mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(&mutex)
                }
                generation = ticket.load(ordering: .acquiring) >> 32
            }
            seen = generation
            if stopping.load(ordering: .acquiring) { return }
            // A successful claim pins the job: the caller waits for this chunk before replacing it.
            var done = 0
            while let chunk = claim(generation: generation) {
                job.run(chunk: chunk, thread: index)
                done += 1
            }
            if done > 0 { completed.add(done, ordering: .releasing) }
        }
    }
}

/// A unit of parallel work: `run(chunk:thread:)` is called once for every chunk of a `WorkerPool.run`.
/// Objects kept for reuse make a dispatch allocation-free.
public protocol PoolJob: AnyObject {
    func run(chunk: Int, thread: Int)
}

private final class ClosureJob: PoolJob {
    var body: ((Int, Int) -> Void)?
    func run(chunk: Int, thread: Int) { body!(chunk, thread) }
}

/// Chunk `offset + c` of `base`, for jobs with more chunks than the ticket holds.
private final class OffsetJob: PoolJob {
    unowned(unsafe) var base: PoolJob = idleJob
    var offset = 0
    func run(chunk: Int, thread: Int) { base.run(chunk: offset + chunk, thread: thread) }
}

private final class IdleJob: PoolJob {
    func run(chunk: Int, thread: Int) {}
}

private let idleJob = IdleJob()

private final class WorkerStart {
    let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
