import Foundation
import NINEngine

/// One module of the PyTorch `nn.Sequential` a trial's network is exported as, in forward order.
///
/// The indices follow `../shared/bench/torch_nin_bench.py`'s `nin()`: every module takes the next
/// index, ReLU and Dropout included, so the CIFAR-10 and MNIST NIN presets give the same
/// `0.weight`, `0.bias`, `2.weight`, … names as `nin()`. An FC head continues the same sequence:
/// `Flatten`, then `Linear` (+ `ReLU`, + `Dropout`) per hidden layer, then the final `Linear`
/// to the classes; a GAP head ends in `AdaptiveAvgPool2d(1)` and `Flatten`, as `nin()` does.
public enum TorchModule: Equatable, Sendable {
    /// `nn.Conv2d(inChannels, outChannels, kernel, stride, padding)`; weight OIHW, bias O.
    case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, pad: Int)
    /// `nn.ReLU()`.
    case relu
    /// `nn.MaxPool2d(size, stride, pad, ceil_mode=True)` or `nn.AvgPool2d(…, ceil_mode=True)`.
    case pool(PoolKind, size: Int, stride: Int, pad: Int)
    /// `nn.Dropout(rate)`: the identity in inference mode.
    case dropout(Float)
    /// `nn.AdaptiveAvgPool2d(1)`: global average pooling.
    case globalAveragePool
    /// `nn.Flatten()`: NCHW to `[N, C·H·W]` (channel-major).
    case flatten
    /// `nn.Linear(inFeatures, outFeatures)`; weight `[out, in]`, bias `[out]`.
    case linear(inFeatures: Int, outFeatures: Int)

    /// The module as `[class name, positional arguments, keyword arguments]` of its `torch.nn`
    /// constructor, the form the exports' `modules` metadata lists (JSON), so a loader builds the
    /// `nn.Sequential` with `getattr(nn, name)(*args, **kwargs)` and no code from the file is run.
    public var constructor: [Any] {
        switch self {
        case let .conv2d(i, o, k, s, p): return ["Conv2d", [i, o, k], ["stride": s, "padding": p]]
        case .relu: return ["ReLU", [Int](), [String: Any]()]
        case let .pool(kind, k, s, p):
            return kind == .max ? ["MaxPool2d", [k, s, p], ["ceil_mode": true]]
                : ["AvgPool2d", [k, s, p], ["ceil_mode": true, "count_include_pad": p > 0]]
        case .dropout(let r): return ["Dropout", [Double("\(r)") ?? Double(r)], [String: Any]()]
        case .globalAveragePool: return ["AdaptiveAvgPool2d", [1], [String: Any]()]
        case .flatten: return ["Flatten", [Int](), [String: Any]()]
        case let .linear(i, o): return ["Linear", [i, o], [String: Any]()]
        }
    }

    /// The module's constructor as Python source (`nn.Conv2d(3, 192, 5, 1, 2)`).
    public var python: String {
        switch self {
        case let .conv2d(i, o, k, s, p): return "nn.Conv2d(\(i), \(o), \(k), \(s), \(p))"
        case .relu: return "nn.ReLU()"
        case let .pool(kind, k, s, p):
            return kind == .max ? "nn.MaxPool2d(\(k), \(s), \(p), ceil_mode=True)"
                : "nn.AvgPool2d(\(k), \(s), \(p), ceil_mode=True, count_include_pad=\(p > 0 ? "True" : "False"))"
        case .dropout(let r): return "nn.Dropout(\(r))"
        case .globalAveragePool: return "nn.AdaptiveAvgPool2d(1)"
        case .flatten: return "nn.Flatten()"
        case let .linear(i, o): return "nn.Linear(\(i), \(o))"
        }
    }
}

/// A parameter tensor of the exported network in PyTorch's layout, with its engine source.
public struct TorchTensor: Equatable, Sendable {
    /// The state-dict name (`"0.weight"`).
    public var name: String
    /// PyTorch shape: `[O, I, kH, kW]` for a convolution weight, `[out, in]` for a Linear weight,
    /// `[O]` for a bias.
    public var shape: [Int]
    /// The values, row-major in `shape`.
    public var values: [Float]
}

/// A trial's network as the PyTorch `nn.Sequential` of `TorchModule`s and its parameters in
/// PyTorch layout, read from the engine's parameter vector (layers in forward order, weights then
/// bias; convolution weights `[k, k, Cin, Cout]`, 1×1 and Dense weights `[in, out]`, Dense inputs
/// flattened in NHWC order).
public struct TorchSequential: Sendable {
    /// The modules, index = position.
    public var modules: [TorchModule]
    /// Weight and bias of every Conv2d and Linear module, in module order.
    public var tensors: [TorchTensor]
    /// The per-example output shape of each module (NHWC as the engine reports it).
    public var shapes: [FeatureShape]

