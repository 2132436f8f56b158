import Foundation
import XCTest
@testable import NINEngine

final class ModelDescriptionTests: XCTestCase {
    /// NIN.md: 966,986 parameters; ≈ 222.5 M multiply-adds (blocks 61.9 / 136.8 / 23.7 M).
    func testCIFAR10NetworkCounts() throws {
        let d = ModelDescription.ninCIFAR10
        XCTAssertEqual(try d.parameterCount, 966_986)
        XCTAssertEqual(try d.multiplyAddsPerImage, 222_486_528)
        let shapes = try d.layerShapes()
        func blockMACs(_ b: String) -> Int { shapes.filter { $0.name.hasPrefix(b + ".") }.reduce(0) { $0 + $1.multiplyAdds } }
        XCTAssertEqual(Double(blockMACs("block1")) / 1e6, 61.9, accuracy: 0.05)
        XCTAssertEqual(Double(blockMACs("block2")) / 1e6, 136.8, accuracy: 0.05)
        XCTAssertEqual(Double(blockMACs("block3")) / 1e6, 23.7, accuracy: 0.05)
        let byName = Dictionary(uniqueKeysWithValues: shapes.map { ($0.name, $0) })
        XCTAssertEqual(byName["block1.conv"]?.output, FeatureShape(height: 32, width: 32, channels: 192))
        XCTAssertEqual(byName["block1.cccp2"]?.output, FeatureShape(height: 32, width: 32, channels: 96))
        XCTAssertEqual(byName["block1.pool"]?.output, FeatureShape(height: 16, width: 16, channels: 96))
        XCTAssertEqual(byName["block2.pool"]?.output, FeatureShape(height: 8, width: 8, channels: 192))
        XCTAssertEqual(byName["block2.pool"]?.kind, .avgPool)
        XCTAssertEqual(byName["block3.cccp2"]?.output, FeatureShape(height: 8, width: 8, channels: 10))
        XCTAssertEqual(byName["block3.cccp2"]?.relu, true)
        XCTAssertEqual(shapes.last?.name, "head.gap")
        XCTAssertEqual(shapes.last?.output, FeatureShape(height: 1, width: 1, channels: 10))
    }

    /// The MNIST network, counted by hand:
    /// parameters  block1: 5·5·1·96+96 = 2,496; 96·64+64 = 6,208; 64·48+48 = 3,120
    ///             block2: 5·5·48·128+128 = 153,728; 128·96+96 = 12,384; 96·48+48 = 4,656
    ///             block3: 153,728; 12,384; 96·10+10 = 970            → total 349,674
    /// MACs        block1 (28·28 = 784 px): 784·96·25 + 784·96·64 + 784·64·48 = 9,106,944
    ///             block2 (14·14 = 196 px): 196·128·1200 + 196·128·96 + 196·96·48 = 33,417,216
    ///             block3 (7·7 = 49 px):    49·128·1200 + 49·128·96 + 49·96·10 = 8,175,552
    ///                                                                  → total 50,699,712
    func testMNISTNetworkCounts() throws {
        let d = ModelDescription.ninMNIST
        XCTAssertEqual(try d.parameterCount, 349_674)
        XCTAssertEqual(try d.multiplyAddsPerImage, 50_699_712)
        let shapes = try d.layerShapes()
        XCTAssertEqual(shapes.first { $0.name == "block1.pool" }?.output.height, 14)
        XCTAssertEqual(shapes.first { $0.name == "block2.pool" }?.output.height, 7)
        XCTAssertEqual(shapes.last?.output.channels, 10)
    }

