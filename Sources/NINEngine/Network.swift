import Foundation

/// The result of one training step.
public struct StepResult: Equatable, Sendable {
    /// Mean softmax cross-entropy over the mini-batch (nats).
    public var loss: Float
    /// Examples whose arg-max logit equals the label.
    public var correct: Int
}

/// Per-class spatial evidence for the renderer (NIN §4.7, Figure 4).
public struct ConfidenceMaps: Sendable {
    /// Where the maps come from.
    public enum Kind: Equatable, Sendable {
        /// GAP head: the last mlpconv layer's per-class maps as they enter global average
        /// pooling (after the last block's pooling, if it has one); each map's mean is its logit.
        case gapClassMaps
        /// FC head without hidden layers: per-position contribution
        /// `Σ_c feature[h, w, c] · W[(h, w, c), k]` of the final linear layer (the maps of class
        /// k sum to `logit_k − bias_k`).
        case fcLinearContribution
        /// No spatial maps exist for this model (the reason says why).
        case unavailable(reason: String)
    }
    /// The source of the maps.
    public var kind: Kind
    /// `[N, H, W, classes]` (NHWC); `[N, 0, 0, classes]` when unavailable.
    public var maps: Tensor
    /// `[N, classes]` logits.
    public var logits: Tensor
    /// `[N, classes]` softmax probabilities.
    public var probabilities: Tensor
}

/// Accumulated wall-clock time per layer, for the benchmark's per-layer breakdown.
public struct LayerTiming: Codable, Equatable, Sendable {
    /// Layer name.
    public var name: String
    /// Seconds spent in forward passes.
    public var forwardSeconds: Double
    /// Seconds spent in backward passes.
    public var backwardSeconds: Double
    /// Forward passes timed.
    public var forwardCalls: Int
    /// Backward passes timed.
    public var backwardCalls: Int
    /// The index of the layer whose forward time includes this one's: its own, or the k×k
    /// convolution of the mlpconv group (`MlpconvGroup`) it runs in, block by block with the
    /// group's other layers, exactly as in training, or, for the pooling after a group, example by
    /// example inside it (a grouped layer's `forwardSeconds` is 0).
    public var forwardTimedWith: Int
}

/// A trainable NIN model built from a `ModelDescription`: the layers, their flat parameter and
/// gradient storage, activation buffers sized for `maxBatch`, and the loss.
///
/// Inputs are `[N, H, W, C]` Float32 NHWC mini-batches with `N ≤ maxBatch`; labels are class
/// indices in `0..<classes`. Non-GEMM work is split into `threads` static chunks and the compute
/// backend runs its GEMMs on the same threads (`ComputeBackend`), so the same seed, thread
/// count and backend (library version, ISA) give bit-identical weights.
public final class Network {
    /// The description the network was built from.
    public let modelDescription: ModelDescription
    /// Multipliers applied by `trainStep`.
    public let multipliers: LearningRateMultipliers
    /// Largest mini-batch.
    public let maxBatch: Int
    /// Threads for GEMM and the non-GEMM kernels.
    public let threads: Int
    /// The layers in forward order.
    public let layers: [Layer]
    /// Parameter groups (weights / bias of each layer) with their multipliers, in storage order.
    public let groups: [ParameterGroup]
    /// Number of classes.
    public let classes: Int
    /// The layer whose output `[N, H, W, classes]` global average pooling averages (the class
    /// confidence maps of a GAP head); nil for an FC head.
    public let classMapLayerIndex: Int?

    let store: ParameterStore
    let activations: [FloatBuffer]
    /// Where each layer's output of the last forward pass is: its `activations` buffer, or the
    /// buffer it was handed when it was the identity (`Layer.isIdentity`).
    private var outputs: [UnsafePointer<Float>]
    /// The mlpconv groups by the index of their k×k convolution (`MlpconvGroup`): the forward
    /// pass runs each group block by block (`profiling` times a group as one forward).
    let mlpconvGroups: [Int: MlpconvGroup]
    /// Whether the forward pass runs the mlpconv groups (true; tests compare with layer by layer).
    var runsMlpconvGroups = true
    /// Whether a group runs the pooling that reads its output (true; tests compare with a
    /// separate pooling pass).
    var fusesPooling = true
    let gradientA: FloatBuffer
    let gradientB: FloatBuffer
    let correctFlags: UnsafeMutablePointer<Bool>
    let probabilityScratch: FloatBuffer

