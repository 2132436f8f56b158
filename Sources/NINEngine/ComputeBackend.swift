#if canImport(CDNNL)
import CDNNL
import CBLAS
#elseif canImport(Accelerate)
import Accelerate
#endif

/// The compute backend: the one place where the project calls numerical libraries (GEMM,
/// convolution primitives, the BLAS and LAPACK routines of the ZCA fit) and where their thread
/// counts are set.
///
/// On Linux: oneDNN (Debian `libdnnl-dev`, running on GNU OpenMP) for single precision (GEMM and
/// convolutions); OpenBLAS only for what oneDNN does not have, the double-precision rank-k update
/// and symmetric eigensolver of `Preprocessing`'s ZCA fit. On macOS: Accelerate.
///
/// Threads: oneDNN takes its thread count from the OpenMP setting of the *calling* thread
/// (`omp_set_num_threads` is per thread). The engine's row-blocked layers split a mini-batch over
/// workers (`RowBlocks`); with `GEMMThreading.workers` each worker runs single-threaded GEMMs
/// (two workers each starting an OpenMP team of two would be four threads on two cores), with
/// `.library` one caller runs multi-threaded GEMMs. Results are bit-identical for the same
/// thread count, threading, ISA and library version.
public enum ComputeBackend {
    /// How the row-blocked layers use the cores. Measured on the NIN networks (2 cores, batch 128,
    /// docs/benchmark.md): `workers` was faster; `nin-study bench --gemm-threading` compares.
    public nonisolated(unsafe) static var gemmThreading: GEMMThreading = .workers

    /// Which k×k convolution layers run on oneDNN's convolution primitives (read when a layer is
    /// created). `measured` applies `convolutionAlgorithm`'s rule; the others force one path
    /// (tests, and `nin-study bench --convolution` for measuring the rule).
    public nonisolated(unsafe) static var convolutionSelection: ConvolutionSelection = .measured

    /// The algorithm for a k×k convolution of `input` (per example, NHWC) with `kernel`, `stride`,
    /// `pad`, under `convolutionSelection`.
    ///
    /// The measured rule is im2col + GEMM for every layer: `nin-study bench --layers` with
    /// `--convolution primitive` against `--convolution im2col-gemm` (2 threads, batch 128, AMD
    /// EPYC with AVX-512, two rounds) measured oneDNN's primitives slower on every k×k layer of
    /// both NIN networks, including the padded 5×5 and 3×3 layers on 7×7 and 8×8 maps that a
    /// direct convolution might have won (block 3: forward 1.5–2.5×, backward 1.5–2.5× slower).
    /// The parameters stay so that a rule measured on another machine can use them.
    public static func convolutionAlgorithm(input: FeatureShape, kernel: Int, stride: Int, pad: Int) -> ConvolutionAlgorithm {
        switch convolutionSelection {
        case .im2colGEMM: return .im2colGEMM
        case .primitive: return .primitive
        case .measured: return .im2colGEMM
        }
    }

    /// Which kernel serves fp32 GEMMs (read at every `GEMM.multiply`). `measured` applies
    /// `gemmKernel`'s rule; the others force one kernel (tests, and `nin-study bench --gemm` for
    /// measuring the rule).
    public nonisolated(unsafe) static var gemmSelection: GEMMSelection = .measured

