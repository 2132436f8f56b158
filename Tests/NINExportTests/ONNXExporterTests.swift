import Foundation
import XCTest
@testable import NINData
import NINEngine
@testable import NINExport

/// The ONNX graph as protobuf, decoded again with the same generated types: the structure
/// ONNX Runtime reads (ExportRuntimeTests run the runtime itself on real trials).
final class ONNXExporterTests: XCTestCase {
    /// 9×9×2 input, conv 3×3 p1 → 1×1 → avg 3/2 p1 (ceil: 5×5) → conv 2×2 → 1×1 to 3 classes, GAP.
    let description = ModelDescription(
        name: "t", input: InputShape(height: 9, width: 9, channels: 2), classes: 3,
        blocks: [MlpconvBlock(channels: 4, kernel: 3, pad: 1, microWidths: [5], pool: .init(kind: .avg, size: 3, stride: 2, pad: 1)),
                 MlpconvBlock(channels: 4, kernel: 2, microWidths: [3])],
        head: .gap(finalReLU: false))

    func parameters() throws -> [Float] {
        let count = try description.layerShapes().reduce(0) { $0 + $1.parameters }
        return (0..<count).map { Float($0 % 17) / 8 - 1 }
    }

    func model(_ preprocessing: FittedPreprocessing, metadata: [String: String] = [:]) throws -> Onnx_ModelProto {
        let exporter = try ONNXExporter(description: description, parameters: try parameters(), preprocessing: preprocessing)
        return try Onnx_ModelProto(serializedBytes: try exporter.serialized(metadata: metadata, producerVersion: "0.1.0 (abc)"))
    }

