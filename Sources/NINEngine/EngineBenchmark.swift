import Foundation

/// The figures of one engine benchmark run (see `EngineBenchmark.run`).
public struct BenchmarkResult: Codable, Equatable, Sendable {
    /// Model name (`ModelDescription.name`).
    public var model: String
    /// Mini-batch size (images).
    public var batch: Int
    /// Threads for GEMM and the non-GEMM kernels.
    public var threads: Int
    /// Timed training steps and inference batches.
    public var steps: Int
    /// Weights and biases.
    public var parameterCount: Int
    /// Forward multiply-adds per image.
    public var multiplyAddsPerImage: Int
    /// Training throughput (forward + backward + SGD update, dropout active), images per second.
    public var trainImagesPerSecond: Double
    /// Inference throughput (forward only), images per second.
    public var evalImagesPerSecond: Double
    /// Achieved training GFLOP/s, counting a training image as 3 × forward MACs × 2 FLOP.
    public var trainGFLOPS: Double
    /// Achieved inference GFLOP/s (forward MACs × 2 FLOP per image).
    public var evalGFLOPS: Double
    /// The machine's sgemm limit: GFLOP/s of one 4096×4096×4096 row-major sgemm through the same
    /// library with the same threads (`EngineBenchmark.sgemmLimit`).
    public var sgemmLimitGFLOPS: Double
    /// `trainGFLOPS / sgemmLimitGFLOPS`: how close training runs to the hardware (1 = the limit).
    public var trainFractionOfLimit: Double
    /// `evalGFLOPS / sgemmLimitGFLOPS`.
    public var evalFractionOfLimit: Double
    /// Peak resident set size of the process (bytes, `VmHWM` of /proc/self/status; nil when
    /// unavailable, e.g. on macOS).
    public var peakRSSBytes: Int?
    /// The compute backend the figures were measured with (library, version, ISA, threads).
    public var backend: BackendProvenance
    /// Per-layer forward/backward times during training steps.
    public var layers: [LayerBenchmark]
    /// The GEMMs of each convolution / Dense layer timed standalone with the BLAS library on
    /// the same shapes: what the library itself reaches, to compare with the layer figures.
    public var gemms: [GEMMBenchmark]
}

/// One layer's share of a training step.
public struct LayerBenchmark: Codable, Equatable, Sendable {
    /// Layer name.
    public var name: String
    /// How a k×k convolution computed (nil for other layers).
    public var algorithm: ConvolutionAlgorithm?
    /// Mean milliseconds per forward pass over the mini-batch.
    public var forwardMilliseconds: Double
    /// Mean milliseconds per backward pass over the mini-batch.
    public var backwardMilliseconds: Double
    /// Forward GFLOP/s of the layer (2 FLOP per multiply-add; 0 for layers without MACs).
    public var forwardGFLOPS: Double
    /// Backward GFLOP/s (weight gradient + input gradient GEMMs: 2 × forward MACs, 1 × for the
    /// first layer whose input gradient is skipped).
    public var backwardGFLOPS: Double
}

/// One GEMM shape timed standalone: `C[m, n] = op(A)[m, k] · op(B)[k, n]`.
public struct GEMMBenchmark: Codable, Equatable, Sendable {
    /// Layer name.
    public var layer: String
    /// "forward", "weightGradient" or "inputGradient".
    public var pass: String
    /// GEMM sizes.
    public var m: Int, n: Int, k: Int
    /// Mean milliseconds per call.
    public var milliseconds: Double
    /// Achieved GFLOP/s (`2·m·n·k` FLOP per call).
    public var gflops: Double
}

/// Measures the engine's training and inference speed on synthetic data.
public enum EngineBenchmark {
    /// Builds `model` (He init, seed 1), runs `warmup` untimed then `steps` timed training
    /// steps and inference batches of `batch` random images, then `steps` profiled training
    /// steps for the per-layer breakdown, then each layer's GEMM shapes standalone.
    /// `sgemmLimitGFLOPS` is the machine's limit the achieved rates are compared with
    /// (`sgemmLimit(threads:)`, measured once per sitting by the caller).
    /// Run it in a release build; debug timings are meaningless.
    /// - Throws: `ModelDescriptionError` for an invalid `model`.
    /// - Precondition: `batch, threads, steps ≥ 1`.
    public static func run(model: ModelDescription, batch: Int, threads: Int, steps: Int, warmup: Int,
                           sgemmLimitGFLOPS: Double) throws -> BenchmarkResult {
        precondition(batch >= 1 && threads >= 1 && steps >= 1 && warmup >= 0, "invalid benchmark parameters")
        var generator = SeededGenerator(seed: 1)
        let network = try Network(description: model, initializer: .he, maxBatch: batch, threads: threads,
                                  generator: &generator)
        var input = [Float](repeating: 0, count: batch * model.input.count)
        for i in input.indices { input[i] = generator.nextGaussian() }
        let labels = (0..<batch).map { _ in Int32(generator.nextInt(below: model.classes)) }
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
        let lr: Float = 0.001
        let macs = network.multiplyAddsPerImage

        let (trainSeconds, evalSeconds) = try input.withUnsafeBufferPointer { x -> (Double, Double) in
            for _ in 0..<warmup {
                try network.trainStep(input: x, labels: labels, batch: batch, learningRate: lr, optimizer: &sgd, generator: &generator)
            }
            var t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                try network.trainStep(input: x, labels: labels, batch: batch, learningRate: lr, optimizer: &sgd, generator: &generator)
            }
            let train = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            for _ in 0..<max(1, warmup) { _ = try network.evaluate(input: x, labels: labels, batch: batch) }
            t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps { _ = try network.evaluate(input: x, labels: labels, batch: batch) }
            let eval = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            network.resetTimings()
            network.profiling = true
            for _ in 0..<steps {
                try network.trainStep(input: x, labels: labels, batch: batch, learningRate: lr, optimizer: &sgd, generator: &generator)
            }
            network.profiling = false
            return (train, eval)
        }

