import CParleyKernels
import Foundation
import ParleyGGUF

/// Owns a model's row-interleaved weight copies (pk_interleave_weights): 16 rows' blocks side by side, so the
/// kernels compute 16 rows per vector instruction with no per-block horizontal sums — about 2.5× the file
/// layout's matrix-vector speed and the same results to the bit. Each matrix is packed once at load, in slices
/// whose file pages are released as they are consumed, so the resident size stays that of one copy.
/// `PARLEY_INTERLEAVE=0` keeps the file layout (for comparisons).
final class InterleavedWeights: @unchecked Sendable {
    let enabled: Bool
    /// One arena sized for every matrix of the file that can be interleaved, so that huge pages back it whole
    /// (most matrices are far smaller than 2 MiB) and no huge page is left part-used between matrices.
    private var arena: UnsafeMutableRawPointer?
    private var used = 0, capacity = 0
    private var extra: [UnsafeMutableRawPointer] = []

    init(file: GGUFFile?, enabled: Bool = ProcessInfo.processInfo.environment["PARLEY_INTERLEAVE"] != "0") {
        self.enabled = enabled
        guard enabled, let file else { return }
        capacity = file.tensors.reduce(0) { total, tensor in
            guard tensor.dimensions.count == 2,
                  let type = Self.storedType(pk_type(rawValue: tensor.type.rawValue), tensor.rowLength, tensor.rowCount)
            else { return total }
            return total + Self.rounded(tensor.rowCount * Int(pk_row_bytes(type, Int64(tensor.rowLength))))
        }
        if capacity > 0 { arena = allocateWeightBuffer(byteCount: capacity) }
    }

    deinit {
        arena?.deallocate()
        for buffer in extra { buffer.deallocate() }
    }

    /// The type a matrix is interleaved as (Q4_K is rewritten as Q4_1 first), or nil when it stays as it is.
    private static func storedType(_ type: pk_type, _ inFeatures: Int, _ outFeatures: Int) -> pk_type? {
        let stored = type == PK_Q4_K ? PK_Q4_1 : type
        return pk_interleavable(stored, Int64(inFeatures), Int64(outFeatures)) != 0 ? stored : nil
    }

    private static func rounded(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }

    /// `byteCount` bytes, 64-byte aligned, from the arena (or on their own if it is full).
    private func carve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let size = Self.rounded(byteCount)
        if let arena, used + size <= capacity {
            defer { used += size }
            return arena + used
        }
        let buffer = allocateWeightBuffer(byteCount: size)
        extra.append(buffer)
        return buffer
    }

    /// `weight` interleaved when the kernels support its type and shape, else `weight` unchanged.
    func interleave(_ weight: Linear) -> Linear {
        guard enabled, !weight.interleaved,
              let type = Self.storedType(weight.type, weight.inFeatures, weight.outFeatures) else { return weight }
        let n = Int64(weight.inFeatures)
        let rowBytes = Int(pk_row_bytes(type, n))
        let buffer = carve(weight.outFeatures * rowBytes)
        let slice = max(16, (4 << 20) / rowBytes / 16 * 16)  // ~4 MiB of rows at a time
        let converted = type == weight.type ? nil : UnsafeMutableRawPointer.allocate(byteCount: slice * rowBytes, alignment: 64)
        defer { converted?.deallocate() }
        var first = 0
        while first < weight.outFeatures {
            let count = min(slice, weight.outFeatures - first)
            let source = weight.data + first * weight.rowBytes
            var rows = UnsafeRawPointer(source)
            if let converted {  // Q4_K rows rewritten as Q4_1 (see pk_convert_q4_K_to_q4_1)
                for r in 0..<count {
                    pk_convert_q4_K_to_q4_1(source + r * weight.rowBytes, converted + r * rowBytes, n)
                }
                rows = UnsafeRawPointer(converted)
            }
            pk_interleave_weights(type, n, rows, rowBytes, Int64(count), buffer + first * rowBytes)
            releasePages(source, byteCount: count * weight.rowBytes)
            first += count
        }
        return Linear(name: weight.name, type: type, inFeatures: weight.inFeatures,
                      outFeatures: weight.outFeatures, data: UnsafeRawPointer(buffer), rowBytes: rowBytes,
                      interleaved: true)
    }
}

/// Memory for weights the engine streams every token: 2 MiB-aligned, with its whole 2 MiB pages marked for
/// transparent huge pages (where the kernel offers them on request), so reading a matrix walks one TLB entry per
/// 2 MiB instead of per 4 KiB; a part-used last page stays small pages. PARLEY_HUGE_PAGES=0 leaves the memory to
/// the system default (for comparisons).
func allocateWeightBuffer(byteCount: Int) -> UnsafeMutableRawPointer {
    let hugePage = 2 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: byteCount >= hugePage ? hugePage : 64)
    #if os(Linux)
    if byteCount >= hugePage, ProcessInfo.processInfo.environment["PARLEY_HUGE_PAGES"] != "0" {
        _ = madvise(buffer, byteCount / hugePage * hugePage, MADV_HUGEPAGE)
    }
    #endif
    return buffer
}