    /// A built network agrees with the description's counts (allocating only small models).
    func testNetworkMatchesDescriptionCounts() throws {
        for d in [ModelDescription.ninMNIST, ModelDescription(input: ModelDescription.ninCIFAR10.input, classes: 10, blocks: ModelDescription.ninCIFAR10.blocks, head: .fc(hidden: [64]))] {
            var g = SeededGenerator(seed: 1)
            let net = try Network(description: d, initializer: .he, maxBatch: 1, threads: 1, generator: &g)
            XCTAssertEqual(net.parameterCount, try d.parameterCount)
            XCTAssertEqual(net.multiplyAddsPerImage, try d.multiplyAddsPerImage)
        }
    }

    func testGAPOverridesLastWidthAndDepthZeroIsPlainCNN() throws {
        let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 7,
                                 blocks: [MlpconvBlock(channels: 16, kernel: 3, microWidths: []),
                                          MlpconvBlock(channels: 99, kernel: 3, microWidths: [])],
                                 head: .gap(finalReLU: false))
        let shapes = try d.layerShapes()
        XCTAssertEqual(shapes.map(\.name), ["block1.conv", "block2.conv", "head.gap"])
        XCTAssertEqual(shapes[1].output, FeatureShape(height: 4, width: 4, channels: 7))
        XCTAssertEqual(shapes[1].relu, false)
        XCTAssertEqual(shapes[0].relu, true)
    }

    /// `finalReLU` governs the last layer of the last block for an FC head too (the layer it
    /// flattens), which keeps its listed width: with a ReLU there, a narrow last layer can go silent
    /// and leave the FC head nothing but zeros.
    func testFinalReLUAppliesToTheLayerAnFCHeadFlattens() throws {
        for finalReLU in [false, true] {
            let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 7,
                                     blocks: [MlpconvBlock(channels: 16, kernel: 3, microWidths: [12]),
                                              MlpconvBlock(channels: 16, kernel: 3, microWidths: [12, 9])],
                                     head: .fc(dropout: 0.5, finalReLU: finalReLU))
            let byName = Dictionary(uniqueKeysWithValues: try d.layerShapes().map { ($0.name, $0) })
            XCTAssertEqual(byName["block2.cccp2"]?.relu, finalReLU)
            XCTAssertEqual(byName["block2.cccp2"]?.output.channels, 9, "an FC head keeps the listed width")
            XCTAssertEqual(byName["block2.cccp1"]?.relu, true)
            XCTAssertEqual(byName["block1.cccp1"]?.relu, true)
            XCTAssertEqual(byName["head.dropout"]?.output.channels, 9)
        }
    }

    /// The paper's Table 5 FC head on the CIFAR-10 NIN: one hidden layer, with and without dropout.
    func testFCHeadsOnTheCIFAR10Network() throws {
        var fc = ModelDescription.ninCIFAR10
        fc.head = .fc(hidden: [512])
        let shapes = try fc.layerShapes()
        XCTAssertEqual(shapes.suffix(2).map(\.name), ["head.fc1", "head.fc"])
        XCTAssertEqual(shapes.first { $0.name == "head.fc1" }?.parameters, 640 * 512 + 512)
        fc.head = .fc(hidden: [512], dropout: 0.5)
        XCTAssertEqual(try fc.layerShapes().suffix(3).map(\.name), ["head.fc1", "head.fc1.dropout", "head.fc"])
        fc.head = .fc(dropout: 0.5)
        XCTAssertEqual(try fc.layerShapes().suffix(2).map(\.name), ["head.dropout", "head.fc"],
                       "without a hidden layer the dropout acts on the flattened features")
    }

    /// Each built layer holds the formula its kind states and the description reports: output
    /// shape, parameters, multiply-adds; fan-in is k·k·Cin for a convolution and the input
    /// features for a Dense layer.
    func testBuiltLayersHoldTheDescriptionsFormulas() throws {
        let d = ModelDescription(input: InputShape(height: 9, width: 9, channels: 3), classes: 4,
                                 blocks: [MlpconvBlock(channels: 6, kernel: 3, pad: 1, microWidths: [5],
                                                       pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
                                          MlpconvBlock(channels: 7, kernel: 1, stride: 2, microWidths: [4])],
                                 head: .fc(hidden: [8]))
        var g = SeededGenerator(seed: 1)
        let net = try Network(description: d, initializer: .he, maxBatch: 2, threads: 1, generator: &g)
        let shapes = try d.layerShapes()
        XCTAssertEqual(net.layers.map(\.name), shapes.map(\.name))
        for (layer, shape) in zip(net.layers, shapes) {
            XCTAssertEqual(layer.outputShape, shape.output, layer.name)
            XCTAssertEqual(layer.parameterCount, shape.parameters, layer.name)
            XCTAssertEqual(layer.multiplyAddsPerExample, shape.multiplyAdds, layer.name)
            XCTAssertEqual(layer.fanIn * layer.biasCount, layer.weightCount, layer.name)
        }
        let byName = Dictionary(uniqueKeysWithValues: net.layers.map { ($0.name, $0) })
        XCTAssertEqual(byName["block1.conv"]?.fanIn, 3 * 3 * 3)
        XCTAssertEqual(byName["block1.cccp1"]?.fanIn, 6)
        XCTAssertEqual(byName["head.fc1"]?.fanIn, 2 * 2 * 4)
        XCTAssertEqual(byName["block1.pool"]?.fanIn, 0)
        // One route for 1×1: every 1×1, stride-1, unpadded convolution is a Conv1x1 (one GEMM);
        // a strided 1×1 convolution needs im2col.
        XCTAssertTrue(byName["block1.cccp1"] is Conv1x1)
        XCTAssertTrue(byName["block2.cccp1"] is Conv1x1)
        XCTAssertTrue(byName["block2.conv"] is Conv2D)
        XCTAssertEqual(shapes.first { $0.name == "block2.conv" }?.kind, .convolution)
        XCTAssertEqual(shapes.first { $0.name == "block2.cccp1" }?.kind, .conv1x1)
        XCTAssertNil(net.classMapLayerIndex, "an FC head has no class-map layer")
    }

    /// The class-map layer is the one global average pooling reads, marked by the plan: after the
    /// last block's pooling when it has one, the class-map convolution otherwise.
    func testClassMapLayerIsMarked() throws {
        for pool in [nil, MlpconvBlock.Pool(kind: .avg, size: 2, stride: 2)] {
            let d = ModelDescription(input: InputShape(height: 8, width: 8, channels: 1), classes: 3,
                                     blocks: [MlpconvBlock(channels: 4, kernel: 3, microWidths: [5, 9], pool: pool)],
                                     head: .gap())
            var g = SeededGenerator(seed: 2)
            let net = try Network(description: d, initializer: .he, maxBatch: 1, threads: 1, generator: &g)
            let i = try XCTUnwrap(net.classMapLayerIndex)
            XCTAssertEqual(net.layers[i].name, pool == nil ? "block1.cccp2" : "block1.pool")
            XCTAssertEqual(net.layers[i].outputShape.channels, 3)
            XCTAssertTrue(net.layers[i + 1] is GlobalAveragePool)
        }
    }

    func testJSONRoundTripAndDefaults() throws {
        let data = try JSONEncoder().encode(ModelDescription.ninCIFAR10)
        XCTAssertEqual(try JSONDecoder().decode(ModelDescription.self, from: data), .ninCIFAR10)
        let json = """
        {"input": {"height": 28, "width": 28, "channels": 1}, "classes": 10,
         "blocks": [{"channels": 8, "kernel": 5, "microWidths": [4], "pool": {"kind": "max", "size": 3, "stride": 2}}],
         "head": {"kind": "gap"}}
        """
        let d = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
        XCTAssertEqual(d.blocks[0].stride, 1)
        XCTAssertEqual(d.blocks[0].pad, 0)
        XCTAssertEqual(d.blocks[0].pool?.pad, 0)
        XCTAssertNil(d.blocks[0].dropout)
        XCTAssertEqual(d.head.finalReLU, true)
        XCTAssertEqual(d.head.hidden, [])
        XCTAssertEqual(try d.layerShapes().first { $0.name == "block1.pool" }?.output, FeatureShape(height: 12, width: 12, channels: 10))
    }

    /// Invalid descriptions throw errors naming the block (key path `blocks[i]`) and the shapes.
    func testInvalidDescriptionsThrowNamingTheBlock() {
        let ok = MlpconvBlock(channels: 8, kernel: 3, pad: 1, microWidths: [8], pool: .init(kind: .max, size: 3, stride: 2))
        func model(_ blocks: [MlpconvBlock], head: Head = .gap()) -> ModelDescription {
            ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 10, blocks: blocks, head: head)
        }
        func expect(_ d: ModelDescription, _ expected: ModelDescriptionError, mentions: String,
                    file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try d.validate(), file: file, line: line) { error in
                XCTAssertEqual(error as? ModelDescriptionError, expected, file: file, line: line)
                XCTAssertTrue("\(error)".contains(mentions), "\(error)", file: file, line: line)
            }
            XCTAssertThrowsError(try d.layerShapes(), file: file, line: line)
            var g = SeededGenerator(seed: 1)
            XCTAssertThrowsError(try Network(description: d, initializer: .he, maxBatch: 1, threads: 1, generator: &g),
                                 file: file, line: line)
        }
        // 8 → pool 4 → pool 2 → a 3×3 kernel without padding does not fit a 2×2 map.
        expect(model([ok, ok, MlpconvBlock(channels: 8, kernel: 3, microWidths: [4])]),
               .mapTooSmall(block: 2, layer: .convolution, input: FeatureShape(height: 2, width: 2, channels: 8), kernel: 3, stride: 1, pad: 0),
               mentions: "blocks[2].conv: input map 2×2×8")
        expect(model([ok, MlpconvBlock(channels: 0, kernel: 3)]), .zeroChannels(block: 1, layer: .convolution, found: 0), mentions: "blocks[1].conv")
        expect(model([MlpconvBlock(channels: 8, kernel: 3, microWidths: [8, 0])]),
               .zeroChannels(block: 0, layer: .microLayer(2), found: 0), mentions: "blocks[0].cccp2")
        expect(model([ok, MlpconvBlock(channels: 8, kernel: 0)]), .invalidConvolution(block: 1, kernel: 0, stride: 1, pad: 0),
               mentions: "blocks[1].conv: kernel 0")
        expect(model([MlpconvBlock(channels: 8, kernel: 3, pool: .init(kind: .avg, size: 0, stride: 2))]),
               .invalidPool(block: 0, size: 0, stride: 2, pad: 0), mentions: "blocks[0].pool")
        expect(model([ok, ok, MlpconvBlock(channels: 8, kernel: 1, dropout: 1.0)]), .invalidDropout(block: 2, rate: 1.0),
               mentions: "blocks[2].dropout")
        expect(model([MlpconvBlock(channels: 8, kernel: 3, pool: .init(kind: .max, size: 9, stride: 2))]),
               .mapTooSmall(block: 0, layer: .pool, input: FeatureShape(height: 6, width: 6, channels: 10), kernel: 9, stride: 2, pad: 0),
               mentions: "blocks[0].pool")
        expect(model([ok], head: .fc(hidden: [16, 0])), .invalidHidden(index: 1, width: 0), mentions: "head.hidden[1]")
        expect(model([ok], head: .fc(hidden: [16], dropout: -0.1)), .invalidDropout(block: nil, rate: -0.1), mentions: "head.hiddenDropout")
        expect(model([]), .noBlocks, mentions: "blocks")
        expect(ModelDescription(input: InputShape(height: 8, width: 8, channels: 3), classes: 1, blocks: [ok], head: .gap()),
               .invalidClasses(1), mentions: "classes")
    }
}
