import XCTest
@testable import NINEngine

/// Finite-difference checks of every layer's input gradient and every parameter gradient
/// (see `checkGradients` for the objective and the tolerance).
final class GradientCheckTests: XCTestCase {
    func testConvolutionKxKWithStrideAndPadding() {
        for (k, stride, pad) in [(3, 2, 1), (3, 1, 0), (2, 2, 1)] {
            let s = FeatureShape(height: 5, width: 6, channels: 3)
            let conv = Conv2D(name: "conv k\(k) s\(stride) p\(pad)", input: s, outChannels: 4, kernel: k, stride: stride,
                              pad: pad, relu: false, maxBatch: 2, threads: 2)
            // The output is linear in x and in W, so a large ε is exact up to rounding.
            checkGradients(conv, batch: 2, input: gaussianArray(2 * s.count, seed: 21), epsilon: 0.05)
        }
    }

    /// The fused ReLU's backward equals the plain convolution's backward fed the masked
    /// gradient `dy · [y > 0]` (ReLU's own finite-difference check is `testReLU`).
    func testFusedReLUBackwardEqualsMaskedPlainBackward() {
        let s = FeatureShape(height: 5, width: 5, channels: 3)
        // 12 output channels: the 8-wide SIMD bias/ReLU kernels plus a 4-channel scalar tail.
        let fused = Conv2D(name: "fused", input: s, outChannels: 12, kernel: 3, stride: 1, pad: 1, relu: true, maxBatch: 2, threads: 2)
        let plain = Conv2D(name: "plain", input: s, outChannels: 12, kernel: 3, stride: 1, pad: 1, relu: false, maxBatch: 2, threads: 2)
        let fs = ParameterStore(layers: [fused]), ps = ParameterStore(layers: [plain])
        let w = gaussianArray(fs.parameters.count, seed: 22)
        _ = fs.parameters.buffer.update(from: w)
        _ = ps.parameters.buffer.update(from: w)
        let x = gaussianArray(2 * s.count, seed: 23)
        let yf = runForward(fused, x, batch: 2), yp = runForward(plain, x, batch: 2)
        XCTAssertEqual(yf, yp.map { max($0, 0) })
        XCTAssertTrue(yf.contains(0) && yf.contains { $0 > 0 }, "both ReLU branches exercised")
        let dy = gaussianArray(yf.count, seed: 24)
        let dxf = runBackward(fused, input: x, output: yf, outputGradient: dy, batch: 2)
        let masked = zip(dy, yf).map { $1 > 0 ? $0 : 0 }
        let dxp = runBackward(plain, input: x, output: yp, outputGradient: masked, batch: 2)
        XCTAssertEqual(dxf, dxp)
        XCTAssertEqual(fs.gradients.array, ps.gradients.array)
    }

    func testConv1x1() {
        let s = FeatureShape(height: 3, width: 3, channels: 5)
        let layer = Conv1x1(name: "cccp", input: s, outChannels: 11, relu: false, maxBatch: 2, threads: 2)
        checkGradients(layer, batch: 2, input: gaussianArray(2 * s.count, seed: 25), epsilon: 0.05)
    }

    func testDense() {
        let s = FeatureShape(height: 2, width: 2, channels: 3)
        let layer = Dense(name: "fc", input: s, outFeatures: 5, relu: false, maxBatch: 3, threads: 2)
        checkGradients(layer, batch: 3, input: gaussianArray(3 * s.count, seed: 26), epsilon: 0.05)
    }

    func testReLU() {
        let s = FeatureShape(height: 3, width: 3, channels: 4)
        // Keep every input at least 0.1 away from the kink so x ± ε stays on one side.
        let x = gaussianArray(2 * s.count, seed: 27).map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
        checkGradients(ReLU(name: "relu", shape: s, threads: 2), batch: 2, input: x, epsilon: 0.01)
    }

    /// Distinct inputs spaced 0.05 apart, so ε = 0.01 never changes a window's maximum.
    private func spacedInput(_ count: Int, seed: UInt64) -> [Float] {
        var order = Array(0..<count)
        var g = SeededGenerator(seed: seed)
        g.shuffle(&order)
        return order.map { Float($0) * 0.05 - Float(count) * 0.025 }
    }

