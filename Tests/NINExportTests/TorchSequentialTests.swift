import XCTest
import NINEngine
@testable import NINExport

/// The PyTorch `nn.Sequential` walk: module indices as `torch_nin_bench.py`'s `nin()` numbers
/// them, OIHW convolution weights, Linear weights in PyTorch's NCHW flatten order.
final class TorchSequentialTests: XCTestCase {
    func parameters(_ d: ModelDescription) throws -> [Float] {
        let count = try d.layerShapes().reduce(0) { $0 + $1.parameters }
        return (0..<count).map { Float($0) }
    }

    /// The zoo CIFAR-10 NIN gets nin()'s names: 3 × (Conv, ReLU) per block, then pool and dropout.
    func testZooNetworkHasTheNamesOfTheBenchmarkModule() throws {
        let d = ModelDescription.ninCIFAR10
        let s = try TorchSequential(description: d, parameters: try parameters(d))
        XCTAssertEqual(s.tensors.map(\.name), ["0", "2", "4", "8", "10", "12", "16", "18", "20"].flatMap { ["\($0).weight", "\($0).bias"] })
        XCTAssertEqual(s.modules.count, 24)
        XCTAssertEqual(s.modules[6], .pool(.max, size: 3, stride: 2, pad: 0))
        XCTAssertEqual(s.modules[7], .dropout(0.5))
        XCTAssertEqual(s.modules[14], .pool(.avg, size: 3, stride: 2, pad: 0))
        XCTAssertEqual(Array(s.modules[21...]), [.relu, .globalAveragePool, .flatten])
        XCTAssertEqual(s.tensors[0].shape, [192, 3, 5, 5])
        XCTAssertEqual(s.tensors[2].shape, [160, 192, 1, 1])
        XCTAssertEqual(s.tensors.last?.shape, [10])
        XCTAssertEqual(s.shapes.last, FeatureShape(height: 1, width: 1, channels: 10))
        XCTAssertTrue(s.python.hasPrefix("nn.Sequential(nn.Conv2d(3, 192, 5, 1, 2), nn.ReLU(), nn.Conv2d(192, 160, 1, 1, 0)"), s.python)
        XCTAssertTrue(s.python.contains("nn.MaxPool2d(3, 2, 0, ceil_mode=True), nn.Dropout(0.5)"), s.python)
        XCTAssertEqual(s.tensors.reduce(0) { $0 + $1.values.count }, 966_986)
    }

    /// Engine convolution weights are [kH, kW, Cin, Cout]; PyTorch's are [Cout, Cin, kH, kW].
    func testConvolutionWeightsBecomeOIHW() throws {
        let d = ModelDescription(input: InputShape(height: 3, width: 3, channels: 1), classes: 2,
                                 blocks: [MlpconvBlock(channels: 2, kernel: 2)], head: .gap(finalReLU: false))
        // (y, x, i, o) = (0,0,0,0) 1, (0,0,0,1) 2, (0,1,0,0) 3, (0,1,0,1) 4, (1,0,·) 5 6, (1,1,·) 7 8; bias 9 10.
        let s = try TorchSequential(description: d, parameters: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        XCTAssertEqual(s.tensors[0], TorchTensor(name: "0.weight", shape: [2, 1, 2, 2], values: [1, 3, 5, 7, 2, 4, 6, 8]))
        XCTAssertEqual(s.tensors[1], TorchTensor(name: "0.bias", shape: [2], values: [9, 10]))
        XCTAssertEqual(s.modules, [.conv2d(inChannels: 1, outChannels: 2, kernel: 2, stride: 1, pad: 0), .globalAveragePool, .flatten])
    }

    /// An FC head's first Linear reads NHWC-flattened features in the engine, NCHW-flattened in
    /// PyTorch: its columns are permuted; hidden layers see 1×1 maps and keep their order.
    func testLinearColumnsFollowPyTorchsFlattenOrder() throws {
        let d = ModelDescription(input: InputShape(height: 1, width: 2, channels: 1), classes: 2,
                                 blocks: [MlpconvBlock(channels: 2, kernel: 1)], head: .fc(hidden: [], finalReLU: true))
        // conv 1×1: weight [1,1,1,2] = 1 2, bias 3 4; dense [in 4 = (x, c), out 2]: rows (x0,c0) 10 11,
        // (x0,c1) 12 13, (x1,c0) 14 15, (x1,c1) 16 17; bias 18 19.
        let s = try TorchSequential(description: d, parameters: [1, 2, 3, 4] + (10...19).map(Float.init))
        XCTAssertEqual(s.modules, [.conv2d(inChannels: 1, outChannels: 2, kernel: 1, stride: 1, pad: 0), .relu, .flatten,
                                   .linear(inFeatures: 4, outFeatures: 2)])
        // PyTorch columns (c, x): (c0,x0) ← 10, (c0,x1) ← 14, (c1,x0) ← 12, (c1,x1) ← 16 for output 0.
        XCTAssertEqual(s.tensors[2], TorchTensor(name: "3.weight", shape: [2, 4], values: [10, 14, 12, 16, 11, 15, 13, 17]))
        XCTAssertEqual(s.tensors[3].values, [18, 19])
    }

    func testAParameterVectorOfTheWrongSizeIsRefused() throws {
        XCTAssertThrowsError(try TorchSequential(description: .ninMNIST, parameters: [1, 2, 3])) {
            XCTAssertEqual($0 as? ExportError, .parameterCount(expected: 349_674, found: 3))
        }
    }

    /// The `modules` metadata: `[name, args, kwargs]` per module, valid JSON a loader can map
    /// onto `torch.nn` constructors.
    func testModulesJSONListsTheConstructors() throws {
        let d = ModelDescription(input: InputShape(height: 5, width: 5, channels: 1), classes: 2,
                                 blocks: [MlpconvBlock(channels: 2, kernel: 3, pad: 1, pool: .init(kind: .avg, size: 3, stride: 2, pad: 1), dropout: 0.3),
                                          MlpconvBlock(channels: 2, kernel: 1)], head: .gap())
        let s = try TorchSequential(description: d, parameters: try parameters(d))
        XCTAssertEqual(s.modulesJSON, #"[["Conv2d",[1,2,3],{"padding":1,"stride":1}],["ReLU",[],{}],"#
            + #"["AvgPool2d",[3,2,1],{"ceil_mode":true,"count_include_pad":true}],["Dropout",[0.3],{}],"#
            + #"["Conv2d",[2,2,1],{"padding":0,"stride":1}],["ReLU",[],{}],["AdaptiveAvgPool2d",[1],{}],["Flatten",[],{}]]"#)
    }
}
