import Foundation
import XCTest
@testable import NINEngine

/// End-to-end behaviour of `Network`: learning, bit-exact determinism and resume.
final class TrainingTests: XCTestCase {
    /// A small NIN with every layer kind the presets use: k×k conv, 1×1, max and avg pooling
    /// (ceil), dropout, GAP.
    static let small = ModelDescription(
        name: "small", input: InputShape(height: 10, width: 10, channels: 3), classes: 4,
        blocks: [MlpconvBlock(channels: 12, kernel: 3, pad: 1, microWidths: [10, 8],
                              pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.25),
                 MlpconvBlock(channels: 12, kernel: 3, pad: 1, microWidths: [12],
                              pool: .init(kind: .avg, size: 3, stride: 2), dropout: 0.25),
                 MlpconvBlock(channels: 12, kernel: 3, pad: 1, microWidths: [10, 8])],
        head: .gap(finalReLU: false))

    let batch = 8
    lazy var input = gaussianArray(batch * 300, seed: 50)
    let labels: [Int32] = [0, 1, 2, 3, 3, 2, 1, 0]

    func makeNetwork(seed: UInt64, threads: Int = 2) throws -> (Network, SeededGenerator) {
        var g = SeededGenerator(seed: seed)
        let net = try Network(description: Self.small, initializer: .he, maxBatch: batch, threads: threads, generator: &g)
        return (net, g)
    }

    func train(_ net: Network, steps: Int, optimizer: inout SGD, generator: inout SeededGenerator) throws -> [StepResult] {
        let x = input
        return try x.withUnsafeBufferPointer { xp in
            try (0..<steps).map { _ in
                try net.trainStep(input: xp, labels: labels, batch: batch, learningRate: 0.02, optimizer: &optimizer, generator: &generator)
            }
        }
    }

    func weightBytes(_ net: Network) -> Data { Data(buffer: net.parameters) }

