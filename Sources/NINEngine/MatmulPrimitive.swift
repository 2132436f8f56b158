import CBF16
#if canImport(CDNNL)
import CDNNL
import Glibc
#endif

/// Which library kernel serves `GEMM.multiply`'s single-precision products.
public enum GEMMKernel: String, Codable, CaseIterable, Sendable {
    /// oneDNN's BLAS-like `dnnl_sgemm`.
    case sgemm
    /// oneDNN's matmul primitive (its brgemm kernels), created once per shape and thread.
    case matmul
}

/// Which kernel `GEMM.multiply` uses for fp32 products: `measured` applies
/// `ComputeBackend.gemmKernel`'s measured rule; the others force one kernel (tests,
/// and `nin-study bench --gemm` for measuring the rule).
public enum GEMMSelection: String, Codable, CaseIterable, Sendable {
    case measured
    case sgemm
    case matmul
}

/// The number format of a GEMM's inputs. Accumulation and output are fp32 in both.
public enum GEMMPrecision: String, Codable, CaseIterable, Sendable {
    /// IEEE single precision inputs (the default).
    case fp32
    /// bfloat16 inputs (8-bit significand incl. the implicit bit, fp32's exponent range), converted
    /// from fp32 by round-to-nearest-even (`BFloat16.convert`), fp32 accumulation and output.
    case bf16
}

/// bfloat16 conversion: the upper 16 bits of an IEEE single, rounded to nearest, ties to even.
public enum BFloat16 {
    /// One value, round-to-nearest-even; NaN stays a (quiet) NaN. The reference of `convert`.
    @inline(__always)
    public static func fromFloat(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// The fp32 value of a bfloat16 bit pattern (exact).
    @inline(__always)
    public static func toFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// Converts a `rows × columns` fp32 block with leading dimension `ld` (elements) into a
    /// row-major bf16 block with the same leading dimension (the columns past `columns` are not
    /// written), with `fromFloat`'s rounding for every value, NaN and subnormals included
    /// (`nin_bf16_convert`: 16 values per step with AVX-512 where the processor has it, else one
    /// by one; both give the same bits).
    @inline(__always)
    public static func convert(_ source: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                               into destination: UnsafeMutablePointer<UInt16>) {
        precondition(rows >= 0 && columns >= 0 && (rows <= 1 || ld >= columns), "invalid bf16 block")
        source.withMemoryRebound(to: UInt32.self, capacity: max(rows * ld, columns)) {
            nin_bf16_convert($0, rows, columns, ld, destination)
        }
    }
}

#if canImport(CDNNL)
/// One oneDNN matmul primitive for one GEMM shape on one thread: row-major
/// `C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C`, fp32 or bf16 inputs, fp32 output.
///
/// Created once per `Key` by `MatmulCache` (never in the batch loop) and executed on the thread
/// that created it, with that thread's stream. A bf16 primitive rounds an fp32 operand into its own
/// buffer before each execution and takes a bf16 operand as it is. The memory descriptors carry
/// the caller's leading dimensions, so transposes cost no copy.
final class MatmulPrimitive {
    /// Everything the primitive was built for; threads, because oneDNN fixes the thread
    /// decomposition of its brgemm kernels when the primitive is created.
    struct Key: Hashable {
        var m, n, k, lda, ldb, ldc, threads: Int
        var transA, transB: Bool
        var alpha, beta: Float
        var precision: GEMMPrecision
    }

    let key: Key
    private var primitive: dnnl_primitive_t?
    private var a: dnnl_memory_t?, b: dnnl_memory_t?, c: dnnl_memory_t?
    private var scratchA: UnsafeMutablePointer<UInt16>?, scratchB: UnsafeMutablePointer<UInt16>?
    /// oneDNN's implementation name (e.g. "brg:avx512_core_bf16"), for `bench` and tests.
    private(set) var implementation = ""

