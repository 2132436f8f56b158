import Foundation
import XCTest
@testable import NINEngine

/// k×k convolutions on oneDNN's primitives (`ConvolutionAlgorithm.primitive`): forward against
/// the direct-convolution definition, backward against the im2col + GEMM path and by finite
/// differences (checked without the fused ReLU, whose kink a finite difference straddles), bit-identical reruns, and mini-batch sizes other than the one built first.
final class ConvolutionPrimitiveTests: XCTestCase {
    /// (input shape, output channels, kernel, stride, pad, ReLU): the 1-channel first layer,
    /// a strided layer whose right padding differs from the left, a small map with padding,
    /// and an unpadded even kernel.
    static let cases: [(FeatureShape, Int, Int, Int, Int, Bool)] = [
        (FeatureShape(height: 9, width: 8, channels: 1), 16, 5, 1, 2, true),
        (FeatureShape(height: 7, width: 6, channels: 5), 11, 5, 2, 2, false),
        (FeatureShape(height: 7, width: 7, channels: 8), 19, 3, 1, 1, true),
        (FeatureShape(height: 6, width: 5, channels: 3), 4, 2, 1, 0, true),
    ]

    override func tearDown() { ComputeBackend.convolutionSelection = .measured }

    func make(_ c: (FeatureShape, Int, Int, Int, Int, Bool), _ selection: ConvolutionSelection, maxBatch: Int = 5,
              threads: Int = 2) -> Conv2D {
        ComputeBackend.convolutionSelection = selection
        defer { ComputeBackend.convolutionSelection = .measured }
        return Conv2D(name: "conv", input: c.0, outChannels: c.1, kernel: c.2, stride: c.3, pad: c.4, relu: c.5,
                      maxBatch: maxBatch, threads: threads)
    }

    /// Forward + backward with parameters from seed 31; returns output, input gradient, parameter gradient.
    func pass(_ layer: Conv2D, batch: Int, seed: UInt64) -> ([Float], [Float], [Float], [Float]) {
        let store = ParameterStore(layers: [layer])
        let params = gaussianArray(store.parameters.count, seed: 31, std: 0.3)
        _ = store.parameters.buffer.update(from: params)
        let x = gaussianArray(batch * layer.inputShape.count, seed: seed)
        var g = SeededGenerator(seed: 0)
        let y = runForward(layer, x, batch: batch, mode: .training, generator: &g)
        let dy = gaussianArray(y.count, seed: seed + 1)
        let dx = runBackward(layer, input: x, output: y, outputGradient: dy, batch: batch)
        return (y, dx, store.gradients.array, params)
    }

    func testPrimitivesMatchTheDefinitionAndTheGEMMPath() throws {
        #if !os(Linux)
        throw XCTSkip("oneDNN is the Linux backend")
        #endif
        for c in Self.cases {
            let what = "k=\(c.2) s=\(c.3) p=\(c.4) in \(c.0)"
            let primitive = make(c, .primitive), gemm = make(c, .im2colGEMM)
            XCTAssertEqual(primitive.algorithm, .primitive, what)
            XCTAssertEqual(gemm.algorithm, .im2colGEMM, what)
            for batch in [5, 3] {
                let (y, dx, dp, params) = pass(primitive, batch: batch, seed: 40)
                let x = gaussianArray(batch * c.0.count, seed: 40)
                let w = Array(params[0..<primitive.weightCount]), b = Array(params[primitive.weightCount...])
                var reference = naiveConvolution(x, n: batch, s: c.0, w: w, bias: b, cout: c.1, k: c.2, stride: c.3, pad: c.4)
                if c.5 { reference = reference.map { max($0, 0) } }
                assertClose(y, reference, atol: 1e-4, rtol: 1e-4, "\(what) batch \(batch) forward vs definition")
                let (gy, gdx, gdp, _) = pass(gemm, batch: batch, seed: 40)
                assertClose(y, gy, atol: 1e-4, rtol: 1e-4, "\(what) forward vs im2col + GEMM")
                assertClose(dx, gdx, atol: 1e-4, rtol: 1e-4, "\(what) input gradient vs im2col + GEMM")
                assertClose(dp, gdp, atol: 1e-3, rtol: 1e-4, "\(what) parameter gradient vs im2col + GEMM")
                // The same layer again, and a fresh layer built and run while the calling thread's
                // library threads were set otherwise (a primitive fixes its partition when built):
                // identical bytes.
                let again = pass(primitive, batch: batch, seed: 40)
                ComputeBackend.setThreads(3)
                let other = make(c, .primitive)
                ComputeBackend.setThreads(1)
                let fresh = pass(other, batch: batch, seed: 40)
                ComputeBackend.setThreads(2)
                XCTAssertTrue(again == (y, dx, dp, params) && fresh == (y, dx, dp, params), "\(what) rerun")
            }
        }
    }

