import XCTest
@testable import NINEngine

final class OptimizerTests: XCTestCase {
    /// Two Caffe SGD steps computed by hand: v ← m·v + lr·lrMult·(g + wd·decayMult·w); w ← w − v.
    func testSGDUpdateMatchesHandComputationWithMultipliers() {
        var w: [Float] = [1.0, -2.0, 0.5]
        let g: [Float] = [0.1, 0.2, -0.3]
        let groups = [ParameterGroup(name: "w", offset: 0, count: 2, learningRateMultiplier: 1, decayMultiplier: 1),
                      ParameterGroup(name: "b", offset: 2, count: 1, learningRateMultiplier: 2, decayMultiplier: 0)]
        var sgd = SGD(momentum: 0.9, weightDecay: 0.01)
        func step() {
            w.withUnsafeMutableBufferPointer { wp in
                g.withUnsafeBufferPointer { sgd.update(parameters: wp, gradients: $0, groups: groups, learningRate: 0.5) }
            }
        }
        step()
        // v0 = 0.5·(0.1 + 0.01·1) = 0.055;  v1 = 0.5·(0.2 − 0.02) = 0.09;  v2 = 0.5·2·(−0.3) = −0.3
        XCTAssertEqual(sgd.velocity[0], 0.055, accuracy: 1e-7)
        XCTAssertEqual(sgd.velocity[1], 0.09, accuracy: 1e-7)
        XCTAssertEqual(sgd.velocity[2], -0.3, accuracy: 1e-7)
        XCTAssertEqual(w[0], 0.945, accuracy: 1e-7)
        XCTAssertEqual(w[1], -2.09, accuracy: 1e-7)
        XCTAssertEqual(w[2], 0.8, accuracy: 1e-7)
        step()
        // v0 = 0.9·0.055 + 0.5·(0.1 + 0.01·0.945) = 0.0495 + 0.054725 = 0.104225;  w0 = 0.840775
        // v1 = 0.9·0.09 + 0.5·(0.2 − 0.0209) = 0.081 + 0.08955 = 0.17055;         w1 = −2.26055
        // v2 = 0.9·(−0.3) + 1·(−0.3) = −0.57;                                      w2 = 1.37
        XCTAssertEqual(w[0], 0.840775, accuracy: 1e-6)
        XCTAssertEqual(w[1], -2.26055, accuracy: 1e-6)
        XCTAssertEqual(w[2], 1.37, accuracy: 1e-6)
        XCTAssertEqual(sgd.step, 2)
    }

    /// The network's groups carry the zoo's multipliers (NIN.md "Solver"): weights 1 / decay 1,
    /// biases 2 / decay 0, the last layer (cccp6) 0.1 / decay 1 for weights, 0.1 / decay 0 for the
    /// bias. The `lastLayer` factor scales all four instead (the earlier recipe, kept reachable).
    func testNetworkParameterGroupsCarryZooMultipliers() throws {
        var g = SeededGenerator(seed: 1)
        let net = try Network(description: .ninCIFAR10, initializer: .gaussian(std: 0.05), maxBatch: 1, threads: 1, generator: &g)
        func multipliers(_ net: Network, _ name: String) -> [Float] {
            let group = net.groups.first { $0.name == name }
            return [group?.learningRateMultiplier ?? -1, group?.decayMultiplier ?? -1]
        }
        XCTAssertEqual(multipliers(net, "block1.conv.weight"), [1, 1])
        XCTAssertEqual(multipliers(net, "block1.conv.bias"), [2, 0])
        XCTAssertEqual(multipliers(net, "block3.cccp1.weight"), [1, 1], "cccp5")
        XCTAssertEqual(multipliers(net, "block3.cccp2.weight"), [0.1, 1], "cccp6 weights")
        XCTAssertEqual(multipliers(net, "block3.cccp2.bias"), [0.1, 0], "cccp6 bias")
        var g2 = SeededGenerator(seed: 1)
        let scaled = try Network(description: .ninCIFAR10, initializer: .gaussian(std: 0.05),
                                 multipliers: LearningRateMultipliers(scalingLastLayerBy: 0.1), maxBatch: 1, threads: 1, generator: &g2)
        XCTAssertEqual(multipliers(scaled, "block3.cccp2.weight"), [1 * 0.1, 1 * 0.1])
        XCTAssertEqual(multipliers(scaled, "block3.cccp2.bias"), [2 * 0.1, 0])
        XCTAssertEqual(multipliers(scaled, "block2.cccp2.bias"), [2, 0])
        // For an FC head the last layer is the final fully connected layer, not a hidden one.
        var g3 = SeededGenerator(seed: 1)
        var withFC = ModelDescription.ninCIFAR10
        withFC.head = .fc(hidden: [512])
        let fc = try Network(description: withFC, initializer: .gaussian(std: 0.05),
                             maxBatch: 1, threads: 1, generator: &g3)
        XCTAssertEqual(multipliers(fc, "head.fc.weight"), [0.1, 1])
        XCTAssertEqual(multipliers(fc, "block3.cccp2.weight"), [1, 1])
        XCTAssertEqual(multipliers(fc, "head.fc1.weight"), [1, 1], "the hidden FC layer")
        let byName = Dictionary(uniqueKeysWithValues: net.groups.map { ($0.name, $0) })
        XCTAssertEqual(byName.count, net.groups.count)
        XCTAssertEqual(net.groups.reduce(0) { $0 + $1.count }, 966_986)
        // Groups tile the flat storage in order.
        var offset = 0
        for group in net.groups { XCTAssertEqual(group.offset, offset); offset += group.count }
    }

    /// Initialisers: Gaussian std and He std √(2/fanIn) within sampling error; biases constant;
    /// the same seed gives the same weights.
    func testInitializers() throws {
        let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 16), classes: 10,
                                 blocks: [MlpconvBlock(channels: 64, kernel: 5, microWidths: [])], head: .gap())
        func weights(_ i: Initializer, seed: UInt64) throws -> [Float] {
            var g = SeededGenerator(seed: seed)
            return try Network(description: d, initializer: i, maxBatch: 1, threads: 1, biasValue: 0.25, generator: &g).parameterValues()
        }
        // Layer: 5·5·16 = 400 fan-in, 10 outputs (GAP override) → 4,000 weights + 10 biases.
        for (initializer, std) in [(Initializer.gaussian(std: 0.05), 0.05), (.he, (2.0 / 400).squareRoot())] {
            let p = try weights(initializer, seed: 3)
            let w = p.prefix(4000).map(Double.init)
            let mean = w.reduce(0, +) / 4000
            let sd = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4000).squareRoot()
            XCTAssertEqual(sd, std, accuracy: 0.05 * std) // sampling sd of the estimate ≈ 1.1 %
            XCTAssertEqual(mean, 0, accuracy: 0.1 * std)
            XCTAssertEqual(Array(p.suffix(10)), [Float](repeating: 0.25, count: 10))
            XCTAssertEqual(p, try weights(initializer, seed: 3))
            XCTAssertNotEqual(p, try weights(initializer, seed: 4))
        }
        XCTAssertEqual(Array(try weights(.constant(0.5), seed: 3).prefix(4000)), [Float](repeating: 0.5, count: 4000))
    }
}