    func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }

    func testGraphStructureInputsOutputsAndMetadata() throws {
        let m = try model(FittedPreprocessing(preprocessing: .scale, imageShape: [9, 9, 2]), metadata: ["trial_id": "f00", "dataset": "mnist"])
        XCTAssertEqual(m.irVersion, 7)
        XCTAssertEqual(m.opsetImport.map { [$0.domain, "\($0.version)"] }, [["", "13"]])
        XCTAssertEqual(m.producerName, "nin-study")
        XCTAssertEqual(m.producerVersion, "0.1.0 (abc)")
        XCTAssertTrue(m.docString.contains("[N, 2, 9, 9] (NCHW), pixels scaled to [0, 1]"), m.docString)
        XCTAssertEqual(m.metadataProps.map { [$0.key, $0.value] }, [["dataset", "mnist"], ["trial_id", "f00"]])
        let g = m.graph
        XCTAssertEqual(g.node.map(\.opType), ["Conv", "Relu", "Conv", "Relu", "AveragePool", "Conv", "Relu", "Conv", "GlobalAveragePool", "Flatten"])
        XCTAssertEqual(g.input.map(\.name), ["images"])
        let dims = g.input[0].type.tensorType.shape.dim
        XCTAssertEqual(dims.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam }, ["N", "2", "9", "9"])
        XCTAssertEqual(g.input[0].type.tensorType.elemType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        XCTAssertEqual(g.output.map(\.name), ["logits"])
        XCTAssertEqual(g.output[0].type.tensorType.shape.dim.map(\.dimValue), [0, 3])
        XCTAssertEqual(g.node.last?.output, ["logits"])
        // Every node input is the graph input, an initializer or an earlier node's output.
        var defined = Set(["images"] + g.initializer.map(\.name))
        for node in g.node {
            for input in node.input { XCTAssertTrue(defined.contains(input), "\(node.name) reads \(input) before it is defined") }
            defined.formUnion(node.output)
        }
    }

    /// Pooling rounds up (ceil_mode), pads as the engine, divides by the window within the padded
    /// map (count_include_pad); the convolution attributes are the block's.
    func testPoolingAndConvolutionAttributes() throws {
        let g = try model(FittedPreprocessing(preprocessing: .scale, imageShape: [9, 9, 2])).graph
        let pool = try XCTUnwrap(g.node.first { $0.opType == "AveragePool" })
        XCTAssertEqual(attribute(pool, "ceil_mode")?.i, 1)
        XCTAssertEqual(attribute(pool, "ceil_mode")?.type, .int)
        XCTAssertEqual(attribute(pool, "count_include_pad")?.i, 1)
        XCTAssertEqual(attribute(pool, "kernel_shape")?.ints, [3, 3])
        XCTAssertEqual(attribute(pool, "strides")?.ints, [2, 2])
        XCTAssertEqual(attribute(pool, "pads")?.ints, [1, 1, 1, 1])
        let conv = g.node[0]
        XCTAssertEqual(conv.input, ["images", "0.weight", "0.bias"])
        XCTAssertEqual(attribute(conv, "kernel_shape")?.ints, [3, 3])
        XCTAssertEqual(attribute(conv, "pads")?.ints, [1, 1, 1, 1])
        XCTAssertEqual(attribute(g.node[5], "kernel_shape")?.ints, [2, 2])
        XCTAssertEqual(attribute(g.node[5], "pads")?.ints, [0, 0, 0, 0])
    }

    /// Opset 13's ceil_mode keeps a last window that starts in the right padding; where the
    /// engine drops it, rounding down gives the engine's size and is exported.
    func testCeilModeFollowsTheEnginesWindowRule() throws {
        func mode(_ n: Int, _ k: Int, _ s: Int, _ p: Int) throws -> Int {
            let out = poolingOutputSize(n, size: k, stride: s, pad: p)
            return try ONNXExporter.ceilMode(input: FeatureShape(height: n, width: n, channels: 1),
                                             output: FeatureShape(height: out, width: out, channels: 1), size: k, stride: s, pad: p)
        }
        XCTAssertEqual(try mode(28, 3, 2, 0), 1, "28 → 14: rounded up (floor: 13)")
        XCTAssertEqual(try mode(14, 3, 2, 0), 1, "14 → 7 (floor: 6)")
        XCTAssertEqual(try mode(28, 3, 2, 1), 1, "28 → 15 with a last window half padding")
        XCTAssertEqual(poolingOutputSize(8, size: 3, stride: 4, pad: 0), 2)
        XCTAssertEqual(try mode(8, 3, 4, 0), 0, "8 → 2: opset 13 would add a third window at 8, beyond the map")
        XCTAssertEqual(try mode(15, 2, 4, 0), 0, "15 → 4, not 5")
        XCTAssertThrowsError(try ONNXExporter.ceilMode(input: FeatureShape(height: 8, width: 8, channels: 1),
                                                       output: FeatureShape(height: 5, width: 5, channels: 1), size: 3, stride: 4, pad: 0)) {
            XCTAssertEqual($0 as? ExportError, .poolingRule(input: [8, 8], output: [5, 5], size: 3, stride: 4, pad: 0))
        }
        // In the graph: a 9×9 input, max 3/4 → 2×2.
        let d = ModelDescription(name: "s", input: InputShape(height: 9, width: 9, channels: 1), classes: 2,
                                 blocks: [MlpconvBlock(channels: 2, kernel: 2, pool: .init(kind: .max, size: 3, stride: 4))], head: .gap())
        let count = try d.layerShapes().reduce(0) { $0 + $1.parameters }
        let exporter = try ONNXExporter(description: d, parameters: [Float](repeating: 0.5, count: count),
                                        preprocessing: FittedPreprocessing(preprocessing: .scale, imageShape: [9, 9, 1]))
        let pool = try XCTUnwrap(try Onnx_ModelProto(serializedBytes: try exporter.serialized(metadata: [:], producerVersion: "v")).graph.node
            .first { $0.opType == "MaxPool" })
        XCTAssertEqual(attribute(pool, "ceil_mode")?.i, 0)
    }

    /// The initializers are the PyTorch-layout tensors, bit for bit, little-endian raw data.
    func testInitializersAreTheTorchTensors() throws {
        let g = try model(FittedPreprocessing(preprocessing: .scale, imageShape: [9, 9, 2])).graph
        let torch = try TorchSequential(description: description, parameters: try parameters())
        XCTAssertEqual(g.initializer.map(\.name), torch.tensors.map(\.name))
        for (t, expected) in zip(g.initializer, torch.tensors) {
            XCTAssertEqual(t.dims, expected.shape.map(Int64.init), t.name)
            XCTAssertEqual(t.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue))
            let values = stride(from: 0, to: t.rawData.count, by: 4).map { i in
                Float(bitPattern: t.rawData[i..<(i + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            }
            XCTAssertEqual(values, expected.values, t.name)
        }
        XCTAssertEqual(g.initializer[0].dims, [4, 2, 3, 3])
    }

    func testMeanStdAndNoneAreMulSubDiv() throws {
        var fitted = FittedPreprocessing(preprocessing: .meanStd, imageShape: [9, 9, 2])
        (fitted.channelMean, fitted.channelStd) = ([100, 120], [50, 60])
        let g = try model(fitted).graph
        XCTAssertEqual(Array(g.node.prefix(4).map(\.opType)), ["Mul", "Sub", "Div", "Conv"])
        let mean = try XCTUnwrap(g.initializer.first { $0.name == "pre.mean" })
        XCTAssertEqual(mean.dims, [1, 2, 1, 1])
        XCTAssertEqual(g.node[3].input[0], "pre.out")
        let none = try model(FittedPreprocessing(preprocessing: .none, imageShape: [9, 9, 2])).graph
        XCTAssertEqual(Array(none.node.prefix(2).map(\.opType)), ["Mul", "Conv"])
    }

    func testGCNZCAIsComputedInTheGraphWithTheMatrixAsInitializer() throws {
        var fitted = FittedPreprocessing(preprocessing: .gcnZCA(scale: 55, filterBias: 0.1), imageShape: [9, 9, 2])
        fitted.zcaMean = (0..<162).map { Float($0) / 162 }
        fitted.zcaMatrix = (0..<(162 * 162)).map { Float($0 % 7) }
        let g = try model(fitted).graph
        XCTAssertEqual(Array(g.node.prefix(15).map(\.opType)),
                       ["Mul", "Transpose", "Reshape", "ReduceMean", "Sub", "ReduceSumSquare", "Sqrt", "Div", "Less", "Where", "Div",
                        "Sub", "MatMul", "Reshape", "Transpose"])
        let matrix = try XCTUnwrap(g.initializer.first { $0.name == "pre.zca_matrix" })
        XCTAssertEqual(matrix.dims, [162, 162])
        XCTAssertEqual(matrix.rawData.count, 162 * 162 * 4)
        XCTAssertEqual(attribute(g.node[1], "perm")?.ints, [0, 2, 3, 1], "NCHW to the engine's HWC order before flattening")
        XCTAssertEqual(attribute(g.node[14], "perm")?.ints, [0, 3, 1, 2])
    }

    func testSerializationIsDeterministicAndRoundTrips() throws {
        let exporter = try ONNXExporter(description: description, parameters: try parameters(),
                                        preprocessing: FittedPreprocessing(preprocessing: .scale, imageShape: [9, 9, 2]))
        let metadata = ["b": "2", "a": "1", "c": "3"]
        let first = try exporter.serialized(metadata: metadata, producerVersion: "v")
        XCTAssertEqual(try exporter.serialized(metadata: metadata, producerVersion: "v"), first)
        XCTAssertEqual(try Onnx_ModelProto(serializedBytes: first).serializedData(), first)
    }

    func testPreprocessingOfAnotherImageShapeIsRefused() throws {
        XCTAssertThrowsError(try ONNXExporter(description: description, parameters: try parameters(),
                                              preprocessing: FittedPreprocessing(preprocessing: .scale, imageShape: [28, 28, 1]))) {
            XCTAssertEqual($0 as? ExportError, .preprocessingShape(expected: [9, 9, 2], found: [28, 28, 1]))
        }
    }
}
