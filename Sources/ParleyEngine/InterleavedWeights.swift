import CParleyKernels
import Foundation

/// Owns a model's row-interleaved weight copies (pk_interleave_weights): 16 rows' blocks side by side, so the
/// kernels compute 16 rows per vector instruction with no per-block horizontal sums — about 2.5× the file
/// layout's matrix-vector speed and the same results to the bit. Each matrix is packed once at load, in slices
/// whose file pages are released as they are consumed, so the resident size stays that of one copy.
/// `PARLEY_INTERLEAVE=0` keeps the file layout (for comparisons).
final class InterleavedWeights: @unchecked Sendable {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var free: UnsafeMutableRawPointer?
    private var freeBytes = 0
    let enabled: Bool
    /// Matrices are carved out of large blocks, so that huge pages can back them (most matrices are far smaller
    /// than 2 MiB); untouched tails of a block never become resident.
    private static let blockBytes = 64 << 20

    init(enabled: Bool = ProcessInfo.processInfo.environment["PARLEY_INTERLEAVE"] != "0") {
        self.enabled = enabled
    }

    deinit { for block in blocks { block.deallocate() } }

    /// `byteCount` bytes, 64-byte aligned, from the current block or a new one.
    private func carve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let size = (byteCount + 63) / 64 * 64
        if free == nil || freeBytes < size {
            let block = allocateWeightBuffer(byteCount: max(Self.blockBytes, size))
            blocks.append(block)
            free = block
            freeBytes = max(Self.blockBytes, size)
        }
        let result = free!
        free = result + size
        freeBytes -= size
        return result
    }

    /// `weight` interleaved when the kernels support its type and shape, else `weight` unchanged.
    func interleave(_ weight: Linear) -> Linear {
        guard enabled, !weight.interleaved,
              pk_interleavable(weight.type, Int64(weight.inFeatures), Int64(weight.outFeatures)) != 0 else { return weight }
        let rowBytes = weight.rowBytes
        let buffer = carve(weight.outFeatures * rowBytes)
        let slice = max(16, (4 << 20) / rowBytes / 16 * 16)  // ~4 MiB of rows at a time
        var first = 0
        while first < weight.outFeatures {
            let count = min(slice, weight.outFeatures - first)
            let source = weight.data + first * rowBytes
            pk_interleave_weights(weight.type, Int64(weight.inFeatures), source, rowBytes, Int64(count),
                                  buffer + first * rowBytes)
            releasePages(source, byteCount: count * rowBytes)
            first += count
        }
        return Linear(name: weight.name, type: weight.type, inFeatures: weight.inFeatures,
                      outFeatures: weight.outFeatures, data: UnsafeRawPointer(buffer), rowBytes: rowBytes,
                      interleaved: true)
    }
}

/// Memory for weights the engine streams every token: 2 MiB-aligned and marked for transparent huge pages (where
/// the kernel offers them on request), so reading a matrix walks one TLB entry per 2 MiB instead of per 4 KiB.
/// PARLEY_HUGE_PAGES=0 leaves them to the system default (for comparisons).
func allocateWeightBuffer(byteCount: Int) -> UnsafeMutableRawPointer {
    let hugePage = 2 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: byteCount >= hugePage ? hugePage : 64)
    #if os(Linux)
    if byteCount >= hugePage, ProcessInfo.processInfo.environment["PARLEY_HUGE_PAGES"] != "0" { _ = madvise(buffer, (byteCount + hugePage - 1) / hugePage * hugePage, MADV_HUGEPAGE) }
    #endif
    return buffer
}
