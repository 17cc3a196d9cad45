import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// A zero-initialised float buffer of `rows` × `columns`, row-major, owned by this object.
final class Matrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let pointer: UnsafeMutablePointer<Float>
    var count: Int { rows * columns }

    init(_ rows: Int, _ columns: Int) {
        self.rows = rows
        self.columns = columns
        pointer = .allocate(capacity: max(1, rows * columns))
        pointer.initialize(repeating: 0, count: max(1, rows * columns))
    }

    deinit { pointer.deallocate() }

    /// Row `r`.
    subscript(row r: Int) -> UnsafeMutablePointer<Float> { pointer + r * columns }

    func zero() { pointer.update(repeating: 0, count: count) }

    func copy(from other: Matrix) {
        precondition(other.count == count, "matrix sizes differ")
        pointer.update(from: other.pointer, count: count)
    }
}

/// C[m×n] = alpha·op(A)·op(B) + beta·C over row-major buffers (op = transpose when the flag is set); `lda`,
/// `ldb`, `ldc` are the row strides of A, B and C as stored.
@inline(__always)
func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
          _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
          _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
        return
    }
    OpenBLAS.shared.sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                          Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The float GEMMs' thread count (OpenBLAS keeps one pool for the process).
func setMatrixThreads(_ threads: Int) {
    OpenBLAS.shared.setThreads(Int32(max(1, threads)))
}

/// OpenBLAS, opened on first use rather than linked: the library starts its thread pool and buffers when it is
/// loaded, which cost every `parley` process ~8 MB resident (and idle threads) even when it never trains.
private struct OpenBLAS {
    typealias Sgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
                                      UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    let sgemm: Sgemm
    let setThreads: SetThreads

    static let shared: OpenBLAS = {
        let names = ["libopenblas.so.0", "libopenblas.so"]
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first,
              let sgemm = dlsym(handle, "cblas_sgemm"), let setThreads = dlsym(handle, "openblas_set_num_threads") else {
            fatalError("training needs OpenBLAS (Debian: apt-get install libopenblas0): \(String(cString: dlerror()))")
        }
        return OpenBLAS(sgemm: unsafeBitCast(sgemm, to: Sgemm.self), setThreads: unsafeBitCast(setThreads, to: SetThreads.self))
    }()
}
