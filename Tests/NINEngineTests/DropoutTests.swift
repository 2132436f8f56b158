import XCTest
@testable import NINEngine

final class DropoutTests: XCTestCase {
    func testKeepRateWithinStatisticalBoundsAndInvertedScaling() {
        let shape = FeatureShape(height: 10, width: 10, channels: 100)
        for rate: Float in [0.5, 0.2] {
            let layer = Dropout(name: "d", shape: shape, rate: rate, maxBatch: 10, threads: 2)
            let x = [Float](repeating: 1, count: 10 * shape.count)
            var g = SeededGenerator(seed: 42)
            let y = runForward(layer, x, batch: 10, mode: .training, generator: &g)
            let n = Double(y.count)
            let kept = Double(y.filter { $0 != 0 }.count)
            let p = Double(1 - rate)
            // Binomial(n, p): 5 standard deviations.
            XCTAssertEqual(kept, n * p, accuracy: 5 * (n * p * (1 - p)).squareRoot())
            XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - 1 / Float(p)) < 1e-6 }, "kept values scaled by 1/(1−rate)")
            XCTAssertEqual(runForward(layer, x, batch: 10, mode: .inference), x, "inference is the identity")
        }
    }

    /// Rate 0 in training: output = input, gradient passes unchanged, no draw from the generator.
    func testRateZeroIsTheIdentityAndDrawsNothing() {
        let shape = FeatureShape(height: 3, width: 3, channels: 4)
        let layer = Dropout(name: "d", shape: shape, rate: 0, maxBatch: 2, threads: 2)
        let x = gaussianArray(2 * shape.count, seed: 3)
        var g = SeededGenerator(seed: 11)
        let before = g
        XCTAssertEqual(runForward(layer, x, batch: 2, mode: .training, generator: &g), x)
        XCTAssertEqual(g, before, "no draw")
        let dy = gaussianArray(2 * shape.count, seed: 4)
        XCTAssertEqual(runBackward(layer, input: x, output: x, outputGradient: dy, batch: 2), dy)
    }

    func testIdenticalSeedsGiveIdenticalMasks() {
        let shape = FeatureShape(height: 4, width: 4, channels: 8)
        let layer = Dropout(name: "d", shape: shape, rate: 0.5, maxBatch: 4, threads: 2)
        let x = gaussianArray(4 * shape.count, seed: 1)
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7), g3 = SeededGenerator(seed: 8)
        let a = runForward(layer, x, batch: 4, mode: .training, generator: &g1)
        let b = runForward(layer, x, batch: 4, mode: .training, generator: &g2)
        let c = runForward(layer, x, batch: 4, mode: .training, generator: &g3)
        XCTAssertEqual(a, b)
        XCTAssertEqual(g1, g2, "the generator advanced identically")
        XCTAssertNotEqual(a, c)
        // The next mask from the advanced generator differs from the first.
        let d = runForward(layer, x, batch: 4, mode: .training, generator: &g1)
        XCTAssertNotEqual(a, d)
    }
}

final class SeededGeneratorBulkTests: XCTestCase {
    /// The bulk fill gives exactly the `nextFloat()` sequence and the same final state.
    func testBulkUniformFloatsEqualSuccessiveNextFloat() {
        var a = SeededGenerator(seed: 77), b = SeededGenerator(seed: 77)
        var bulk = [Float](repeating: -1, count: 1001)
        bulk.withUnsafeMutableBufferPointer { a.fillUniformFloats($0.baseAddress!, count: $0.count) }
        let single = (0..<1001).map { _ in b.nextFloat() }
        XCTAssertEqual(bulk, single)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.next(), b.next())
    }
}