    func testMaxPoolWithCeilAndPadding() {
        // 2 channels: scalar loop; 8 channels: SIMD path.
        for (size, stride, pad, c) in [(3, 2, 0, 2), (3, 2, 1, 2), (2, 3, 1, 2), (3, 2, 1, 8), (2, 4, 0, 2), (1, 5, 0, 8)] {
            let s = FeatureShape(height: 6, width: 5, channels: c)
            let pool = Pool2D(name: "max \(size)/\(stride) p\(pad) c\(c)", kind: .max, input: s, size: size, stride: stride, pad: pad,
                              maxBatch: 2, threads: 2)
            checkGradients(pool, batch: 2, input: spacedInput(2 * s.count, seed: 28), epsilon: 0.01)
        }
    }

    func testAvgPoolWithCeilAndPadding() {
        for (size, stride, pad) in [(3, 2, 0), (3, 2, 1), (2, 3, 1), (2, 4, 0), (2, 5, 1)] {
            let s = FeatureShape(height: 6, width: 5, channels: 2)
            let pool = Pool2D(name: "avg \(size)/\(stride) p\(pad)", kind: .avg, input: s, size: size, stride: stride, pad: pad,
                              maxBatch: 2, threads: 2)
            checkGradients(pool, batch: 2, input: gaussianArray(2 * s.count, seed: 29), epsilon: 0.05)
        }
    }

    func testDropoutWithFixedMask() {
        let s = FeatureShape(height: 3, width: 3, channels: 4)
        let layer = Dropout(name: "dropout", shape: s, rate: 0.5, maxBatch: 2, threads: 2)
        checkGradients(layer, batch: 2, input: gaussianArray(2 * s.count, seed: 30), epsilon: 0.05)
        let kept = layer.mask.array.prefix(2 * s.count)
        XCTAssertTrue(kept.contains(0) && kept.contains(2), "mask has both dropped and kept (×2) elements")
    }

    func testGlobalAveragePooling() {
        let s = FeatureShape(height: 3, width: 4, channels: 3)
        checkGradients(GlobalAveragePool(name: "gap", input: s, threads: 2), batch: 2,
                       input: gaussianArray(2 * s.count, seed: 31), epsilon: 0.05)
    }

    func testSoftmaxCrossEntropy() {
        let (n, k) = (3, 5)
        var z = gaussianArray(n * k, seed: 32, std: 2)
        let labels: [Int32] = [4, 0, 2]
        var grad = [Float](repeating: 0, count: n * k)
        _ = SoftmaxCrossEntropy.evaluate(logits: z, labels: labels, batch: n, classes: k, gradientScale: 1 / Float(n),
                                         gradient: &grad)
        let eps: Float = 1e-2
        for i in 0..<(n * k) {
            let v = z[i]
            z[i] = v + eps
            let lp = SoftmaxCrossEntropy.evaluate(logits: z, labels: labels, batch: n, classes: k) / Double(n)
            z[i] = v - eps
            let lm = SoftmaxCrossEntropy.evaluate(logits: z, labels: labels, batch: n, classes: k) / Double(n)
            z[i] = v
            // Smooth: truncation error O(ε²) ≈ 1e-5 here.
            XCTAssertEqual(grad[i], Float((lp - lm) / (2 * Double(eps))), accuracy: 1e-4, "logit \(i)")
        }
    }

