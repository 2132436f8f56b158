#if canImport(CDNNL)
import CDNNL
#elseif canImport(Accelerate)
import Accelerate
#endif

/// Row-major single-precision GEMM through the compute backend (oneDNN `dnnl_sgemm` on Linux,
/// Accelerate's CBLAS on macOS), plus a naive reference kernel for tests.
///
/// Computes `C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C[M, N]`, all matrices
/// row-major with leading dimensions `lda`, `ldb`, `ldc` (elements, not bytes). `op(X)` is `X`
/// or `Xᵀ` according to `transA` / `transB`. The call runs on the OpenMP thread count of the
/// calling thread, which `ComputeBackend` sets.
public enum GEMM {
    /// The fast kernel: `dnnl_sgemm` (oneDNN; row-major, deterministic for a fixed thread count
    /// and ISA) or `cblas_sgemm` (Accelerate).
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
        #if canImport(CDNNL)
        let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                                b, Int64(ldb), beta, c, Int64(ldc))  // 84 "T", 78 "N"
        precondition(status == dnnl_success, "dnnl_sgemm rejected its arguments (status \(status.rawValue))")
        #elseif canImport(Accelerate)
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
}
