import Foundation

/// One GEMM of a layer as the engine's workers call it (`RowBlocks`: one single-threaded call
/// per worker on a row block), timed with each kernel, interleaved in one run (`nin-study bench
/// --layers`): the measurement `ComputeBackend.gemmKernel`'s rule is chosen from.
public struct GEMMKernelComparison: Codable, Equatable, Sendable {
    /// Layer name.
    public var layer: String
    /// "forward" (`[rows, K] · [K, Cout]`), "weightGradient" (`colsᵀ · dOut`) or
    /// "inputGradient" (`dOut · Wᵀ`).
    public var pass: String
    /// GEMM sizes of one call: `C[m, n] = op(A)[m, k] · op(B)[k, n]`.
    public var m: Int, n: Int, k: Int
    /// Whether A / B are transposed.
    public var transA: Bool, transB: Bool
    /// Calls running at once, one per worker thread, each single-threaded.
    public var workers: Int
    /// GFLOP/s of all workers together (`workers · 2mnk` per round of calls), best of the
    /// rounds: `dnnl_sgemm`, the matmul primitive in fp32, and in bf16 (nil where bf16 cannot run).
    public var sgemmGFLOPS: Double, matmulGFLOPS: Double, bf16GFLOPS: Double?
    /// The fp32 kernel the measured rule (`ComputeBackend.gemmKernel`) uses for this shape (the
    /// one in force: `bench --gemm` may force one).
    public var rule: GEMMKernel
}

/// The best GEMM rate of a precision on this machine: `nin-study bench`'s limit.
public struct GEMMLimit: Codable, Equatable, Sendable {
    /// The precision of the limit.
    public var precision: GEMMPrecision
    /// GFLOP/s of a `size`³ GEMM with the benchmark's threads: for fp32 the better of
    /// `dnnl_sgemm` and the matmul primitive, for bf16 the bf16 matmul primitive.
    public var gflops: Double
    /// The kernel that reached it ("dnnl_sgemm", "matmul f32", "matmul bf16").
    public var kernel: String
    /// The fp32 `dnnl_sgemm` figure of the same size (the limit before matmul kernels).
    public var sgemmGFLOPS: Double
    /// The edge of the square GEMM (4096).
    public var size: Int
}

extension EngineBenchmark {
    /// The machine's limit in `precision` with `threads` library threads: the best of the
    /// kernels of that precision on one `size`³ GEMM (best of `repeats` calls after a warm-up).
    /// - Precondition: for bf16, `ComputeBackend.bf16Unsupported()` is nil.
    public static func limit(precision: GEMMPrecision, threads: Int, size: Int = 4096, repeats: Int = 3) -> GEMMLimit {
        let selection = ComputeBackend.gemmSelection
        defer { ComputeBackend.gemmSelection = selection }
        ComputeBackend.gemmSelection = .sgemm
        let sgemm = squareGEMM(precision: .fp32, threads: threads, size: size, repeats: repeats)
        switch precision {
        case .fp32:
            ComputeBackend.gemmSelection = .matmul
            let matmul = squareGEMM(precision: .fp32, threads: threads, size: size, repeats: repeats)
            return GEMMLimit(precision: .fp32, gflops: max(sgemm, matmul), kernel: matmul > sgemm ? "matmul f32" : "dnnl_sgemm",
                             sgemmGFLOPS: sgemm, size: size)
        case .bf16:
            let bf16 = squareGEMM(precision: .bf16, threads: threads, size: size, repeats: repeats)
            return GEMMLimit(precision: .bf16, gflops: bf16, kernel: "matmul bf16", sgemmGFLOPS: sgemm, size: size)
        }
    }