    /// The kernel of an fp32 GEMM of this shape under `gemmSelection`.
    ///
    /// The measured rule is `dnnl_sgemm` for every shape: on this sitting's Intel Xeon (family 6
    /// model 207, AVX-512 with avx512_bf16, 2 cores, loaded by other builds) oneDNN 2.6.3's matmul
    /// f32 did not beat sgemm consistently on the engine's row blocks (`bench --layers --gemm
    /// matmul` against `--gemm sgemm`), and sgemm keeps every recorded trial's numbers. The
    /// parameters stay so that a rule measured on a quiet machine can use them.
    @inline(__always)
    public static func gemmKernel(m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> GEMMKernel {
        switch gemmSelection {
        case .sgemm: return .sgemm
        case .matmul: return .matmul
        case .measured: return .sgemm
        }
    }

    /// Whether bf16 GEMMs run here: nil when they do, else why not, naming the ISA oneDNN
    /// dispatches to. Checked by creating one bf16 matmul primitive (oneDNN 2.6.3 has bf16 matmul
    /// kernels only from `avx512_core` up; with `ONEDNN_MAX_CPU_ISA=AVX2` it offers none but its
    /// reference kernel, which `MatmulPrimitive` refuses).
    public static func bf16Unsupported() -> String? {
        #if canImport(CDNNL)
        guard bf16Implementation() == nil else { return nil }
        let v = dnnl_version()!.pointee
        return "oneDNN \(v.major).\(v.minor).\(v.patch) has no bf16 matmul kernel for the ISA it dispatches to here, "
            + "\(isaName(dnnl_get_effective_cpu_isa())) (it needs avx512_core or newer; ONEDNN_MAX_CPU_ISA may limit it)"
        #else
        return "bf16 GEMMs need oneDNN (Linux)"
        #endif
    }

    /// oneDNN's implementation of a bf16 matmul here (e.g. "brg:avx512_core_bf16"), nil when it
    /// has none but its reference kernel.
    static func bf16Implementation() -> String? {
        #if canImport(CDNNL)
        let key = MatmulPrimitive.Key(m: 16, n: 16, k: 16, lda: 16, ldb: 16, ldc: 16, threads: currentThreads,
                                      transA: false, transB: false, alpha: 1, beta: 0, precision: .bf16)
        return MatmulCache.current?.primitive(key)?.implementation
        #else
        return nil
        #endif
    }

    /// The GEMM kernels of each precision, for the environment record: e.g. "fp32 sgemm (measured
    /// rule); bf16 matmul brg:avx512_core_bf16", or "…; bf16 unsupported: …" naming the ISA.
    public static var gemmDescription: String {
        let fp32 = gemmSelection == .measured ? "\(GEMMKernel.sgemm.rawValue) (measured rule)" : "\(gemmSelection.rawValue) (forced)"
        let bf16 = bf16Implementation().map { "matmul \($0)" } ?? "unsupported: " + (bf16Unsupported() ?? "")
        return "fp32 \(fp32); bf16 \(bf16)"
    }

    /// Sets the thread count of library calls made from the calling thread (OpenMP for oneDNN,
    /// and OpenBLAS's global count when it changes). Call it on the thread that will call the
    /// library; worker threads set their own with `setWorkerThreads`.
    public static func setThreads(_ threads: Int) {
        let n = max(1, threads)
        #if canImport(CDNNL)
        if Int(omp_get_max_threads()) != n { omp_set_num_threads(Int32(n)) }
        if Int(openblas_get_num_threads()) != n { openblas_set_num_threads(Int32(n)) }
        #endif
    }

    /// Sets the OpenMP thread count of the calling (worker) thread only: cheap (a thread-local
    /// write), safe to call from concurrent workers.
    @inline(__always)
    static func setWorkerThreads(_ threads: Int) {
        #if canImport(CDNNL)
        if Int(omp_get_max_threads()) != threads { omp_set_num_threads(Int32(threads)) }
        #endif
    }

    /// The thread count a library call from the calling thread would use now (OpenMP's
    /// `omp_get_max_threads`; 1 without OpenMP).
    public static var currentThreads: Int {
        #if canImport(CDNNL)
        return Int(omp_get_max_threads())
        #else
        return 1
        #endif
    }

    /// Symmetric rank-k product in single precision: `C[D, D] = Aᵀ A + beta · C` for row-major
    /// `A [rows, D]` (leading dimension `D`). Both triangles of `C` are written (oneDNN has no
    /// `ssyrk`; one `dnnl_sgemm` does twice the multiply-adds and is still faster here).
    public static func gram(rows: Int, columns d: Int, a: UnsafePointer<Float>, beta: Float,
                            c: UnsafeMutablePointer<Float>) {
        GEMM.multiply(transA: true, m: d, n: d, k: rows, a: a, lda: d, b: a, ldb: d, beta: beta, c: c, ldc: d)
    }

    /// Symmetric rank-k product in double precision, upper triangle only: `C[D, D] = Aᵀ A`
    /// (row-major `A [rows, D]`; BLAS `dsyrk`, OpenBLAS: oneDNN has no double precision).
    /// The strictly lower triangle of `c` is left untouched.
    public static func gramUpper(rows: Int, columns d: Int, a: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>) {
        #if canImport(CDNNL) || canImport(Accelerate)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows), 1, a, Int32(d), 0, c, Int32(d))
        #else
        for i in 0..<d {
            for j in i..<d {
                var s = 0.0
                for r in 0..<rows { s += a[r * d + i] * a[r * d + j] }
                c[i * d + j] = s
            }
        }
        #endif
    }

    /// Symmetric eigendecomposition in double precision by LAPACK `dsyevd` (divide and conquer;
    /// OpenBLAS's LAPACK).
    /// - Parameter a: n×n symmetric matrix, row-major (both triangles filled).
    /// - Returns: eigenvalues ascending and eigenvectors as rows (`vectors[j*n ..< (j+1)*n]` is
    ///   the unit eigenvector of `values[j]`).
    /// - Throws: `ComputeBackendError.lapack` when LAPACK reports `info ≠ 0`.
    public static func symmetricEigen(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        var matrix = a
        var values = [Double](repeating: 0, count: n)
        #if canImport(CDNNL) || canImport(Accelerate)
        var jobz = Int8(UInt8(ascii: "V")), uplo = Int8(UInt8(ascii: "L"))
        var n32 = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = 0.0
        var iworkQuery: Int32 = 0
        dsyevd_(&jobz, &uplo, &n32, &matrix, &lda, &values, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        guard info == 0 else { throw ComputeBackendError.lapack(routine: "dsyevd (workspace query)", info: Int(info)) }
        lwork = Int32(workQuery)
        liwork = iworkQuery
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        // Column-major output: column j (contiguous) is eigenvector j, i.e. row j in row-major.
        dsyevd_(&jobz, &uplo, &n32, &matrix, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw ComputeBackendError.lapack(routine: "dsyevd", info: Int(info)) }
        #else
        throw ComputeBackendError.lapack(routine: "dsyevd (no LAPACK in this build)", info: -1)
        #endif
        return (values, matrix)
    }

    /// What computes, for the environment record of a trial and the benchmark: library, version,
    /// the instruction set it dispatches to, threading and thread count. Sets the calling
    /// thread's library thread count to `threads` first (as a trial does), so the figure recorded
    /// is the one the trial runs with.
    public static func provenance(threads: Int) -> BackendProvenance {
        setThreads(threads)
        #if canImport(CDNNL)
        let v = dnnl_version()!.pointee
        let hash = v.hash.map { String(cString: $0) } ?? ""
        let lapack = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        return BackendProvenance(library: "oneDNN", version: "\(v.major).\(v.minor).\(v.patch)" + (hash.isEmpty || hash == "N/A" ? "" : " (\(hash.prefix(10)))"),
                                 isa: isaName(dnnl_get_effective_cpu_isa()), runtime: "OpenMP",
                                 threads: currentThreads, gemmThreading: gemmThreading, convolutions: convolutionSelection,
                                 lapack: lapack + " (threads \(openblas_get_num_threads()))")
        #elseif canImport(Accelerate)
        return BackendProvenance(library: "Apple Accelerate", version: "", isa: "", runtime: "GCD",
                                 threads: threads, gemmThreading: gemmThreading, convolutions: .im2colGEMM,
                                 lapack: "Apple Accelerate")
        #else
        return BackendProvenance(library: "naive reference GEMM", version: "", isa: "", runtime: "none",
                                 threads: threads, gemmThreading: gemmThreading, convolutions: .im2colGEMM,
                                 lapack: "none")
        #endif
    }

    #if canImport(CDNNL)
    /// oneDNN's name for an ISA (`dnnl_cpu_isa_t`, as in `ONEDNN_MAX_CPU_ISA`), lower case.
    static func isaName(_ isa: dnnl_cpu_isa_t) -> String {
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa 0x" + String(isa.rawValue, radix: 16)
        }
    }
    #endif
}

/// How the engine's row-blocked layers (`RowBlocks`) share the cores with the GEMM library.
public enum GEMMThreading: String, Codable, CaseIterable, Sendable {
    /// The mini-batch is split over one worker per thread; each worker calls single-threaded
    /// GEMMs on cache-sized row blocks of its share.
    case workers
    /// One caller walks the row blocks and each GEMM runs on all threads (OpenMP).
    case library
}

/// The libraries behind `ComputeBackend` as a trial or benchmark ran them.
public struct BackendProvenance: Codable, Equatable, Sendable, CustomStringConvertible {
    /// GEMM and convolution library, e.g. "oneDNN".
    public var library: String
    /// Its version, e.g. "2.6.3 (52b5f107dd)".
    public var version: String
    /// The instruction set it dispatches to (`dnnl_get_effective_cpu_isa`), e.g. "avx512_core_bf16".
    public var isa: String
    /// Its threading runtime, e.g. "OpenMP".
    public var runtime: String
    /// Threads of a library call from the trial's thread (OpenMP `omp_get_max_threads`).
    public var threads: Int
    /// How row-blocked layers split work between workers and the library.
    public var gemmThreading: GEMMThreading
    /// Which k×k convolutions run on oneDNN's convolution primitives.
    public var convolutions: ConvolutionSelection
    /// The LAPACK used for the ZCA fit (OpenBLAS `openblas_get_config()` and its threads).
    public var lapack: String

    /// One line, e.g. "oneDNN 2.6.3 (…) ISA avx512_core_bf16, OpenMP threads 2, GEMM threading
    /// workers, convolution primitives measured; LAPACK: OpenBLAS 0.3.21 … (threads 2)".
    public var description: String {
        "\(library) \(version) ISA \(isa), \(runtime) threads \(threads), GEMM threading \(gemmThreading.rawValue), "
            + "convolution primitives \(convolutions.rawValue); LAPACK: \(lapack)"
    }
}

/// A failure reported by a numerical library.
public enum ComputeBackendError: Error, Equatable, CustomStringConvertible {
    /// LAPACK returned `info ≠ 0` (negative: argument `−info` was illegal; positive: the
    /// algorithm failed to converge).
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .lapack(routine, info): return "LAPACK \(routine) failed with info = \(info)"
        }
    }
}