    /// When true, per-layer forward/backward times are accumulated into `timings`. The passes
    /// run the same code as without (the forward pass of an mlpconv group is timed as a whole).
    public var profiling = false
    /// Per-layer times (used when `profiling`).
    public private(set) var timings: [LayerTiming]

    /// Builds and initialises the network.
    ///
    /// Weights are drawn from `generator` layer by layer in forward order (see `Initializer`);
    /// biases are set to `biasValue`.
    /// - Throws: `ModelDescriptionError` for an invalid description.
    /// - Precondition: `maxBatch ≥ 1`, `threads ≥ 1`.
    public init(description: ModelDescription, initializer: Initializer,
                multipliers: LearningRateMultipliers = LearningRateMultipliers(),
                maxBatch: Int, threads: Int, biasValue: Float = 0,
                generator: inout SeededGenerator) throws {
        precondition(maxBatch >= 1 && threads >= 1, "maxBatch and threads must be ≥ 1")
        let plan = try description.plan()
        modelDescription = description
        self.multipliers = multipliers
        self.maxBatch = maxBatch
        self.threads = threads
        classes = description.classes
        let layers = plan.map { $0.spec.makeLayer(name: $0.name, input: $0.input, relu: $0.relu, maxBatch: maxBatch, threads: threads) }
        classMapLayerIndex = plan.firstIndex { $0.isClassMaps }
        self.layers = layers
        store = ParameterStore(layers: layers)
        let lastParameterized = layers.lastIndex { $0.parameterCount > 0 }
        var groups: [ParameterGroup] = []
        for (i, layer) in layers.enumerated() where layer.parameterCount > 0 {
            let last = i == lastParameterized
            groups.append(ParameterGroup(name: layer.name + ".weight", offset: store.offsets[i], count: layer.weightCount,
                                         learningRateMultiplier: last ? multipliers.lastWeight : multipliers.weight,
                                         decayMultiplier: last ? multipliers.lastWeightDecay : multipliers.weightDecay))
            groups.append(ParameterGroup(name: layer.name + ".bias", offset: store.offsets[i] + layer.weightCount,
                                         count: layer.biasCount,
                                         learningRateMultiplier: last ? multipliers.lastBias : multipliers.bias,
                                         decayMultiplier: last ? multipliers.lastBiasDecay : multipliers.biasDecay))
        }
        self.groups = groups
        activations = layers.map { FloatBuffer(count: maxBatch * $0.outputShape.count) }
        outputs = activations.map { UnsafePointer($0.pointer) }
        var mlpconv: [Int: MlpconvGroup] = [:]
        for index in layers.indices { mlpconv[index] = MlpconvGroup(layers: layers, at: index, threads: threads) }
        mlpconvGroups = mlpconv
        let largest = max(layers.map { max($0.inputShape.count, $0.outputShape.count) }.max() ?? 1, 1)
        gradientA = FloatBuffer(count: maxBatch * largest)
        gradientB = FloatBuffer(count: maxBatch * largest)
        correctFlags = .allocate(capacity: maxBatch)
        correctFlags.initialize(repeating: false, count: maxBatch)
        probabilityScratch = FloatBuffer(count: maxBatch * description.classes)
        timings = []
        resetTimings()

        // Initialisation: forward order, weights in storage order, biases constant.
        for (i, layer) in layers.enumerated() where layer.parameterCount > 0 {
            let w = store.parameters.pointer + store.offsets[i]
            initializer.fill(w, count: layer.weightCount, fanIn: layer.fanIn,
                             generator: &generator)
            (w + layer.weightCount).update(repeating: biasValue, count: layer.biasCount)
        }
    }

    deinit { correctFlags.deallocate() }

    /// Total weights and biases.
    public var parameterCount: Int { store.parameters.count }
    /// Forward multiply-adds per image (convolutions and Dense).
    public var multiplyAddsPerImage: Int { layers.reduce(0) { $0 + $1.multiplyAddsPerExample } }
    /// Per-example input shape (NHWC).
    public var inputShape: FeatureShape { modelDescription.input }

