#if os(Linux)
import Glibc

/// CPU affinity of the calling thread (Linux), used to keep the scheduler thread and the forward pass's worker
/// threads on different cores.
///
/// Why: the worker pool waits by spinning, then sleeping. When the scheduler thread wakes a sleeping worker,
/// the kernel tends to place the wakee on the waker's core ("wake affine"); two spinning threads on one core
/// then take turns by time slice and a step that takes 25 ms takes 400–800 ms until the load balancer
/// separates them. Workers inherit their creator's mask, so the scheduler creates them under a mask without
/// its own core.
enum ThreadAffinity {
    typealias Mask = cpu_set_t
    private typealias Call = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32

    // glibc declares these only under _GNU_SOURCE, so they are looked up at run time.
    private static let getCall: Call? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity")
        .map { unsafeBitCast($0, to: Call.self) }
    private static let setCall: Call? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity")
        .map { unsafeBitCast($0, to: Call.self) }

    static func current() -> Mask? {
        guard let getCall else { return nil }
        var set = cpu_set_t()
        return getCall(0, MemoryLayout<cpu_set_t>.size, &set) == 0 ? set : nil
    }

    static func cpus(_ mask: Mask) -> [Int] {
        var mask = mask
        return withUnsafeBytes(of: &mask) { raw in
            (0..<(raw.count * 8)).filter { raw[$0 / 8] & (1 << ($0 % 8)) != 0 }
        }
    }

    static func mask(_ cpus: [Int]) -> Mask {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { raw in
            for cpu in cpus where cpu / 8 < raw.count { raw[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        }
        return set
    }

    @discardableResult
    static func set(_ mask: Mask) -> Bool {
        guard let setCall else { return false }
        var mask = mask
        return setCall(0, MemoryLayout<cpu_set_t>.size, &mask) == 0
    }
}
#endif
