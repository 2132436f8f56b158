import Foundation

/// The figures of one engine benchmark run (see `EngineBenchmark.run`).
public struct BenchmarkResult: Codable, Equatable, Sendable {
    /// Model name (`ModelDescription.name`).
    public var model: String
    /// Mini-batch size (images).
    public var batch: Int
    /// Threads for GEMM and the non-GEMM kernels.
    public var threads: Int
    /// The number format of the GEMM inputs the network ran with (`Network.setPrecision`).
    public var precision: GEMMPrecision
    /// Which kernel served the fp32 GEMMs (`ComputeBackend.gemmSelection`).
    public var gemm: GEMMSelection
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
    /// The machine's limit in `precision` (`EngineBenchmark.limit`): GFLOP/s of the best kernel
    /// of that precision on one 4096³ GEMM with the same threads (fp32: the better of
    /// `dnnl_sgemm` and matmul f32; bf16: matmul bf16), with the sgemm figure beside it.
    public var limit: GEMMLimit
    /// `trainGFLOPS / limit.gflops`: how close training runs to the hardware in its precision
    /// (1 = the limit).
    public var trainFractionOfLimit: Double
    /// `evalGFLOPS / limit.gflops`.
    public var evalFractionOfLimit: Double
    /// Peak resident set size of the process (bytes, `VmHWM` of /proc/self/status; nil when
    /// unavailable, e.g. on macOS).
    public var peakRSSBytes: Int?
    /// The compute backend the figures were measured with (library, version, ISA, threads).
    public var backend: BackendProvenance
    /// Per-layer forward/backward times during training steps.
    public var layers: [LayerBenchmark]
    /// The GEMMs of each convolution / Dense layer at the engine's row-block shapes, with each
    /// kernel interleaved (`EngineBenchmark.compareKernels`; only when asked for, else empty).
    public var kernels: [GEMMKernelComparison]
}

/// One layer's share of a training step.
public struct LayerBenchmark: Codable, Equatable, Sendable {
    /// Layer name.
    public var name: String
    /// How a k×k convolution computed (nil for other layers).
    public var algorithm: ConvolutionAlgorithm?
    /// The layers whose forward pass `forwardMilliseconds` times: this one, or for the k×k
    /// convolution of an mlpconv group the whole group (convolution and 1×1 layers, run block by
    /// block as in training); empty for a 1×1 layer of a group (timed with its convolution).
    public var forwardLayers: [String]
    /// Mean milliseconds per forward pass over the mini-batch.
    public var forwardMilliseconds: Double
    /// Mean milliseconds per backward pass over the mini-batch.
    public var backwardMilliseconds: Double
    /// Forward GFLOP/s of `forwardLayers` (2 FLOP per multiply-add; 0 without MACs).
    public var forwardGFLOPS: Double
    /// Backward GFLOP/s (weight gradient + input gradient GEMMs: 2 × forward MACs, 1 × for the
    /// first layer whose input gradient is skipped).
    public var backwardGFLOPS: Double
}

/// Measures the engine's training and inference speed on synthetic data.
public enum EngineBenchmark {
    /// Builds `model` (He init, seed 1) in `precision`, runs `warmup` untimed then `steps` timed
    /// training steps and inference batches of `batch` random images, then `steps` profiled
    /// training steps for the per-layer breakdown (the same forward path, `Network.profiling`),
    /// then, with `compareKernels`, each layer's GEMM shapes with every kernel
    /// (`compareKernels(network:batch:threads:)`). `limit` is the machine's limit in that
    /// precision the achieved rates are compared with (`limit(precision:threads:)`, measured once
    /// per sitting by the caller). Run it in a release build; debug timings are meaningless.
    /// - Throws: `ModelDescriptionError` for an invalid `model`; `PrecisionError` for bf16
    ///   where it cannot run.
    /// - Precondition: `batch, threads, steps ≥ 1`.
    public static func run(model: ModelDescription, batch: Int, threads: Int, steps: Int, warmup: Int,
                           precision: GEMMPrecision = .fp32, limit: GEMMLimit, compareKernels: Bool = false) throws -> BenchmarkResult {
        precondition(batch >= 1 && threads >= 1 && steps >= 1 && warmup >= 0, "invalid benchmark parameters")
        var generator = SeededGenerator(seed: 1)
        let network = try Network(description: model, initializer: .he, maxBatch: batch, threads: threads,
                                  generator: &generator)
        try network.setPrecision(precision)
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
        let timings = network.timings
        for (i, (layer, t)) in zip(network.layers, timings).enumerated() {
            let fwd = t.forwardSeconds / Double(max(t.forwardCalls, 1))
            let bwd = t.backwardSeconds / Double(max(t.backwardCalls, 1))
            let flop = 2 * Double(layer.multiplyAddsPerExample * batch)
            let covered = timings.indices.filter { timings[$0].forwardTimedWith == i }
            let forwardFlop = 2 * Double(covered.reduce(0) { $0 + network.layers[$1].multiplyAddsPerExample } * batch)
            layerFigures.append(LayerBenchmark(name: layer.name, algorithm: (layer as? Conv2D)?.algorithm,
                                               forwardLayers: covered.map { network.layers[$0].name },
                                               forwardMilliseconds: fwd * 1e3, backwardMilliseconds: bwd * 1e3,
                                               forwardGFLOPS: fwd > 0 ? forwardFlop / fwd * 1e-9 : 0,
                                               backwardGFLOPS: bwd > 0 ? flop * (i == 0 ? 1 : 2) / bwd * 1e-9 : 0))
        }

        let images = Double(batch * steps)
        let trainGFLOPS = images * 3 * Double(macs) * 2 / trainSeconds * 1e-9
        let evalGFLOPS = images * Double(macs) * 2 / evalSeconds * 1e-9
        return BenchmarkResult(
            model: model.name, batch: batch, threads: threads, precision: network.precision, gemm: ComputeBackend.gemmSelection,
            steps: steps,
            parameterCount: network.parameterCount, multiplyAddsPerImage: macs,
            trainImagesPerSecond: images / trainSeconds, evalImagesPerSecond: images / evalSeconds,
            trainGFLOPS: trainGFLOPS, evalGFLOPS: evalGFLOPS, limit: limit,
            trainFractionOfLimit: trainGFLOPS / limit.gflops, evalFractionOfLimit: evalGFLOPS / limit.gflops,
            peakRSSBytes: peakResidentSetBytes(), backend: ComputeBackend.provenance(threads: threads),
            layers: layerFigures,
            kernels: compareKernels ? Self.compareKernels(network: network, batch: batch, threads: threads) : [])
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