    /// All parameters in storage order (layers in forward order, weights then bias).
    public var parameters: UnsafeMutableBufferPointer<Float> { store.parameters.buffer }
    /// The gradients of the last training step, same layout as `parameters`.
    public var gradients: UnsafeMutableBufferPointer<Float> { store.gradients.buffer }

    /// A copy of all parameters.
    public func parameterValues() -> [Float] { store.parameters.array }

    /// Resets the profiling accumulators.
    public func resetTimings() {
        timings = layers.indices.map { i in
            let group = mlpconvGroups.values.first { layersRun(by: $0).contains(i) }
            return LayerTiming(name: layers[i].name, forwardSeconds: 0, backwardSeconds: 0, forwardCalls: 0, backwardCalls: 0,
                               forwardTimedWith: group?.first ?? i)
        }
    }

    @inline(__always) private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The layers whose forward pass `group` runs: its own, and the pooling after it when
    /// `fusesPooling`.
    private func layersRun(by group: MlpconvGroup) -> ClosedRange<Int> {
        fusesPooling ? group.forwardIndices : group.layerIndices
    }

    /// Runs the forward pass; returns the logits pointer `[N, classes]` (the last layer's output).
    /// A layer that is the identity in `mode` (`Layer.isIdentity`) is not run: the next layer
    /// reads its input directly, and `outputs[i]` points at that buffer.
    @discardableResult
    func forward(input: UnsafePointer<Float>, batch: Int, mode: Mode,
                 generator: inout SeededGenerator) -> UnsafePointer<Float> {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        ComputeBackend.setThreads(threads)
        var x = input
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            if layer.isIdentity(in: mode) {
                outputs[i] = x
                i += 1
                continue
            }
            if runsMlpconvGroups, let group = mlpconvGroups[i] {
                let range = layersRun(by: group)
                let pooled = range == group.layerIndices ? nil : activations[range.upperBound].pointer
                let t0 = profiling ? now() : 0
                group.forward(input: x, outputs: group.layerIndices.map { activations[$0].pointer }, pooled: pooled,
                              batch: batch, keepIntermediates: mode == .training)
                if profiling {
                    timings[i].forwardSeconds += Double(now() - t0) * 1e-9
                    timings[i].forwardCalls += 1
                }
                for j in range { outputs[j] = UnsafePointer(activations[j].pointer) }
                x = outputs[range.upperBound]
                i = range.upperBound + 1
                continue
            }
            let t0 = profiling ? now() : 0
            layer.forward(input: x, output: activations[i].pointer, batch: batch, mode: mode, generator: &generator)
            if profiling {
                timings[i].forwardSeconds += Double(now() - t0) * 1e-9
                timings[i].forwardCalls += 1
            }
            x = UnsafePointer(activations[i].pointer)
            outputs[i] = x
            i += 1
        }
        return x
    }

    /// One SGD step on a mini-batch: forward in training mode (dropout active, masks drawn from
    /// `generator`), softmax cross-entropy (batch mean), backward, then `optimizer.update` with
    /// this network's multipliers.
    /// - Parameters:
    ///   - input: `[N, H, W, C]` NHWC, at least `batch · H·W·C` floats.
    ///   - labels: `[N]` class indices.
    ///   - learningRate: base learning rate per mini-batch.
    /// - Returns: the mean loss before the update and the number of correct predictions.
    /// - Throws: `NetworkInputError` when `batch` is outside `1…maxBatch`, a buffer is too short
    ///   or a label is outside `0..<classes` (checked before any kernel runs, in every build).
    @discardableResult
    public func trainStep(input: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, batch: Int,
                          learningRate: Float, optimizer: inout SGD, generator: inout SeededGenerator) throws -> StepResult {
        try check(input: input, batch: batch)
        try check(labels: labels, batch: batch)
        let logits = forward(input: input.baseAddress!, batch: batch, mode: .training, generator: &generator)
        let lossSum = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels.baseAddress!, batch: batch,
                                                   classes: classes, gradientScale: 1 / Float(batch),
                                                   gradient: gradientA.pointer, correct: correctFlags)
        var correct = 0
        for n in 0..<batch where correctFlags[n] { correct += 1 }
        var dOut = gradientA.pointer, dIn = gradientB.pointer
        for i in stride(from: layers.count - 1, through: 0, by: -1) where !layers[i].isIdentity(in: .training) {
            let t0 = profiling ? now() : 0
            let x = i == 0 ? input.baseAddress! : outputs[i - 1]
            layers[i].backward(input: x, output: outputs[i], outputGradient: dOut,
                               inputGradient: i == 0 ? nil : dIn, batch: batch)
            if profiling {
                timings[i].backwardSeconds += Double(now() - t0) * 1e-9
                timings[i].backwardCalls += 1
            }
            swap(&dOut, &dIn)
        }
        optimizer.update(parameters: store.parameters.buffer, gradients: UnsafeBufferPointer(store.gradients.buffer),
                         groups: groups, learningRate: learningRate)
        return StepResult(loss: Float(lossSum / Double(batch)), correct: correct)
    }

    /// `trainStep` with the labels in an array.
    @discardableResult
    public func trainStep(input: UnsafeBufferPointer<Float>, labels: [Int32], batch: Int, learningRate: Float,
                          optimizer: inout SGD, generator: inout SeededGenerator) throws -> StepResult {
        try labels.withUnsafeBufferPointer {
            try trainStep(input: input, labels: $0, batch: batch, learningRate: learningRate,
                      optimizer: &optimizer, generator: &generator)
        }
    }

    /// Evaluates a mini-batch in inference mode (no dropout): summed loss (nats) and correct count.
    /// - Throws: `NetworkInputError`, as `trainStep`.
    public func evaluate(input: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
                         batch: Int) throws -> (lossSum: Double, correct: Int) {
        try check(input: input, batch: batch)
        try check(labels: labels, batch: batch)
        var unused = SeededGenerator(seed: 0)
        let logits = forward(input: input.baseAddress!, batch: batch, mode: .inference, generator: &unused)
        let lossSum = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels.baseAddress!, batch: batch,
                                                   classes: classes, correct: correctFlags)
        var correct = 0
        for n in 0..<batch where correctFlags[n] { correct += 1 }
        return (lossSum, correct)
    }

    /// `evaluate` with the labels in an array.
    public func evaluate(input: UnsafeBufferPointer<Float>, labels: [Int32], batch: Int) throws -> (lossSum: Double, correct: Int) {
        try labels.withUnsafeBufferPointer { try evaluate(input: input, labels: $0, batch: batch) }
    }

    /// Inference-mode logits `[N, classes]`.
    /// - Throws: `NetworkInputError` when `batch` is outside `1…maxBatch` or `input` is too short.
    public func logits(input: UnsafeBufferPointer<Float>, batch: Int) throws -> Tensor {
        try check(input: input, batch: batch)
        var unused = SeededGenerator(seed: 0)
        let z = forward(input: input.baseAddress!, batch: batch, mode: .inference, generator: &unused)
        return Tensor(shape: [batch, classes], data: Array(UnsafeBufferPointer(start: z, count: batch * classes)))
    }

    /// Checks a mini-batch's size and input buffer: `1 ≤ batch ≤ maxBatch`, at least
    /// `batch · H·W·C` floats. A plain loop-free check, kept in release builds (NINEngine is
    /// compiled with `-Ounchecked`, which removes `precondition`).
    private func check(input: UnsafeBufferPointer<Float>, batch: Int) throws {
        guard batch >= 1 && batch <= maxBatch else { throw NetworkInputError.batchOutOfRange(batch: batch, maxBatch: maxBatch) }
        guard input.count >= batch * inputShape.count else {
            throw NetworkInputError.inputTooShort(batch: batch, shape: inputShape, expected: batch * inputShape.count,
                                                  found: input.count)
        }
    }

    /// Checks the labels of a mini-batch: at least `batch` of them, each in `0..<classes`
    /// (one pass over `batch` integers before the forward pass).
    private func check(labels: UnsafeBufferPointer<Int32>, batch: Int) throws {
        guard labels.count >= batch else { throw NetworkInputError.labelsTooShort(expected: batch, found: labels.count) }
        for n in 0..<batch where labels[n] < 0 || Int(labels[n]) >= classes {
            throw NetworkInputError.labelOutOfRange(example: n, label: Int(labels[n]), classes: classes)
        }
    }

    static func softmax(_ z: [Float], batch: Int, classes: Int) -> [Float] {
        var p = [Float](repeating: 0, count: z.count)
        z.withUnsafeBufferPointer { zp in
            p.withUnsafeMutableBufferPointer {
                SoftmaxCrossEntropy.softmax(logits: zp.baseAddress!, batch: batch, classes: classes, into: $0.baseAddress!)
            }
        }
        return p
    }

    /// Category confidence maps for a mini-batch, inference mode (NIN §4.7). See `ConfidenceMaps`.
    /// - Throws: `NetworkInputError`, as `logits`.
    public func confidenceMaps(input: UnsafeBufferPointer<Float>, batch: Int) throws -> ConfidenceMaps {
        let z = try logits(input: input, batch: batch)
        let probs = Tensor(shape: [batch, classes], data: Network.softmax(z.data, batch: batch, classes: classes))
        let k = classes
        if let i = classMapLayerIndex {
            let s = layers[i].outputShape
            let maps = Array(UnsafeBufferPointer(start: outputs[i], count: batch * s.count))
            return ConfidenceMaps(kind: .gapClassMaps, maps: Tensor(shape: [batch, s.height, s.width, s.channels], data: maps),
                                  logits: z, probabilities: probs)
        } else {
            guard modelDescription.head.hidden.isEmpty, let dense = layers.last as? Dense else {
                let reason = "the fully connected head has \(modelDescription.head.hidden.count) hidden layer(s), so a class score is not a sum over spatial positions; category confidence maps exist only for GAP heads and single-linear-layer FC heads"
                return ConfidenceMaps(kind: .unavailable(reason: reason), maps: Tensor(zeros: [batch, 0, 0, k]),
                                      logits: z, probabilities: probs)
            }
            let s = dense.inputShape
            let features: UnsafePointer<Float> = layers.count >= 2 ? outputs[layers.count - 2] : input.baseAddress!
            var maps = [Float](repeating: 0, count: batch * s.height * s.width * k)
            let w = dense.weights!
            maps.withUnsafeMutableBufferPointer { mp in
                for n in 0..<batch {
                    for p in 0..<(s.height * s.width) {
                        let f = features + (n * s.height * s.width + p) * s.channels
                        let dst = mp.baseAddress! + (n * s.height * s.width + p) * k
                        for c in 0..<s.channels {
                            let row = w + (p * s.channels + c) * k
                            let fv = f[c]
                            for j in 0..<k { dst[j] += fv * row[j] }
                        }
                    }
                }
            }
            return ConfidenceMaps(kind: .fcLinearContribution, maps: Tensor(shape: [batch, s.height, s.width, k], data: maps),
                                  logits: z, probabilities: probs)
        }
    }
}