        var layerFigures: [LayerBenchmark] = []
        for (i, (layer, t)) in zip(network.layers, network.timings).enumerated() {
            let fwd = t.forwardSeconds / Double(max(t.forwardCalls, 1))
            let bwd = t.backwardSeconds / Double(max(t.backwardCalls, 1))
            let flop = 2 * Double(layer.multiplyAddsPerExample * batch)
            layerFigures.append(LayerBenchmark(name: layer.name, algorithm: (layer as? Conv2D)?.algorithm, forwardMilliseconds: fwd * 1e3, backwardMilliseconds: bwd * 1e3,
                                               forwardGFLOPS: fwd > 0 ? flop / fwd * 1e-9 : 0,
                                               backwardGFLOPS: bwd > 0 ? flop * (i == 0 ? 1 : 2) / bwd * 1e-9 : 0))
        }

        let images = Double(batch * steps)
        let trainGFLOPS = images * 3 * Double(macs) * 2 / trainSeconds * 1e-9
        let evalGFLOPS = images * Double(macs) * 2 / evalSeconds * 1e-9
        return BenchmarkResult(
            model: model.name, batch: batch, threads: threads, steps: steps,
            parameterCount: network.parameterCount, multiplyAddsPerImage: macs,
            trainImagesPerSecond: images / trainSeconds, evalImagesPerSecond: images / evalSeconds,
            trainGFLOPS: trainGFLOPS, evalGFLOPS: evalGFLOPS, sgemmLimitGFLOPS: sgemmLimitGFLOPS,
            trainFractionOfLimit: trainGFLOPS / sgemmLimitGFLOPS, evalFractionOfLimit: evalGFLOPS / sgemmLimitGFLOPS,
            peakRSSBytes: peakResidentSetBytes(), backend: ComputeBackend.provenance(threads: threads),
            layers: layerFigures, gemms: standaloneGEMMs(network: network, batch: batch, threads: threads, repeats: max(2, steps)))
    }

    /// The machine's sgemm limit: GFLOP/s of a `size`³ row-major sgemm (`GEMM.multiply`) with
    /// `threads` library threads, best of `repeats` timed calls after one warm-up (`2·size³`
    /// FLOP per call). With the default 4096 it allocates 192 MiB for the call and frees it.
    public static func sgemmLimit(threads: Int, size: Int = 4096, repeats: Int = 3) -> Double {
        ComputeBackend.setThreads(threads)
        let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size), c = FloatBuffer(count: size * size)
        var g = SeededGenerator(seed: 11)
        for j in 0..<a.count { a.pointer[j] = g.nextFloat() - 0.5; b.pointer[j] = g.nextFloat() - 0.5 }
        var best = Double.infinity
        for r in 0...max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            GEMM.multiply(m: size, n: size, k: size, a: a.pointer, lda: size, b: b.pointer, ldb: size, c: c.pointer, ldc: size)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            if r > 0 { best = min(best, seconds) }
        }
        return 2 * pow(Double(size), 3) / best * 1e-9
    }

    /// Times each convolution / Dense layer's three GEMMs alone on random buffers.
    static func standaloneGEMMs(network: Network, batch: Int, threads: Int, repeats: Int) -> [GEMMBenchmark] {
        ComputeBackend.setThreads(threads)
        var out: [GEMMBenchmark] = []
        for (i, layer) in network.layers.enumerated() where layer.multiplyAddsPerExample > 0 {
            let cout = layer.outputShape.channels
            let rows = batch * (layer is Dense ? 1 : layer.outputShape.height * layer.outputShape.width)
            let kdim = layer.weightCount / cout
            var shapes: [(String, Bool, Bool, Int, Int, Int)] = [("forward", false, false, rows, cout, kdim),
                                                                  ("weightGradient", true, false, kdim, cout, rows)]
            if i > 0 { shapes.append(("inputGradient", false, true, rows, kdim, cout)) }
            for (pass, ta, tb, m, n, k) in shapes {
                let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
                var g = SeededGenerator(seed: 7)
                for j in 0..<a.count { a.pointer[j] = g.nextFloat() - 0.5 }
                for j in 0..<b.count { b.pointer[j] = g.nextFloat() - 0.5 }
                let lda = ta ? m : k, ldb = tb ? k : n
                GEMM.multiply(transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb,
                              c: c.pointer, ldc: n)
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats {
                    GEMM.multiply(transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb,
                                  c: c.pointer, ldc: n)
                }
                let s = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 / Double(repeats)
                out.append(GEMMBenchmark(layer: layer.name, pass: pass, m: m, n: n, k: k, milliseconds: s * 1e3,
                                         gflops: 2 * Double(m) * Double(n) * Double(k) / s * 1e-9))
            }
        }
        return out
    }

    /// Peak resident set size in bytes (`VmHWM` of /proc/self/status), nil when unavailable.
    public static func peakResidentSetBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}