    /// GFLOP/s of one `size`³ row-major GEMM in `precision` (the fp32 kernel as
    /// `ComputeBackend.gemmSelection` says), best of `repeats` timed calls after one warm-up.
    static func squareGEMM(precision: GEMMPrecision, threads: Int, size: Int, repeats: Int) -> Double {
        ComputeBackend.setThreads(threads)
        let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size), c = FloatBuffer(count: size * size)
        var g = SeededGenerator(seed: 11)
        for j in 0..<a.count { a.pointer[j] = g.nextFloat() - 0.5; b.pointer[j] = g.nextFloat() - 0.5 }
        var best = Double.infinity
        for r in 0...max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            GEMM.multiply(m: size, n: size, k: size, a: .fp32(a.pointer), lda: size, b: .fp32(b.pointer), ldb: size,
                          c: c.pointer, ldc: size, precision: precision)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            if r > 0 { best = min(best, seconds) }
        }
        return 2 * pow(Double(size), 3) / best * 1e-9
    }

    /// Each GEMM layer's three GEMMs (forward, weight gradient, input gradient; no input gradient
    /// for the first layer) at the row-block size the layer uses, run by `threads` concurrent
    /// single-threaded workers, with `dnnl_sgemm`, matmul f32 and matmul bf16 in turn, `rounds`
    /// times interleaved; each figure the best round, a round being enough calls per worker for
    /// about `2 · workMACs` FLOP (at least 3).
    public static func compareKernels(network: Network, batch: Int, threads: Int, rounds: Int = 5,
                                      workMACs: Double = 1e9) -> [GEMMKernelComparison] {
        let bf16 = ComputeBackend.bf16Unsupported() == nil
        let selection = ComputeBackend.gemmSelection
        defer { ComputeBackend.gemmSelection = selection; ComputeBackend.setThreads(threads) }
        var out: [GEMMKernelComparison] = []
        for (i, layer) in network.layers.enumerated() where layer.multiplyAddsPerExample > 0 {
            let cout = layer.outputShape.channels, kdim = layer.weightCount / cout
            let layerRows = batch * (layer is Dense ? 1 : layer.outputShape.height * layer.outputShape.width)
            let block = (layer as? Conv2D)?.blockRows ?? (layer as? LinearLayer)?.blockRows ?? layerRows
            let workers = min(threads, max(1, batch))
            let rows = min(block, (layerRows + workers - 1) / workers)
            var shapes: [(String, Bool, Bool, Int, Int, Int)] = [("forward", false, false, rows, cout, kdim),
                                                                  ("weightGradient", true, false, kdim, cout, rows)]
            if i > 0 { shapes.append(("inputGradient", false, true, rows, kdim, cout)) }
            for (pass, ta, tb, m, n, k) in shapes {
                let repeats = min(500, max(3, Int(workMACs / Double(m * n * k))))
                var best = [Double](repeating: 0, count: 3)
                for _ in 0..<rounds {
                    for (v, variant) in [(GEMMSelection.sgemm, GEMMPrecision.fp32), (.matmul, .fp32), (.measured, .bf16)].enumerated()
                    where variant.1 == .fp32 || bf16 {
                        ComputeBackend.gemmSelection = variant.0
                        let seconds = timeWorkers(workers: workers, repeats: repeats, transA: ta, transB: tb, m: m, n: n, k: k,
                                                  precision: variant.1)
                        best[v] = max(best[v], Double(workers) * 2 * Double(m) * Double(n) * Double(k) / seconds * 1e-9)
                    }
                }
                ComputeBackend.gemmSelection = selection
                out.append(GEMMKernelComparison(layer: layer.name, pass: pass, m: m, n: n, k: k, transA: ta, transB: tb,
                                                workers: workers, sgemmGFLOPS: best[0], matmulGFLOPS: best[1],
                                                bf16GFLOPS: bf16 ? best[2] : nil,
                                                rule: ComputeBackend.gemmKernel))
            }
        }
        return out
    }

    /// Seconds per call of `workers` concurrent single-threaded GEMM loops (own random buffers
    /// each; every worker times its `repeats` calls after a warm-up call that creates its
    /// primitive; the slowest worker's time).
    static func timeWorkers(workers: Int, repeats: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            precision: GEMMPrecision) -> Double {
        let lda = transA ? m : k, ldb = transB ? k : n
        let buffers = (0..<workers).map { w -> (FloatBuffer, FloatBuffer, FloatBuffer) in
            let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n)
            var g = SeededGenerator(seed: 7 + UInt64(w))
            for j in 0..<a.count { a.pointer[j] = g.nextFloat() - 0.5 }
            for j in 0..<b.count { b.pointer[j] = g.nextFloat() - 0.5 }
            return (a, b, FloatBuffer(count: m * n))
        }
        let seconds = FloatBuffer(count: workers)
        let threads = ComputeBackend.currentThreads
        Parallel.forEachChunk(count: workers, threads: workers) { worker, _ in
            ComputeBackend.setWorkerThreads(workers > 1 ? 1 : threads)
            let (a, b, c) = buffers[worker]
            var t0 = DispatchTime.now().uptimeNanoseconds
            for call in 0...repeats {
                if call == 1 { t0 = DispatchTime.now().uptimeNanoseconds }
                GEMM.multiply(transA: transA, transB: transB, m: m, n: n, k: k, a: .fp32(a.pointer), lda: lda,
                              b: .fp32(b.pointer), ldb: ldb, c: c.pointer, ldc: n, precision: precision)
            }
            seconds.pointer[worker] = Float(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return Double((0..<workers).map { seconds.pointer[$0] }.max()!) / Double(repeats)
    }
}