/// Bad input to a `Network` entry point (`trainStep`, `evaluate`, `logits`, `predict`,
/// `confidenceMaps`), found before any kernel runs.
public enum NetworkInputError: Error, Equatable, CustomStringConvertible {
    /// The mini-batch size is outside `1…maxBatch` (the capacity the buffers were sized for).
    case batchOutOfRange(batch: Int, maxBatch: Int)
    /// The input buffer holds fewer than `batch · H·W·C` floats (NHWC, per-example `shape`).
    case inputTooShort(batch: Int, shape: FeatureShape, expected: Int, found: Int)
    /// Fewer labels than examples.
    case labelsTooShort(expected: Int, found: Int)
    /// Example `example` of the mini-batch (0-based) has a label outside `0..<classes`.
    case labelOutOfRange(example: Int, label: Int, classes: Int)

    public var description: String {
        switch self {
        case let .batchOutOfRange(batch, maxBatch):
            return "mini-batch of \(batch) images: expected 1…\(maxBatch), the capacity the network was built for"
        case let .inputTooShort(batch, shape, expected, found):
            return "input of \(found) floats for a mini-batch of \(batch) images of \(shape) (NHWC): expected \(expected)"
        case let .labelsTooShort(expected, found):
            return "\(found) labels for a mini-batch of \(expected) images"
        case let .labelOutOfRange(example, label, classes):
            return "label \(label) of example \(example) in the mini-batch is outside 0..<\(classes) (the network has \(classes) classes)"
        }
    }
}
