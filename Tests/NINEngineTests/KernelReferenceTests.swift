import XCTest
@testable import NINEngine

/// Fast kernels against naive definitions written directly from the formulas.
final class KernelReferenceTests: XCTestCase {
    func testIm2colMatchesDefinitionAndCol2imIsItsAdjoint() {
        let s = FeatureShape(height: 5, width: 6, channels: 3)
        let (n, k, stride, pad) = (2, 3, 2, 1)
        let ho = convolutionOutputSize(5, kernel: k, stride: stride, pad: pad)
        let wo = convolutionOutputSize(6, kernel: k, stride: stride, pad: pad)
        XCTAssertEqual([ho, wo], [3, 3])
        let x = gaussianArray(n * s.count, seed: 5)
        let kc = k * k * s.channels
        var cols = [Float](repeating: .nan, count: n * ho * wo * kc)
        x.withUnsafeBufferPointer { xp in cols.withUnsafeMutableBufferPointer {
            im2col(input: xp.baseAddress!, batch: n, shape: s, kernel: k, stride: stride, pad: pad, columns: $0.baseAddress!, threads: 2)
        } }
        for b in 0..<n { for oh in 0..<ho { for ow in 0..<wo { for kh in 0..<k { for kw in 0..<k { for c in 0..<3 {
            let ih = oh * stride - pad + kh, iw = ow * stride - pad + kw
            let expected: Float = (ih < 0 || ih >= 5 || iw < 0 || iw >= 6) ? 0 : x[((b * 5 + ih) * 6 + iw) * 3 + c]
            XCTAssertEqual(cols[((b * ho + oh) * wo + ow) * kc + (kh * k + kw) * 3 + c], expected)
        } } } } } }
        // col2im is the adjoint: <im2col(x), y> == <x, col2im(y)>.
        let yc = gaussianArray(cols.count, seed: 6)
        var back = [Float](repeating: .nan, count: x.count)
        yc.withUnsafeBufferPointer { yp in back.withUnsafeMutableBufferPointer {
            col2im(columns: yp.baseAddress!, batch: n, shape: s, kernel: k, stride: stride, pad: pad, inputGradient: $0.baseAddress!, threads: 2)
        } }
        var lhs = 0.0, rhs = 0.0
        for i in cols.indices { lhs += Double(cols[i]) * Double(yc[i]) }
        for i in x.indices { rhs += Double(x[i]) * Double(back[i]) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)))
        // and col2im against its direct definition: scatter-add of every column entry.
        var naive = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for oh in 0..<ho { for ow in 0..<wo { for kh in 0..<k { for kw in 0..<k { for c in 0..<3 {
            let ih = oh * stride - pad + kh, iw = ow * stride - pad + kw
            guard ih >= 0, ih < 5, iw >= 0, iw < 6 else { continue }
            naive[((b * 5 + ih) * 6 + iw) * 3 + c] += yc[((b * ho + oh) * wo + ow) * kc + (kh * k + kw) * 3 + c]
        } } } } } }
        assertClose(back, naive, atol: 1e-5, "col2im")
    }

    func testConvolutionMatchesDirectConvolution() {
        for (k, stride, pad, relu) in [(3, 2, 1, false), (5, 1, 2, true), (2, 1, 0, false)] {
            let s = FeatureShape(height: 7, width: 6, channels: 4)
            // 11 output channels: SIMD bias/ReLU lanes plus a scalar tail.
            let conv = Conv2D(name: "conv", input: s, outChannels: 11, kernel: k, stride: stride, pad: pad, relu: relu,
                              maxBatch: 3, threads: 2)
            let store = ParameterStore(layers: [conv])
            _ = store.parameters.buffer.update(from: gaussianArray(store.parameters.count, seed: 7))
            let x = gaussianArray(3 * s.count, seed: 8)
            let y = runForward(conv, x, batch: 3)
            let params = store.parameters.array
            var ref = naiveConvolution(x, n: 3, s: s, w: Array(params[0..<conv.weightCount]),
                                       bias: Array(params[conv.weightCount...]), cout: 11, k: k, stride: stride, pad: pad)
            if relu { ref = ref.map { max($0, 0) } }
            XCTAssertEqual(y.count, ref.count)
            assertClose(y, ref, atol: 1e-4, rtol: 1e-5, "conv k=\(k) s=\(stride) p=\(pad) relu=\(relu)")
        }
    }

    func testConv1x1AndDenseMatchDirectSums() {
        let s = FeatureShape(height: 3, width: 4, channels: 6)
        let conv = Conv1x1(name: "cccp", input: s, outChannels: 5, relu: false, maxBatch: 2, threads: 2)
        let store = ParameterStore(layers: [conv])
        _ = store.parameters.buffer.update(from: gaussianArray(store.parameters.count, seed: 9))
        let x = gaussianArray(2 * s.count, seed: 10)
        let p = store.parameters.array
        let ref1 = naiveConvolution(x, n: 2, s: s, w: Array(p[0..<30]), bias: Array(p[30...]), cout: 5, k: 1, stride: 1, pad: 0)
        assertClose(runForward(conv, x, batch: 2), ref1, atol: 1e-5, rtol: 1e-5, "1×1 convolution")

        let dense = Dense(name: "fc", input: s, outFeatures: 4, relu: false, maxBatch: 2, threads: 2)
        let dstore = ParameterStore(layers: [dense])
        _ = dstore.parameters.buffer.update(from: gaussianArray(dstore.parameters.count, seed: 12))
        let q = dstore.parameters.array
        var ref2 = [Float](repeating: 0, count: 8)
        for n in 0..<2 { for j in 0..<4 {
            var acc = Double(q[s.count * 4 + j])
            for i in 0..<s.count { acc += Double(x[n * s.count + i]) * Double(q[i * 4 + j]) }
            ref2[n * 4 + j] = Float(acc)
        } }
        assertClose(runForward(dense, x, batch: 2), ref2, atol: 1e-5, rtol: 1e-5, "dense")
    }

    /// Pool output sizes: Caffe rounds up (32→16→8, 28→14→7 for 3×3/2), and with padding drops
    /// a last window that would start inside the padding.
    func testPoolingOutputSizesRoundUpLikeCaffe() {
        XCTAssertEqual(poolingOutputSize(32, size: 3, stride: 2, pad: 0), 16)
        XCTAssertEqual(poolingOutputSize(16, size: 3, stride: 2, pad: 0), 8)
        XCTAssertEqual(poolingOutputSize(28, size: 3, stride: 2, pad: 0), 14)
        XCTAssertEqual(poolingOutputSize(14, size: 3, stride: 2, pad: 0), 7)
        XCTAssertEqual(poolingOutputSize(8, size: 8, stride: 1, pad: 0), 1)
        XCTAssertEqual(poolingOutputSize(5, size: 2, stride: 2, pad: 0), 3)   // floor would give 2
        XCTAssertEqual(poolingOutputSize(4, size: 2, stride: 2, pad: 1), 3)   // ceil(4/2)+1 = 3, last start 3 < 5
        XCTAssertEqual(poolingOutputSize(6, size: 3, stride: 3, pad: 1), 3)   // ceil(5/3)+1 = 3, last start 6 ≥ 7? no
        XCTAssertEqual(poolingOutputSize(5, size: 2, stride: 3, pad: 1), 2)   // ceil(5/3)+1 = 3 → start 6 ≥ 6: clipped
        XCTAssertEqual(poolingOutputSize(2, size: 3, stride: 2, pad: 0), 0)
    }

    /// A stride larger than the window: Caffe's ceil would add a window starting at or past the
    /// input's end (8 wide, 3/4: a third window at 8, empty, NaN or out of bounds; 9 wide, 1/5:
    /// a third at 10). The last window must start inside the input, so every window holds input
    /// pixels; a pad of the window's size or more (windows of padding only) gives 0, refused.
    func testPoolingWithStrideLargerThanSizeHasNoEmptyWindow() throws {
        XCTAssertEqual(poolingOutputSize(8, size: 3, stride: 4, pad: 0), 2)
        XCTAssertEqual(poolingOutputSize(9, size: 1, stride: 5, pad: 0), 2)
        XCTAssertEqual(poolingOutputSize(10, size: 2, stride: 5, pad: 1), 3)   // starts −1, 4, 9 (all < 10)
        XCTAssertEqual(poolingOutputSize(4, size: 2, stride: 2, pad: 2), 0)    // pad ≥ size
        for (input, size, stride, pad) in [(8, 3, 4, 0), (9, 1, 5, 0), (10, 2, 5, 1), (7, 2, 6, 1), (32, 3, 7, 2)] {
            let out = poolingOutputSize(input, size: size, stride: stride, pad: pad)
            for o in 0..<out {
                let start = o * stride - pad
                XCTAssertTrue(max(start, 0) < min(start + size, input), "window \(o) of \(input) \(size)/\(stride) p\(pad) holds input")
            }
        }
        // The engine's validation refuses a padding-only window with a message naming the block.
        let description = ModelDescription(input: FeatureShape(height: 8, width: 8, channels: 1), classes: 2, blocks: [
            MlpconvBlock(channels: 4, kernel: 1, microWidths: [], pool: .init(kind: .max, size: 2, stride: 2, pad: 2)),
            MlpconvBlock(channels: 4, kernel: 1, microWidths: [2])], head: .gap())
        XCTAssertThrowsError(try description.plan()) { error in
            XCTAssertTrue("\(error)".contains("blocks[0].pool") && "\(error)".contains("empty windows"), "\(error)")
        }
    }

    /// Max and average pooling against loops written from Caffe's definition, on windows that
    /// hang over the edge (ceil) and padding.
    func testPoolingMatchesNaiveCaffeDefinition() {
        // 3 channels: the scalar loop; 16 channels: the 8-wide SIMD max path.
        for c in [3, 16] {
            let s = FeatureShape(height: 7, width: 6, channels: c)
            let x = gaussianArray(2 * s.count, seed: 13)
            for (kind, size, stride, pad) in [(PoolKind.max, 3, 2, 0), (.avg, 3, 2, 0), (.max, 3, 2, 1), (.avg, 3, 2, 1), (.avg, 2, 3, 1),
                                               (.max, 3, 4, 0), (.avg, 3, 4, 0), (.max, 1, 5, 0), (.avg, 2, 5, 1)] {
                let pool = Pool2D(name: "pool", kind: kind, input: s, size: size, stride: stride, pad: pad, maxBatch: 2, threads: 2)
                let y = runForward(pool, x, batch: 2, mode: .training)
                XCTAssertEqual(runForward(pool, x, batch: 2, mode: .inference), y, "inference path (no argmax) agrees")
                let (ho, wo) = (pool.outputShape.height, pool.outputShape.width)
                var ref: [Float] = []
                for n in 0..<2 { for oh in 0..<ho { for ow in 0..<wo { for ch in 0..<c {
                    let h0 = oh * stride - pad, w0 = ow * stride - pad
                    let h1 = min(h0 + size, 7 + pad), w1 = min(w0 + size, 6 + pad)
                    let area = Double((h1 - h0) * (w1 - w0))
                    var mx = -Float.infinity, sum = 0.0
                    for ih in max(h0, 0)..<min(h1, 7) { for iw in max(w0, 0)..<min(w1, 6) {
                        let v = x[((n * 7 + ih) * 6 + iw) * c + ch]
                        mx = max(mx, v); sum += Double(v)
                    } }
                    ref.append(kind == .max ? mx : Float(sum / area))
                } } } }
                XCTAssertTrue(y.allSatisfy(\.isFinite), "no empty window: \(kind) \(size)/\(stride) pad \(pad)")
                assertClose(y, ref, atol: 1e-6, rtol: 1e-6, "\(kind) pool \(size)/\(stride) pad \(pad) channels \(c)")
            }
        }
    }

    func testGlobalAveragePoolingAverages() {
        let s = FeatureShape(height: 3, width: 2, channels: 2)
        let gap = GlobalAveragePool(name: "gap", input: s, threads: 2)
        let x: [Float] = [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]
        XCTAssertEqual(runForward(gap, x, batch: 1), [3.5, 35])
    }

    func testSoftmaxCrossEntropyIsStableAndCorrect() {
        // Huge logits would overflow exp without the max subtraction.
        let z: [Float] = [1000, 1001, 999, -5, 0, 5]
        let labels: [Int32] = [1, 0]
        var grad = [Float](repeating: 0, count: 6)
        var correct = [Bool](repeating: false, count: 2)
        let loss = SoftmaxCrossEntropy.evaluate(logits: z, labels: labels, batch: 2, classes: 3, gradientScale: 0.5,
                                                gradient: &grad, correct: &correct)
        let l0 = log(exp(-1.0) + 1 + exp(-2.0))
        let l1 = log(exp(-10.0) + exp(-5.0) + 1) + 10
        XCTAssertEqual(loss, l0 + l1, accuracy: 1e-9)
        XCTAssertEqual(correct, [true, false])
        XCTAssertEqual(Double(grad[1]), 0.5 * (1 / (exp(-1.0) + 1 + exp(-2.0)) - 1), accuracy: 1e-6)
        XCTAssertTrue(grad.allSatisfy { $0.isFinite })
    }
}