    /// Builds the primitive, or nil when oneDNN has no matmul for this key on this processor
    /// (e.g. bf16 without an ISA that runs it).
    init?(key: Key, engine: dnnl_engine_t) {
        self.key = key
        let bf16 = key.precision == .bf16
        let dt = bf16 ? dnnl_bf16 : dnnl_f32
        // Logical A [M, K], B [K, N], stored as the caller stores them; strides express the transposes.
        let (aStored, bStored) = (key.lda, key.ldb)
        var ad = dnnl_memory_desc_t(), bd = dnnl_memory_desc_t(), cd = dnnl_memory_desc_t()
        let aStrides: [Int64] = key.transA ? [1, Int64(aStored)] : [Int64(aStored), 1]
        let bStrides: [Int64] = key.transB ? [1, Int64(bStored)] : [Int64(bStored), 1]
        guard dnnl_memory_desc_init_by_strides(&ad, 2, [Int64(key.m), Int64(key.k)], dt, aStrides) == dnnl_success,
              dnnl_memory_desc_init_by_strides(&bd, 2, [Int64(key.k), Int64(key.n)], dt, bStrides) == dnnl_success,
              dnnl_memory_desc_init_by_strides(&cd, 2, [Int64(key.m), Int64(key.n)], dnnl_f32,
                                               [Int64(key.ldc), 1]) == dnnl_success else { return nil }
        var desc = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&desc, &ad, &bd, nil, &cd) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?, postOps: dnnl_post_ops_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success, dnnl_post_ops_create(&postOps) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attr); dnnl_post_ops_destroy(postOps) }
        var alpha = key.alpha
        if alpha != 1 {
            guard dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha) == dnnl_success else { return nil }
        }
        if key.beta != 0 {
            guard dnnl_post_ops_append_sum(postOps, key.beta) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, postOps) == dnnl_success else { return nil }
        }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var info: UnsafePointer<CChar>?
        if dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success, let info {
            implementation = String(cString: info)
        }
        // oneDNN's reference matmul ("ref:any") is far slower than sgemm: refuse it.
        if implementation.hasPrefix("ref") { return nil }
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success,
              dnnl_memory_create(&a, &ad, engine, nil) == dnnl_success,
              dnnl_memory_create(&b, &bd, engine, nil) == dnnl_success,
              dnnl_memory_create(&c, &cd, engine, nil) == dnnl_success else { return nil }
    }

    deinit {
        if let primitive { dnnl_primitive_destroy(primitive) }
        for m in [a, b, c] { if let m { dnnl_memory_destroy(m) } }
        scratchA?.deallocate()
        scratchB?.deallocate()
    }

    /// The bf16 form of an operand stored as `rows × columns` with leading dimension `ld`: a bf16
    /// operand itself, an fp32 one rounded into `scratch` (allocated on first use, `rows · ld`).
    private static func bf16(_ operand: GEMMOperand, rows: Int, columns: Int, ld: Int,
                             scratch: inout UnsafeMutablePointer<UInt16>?) -> UnsafeMutableRawPointer {
        switch operand {
        case .bf16(let p): return UnsafeMutableRawPointer(mutating: p)
        case .fp32(let p):
            let buffer = scratch ?? .allocate(capacity: max(rows * ld, 1))
            scratch = buffer
            BFloat16.convert(p, rows: rows, columns: columns, ld: ld, into: buffer)
            return UnsafeMutableRawPointer(buffer)
        }
    }

    /// Runs the product on `stream` (the creating thread's). Returns false when oneDNN fails.
    /// - Precondition: an fp32 primitive gets `.fp32` operands.
    func execute(a pa: GEMMOperand, b pb: GEMMOperand, c pc: UnsafeMutablePointer<Float>, stream: dnnl_stream_t) -> Bool {
        let ha: UnsafeMutableRawPointer, hb: UnsafeMutableRawPointer
        switch (key.precision, pa, pb) {
        case (.fp32, .fp32(let a), .fp32(let b)):
            (ha, hb) = (UnsafeMutableRawPointer(mutating: a), UnsafeMutableRawPointer(mutating: b))
        case (.fp32, _, _):
            preconditionFailure("a bf16 operand for an fp32 matmul")
        case (.bf16, _, _):
            let (aRows, aCols) = key.transA ? (key.k, key.m) : (key.m, key.k)
            let (bRows, bCols) = key.transB ? (key.n, key.k) : (key.k, key.n)
            ha = Self.bf16(pa, rows: aRows, columns: aCols, ld: key.lda, scratch: &scratchA)
            hb = Self.bf16(pb, rows: bRows, columns: bCols, ld: key.ldb, scratch: &scratchB)
        }
        guard dnnl_memory_set_data_handle(a, ha) == dnnl_success, dnnl_memory_set_data_handle(b, hb) == dnnl_success,
              dnnl_memory_set_data_handle(c, pc) == dnnl_success else { return false }
        let args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: a), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: b),
                    dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: c)]
        return dnnl_primitive_execute(primitive, stream, Int32(args.count), args) == dnnl_success
            && dnnl_stream_wait(stream) == dnnl_success
    }
}

/// The calling thread's matmul primitives, keyed by shape: one cache per thread (a pthread
/// key), so a primitive and its stream are only ever used by the thread that made them and no
/// worker waits on another. Destroyed with the thread.
final class MatmulCache {
    private static let engine: dnnl_engine_t? = {
        var e: dnnl_engine_t?
        return dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success ? e : nil
    }()
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0.map { Unmanaged<MatmulCache>.fromOpaque($0).release() } }
        return key
    }()

    private var stream: dnnl_stream_t?
    private var primitives: [MatmulPrimitive.Key: MatmulPrimitive?] = [:]

    private init?() {
        guard let engine = Self.engine,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return nil }
    }

    deinit {
        primitives.removeAll()
        if let stream { dnnl_stream_destroy(stream) }
    }

    /// The calling thread's cache (made on first use), or nil when oneDNN has no CPU engine.
    static var current: MatmulCache? {
        if let raw = pthread_getspecific(threadKey) { return Unmanaged<MatmulCache>.fromOpaque(raw).takeUnretainedValue() }
        guard let cache = MatmulCache() else { return nil }
        pthread_setspecific(threadKey, Unmanaged.passRetained(cache).toOpaque())
        return cache
    }

    /// The primitive for `key` (created on first use; a failed creation is remembered as nil).
    func primitive(_ key: MatmulPrimitive.Key) -> MatmulPrimitive? {
        if let hit = primitives[key] { return hit }
        let made = Self.engine.flatMap { MatmulPrimitive(key: key, engine: $0) }
        primitives[key] = made
        return made
    }

    /// Runs `key`'s product; false when oneDNN has no primitive for it or fails.
    func run(_ key: MatmulPrimitive.Key, a: GEMMOperand, b: GEMMOperand, c: UnsafeMutablePointer<Float>) -> Bool {
        guard let stream, let p = primitive(key) else { return false }
        return p.execute(a: a, b: b, c: c, stream: stream)
    }

    /// The number of primitives this thread holds (tests: created once per shape).
    var count: Int { primitives.count }
}
#endif
