import XCTest
@testable import NINEngine

/// `count` draws from N(0, std²) with a fixed seed.
func gaussianArray(_ count: Int, seed: UInt64, std: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in std * g.nextGaussian() }
}

/// Asserts |a − b| ≤ atol + rtol·|b| elementwise, reporting the first offender.
func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) {
        XCTFail("\(what)[\(i)]: \(a[i]) vs reference \(b[i])", file: file, line: line)
        return
    }
}

/// Asserts that `a` and `b` hold the same bit patterns, reporting how many differ and the first.
func assertBitIdentical(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    let differing = zip(a, b).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
    if let first = differing.first {
        XCTFail("\(what): \(differing.count) of \(a.count) values differ, the first [\(first.offset)]: "
                + "\(first.element.0) vs \(first.element.1)", file: file, line: line)
    }
}

/// Runs a layer forward on arrays (allocating the output).
func runForward(_ layer: Layer, _ input: [Float], batch: Int, mode: Mode = .inference,
                generator: inout SeededGenerator) -> [Float] {
    var out = [Float](repeating: .nan, count: batch * layer.outputShape.count)
    input.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
            layer.forward(input: x.baseAddress!, output: y.baseAddress!, batch: batch, mode: mode, generator: &generator)
        }
    }
    return out
}

func runForward(_ layer: Layer, _ input: [Float], batch: Int, mode: Mode = .inference) -> [Float] {
    var g = SeededGenerator(seed: 0)
    return runForward(layer, input, batch: batch, mode: mode, generator: &g)
}

/// Runs a layer backward on arrays; returns the input gradient.
func runBackward(_ layer: Layer, input: [Float], output: [Float], outputGradient: [Float], batch: Int) -> [Float] {
    var dIn = [Float](repeating: .nan, count: batch * layer.inputShape.count)
    var dOut = outputGradient
    input.withUnsafeBufferPointer { x in
        output.withUnsafeBufferPointer { y in
            dOut.withUnsafeMutableBufferPointer { dy in
                dIn.withUnsafeMutableBufferPointer { dx in
                    layer.backward(input: x.baseAddress!, output: y.baseAddress!, outputGradient: dy.baseAddress!,
                                   inputGradient: dx.baseAddress!, batch: batch)
                }
            }
        }
    }
    return dIn
}

/// Finite-difference gradient check of one layer (Caffe `test_gradient_check_util.hpp` style).
///
/// Scalar objective `L = Σ_i r_i · y_i` with fixed random `r`, accumulated in Float64, so
/// `∂L/∂y = r` is fed to backward. Central differences `(L(x+ε) − L(x−ε)) / 2ε` for every input
/// and parameter (or `maxChecks` evenly spaced ones). Each forward in training mode restarts
/// from the same generator state, so a dropout mask stays fixed.
///
/// Tolerance `atol + rtol·|numeric|`: the forward runs in Float32, so L carries a rounding error
/// of about √n · 6e-8 · |y| (n outputs); divided by 2ε that is ≈ 1e-4 for the shapes and ε used
/// here, well inside the default `atol = 2e-3`, `rtol = 1e-2`.
func checkGradients(_ layer: Layer, batch: Int, input: [Float], epsilon: Float = 1e-2, atol: Float = 2e-3,
                    rtol: Float = 1e-2, mode: Mode = .training, parameterSeed: UInt64 = 11, maxChecks: Int = 400,
                    file: StaticString = #filePath, line: UInt = #line) {
    let store = ParameterStore(layers: [layer])
    let initial = gaussianArray(store.parameters.count, seed: parameterSeed, std: 0.5)
    _ = store.parameters.buffer.update(from: initial)
    let r = gaussianArray(batch * layer.outputShape.count, seed: 99)
    let dropoutSeed = SeededGenerator(seed: 1234)

    func objective(_ x: [Float]) -> Double {
        var g = dropoutSeed
        let y = runForward(layer, x, batch: batch, mode: mode, generator: &g)
        var s = 0.0
        for i in y.indices { s += Double(r[i]) * Double(y[i]) }
        return s
    }

    var g = dropoutSeed
    let y = runForward(layer, input, batch: batch, mode: mode, generator: &g)
    let dIn = runBackward(layer, input: input, output: y, outputGradient: r, batch: batch)
    let dParams = store.gradients.array

    func indices(_ n: Int) -> [Int] {
        n <= maxChecks ? Array(0..<n) : (0..<maxChecks).map { $0 * n / maxChecks }
    }
    var x = input
    for i in indices(x.count) {
        let v = x[i]
        x[i] = v + epsilon; let lp = objective(x)
        x[i] = v - epsilon; let lm = objective(x)
        x[i] = v
        let numeric = Float((lp - lm) / (2 * Double(epsilon)))
        if !(abs(dIn[i] - numeric) <= atol + rtol * abs(numeric)) {
            XCTFail("\(layer.name): input gradient [\(i)] analytic \(dIn[i]) vs numeric \(numeric)", file: file, line: line)
            return
        }
    }
    let p = store.parameters.pointer
    for i in indices(store.parameters.count) {
        let v = p[i]
        p[i] = v + epsilon; let lp = objective(input)
        p[i] = v - epsilon; let lm = objective(input)
        p[i] = v
        let numeric = Float((lp - lm) / (2 * Double(epsilon)))
        if !(abs(dParams[i] - numeric) <= atol + rtol * abs(numeric)) {
            XCTFail("\(layer.name): parameter gradient [\(i)] analytic \(dParams[i]) vs numeric \(numeric)", file: file, line: line)
            return
        }
    }
}

/// Direct convolution, NHWC, weights [k, k, Cin, Cout], zero padding.
func naiveConvolution(_ x: [Float], n: Int, s: FeatureShape, w: [Float], bias: [Float], cout: Int,
                      k: Int, stride: Int, pad: Int) -> [Float] {
    let ho = (s.height + 2 * pad - k) / stride + 1, wo = (s.width + 2 * pad - k) / stride + 1
    var y = [Float](repeating: 0, count: n * ho * wo * cout)
    for b in 0..<n { for oh in 0..<ho { for ow in 0..<wo { for co in 0..<cout {
        var acc = Double(bias[co])
        for kh in 0..<k { for kw in 0..<k {
            let ih = oh * stride - pad + kh, iw = ow * stride - pad + kw
            guard ih >= 0, ih < s.height, iw >= 0, iw < s.width else { continue }
            for ci in 0..<s.channels {
                acc += Double(x[((b * s.height + ih) * s.width + iw) * s.channels + ci])
                    * Double(w[((kh * k + kw) * s.channels + ci) * cout + co])
            }
        } }
        y[((b * ho + oh) * wo + ow) * cout + co] = Float(acc)
    } } } }
    return y
}
