import Foundation
import XCTest
@testable import NINEngine

/// bf16 networks: `setPrecision` reaches every GEMM layer, the layers' gradients stay close to
/// fp32's, training tracks fp32, and reruns and resumes are bit-identical (as in fp32,
/// `TrainingTests`).
final class BF16TrainingTests: XCTestCase {
    let batch = 8
    lazy var input = gaussianArray(batch * 300, seed: 50)
    let labels: [Int32] = [0, 1, 2, 3, 3, 2, 1, 0]

    override func setUpWithError() throws {
        try XCTSkipIf(ComputeBackend.bf16Unsupported() != nil, "bf16 cannot run here: \(ComputeBackend.bf16Unsupported() ?? "")")
    }

    /// `TrainingTests.small` (k×k, 1×1, pooling, dropout, GAP) plus an FC head variant, so
    /// every GEMM layer kind (Conv2D, Conv1x1, Dense) is in one of them.
    func makeNetwork(seed: UInt64, precision: GEMMPrecision, fc: Bool = false) throws -> (Network, SeededGenerator) {
        var description = TrainingTests.small
        if fc { description.head = .fc(hidden: [16], dropout: nil, finalReLU: false) }
        var g = SeededGenerator(seed: seed)
        let net = try Network(description: description, initializer: .he, maxBatch: batch, threads: 2, generator: &g)
        try net.setPrecision(precision)
        return (net, g)
    }

    func train(_ net: Network, steps: Int, learningRate: Float = 0.02, optimizer: inout SGD,
               generator: inout SeededGenerator) throws -> [Float] {
        let x = input
        return try x.withUnsafeBufferPointer { xp in
            try (0..<steps).map { _ in
                try net.trainStep(input: xp, labels: labels, batch: batch, learningRate: learningRate, optimizer: &optimizer,
                                  generator: &generator).loss
            }
        }
    }

    func testSetPrecisionReachesEveryGEMMLayer() throws {
        for fc in [false, true] {
            let (net, _) = try makeNetwork(seed: 1, precision: .bf16, fc: fc)
            let gemmLayers = net.layers.compactMap { $0 as? any GEMMLayer }
            XCTAssertEqual(gemmLayers.count, net.layers.filter { $0.parameterCount > 0 }.count)
            XCTAssertTrue(gemmLayers.allSatisfy { $0.precision == .bf16 })
            XCTAssertEqual(net.precision, .bf16)
            if fc { XCTAssertTrue(net.layers.contains { $0 is Dense }) }
            try net.setPrecision(.fp32)
            XCTAssertTrue(gemmLayers.allSatisfy { $0.precision == .fp32 })
        }
    }

    /// One training step's gradients in bf16 against fp32 on the same weights and batch: each
    /// layer's weight gradient within 3 % of the fp32 gradient's norm (every GEMM input rounded
    /// to 8 significant bits, a relative 2⁻⁸ = 0.4 % per operand, compounded through the
    /// layers of backward), and not equal to it.
    func testOneStepGradientsAreCloseToFP32() throws {
        var gradients: [[Float]] = []
        var nets: [Network] = []
        for precision in [GEMMPrecision.fp32, .bf16] {
            var (net, g) = try makeNetwork(seed: 3, precision: precision, fc: true)
            var sgd = SGD(momentum: 0, weightDecay: 0)
            _ = try train(net, steps: 1, optimizer: &sgd, generator: &g)
            gradients.append(Array(net.gradients))
            nets.append(net)
        }
        XCTAssertNotEqual(gradients[0], gradients[1])
        for group in nets[0].groups where group.name.hasSuffix(".weight") {
            let range = group.offset..<(group.offset + group.count)
            let reference = gradients[0][range], bf16 = gradients[1][range]
            let norm = sqrt(reference.reduce(0) { $0 + Double($1) * Double($1) })
            let difference = sqrt(zip(reference, bf16).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) })
            XCTAssertLessThanOrEqual(difference, 0.03 * norm, group.name)
        }
    }

    /// A small bf16 training run tracks fp32's: the network without dropout (whose masks make
    /// the small batch's loss jump), 60 steps at learning rate 0.02 on a fixed mini-batch. Both
    /// learn (last loss below half the first), and every step's loss is within 0.1 nats of the
    /// fp32 run's (7 % of the initial ln 4 ≈ 1.39). bf16 perturbs each GEMM by about 2⁻⁸
    /// relative, and the trajectories drift apart slowly: the largest gap, 0.07 nats on this
    /// machine, comes in the fast descent, where a run slightly ahead of the other differs most.
    /// A wrong bf16 kernel (a transposed operand, a dropped term) does not learn or moves the
    /// loss by far more.
    func testBF16LossCurveTracksFP32() throws {
        var curves: [[Float]] = []
        for precision in [GEMMPrecision.fp32, .bf16] {
            var description = TrainingTests.small
            for i in description.blocks.indices { description.blocks[i].dropout = nil }
            var g = SeededGenerator(seed: 5)
            let net = try Network(description: description, initializer: .he, maxBatch: batch, threads: 2, generator: &g)
            try net.setPrecision(precision)
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            curves.append(try train(net, steps: 60, optimizer: &sgd, generator: &g))
        }
        XCTAssertNotEqual(curves[0], curves[1], "bf16 changed nothing: were the GEMMs fp32?")
        for (step, (fp32, bf16)) in zip(curves[0], curves[1]).enumerated() {
            XCTAssertLessThanOrEqual(abs(bf16 - fp32), 0.1, "step \(step + 1): fp32 \(fp32), bf16 \(bf16)")
        }
        XCTAssertLessThan(curves[1].last!, curves[1].first! / 2, "bf16 training learns: \(curves[1])")
        XCTAssertLessThan(curves[0].last!, curves[0].first! / 2, "fp32 training learns: \(curves[0])")
    }

    /// Two bf16 runs of 20 steps with the same seed give identical weight bytes and losses.
    func testBF16RerunsAreBitIdentical() throws {
        var bytes: [Data] = []
        var losses: [[Float]] = []
        for _ in 0..<2 {
            var (net, g) = try makeNetwork(seed: 9, precision: .bf16)
            var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
            losses.append(try train(net, steps: 20, optimizer: &sgd, generator: &g))
            bytes.append(Data(buffer: net.parameters))
        }
        XCTAssertEqual(bytes[0], bytes[1])
        XCTAssertEqual(losses[0], losses[1])
    }

    /// A bf16 checkpoint at step 10, restored into a fresh bf16 network and resumed to step 20:
    /// the same bytes as the uninterrupted bf16 run (the master weights are fp32 and the bf16
    /// copy is made again from them by the next forward pass).
    func testBF16ResumeIsBitExact() throws {
        var (net, g) = try makeNetwork(seed: 12, precision: .bf16)
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-4)
        _ = try train(net, steps: 10, optimizer: &sgd, generator: &g)
        let checkpoint = try Checkpoint(data: net.checkpoint(optimizer: sgd, generator: g).serialized())
        _ = try train(net, steps: 10, optimizer: &sgd, generator: &g)
        var (fresh, freshG) = try makeNetwork(seed: 999, precision: .bf16)
        var freshSGD = SGD()
        try fresh.restore(from: checkpoint, optimizer: &freshSGD, generator: &freshG)
        _ = try train(fresh, steps: 10, optimizer: &freshSGD, generator: &freshG)
        XCTAssertEqual(Data(buffer: fresh.parameters), Data(buffer: net.parameters))
        XCTAssertEqual(freshG, g)
    }
}