    /// The whole network's backward wiring (ping-pong gradient buffers, fused ReLU, pooling,
    /// GAP, loss) against finite differences of the mean loss over its parameters.
    func testWholeNetworkParameterGradients() throws {
        let d = ModelDescription(input: InputShape(height: 6, width: 6, channels: 2), classes: 3,
                                 blocks: [MlpconvBlock(channels: 4, kernel: 3, pad: 1, microWidths: [3],
                                                       pool: .init(kind: .avg, size: 3, stride: 2)),
                                          MlpconvBlock(channels: 4, kernel: 2, microWidths: [5])],
                                 head: .gap(finalReLU: false))
        var g = SeededGenerator(seed: 33)
        let net = try Network(description: d, initializer: .gaussian(std: 0.5), maxBatch: 2, threads: 2, biasValue: 0.1,
                              generator: &g)
        let x = gaussianArray(2 * 72, seed: 34)
        let labels: [Int32] = [2, 0]
        // lr 0 and no momentum: trainStep computes the gradients and leaves the weights alone.
        var sgd = SGD(momentum: 0, weightDecay: 0)
        let before = net.parameterValues()
        try x.withUnsafeBufferPointer { _ = try net.trainStep(input: $0, labels: labels, batch: 2, learningRate: 0, optimizer: &sgd, generator: &g) }
        XCTAssertEqual(net.parameterValues(), before)
        let analytic = Array(net.gradients)
        func loss() -> Double {
            x.withUnsafeBufferPointer { ((try? net.evaluate(input: $0, labels: labels, batch: 2))?.lossSum ?? .nan) / 2 }
        }
        // ε = 1e-3: small enough that no ReLU pre-activation crosses 0 (at ε = 1e-2 a few
        // first-layer weights do, and their central difference averages two slopes); the Float32
        // rounding of the mean loss (≈ 1e-7) over 2ε adds ≈ 1e-4, inside atol = 2e-3.
        let checked = assertCentralDifferences(net, analytic: analytic, eps: 1e-3, label: "", loss: loss)
        XCTAssertEqual(checked, try d.parameterCount)
        XCTAssertTrue(analytic.contains { abs($0) > 1e-3 })
    }

    /// The FC heads' wiring (flatten, dropout before the final Dense layer or after a hidden one,
    /// linear last mlpconv layer) against finite differences of the training-mode loss, with the
    /// dropout masks held fixed by replaying the same generator state.
    func testWholeNetworkGradientsWithFCDropoutHeads() throws {
        for head in [Head.fc(dropout: 0.5, finalReLU: false), .fc(hidden: [4], dropout: 0.5)] {
            let d = ModelDescription(input: InputShape(height: 5, width: 5, channels: 2), classes: 3,
                                     blocks: [MlpconvBlock(channels: 4, kernel: 3, pad: 1, microWidths: [3],
                                                           pool: .init(kind: .max, size: 3, stride: 2))],
                                     head: head)
            var g = SeededGenerator(seed: 35)
            let net = try Network(description: d, initializer: .gaussian(std: 0.5), maxBatch: 2, threads: 2,
                                  biasValue: 0.1, generator: &g)
            let x = gaussianArray(2 * 50, seed: 36)
            let labels: [Int32] = [1, 2]
            let masks = g  // every evaluation below draws the same dropout masks
            var sgd = SGD(momentum: 0, weightDecay: 0)
            var replay = masks
            try x.withUnsafeBufferPointer { _ = try net.trainStep(input: $0, labels: labels, batch: 2, learningRate: 0, optimizer: &sgd, generator: &replay) }
            let analytic = Array(net.gradients)
            func trainingLoss() -> Double {
                var replay = masks
                return x.withUnsafeBufferPointer { xp in
                    labels.withUnsafeBufferPointer { lp in
                        let z = net.forward(input: xp.baseAddress!, batch: 2, mode: .training, generator: &replay)
                        return SoftmaxCrossEntropy.evaluate(logits: z, labels: lp.baseAddress!, batch: 2, classes: 3) / 2
                    }
                }
            }
            assertCentralDifferences(net, analytic: analytic, eps: 1e-3, label: "\(head) ", loss: trainingLoss)
            XCTAssertTrue(analytic.contains { abs($0) > 1e-3 })
            let dropped = try d.layerShapes().contains { $0.name.hasSuffix("dropout") }
            XCTAssertTrue(dropped)
        }
    }

    /// Compares every parameter's analytic gradient with the central difference of `loss` at ±`eps`
    /// (tolerance 2e-3 + 2 % of the numeric value); returns how many parameters were checked.
    @discardableResult
    func assertCentralDifferences(_ net: Network, analytic: [Float], eps: Float, label: String,
                                  loss: () -> Double, line: UInt = #line) -> Int {
        for i in 0..<net.parameterCount {
            let v = net.parameters[i]
            net.parameters[i] = v + eps; let lp = loss()
            net.parameters[i] = v - eps; let lm = loss()
            net.parameters[i] = v
            let numeric = Float((lp - lm) / (2 * Double(eps)))
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(label)parameter \(i)", line: line)
        }
        return net.parameterCount
    }
}
