import XCTest
@testable import NINEngine

/// The row-blocked, per-worker convolution and linear layers (`RowBlocks`): any block size and
/// worker count gives the same forward values and the same gradients (up to the reassociation
/// of the per-worker sums), each configuration is bit-deterministic, and small blocks still
/// pass the finite-difference gradient check.
final class BlockedLayerTests: XCTestCase {
    struct Pass: Equatable {
        var output: [Float], inputGradient: [Float], parameterGradient: [Float]
    }

    /// Forward + backward of `layer` on fixed data; parameters from seed 31.
    func pass(_ layer: Layer, batch: Int, seed: UInt64) -> Pass {
        let store = ParameterStore(layers: [layer])
        _ = store.parameters.buffer.update(from: gaussianArray(store.parameters.count, seed: 31, std: 0.3))
        let x = gaussianArray(batch * layer.inputShape.count, seed: seed)
        var g = SeededGenerator(seed: 0)
        let y = runForward(layer, x, batch: batch, mode: .training, generator: &g)
        let dy = gaussianArray(y.count, seed: seed + 1)
        let dx = runBackward(layer, input: x, output: y, outputGradient: dy, batch: batch)
        return Pass(output: y, inputGradient: dx, parameterGradient: store.gradients.array)
    }

    func assertAgree(_ a: Pass, _ b: Pass, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        assertClose(a.output, b.output, atol: 1e-5, rtol: 1e-5, "\(what) output", file: file, line: line)
        assertClose(a.inputGradient, b.inputGradient, atol: 1e-5, rtol: 1e-5, "\(what) input gradient", file: file, line: line)
        assertClose(a.parameterGradient, b.parameterGradient, atol: 1e-4, rtol: 1e-4, "\(what) parameter gradient",
                    file: file, line: line)
    }

    /// k×k convolutions: blocks of 1, 7 and 13 pixels (blocks that split image rows and
    /// examples) with 1, 2 and 3 workers against one block with one worker, which in turn
    /// matches the direct-convolution reference (KernelReferenceTests) and GEMM.reference.
    func testConvolutionBlocksAndWorkersAgree() {
        let s = FeatureShape(height: 7, width: 6, channels: 5)
        for (k, stride, pad, relu) in [(3, 1, 1, true), (5, 2, 2, false), (2, 1, 0, true)] {
            func make(threads: Int, block: Int?) -> Conv2D {
                let conv = Conv2D(name: "conv", input: s, outChannels: 11, kernel: k, stride: stride, pad: pad, relu: relu,
                                  maxBatch: 5, threads: threads)
                if let block { conv.blockRows = block }
                return conv
            }
            let whole = make(threads: 1, block: nil)
            XCTAssertEqual(whole.blockRows, 5 * whole.outputShape.height * whole.outputShape.width,
                           "a small layer is one block")
            let reference = pass(whole, batch: 5, seed: 40)
            XCTAssertTrue(reference.output.contains(0) || !relu)
            // The reference itself against GEMM.reference on the full im2col.
            let kk = k * k * s.channels, m = 5 * whole.outputShape.height * whole.outputShape.width
            var cols = [Float](repeating: 0, count: m * kk)
            let x = gaussianArray(5 * s.count, seed: 40)
            x.withUnsafeBufferPointer { xp in cols.withUnsafeMutableBufferPointer {
                im2col(input: xp.baseAddress!, batch: 5, shape: s, kernel: k, stride: stride, pad: pad, columns: $0.baseAddress!, threads: 1)
            } }
            let params = gaussianArray(whole.weightCount + 11, seed: 31, std: 0.3)
            var y = [Float](repeating: 0, count: m * 11)
            cols.withUnsafeBufferPointer { a in params.withUnsafeBufferPointer { b in y.withUnsafeMutableBufferPointer { c in
                GEMM.reference(m: m, n: 11, k: kk, a: a.baseAddress!, lda: kk, b: b.baseAddress!, ldb: 11, c: c.baseAddress!, ldc: 11)
            } } }
            for r in 0..<m { for j in 0..<11 {
                let v = y[r * 11 + j] + params[whole.weightCount + j]
                y[r * 11 + j] = relu ? max(v, 0) : v
            } }
            assertClose(reference.output, y, atol: 1e-4, rtol: 1e-5, "conv k=\(k) vs GEMM.reference")

            for threads in [1, 2, 3] {
                for block in [1, 7, 13] {
                    let what = "conv k=\(k) s=\(stride) threads=\(threads) block=\(block)"
                    let a = pass(make(threads: threads, block: block), batch: 5, seed: 40)
                    assertAgree(a, reference, what)
                    // Same configuration again: identical bytes.
                    XCTAssertEqual(a, pass(make(threads: threads, block: block), batch: 5, seed: 40), what)
                }
            }
        }
    }

    /// 1×1 convolution and Dense: blocks of 1, 5 and 17 rows with 1–3 workers agree with one
    /// block and one worker, and each configuration is deterministic.
    func testLinearLayersBlocksAndWorkersAgree() {
        let s = FeatureShape(height: 4, width: 5, channels: 9)
        for dense in [false, true] {
            func make(threads: Int, block: Int?) -> LinearLayer {
                let layer: LinearLayer = dense
                    ? Dense(name: "fc", input: s, outFeatures: 13, relu: true, maxBatch: 6, threads: threads)
                    : Conv1x1(name: "cccp", input: s, outChannels: 13, relu: true, maxBatch: 6, threads: threads)
                if let block { layer.blockRows = block }
                return layer
            }
            let reference = pass(make(threads: 1, block: 100_000), batch: 6, seed: 50)
            for threads in [1, 2, 3] {
                for block in [1, 5, 17] {
                    let what = "\(dense ? "dense" : "1×1") threads=\(threads) block=\(block)"
                    let a = pass(make(threads: threads, block: block), batch: 6, seed: 50)
                    assertAgree(a, reference, what)
                    XCTAssertEqual(a, pass(make(threads: threads, block: block), batch: 6, seed: 50), what)
                }
            }
        }
    }

    /// Finite-difference check with blocks smaller than an image row and three workers.
    func testGradientCheckWithSmallBlocks() {
        let s = FeatureShape(height: 5, width: 6, channels: 3)
        let conv = Conv2D(name: "conv blocked", input: s, outChannels: 4, kernel: 3, stride: 1, pad: 1, relu: false,
                          maxBatch: 3, threads: 3)
        conv.blockRows = 4
        checkGradients(conv, batch: 3, input: gaussianArray(3 * s.count, seed: 61), epsilon: 0.05)
        let cccp = Conv1x1(name: "cccp blocked", input: s, outChannels: 6, relu: false, maxBatch: 3, threads: 2)
        cccp.blockRows = 7
        checkGradients(cccp, batch: 3, input: gaussianArray(3 * s.count, seed: 62), epsilon: 0.05)
    }
}