    func testPrimitivesPassTheGradientCheck() throws {
        #if !os(Linux)
        throw XCTSkip("oneDNN is the Linux backend")
        #endif
        for (i, c) in Self.cases.enumerated() {
            // Without the fused ReLU the output is linear in x and in W, so a large ε is exact up
            // to rounding (the fused ReLU's backward is compared with the GEMM path above).
            let conv = make((c.0, c.1, c.2, c.3, c.4, false), .primitive, maxBatch: 2, threads: 2)
            XCTAssertEqual(conv.algorithm, .primitive)
            checkGradients(conv, batch: 2, input: gaussianArray(2 * c.0.count, seed: 70 + UInt64(i)), epsilon: 0.05)
        }
    }

    /// The measured rule (im2col + GEMM everywhere on the machine measured) and the forced ones.
    func testSelection() {
        let saved = ComputeBackend.convolutionSelection
        defer { ComputeBackend.convolutionSelection = saved }
        for (selection, expected) in [(ConvolutionSelection.measured, ConvolutionAlgorithm.im2colGEMM),
                                      (.im2colGEMM, .im2colGEMM), (.primitive, .primitive)] {
            ComputeBackend.convolutionSelection = selection
            XCTAssertEqual(ComputeBackend.convolutionAlgorithm, expected)
            let conv = Conv2D(name: "c", input: FeatureShape(height: 7, width: 7, channels: 4), outChannels: 3, kernel: 5,
                              pad: 2, relu: false, maxBatch: 2, threads: 1)
            XCTAssertEqual(conv.algorithm, expected, "a layer takes the rule when it is created")
        }
    }

    /// A whole network with every k×k convolution on primitives: 5 training steps twice give the
    /// same weight bytes, and agree with the im2col + GEMM network to within rounding.
    func testNetworkOnPrimitivesIsBitIdenticalAcrossRuns() throws {
        #if !os(Linux)
        throw XCTSkip("oneDNN is the Linux backend")
        #endif
        let x = gaussianArray(8 * TrainingTests.small.input.count, seed: 80)
        let labels: [Int32] = [0, 1, 2, 3, 3, 2, 1, 0]
        func run(_ selection: ConvolutionSelection) throws -> [Float] {
            ComputeBackend.convolutionSelection = selection
            defer { ComputeBackend.convolutionSelection = .measured }
            var g = SeededGenerator(seed: 81)
            let net = try Network(description: TrainingTests.small, initializer: .he, maxBatch: 8, threads: 2, generator: &g)
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            try x.withUnsafeBufferPointer { xp in
                for _ in 0..<5 {
                    _ = try net.trainStep(input: xp, labels: labels, batch: 8, learningRate: 0.02, optimizer: &sgd, generator: &g)
                }
            }
            return net.parameterValues()
        }
        let a = try run(.primitive), b = try run(.primitive)
        XCTAssertEqual(a.withUnsafeBytes { Data($0) }, b.withUnsafeBytes { Data($0) })
        assertClose(a, try run(.im2colGEMM), atol: 1e-4, rtol: 1e-3, "primitives vs im2col + GEMM")
    }
}
