#if canImport(CBLAS)
import CBLAS
#elseif canImport(Accelerate)
import Accelerate
#endif

/// Row-major single-precision GEMM through CBLAS (OpenBLAS on Linux, Accelerate on macOS),
/// plus a naive reference kernel for tests.
///
/// Computes `C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C[M, N]`, all matrices
/// row-major with leading dimensions `lda`, `ldb`, `ldc` (elements, not bytes). `op(X)` is `X`
/// or `Xᵀ` according to `transA` / `transB`.
public enum GEMM {
    /// The fast kernel: `cblas_sgemm` (row-major).
    /// - Precondition: non-negative sizes and leading dimensions large enough (programmer errors).
    @inline(__always)
    public static func multiply(transA: Bool = false, transB: Bool = false,
                                m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0,
                                c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM size")
        if m == 0 || n == 0 { return }
        #if canImport(CBLAS) || canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
        reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        #endif
    }

    /// The naive reference kernel: a triple loop with `Double` accumulation. Same contract as
    /// `multiply`; used by tests to check the fast kernel and the layers built on it.
    public static func reference(transA: Bool = false, transB: Bool = false,
                                 m: Int, n: Int, k: Int, alpha: Float = 1,
                                 a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float = 0,
                                 c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + old)
            }
        }
    }

    /// Sets the number of threads the BLAS library uses for GEMM (OpenBLAS
    /// `openblas_set_num_threads`; a no-op with Accelerate). OpenBLAS sgemm is deterministic for
    /// a fixed thread count, which the engine's bit-identical reruns rely on.
    public static func setThreads(_ threads: Int) {
        #if canImport(CBLAS)
        if Int(openblas_get_num_threads()) != threads {
            openblas_set_num_threads(Int32(max(1, threads)))
        }
        #endif
    }
}

/// The BLAS library behind `GEMM`, for the environment record of a study.
public enum BLASInfo {
    /// A one-line description: library name and build configuration (OpenBLAS
    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"),
    /// and the number of threads currently configured.
    public static var description: String {
        #if canImport(CBLAS)
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        return "\(config) (threads \(openblas_get_num_threads()))"
        #elseif canImport(Accelerate)
        return "Apple Accelerate (vecLib)"
        #else
        return "naive reference GEMM (no BLAS)"
        #endif
    }
}