    func testSmallModelOverfitsAFixedMiniBatch() throws {
        let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 5,
                                 blocks: [MlpconvBlock(channels: 16, kernel: 3, pad: 1, microWidths: [16],
                                                       pool: .init(kind: .max, size: 3, stride: 2)),
                                          MlpconvBlock(channels: 16, kernel: 3, pad: 1, microWidths: [16])],
                                 head: .gap(finalReLU: false))
        var g = SeededGenerator(seed: 5)
        let net = try Network(description: d, initializer: .he, maxBatch: 16, threads: 2, generator: &g)
        let x = gaussianArray(16 * 192, seed: 51)
        let y: [Int32] = (0..<16).map { Int32($0 % 5) }
        var sgd = SGD(momentum: 0.9, weightDecay: 0)
        var first: StepResult?, last: StepResult?
        try x.withUnsafeBufferPointer { xp in
            for _ in 0..<300 {
                let r = try net.trainStep(input: xp, labels: y, batch: 16, learningRate: 0.05, optimizer: &sgd, generator: &g)
                if first == nil { first = r }
                last = r
            }
        }
        let eval = try x.withUnsafeBufferPointer { try net.evaluate(input: $0, labels: y, batch: 16) }
        XCTAssertEqual(eval.correct, 16, "100 % training accuracy on the fixed mini-batch")
        XCTAssertLessThan(eval.lossSum / 16, 0.05)
        XCTAssertLessThan(last!.loss, first!.loss / 10)
    }

    /// Two runs of 20 steps with the same seed and 2 threads give identical weight bytes.
    func testTwentyStepsAreBitIdenticalAcrossRuns() throws {
        var bytes: [Data] = []
        var losses: [[Float]] = []
        for _ in 0..<2 {
            var (net, g) = try makeNetwork(seed: 9)
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            losses.append(try train(net, steps: 20, optimizer: &sgd, generator: &g).map(\.loss))
            bytes.append(weightBytes(net))
        }
        XCTAssertEqual(bytes[0], bytes[1])
        XCTAssertEqual(losses[0], losses[1])
        XCTAssertLessThan(losses[0].last!, losses[0].first!, "training makes progress")
        // A different seed gives different weights (the comparison can fail).
        var (other, g) = try makeNetwork(seed: 10)
        var sgd = SGD()
        _ = try train(other, steps: 20, optimizer: &sgd, generator: &g)
        XCTAssertNotEqual(weightBytes(other), bytes[0])
    }

    /// Dropout with probability 0 is the identity and draws nothing: an FC + dropout head with
    /// p = 0 and p = 0 dropout between blocks trains bit-identically (weights, losses, generator
    /// state) to the same network without dropout, over steps whose draws would otherwise shift.
    func testZeroDropoutTrainsBitIdenticallyToNoDropout() throws {
        func model(dropout: Float?) -> ModelDescription {
            ModelDescription(name: "p0", input: InputShape(height: 10, width: 10, channels: 3), classes: 4,
                             blocks: [MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [8],
                                                   pool: .init(kind: .max, size: 3, stride: 2), dropout: dropout),
                                      MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [6])],
                             head: .fc(hidden: [], dropout: dropout, finalReLU: false))
        }
        var runs: [(Data, [Float], SeededGenerator)] = []
        for dropout: Float? in [nil, 0] {
            var g = SeededGenerator(seed: 21)
            let net = try Network(description: model(dropout: dropout), initializer: .he, maxBatch: batch, threads: 2,
                                  generator: &g)
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            let losses = try train(net, steps: 6, optimizer: &sgd, generator: &g).map(\.loss)
            runs.append((weightBytes(net), losses, g))
        }
        XCTAssertEqual(runs[0].0, runs[1].0, "weights")
        XCTAssertEqual(runs[0].1, runs[1].1, "losses")
        XCTAssertEqual(runs[0].2, runs[1].2, "generator state: a p = 0 layer drew nothing")
    }

    /// Inference skips dropout layers (they are the identity there): the logits and the FC head's
    /// confidence maps equal those of running every layer's own forward pass in order, dropout's
    /// copy included, after training has moved the weights away from their initial values.
    func testInferenceSkippingDropoutEqualsRunningEveryLayer() throws {
        let d = ModelDescription(name: "skip", input: InputShape(height: 10, width: 10, channels: 3), classes: 4,
                                 blocks: [MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [8],
                                                       pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
                                          MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [6], dropout: 0.5)],
                                 head: .fc(hidden: [], dropout: 0.5, finalReLU: false))
        var g = SeededGenerator(seed: 33)
        let net = try Network(description: d, initializer: .he, maxBatch: batch, threads: 2, generator: &g)
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
        _ = try train(net, steps: 4, optimizer: &sgd, generator: &g)
        XCTAssertEqual(net.layers.filter { $0 is Dropout }.count, 3)

        var x = input
        for layer in net.layers { x = runForward(layer, x, batch: batch, mode: .inference) }
        let skipped = try input.withUnsafeBufferPointer { try net.logits(input: $0, batch: batch) }
        XCTAssertEqual(skipped.data, x, "logits")
        XCTAssertNotEqual(Set(x).count, 1, "the logits vary")
        let maps = try input.withUnsafeBufferPointer { try net.confidenceMaps(input: $0, batch: batch) }
        XCTAssertEqual(maps.kind, .fcLinearContribution)
        // The maps come from the features entering the final Dense (the head dropout's input).
        let dense = try XCTUnwrap(net.layers.last as? Dense)
        let k = 4, positions = dense.inputShape.height * dense.inputShape.width
        for n in 0..<batch {
            for j in 0..<k {
                let sum = (0..<positions).reduce(Float(0)) { $0 + maps.maps.data[(n * positions + $1) * k + j] }
                XCTAssertEqual(sum, x[n * k + j] - dense.bias[j], accuracy: 1e-4)
            }
        }
    }

    /// What `trainThenInfer` returns: the weights after the steps, the logits of a full and an odd
    /// mini-batch, the class maps.
    typealias TrainedOutputs = (weights: [Float], logits: [[Float]], maps: [Float])

    /// Builds `d` (seed 8), lets `configure` set its forward path, forces 37-row mlpconv blocks
    /// (which straddle examples), trains `steps` SGD steps on `x`, then runs inference.
    func trainThenInfer(_ d: ModelDescription, x: [Float], steps: Int,
                        configure: (Network) throws -> Void) throws -> TrainedOutputs {
        var g = SeededGenerator(seed: 8)
        let net = try Network(description: d, initializer: .he, maxBatch: batch, threads: 2, generator: &g)
        try configure(net)
        for group in net.mlpconvGroups.values { group.blockRows = 37 }
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
        try x.withUnsafeBufferPointer { xp in
            for _ in 0..<steps {
                try net.trainStep(input: xp, labels: labels, batch: batch, learningRate: 0.05, optimizer: &sgd, generator: &g)
            }
        }
        let logits = try [batch, 5].map { n in try x.withUnsafeBufferPointer { try net.logits(input: $0, batch: n).data } }
        let maps = try x.withUnsafeBufferPointer { try net.confidenceMaps(input: $0, batch: batch).maps.data }
        return (net.parameterValues(), logits, maps)
    }

    /// Each mlpconv layer (k×k convolution + its 1×1 layers) runs block by block through the whole
    /// micro-network (`MlpconvGroup`); `runsMlpconvGroups = false` runs the layers one by one. Both agree (to GEMM
    /// rounding, which may depend on a call's row count): weights after training steps (so every
    /// activation backward read was right), logits and class maps in inference, for a full and an
    /// odd mini-batch, with many small blocks.
    func testMlpconvGroupsAgreeWithLayerByLayer() throws {
        let d = ModelDescription(name: "groups", input: InputShape(height: 12, width: 12, channels: 1), classes: 4,
                                 blocks: [MlpconvBlock(channels: 10, kernel: 5, pad: 2, microWidths: [9, 8],
                                                       pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
                                          MlpconvBlock(channels: 12, kernel: 3, pad: 1, microWidths: [10, 4])],
                                 head: .gap(finalReLU: false))
        let x = gaussianArray(batch * 144, seed: 61)
        let results = try [false, true].map { grouped in
            try trainThenInfer(d, x: x, steps: 4) { net in
                XCTAssertEqual(net.mlpconvGroups.keys.sorted(), [0, 5], "one group per block")
                net.runsMlpconvGroups = grouped
            }
        }
        assertClose(results[1].weights, results[0].weights, atol: 1e-5, rtol: 1e-4, "weights after training")
        for (grouped, single) in zip(results[1].logits, results[0].logits) {
            assertClose(grouped, single, atol: 1e-5, rtol: 1e-4, "logits")
        }
        assertClose(results[1].maps, results[0].maps, atol: 1e-5, rtol: 1e-4, "class maps")
        XCTAssertNotEqual(Set(results[1].maps).count, 1)
    }

    /// The pooling after an mlpconv group runs inside it, example by example as each example's last
    /// block of pixels is written (`MlpconvGroup.pooling`): bit for bit what a separate pooling pass
    /// gives, in training (outputs, the max pooling's argmax through the gradients, so the weights
    /// after the steps) and in inference (logits, class maps), with blocks that straddle examples
    /// (37 rows of 144- and 36-pixel maps), a full and an odd mini-batch, max pooling between the
    /// blocks and the GAP head's global average pooling.
    func testPoolingInsideTheGroupIsBitIdenticalToItsOwnPass() throws {
        let d = ModelDescription(name: "fused", input: InputShape(height: 12, width: 12, channels: 1), classes: 4,
                                 blocks: [MlpconvBlock(channels: 10, kernel: 5, pad: 2, microWidths: [9, 8],
                                                       pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
                                          MlpconvBlock(channels: 12, kernel: 3, pad: 1, microWidths: [10, 4],
                                                       pool: .init(kind: .avg, size: 3, stride: 2)),
                                          MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [4])],
                                 head: .gap(finalReLU: false))
        let x = gaussianArray(batch * 144, seed: 62)
        let results = try [false, true].map { fused in
            try trainThenInfer(d, x: x, steps: 3) { net in
                let pooled = net.mlpconvGroups.values.filter { $0.pooling != nil }.map(\.first).sorted()
                XCTAssertEqual(pooled.count, 3, "each block's pooling and the GAP run in their groups: \(pooled)")
                net.fusesPooling = fused
            }
        }
        assertBitIdentical(results[1].weights, results[0].weights, "weights after training")
        for (fused, separate) in zip(results[1].logits, results[0].logits) { assertBitIdentical(fused, separate, "logits") }
        assertBitIdentical(results[1].maps, results[0].maps, "class maps")
        XCTAssertNotEqual(Set(results[1].logits[0]).count, 1, "the logits vary")
    }

    /// `profiling` times the path training runs (issue 22): the same weight bytes with and
    /// without it, with small mlpconv blocks (whose rounding can differ from layer by layer), and
    /// each group's forward time is on its convolution, the 1×1 layers pointing there.
    func testProfilingTimesTheTrainingPath() throws {
        var bytes: [Data] = []
        for profiling in [false, true] {
            var (net, g) = try makeNetwork(seed: 21)
            XCTAssertFalse(net.mlpconvGroups.isEmpty)
            for group in net.mlpconvGroups.values { group.blockRows = min(group.blockRows, 37) }
            net.profiling = profiling
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            _ = try train(net, steps: 3, optimizer: &sgd, generator: &g)
            bytes.append(weightBytes(net))
            guard profiling else { continue }
            for group in net.mlpconvGroups.values {
                XCTAssertEqual(net.timings[group.first].forwardCalls, 3)
                XCTAssertGreaterThan(net.timings[group.first].forwardSeconds, 0)
                for j in group.forwardIndices.dropFirst() {
                    XCTAssertEqual(net.timings[j].forwardCalls, 0, net.timings[j].name)
                    XCTAssertEqual(net.timings[j].forwardTimedWith, group.first)
                    XCTAssertEqual(net.timings[j].backwardCalls, 3, net.timings[j].name)
                }
            }
        }
        XCTAssertEqual(bytes[0], bytes[1])
    }

    /// Checkpoint at step 10 written to a file, read back into a fresh network, resumed to step
    /// 20: the same bytes as the uninterrupted run.
    func testCheckpointResumeIsBitExact() throws {
        var (net, g) = try makeNetwork(seed: 12)
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
        _ = try train(net, steps: 10, optimizer: &sgd, generator: &g)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nin-engine-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("step10.ninckpt")
        let metadata = Data("epoch=3".utf8)
        try net.checkpoint(optimizer: sgd, generator: g, metadata: metadata).write(to: url)
        _ = try train(net, steps: 10, optimizer: &sgd, generator: &g)
        let uninterrupted = weightBytes(net)
        let finalStep = sgd.step

        let loaded = try Checkpoint.read(from: url)
        XCTAssertEqual(loaded.metadata, metadata)
        XCTAssertEqual(loaded.optimizer.step, 10)
        XCTAssertEqual(loaded.description, Self.small)
        var (fresh, freshG) = try makeNetwork(seed: 999)
        var freshSGD = SGD(momentum: 0.5, weightDecay: 0)
        try fresh.restore(from: loaded, optimizer: &freshSGD, generator: &freshG)
        _ = try train(fresh, steps: 10, optimizer: &freshSGD, generator: &freshG)
        XCTAssertEqual(weightBytes(fresh), uninterrupted)
        XCTAssertEqual(freshSGD.step, finalStep)
        XCTAssertEqual(freshG, g)
        XCTAssertEqual(freshSGD, sgd)
    }

    /// Different thread counts are each deterministic; they agree to within rounding.
    func testThreadCountsAgreeWithinRounding() throws {
        var results: [[Float]] = []
        for threads in [1, 3] {
            var (net, g) = try makeNetwork(seed: 13, threads: threads)
            var sgd = SGD()
            _ = try train(net, steps: 3, optimizer: &sgd, generator: &g)
            results.append(net.parameterValues())
        }
        assertClose(results[0], results[1], atol: 1e-4, rtol: 1e-3, "threads 1 vs 3")
    }

    /// Both ways of sharing the cores with the GEMM library (`GEMMThreading`), each with both
    /// fp32 GEMM kernels (`GEMMSelection`: dnnl_sgemm, oneDNN's matmul primitive), are
    /// bit-identical run to run, and agree with each other to within rounding (their summation
    /// orders differ).
    func testEachGEMMThreadingAndKernelIsBitIdenticalAcrossRuns() throws {
        let (savedSelection, savedThreading) = (ComputeBackend.gemmSelection, ComputeBackend.gemmThreading)
        defer { (ComputeBackend.gemmSelection, ComputeBackend.gemmThreading) = (savedSelection, savedThreading) }
        var finals: [[Float]] = []
        for threading in GEMMThreading.allCases {
            for selection in [GEMMSelection.sgemm, .matmul] {
                (ComputeBackend.gemmThreading, ComputeBackend.gemmSelection) = (threading, selection)
                var bytes: [Data] = []
                for _ in 0..<2 {
                    var (net, g) = try makeNetwork(seed: 14)
                    var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
                    _ = try train(net, steps: 5, optimizer: &sgd, generator: &g)
                    bytes.append(weightBytes(net))
                    if bytes.count == 2 { finals.append(net.parameterValues()) }
                }
                XCTAssertEqual(bytes[0], bytes[1], "\(threading) \(selection)")
            }
        }
        for other in finals.dropFirst() { assertClose(other, finals[0], atol: 1e-4, rtol: 1e-3, "against workers + sgemm") }
    }

    /// Bad labels, sizes and buffers are typed errors raised before any kernel runs (plain
    /// `guard`s, so they stay in the `-Ounchecked` release build), and leave the weights alone.
    func testBadInputIsATypedErrorBeforeTheKernels() throws {
        var (net, g) = try makeNetwork(seed: 15)
        var sgd = SGD()
        let before = weightBytes(net)
        let x = input
        func step(_ labels: [Int32], batch: Int, floats: Int? = nil) -> NetworkInputError? {
            x.withUnsafeBufferPointer { xp in
                let view = UnsafeBufferPointer(rebasing: xp[0..<(floats ?? xp.count)])
                do {
                    _ = try net.trainStep(input: view, labels: labels, batch: batch, learningRate: 0.1,
                                          optimizer: &sgd, generator: &g)
                    return nil
                } catch { return error as? NetworkInputError }
            }
        }
        var bad = labels
        bad[5] = 4
        XCTAssertEqual(step(bad, batch: batch), .labelOutOfRange(example: 5, label: 4, classes: 4))
        bad[5] = -1
        XCTAssertEqual(step(bad, batch: batch), .labelOutOfRange(example: 5, label: -1, classes: 4))
        XCTAssertEqual(step(labels, batch: batch + 1), .batchOutOfRange(batch: batch + 1, maxBatch: batch))
        XCTAssertEqual(step(labels, batch: 0), .batchOutOfRange(batch: 0, maxBatch: batch))
        XCTAssertEqual(step(Array(labels.prefix(3)), batch: batch), .labelsTooShort(expected: batch, found: 3))
        let short = batch * Self.small.input.count - 1
        XCTAssertEqual(step(labels, batch: batch, floats: short),
                       .inputTooShort(batch: batch, shape: Self.small.input, expected: short + 1, found: short))
        XCTAssertEqual(weightBytes(net), before, "no step ran")
        XCTAssertTrue(NetworkInputError.labelOutOfRange(example: 5, label: 4, classes: 4).description.contains("label 4"))
        let logitsError = x.withUnsafeBufferPointer { xp -> Error? in
            do { _ = try net.logits(input: UnsafeBufferPointer(rebasing: xp[0..<10]), batch: 2); return nil } catch { return error }
        }
        XCTAssertEqual(logitsError as? NetworkInputError,
                       .inputTooShort(batch: 2, shape: Self.small.input, expected: 2 * Self.small.input.count, found: 10))
    }
}
