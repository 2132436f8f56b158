#if canImport(CDNNL)
import CDNNL
#elseif canImport(Accelerate)
import Accelerate
#endif

/// Row-major GEMM with fp32 output through the compute backend (oneDNN `dnnl_sgemm` or its matmul
/// primitive on Linux, Accelerate's CBLAS on macOS), plus a naive reference kernel for tests.
///
/// Computes `C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C[M, N]`, all matrices
/// row-major with leading dimensions `lda`, `ldb`, `ldc` (elements, not bytes). `op(X)` is `X`
/// or `Xᵀ` according to `transA` / `transB`. The call runs on the OpenMP thread count of the
/// calling thread, which `ComputeBackend` sets.
public enum GEMM {
    /// The fast fp32 kernel: `dnnl_sgemm` or oneDNN's matmul primitive, as
    /// `ComputeBackend.gemmKernel` chooses per shape (both deterministic for a fixed shape, thread
    /// count and ISA), or `cblas_sgemm` (Accelerate).
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
        if k > 0, ComputeBackend.gemmKernel(m: m, n: n, k: k, transA: transA, transB: transB) == .matmul,
           let cache = MatmulCache.current {
            let key = MatmulPrimitive.Key(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                                          threads: ComputeBackend.currentThreads, transA: transA, transB: transB,
                                          alpha: alpha, beta: beta, precision: .fp32)
            if cache.run(key, a: .fp32(a), b: .fp32(b), c: c) { return }
        }
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

    /// A GEMM in `precision`: fp32 is `multiply` above (both operands must be `.fp32`); bf16 runs
    /// oneDNN's matmul primitive on bf16 inputs with fp32 accumulation and output, rounding each
    /// `.fp32` operand to bf16 first (`BFloat16.convert`, into the primitive's own buffer) and
    /// taking a `.bf16` operand (weights converted once per forward pass) as it is. Leading
    /// dimensions are in elements of either type.
    /// - Precondition: as `multiply`; for bf16, `ComputeBackend.bf16Unsupported()` is nil (the
    ///   caller checked: `Network.setPrecision` throws otherwise).
    @inline(__always)
    public static func multiply(transA: Bool = false, transB: Bool = false,
                                m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: GEMMOperand, lda: Int, b: GEMMOperand, ldb: Int,
                                beta: Float = 0,
                                c: UnsafeMutablePointer<Float>, ldc: Int, precision: GEMMPrecision) {
        switch (precision, a, b) {
        case (.fp32, .fp32(let a), .fp32(let b)):
            multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc)
        case (.fp32, _, _):
            preconditionFailure("a bf16 operand in an fp32 GEMM")
        case (.bf16, _, _):
            precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM size")
            if m == 0 || n == 0 { return }
            #if canImport(CDNNL)
            let key = MatmulPrimitive.Key(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                                          threads: ComputeBackend.currentThreads, transA: transA, transB: transB,
                                          alpha: alpha, beta: beta, precision: .bf16)
            let done = k > 0 && MatmulCache.current?.run(key, a: a, b: b, c: c) == true
            precondition(done || k == 0, "no bf16 matmul on this processor (ComputeBackend.bf16Unsupported checks first)")
            if k == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            #else
            preconditionFailure("bf16 GEMMs need oneDNN (ComputeBackend.bf16Unsupported checks first)")
            #endif
        }
    }

    /// The reference of a bf16 GEMM: both operands rounded to bf16 (`BFloat16.fromFloat`), then
    /// `reference`'s `Double` accumulation. Tests compare the fast bf16 kernel with it, and with
    /// the fp32 `reference`, whose distance it bounds.
    public static func referenceBF16(transA: Bool = false, transB: Bool = false,
                                     m: Int, n: Int, k: Int, alpha: Float = 1,
                                     a: UnsafePointer<Float>, lda: Int,
                                     b: UnsafePointer<Float>, ldb: Int,
                                     beta: Float = 0,
                                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        let aCount = (transA ? k : m) * lda, bCount = (transB ? n : k) * ldb
        let a16 = (0..<aCount).map { BFloat16.toFloat(BFloat16.fromFloat(a[$0])) }
        let b16 = (0..<bCount).map { BFloat16.toFloat(BFloat16.fromFloat(b[$0])) }
        reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16, lda: lda, b: b16, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
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

/// One input matrix of a GEMM (`GEMM.multiply(…precision:)`): fp32 values, or values already
/// rounded to bf16 (the upper halves of their fp32 bit patterns, `BFloat16`).
public enum GEMMOperand {
    /// fp32 values: used as they are by an fp32 GEMM, rounded to bf16 by a bf16 one.
    case fp32(UnsafePointer<Float>)
    /// bf16 bit patterns (only in a bf16 GEMM).
    case bf16(UnsafePointer<UInt16>)
}
