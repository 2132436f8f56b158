import XCTest
@testable import NINEngine

final class ConfidenceMapTests: XCTestCase {
    let input = gaussianArray(2 * 8 * 8 * 3, seed: 60)

    func network(head: Head) throws -> Network {
        let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 4,
                                 blocks: [MlpconvBlock(channels: 6, kernel: 3, pad: 1, microWidths: [5],
                                                       pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5)],
                                 head: head)
        var g = SeededGenerator(seed: 61)
        return try Network(description: d, initializer: .he, maxBatch: 2, threads: 2, biasValue: 0.1, generator: &g)
    }

    /// GAP: the maps are the class maps entering global average pooling (here after the block's
    /// 3×3/2 max pooling, 8→4); their spatial mean is the logit.
    func testGAPMapsAverageToTheLogits() throws {
        let net = try network(head: .gap(finalReLU: false))
        let c = try input.withUnsafeBufferPointer { try net.confidenceMaps(input: $0, batch: 2) }
        XCTAssertEqual(c.kind, .gapClassMaps)
        XCTAssertEqual(c.maps.shape, [2, 4, 4, 4])
        for n in 0..<2 { for k in 0..<4 {
            var s: Float = 0
            for p in 0..<16 { s += c.maps.data[(n * 16 + p) * 4 + k] }
            XCTAssertEqual(s / 16, c.logits.data[n * 4 + k], accuracy: 1e-5)
        } }
        let logits = try input.withUnsafeBufferPointer { try net.logits(input: $0, batch: 2) }
        XCTAssertEqual(logits, c.logits)
        XCTAssertEqual(c.probabilities.data[0..<4].reduce(0, +), 1, accuracy: 1e-5)
    }

    /// FC without hidden layers: per-position contributions sum to logit − bias, with or without
    /// the dropout of an "FC + dropout" head (inactive at inference).
    func testLinearFCContributionsSumToLogitMinusBias() throws {
        try checkLinearFC(head: .fc())
        try checkLinearFC(head: .fc(dropout: 0.5))
    }

    /// A single-linear-layer FC head with dropout has the dropout right before the final Dense layer.
    func testFCDropoutWithoutHiddenLayersPrecedesTheFinalDense() throws {
        let d = try network(head: .fc(dropout: 0.5)).modelDescription.layerShapes().map(\.name)
        XCTAssertEqual(Array(d.suffix(2)), ["head.dropout", "head.fc"])
        let plain = try network(head: .fc()).modelDescription.layerShapes().map(\.name)
        XCTAssertFalse(plain.contains("head.dropout"))
    }

    func checkLinearFC(head: Head) throws {
        let net = try network(head: head)
        let c = try input.withUnsafeBufferPointer { try net.confidenceMaps(input: $0, batch: 2) }
        XCTAssertEqual(c.kind, .fcLinearContribution)
        XCTAssertEqual(c.maps.shape, [2, 4, 4, 4])
        let bias = Array(net.parameters.suffix(4))
        XCTAssertEqual(bias, [0.1, 0.1, 0.1, 0.1])
        for n in 0..<2 { for k in 0..<4 {
            var s: Float = 0
            for p in 0..<16 { s += c.maps.data[(n * 16 + p) * 4 + k] }
            XCTAssertEqual(s, c.logits.data[n * 4 + k] - bias[k], accuracy: 1e-4)
        } }
    }

    func testHiddenFCHasNoMaps() throws {
        let net = try network(head: .fc(hidden: [7]))
        let c = try input.withUnsafeBufferPointer { try net.confidenceMaps(input: $0, batch: 2) }
        guard case .unavailable(let reason) = c.kind else { return XCTFail("\(c.kind)") }
        XCTAssertTrue(reason.contains("hidden"))
        XCTAssertEqual(c.maps.count, 0)
        XCTAssertEqual(c.logits.shape, [2, 4])
    }
}