    /// Walks `description`'s layers and reorders `parameters` into PyTorch's layout.
    /// - Throws: `ModelDescriptionError` for an invalid description, `ExportError.parameterCount`
    ///   when `parameters` does not hold the description's parameter count.
    public init(description: ModelDescription, parameters: [Float]) throws {
        let layers = try description.layerShapes()
        let expected = layers.reduce(0) { $0 + $1.parameters }
        guard parameters.count == expected else {
            throw ExportError.parameterCount(expected: expected, found: parameters.count)
        }
        var modules: [TorchModule] = [], tensors: [TorchTensor] = [], shapes: [FeatureShape] = []
        var input = FeatureShape(height: description.input.height, width: description.input.width,
                                 channels: description.input.channels)
        var offset = 0
        var flattened = false
        func add(_ m: TorchModule, _ shape: FeatureShape) { modules.append(m); shapes.append(shape) }
        for layer in layers {
            let out = layer.output
            let block = Self.blockIndex(layer.name).map { description.blocks[$0] }
            switch layer.kind {
            case .convolution, .conv1x1:
                let (k, s, p) = layer.kind == .conv1x1 ? (1, 1, 0) : (block!.kernel, block!.stride, block!.pad)
                let (cin, cout) = (input.channels, out.channels)
                let name = "\(modules.count)"
                let w = Array(parameters[offset..<(offset + k * k * cin * cout)])
                var oihw = [Float](repeating: 0, count: w.count)
                for y in 0..<k { for x in 0..<k { for i in 0..<cin { for o in 0..<cout {
                    oihw[((o * cin + i) * k + y) * k + x] = w[((y * k + x) * cin + i) * cout + o]
                } } } }
                offset += w.count
                tensors.append(TorchTensor(name: "\(name).weight", shape: [cout, cin, k, k], values: oihw))
                tensors.append(TorchTensor(name: "\(name).bias", shape: [cout], values: Array(parameters[offset..<(offset + cout)])))
                offset += cout
                add(.conv2d(inChannels: cin, outChannels: cout, kernel: k, stride: s, pad: p), out)
            case .maxPool, .avgPool:
                let pool = block!.pool!
                add(.pool(pool.kind, size: pool.size, stride: pool.stride, pad: pool.pad), out)
            case .dropout:
                let rate = block.flatMap { $0.dropout } ?? description.head.hiddenDropout ?? 0
                add(.dropout(rate), out)
            case .globalAveragePool:
                add(.globalAveragePool, out)
                add(.flatten, out)
            case .dense:
                if !flattened {
                    flattened = true
                    add(.flatten, FeatureShape(height: 1, width: 1, channels: input.count))
                }
                let (fin, fout) = (input.count, out.channels)
                let name = "\(modules.count)"
                let w = Array(parameters[offset..<(offset + fin * fout)])
                // Engine rows are NHWC-flattened features (h, w, c); PyTorch's Flatten of NCHW is
                // (c, h, w). Hidden layers see 1×1 maps, where both orders agree.
                let (h, wd, c) = (input.height, input.width, input.channels)
                var oi = [Float](repeating: 0, count: w.count)
                for o in 0..<fout { for ch in 0..<c { for y in 0..<h { for x in 0..<wd {
                    oi[o * fin + (ch * h + y) * wd + x] = w[((y * wd + x) * c + ch) * fout + o]
                } } } }
                offset += w.count
                tensors.append(TorchTensor(name: "\(name).weight", shape: [fout, fin], values: oi))
                tensors.append(TorchTensor(name: "\(name).bias", shape: [fout], values: Array(parameters[offset..<(offset + fout)])))
                offset += fout
                add(.linear(inFeatures: fin, outFeatures: fout), out)
            }
            if layer.relu { add(.relu, out) }
            input = layer.kind == .dense ? FeatureShape(height: 1, width: 1, channels: out.channels) : out
        }
        (self.modules, self.tensors, self.shapes) = (modules, tensors, shapes)
    }

    /// The 0-based block of a layer name `"block3.cccp1"`, nil for head layers.
    static func blockIndex(_ layerName: String) -> Int? {
        guard layerName.hasPrefix("block"), let dot = layerName.firstIndex(of: ".") else { return nil }
        return Int(layerName[layerName.index(layerName.startIndex, offsetBy: 5)..<dot]).map { $0 - 1 }
    }

    /// The modules' constructors (`TorchModule.constructor`) as one JSON array, keys sorted.
    public var modulesJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: modules.map(\.constructor), options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The network as Python source: `nn.Sequential(nn.Conv2d(…), nn.ReLU(), …)`.
    public var python: String { "nn.Sequential(" + modules.map(\.python).joined(separator: ", ") + ")" }
}
