import CParleyKernels
import Foundation

/// Owns a model's row-interleaved weight copies (pk_interleave_weights): 16 rows' blocks side by side, so the
/// kernels compute 16 rows per vector instruction with no per-block horizontal sums — about 2.5× the file
/// layout's matrix-vector speed and the same results to the bit. Each matrix is packed once at load, in slices
/// whose file pages are released as they are consumed, so the resident size stays that of one copy.
/// `PARLEY_INTERLEAVE=0` keeps the file layout (for comparisons).
final class InterleavedWeights: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []
    let enabled: Bool

    init(enabled: Bool = ProcessInfo.processInfo.environment["PARLEY_INTERLEAVE"] != "0") {
        self.enabled = enabled
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// `weight` interleaved when the kernels support its type and shape, else `weight` unchanged.
    func interleave(_ weight: Linear) -> Linear {
        guard enabled, !weight.interleaved,
              pk_interleavable(weight.type, Int64(weight.inFeatures), Int64(weight.outFeatures)) != 0 else { return weight }
        let rowBytes = weight.rowBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: weight.outFeatures * rowBytes, alignment: 64)
        buffers.append(buffer)
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
