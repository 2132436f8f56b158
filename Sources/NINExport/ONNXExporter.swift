import Foundation
import NINData
import NINEngine
import SwiftProtobuf

/// A trial's network as an ONNX model in inference mode, preprocessing included.
///
/// Input `images`: `[N, C, H, W]` float32 pixels scaled to [0, 1] (ONNX's NCHW convention; the
/// engine itself is NHWC). Output `logits`: `[N, classes]`, before softmax. Opset 13, IR version 7.
///
/// The graph: preprocessing (below), then per layer `Conv` (+ `Relu`), `MaxPool` / `AveragePool`
/// with `ceil_mode = 1` (the engine's rounding: ⌈(in + 2·pad − size)/stride⌉ + 1, the last window
/// dropped when it would start beyond `in + pad`, as ONNX Runtime and PyTorch also do), then
/// (`ceil_mode = 0` where opset 13's rounding up would keep a window the engine drops, see
/// `ceilMode`), `GlobalAveragePool` + `Flatten` for a GAP head, or `Flatten` + `Gemm` (+ `Relu`) for an FC head.
/// Dropout is the identity in inference and is left out.
///
/// Preprocessing, on pixels ×255 (the engine's 0–255 scale): `none` → ×255; `scale` → nothing;
/// `meanStd` → ×255, `Sub` mean, `Div` std (per channel); `gcnZCA` → ×255, to NHWC, flatten, GCN
/// (`ReduceMean`, `Sub`, `ReduceSumSquare`, `Sqrt`, ÷ scale, a norm below 1e-8 taken as 1,
/// `Div`), `Sub` the ZCA mean, `MatMul` the fitted D×D ZCA matrix (an initializer), back to NCHW.
public struct ONNXExporter {
    /// ONNX opset of every node.
    public static let opset: Int64 = 13
    /// ONNX IR version written (7 goes with opset 13).
    public static let irVersion: Int64 = 7

    let sequential: TorchSequential
    let description: ModelDescription
    let preprocessing: FittedPreprocessing
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []

    /// - Throws: `ExportError.parameterCount`, `.preprocessingShape`, `ModelDescriptionError`.
    public init(description: ModelDescription, parameters: [Float], preprocessing: FittedPreprocessing) throws {
        let shape = [description.input.height, description.input.width, description.input.channels]
        guard preprocessing.imageShape == shape else {
            throw ExportError.preprocessingShape(expected: shape, found: preprocessing.imageShape)
        }
        self.description = description
        self.preprocessing = preprocessing
        self.sequential = try TorchSequential(description: description, parameters: parameters)
    }

    /// The serialized ONNX model. `metadata` goes into the model's metadata properties (sorted by
    /// key); `producerVersion` names the nin-study build.
    /// - Throws: SwiftProtobuf's `BinaryEncodingError` (not expected for a complete model).
    public func serialized(metadata: [String: String], producerVersion: String) throws -> Data {
        var exporter = self
        return try exporter.model(metadata: metadata, producerVersion: producerVersion).serializedData()
    }

    mutating func model(metadata: [String: String], producerVersion: String) throws -> Onnx_ModelProto {
        let input = description.input
        var x = preprocess("images")
        var tensorIndex = 0
        for (i, module) in sequential.modules.enumerated() {
            let out = "\(i)"
            switch module {
            case let .conv2d(_, _, k, s, p):
                let (w, b) = (sequential.tensors[tensorIndex], sequential.tensors[tensorIndex + 1])
                tensorIndex += 2
                addInitializer(w.name, w.shape, w.values)
                addInitializer(b.name, b.shape, b.values)
                node("Conv", [x, w.name, b.name], out, ints: ["kernel_shape": [k, k], "strides": [s, s], "pads": [p, p, p, p]])
            case .relu:
                node("Relu", [x], out)
            case let .pool(kind, k, s, p):
                let input = i == 0 ? FeatureShape(height: description.input.height, width: description.input.width,
                                                  channels: description.input.channels) : sequential.shapes[i - 1]
                var attributes: [String: [Int]] = ["kernel_shape": [k, k], "strides": [s, s], "pads": [p, p, p, p]]
                attributes["ceil_mode"] = [try Self.ceilMode(input: input, output: sequential.shapes[i], size: k, stride: s, pad: p)]
                if kind == .avg { attributes["count_include_pad"] = [p > 0 ? 1 : 0] }
                node(kind == .max ? "MaxPool" : "AveragePool", [x], out, ints: attributes, scalars: ["ceil_mode", "count_include_pad"])
            case .dropout:
                continue
            case .globalAveragePool:
                node("GlobalAveragePool", [x], out)
            case .flatten:
                node("Flatten", [x], out, ints: ["axis": [1]], scalars: ["axis"])
            case .linear:
                let (w, b) = (sequential.tensors[tensorIndex], sequential.tensors[tensorIndex + 1])
                tensorIndex += 2
                addInitializer(w.name, w.shape, w.values)
                addInitializer(b.name, b.shape, b.values)
                node("Gemm", [x, w.name, b.name], out, ints: ["transB": [1]], scalars: ["transB"])
            }
            x = out
        }
        nodes[nodes.count - 1].output = ["logits"]

        var graph = Onnx_GraphProto()
        graph.name = description.name
        graph.node = nodes
        graph.initializer = initializers
        graph.input = [Self.valueInfo("images", dims: [.param("N"), .value(input.channels), .value(input.height), .value(input.width)])]
        graph.output = [Self.valueInfo("logits", dims: [.param("N"), .value(description.classes)])]
        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opset
        model.opsetImport = [opset]
        model.producerName = "nin-study"
        model.producerVersion = producerVersion
        model.docString = "Network In Network trial \(description.name) (nin-study export). Input `images`: float32 "
            + "[N, \(input.channels), \(input.height), \(input.width)] (NCHW), pixels scaled to [0, 1]; the trial's "
            + "preprocessing (\(preprocessing.preprocessing.key)) is part of the graph. Output `logits`: "
            + "[N, \(description.classes)] before softmax. Layers: \(sequential.python)"
        model.graph = graph
        model.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = metadata[key]!
            return entry
        }
        return model
    }

    /// The `ceil_mode` that gives the engine's pooled size. Opset 13's `ceil_mode = 1` rounds up
    /// but, unlike the engine (and PyTorch, and opset 19), keeps a last window that would start
    /// in the right padding or beyond (8 wide, size 3, stride 4: 3 windows, the engine 2). The
    /// engine drops it only where the size in+2·pad−size is not a multiple of the stride (else the
    /// window would start at in + pad ≥ in + size), and there rounding down gives the engine's
    /// size with the same windows, so `ceil_mode = 0` is exported.
    /// - Throws: `ExportError.poolingRule` when neither rounding gives the engine's size on both
    ///   axes (not expected: `poolingOutputSize` is one of the two on each).
    static func ceilMode(input: FeatureShape, output: FeatureShape, size: Int, stride: Int, pad: Int) throws -> Int {
        func onnx(_ n: Int, ceil: Bool) -> Int {
            let span = n + 2 * pad - size
            return (ceil ? (span + stride - 1) / stride : span / stride) + 1
        }
        for mode in [1, 0] where onnx(input.height, ceil: mode == 1) == output.height && onnx(input.width, ceil: mode == 1) == output.width {
            return mode
        }
        throw ExportError.poolingRule(input: [input.height, input.width], output: [output.height, output.width],
                                      size: size, stride: stride, pad: pad)
    }

    // MARK: - Preprocessing

    /// Appends the preprocessing nodes after `input`; returns the name of their output (NCHW, the
    /// engine's preprocessed values).
    mutating func preprocess(_ input: String) -> String {
        let c = description.input.channels, h = description.input.height, w = description.input.width
        switch preprocessing.preprocessing {
        case .scale:
            return input
        case .none:
            addInitializer("pre.255", [], [255])
            node("Mul", [input, "pre.255"], "pre.pixels")
            return "pre.pixels"
        case .meanStd:
            addInitializer("pre.255", [], [255])
            addInitializer("pre.mean", [1, c, 1, 1], preprocessing.channelMean)
            addInitializer("pre.std", [1, c, 1, 1], preprocessing.channelStd)
            node("Mul", [input, "pre.255"], "pre.pixels")
            node("Sub", ["pre.pixels", "pre.mean"], "pre.centred")
            node("Div", ["pre.centred", "pre.std"], "pre.out")
            return "pre.out"
        case let .gcnZCA(scale, _):
            let d = h * w * c
            addInitializer("pre.255", [], [255])
            addInitializer("pre.gcn_scale", [], [scale])
            addInitializer("pre.gcn_min", [], [1e-8])
            addInitializer("pre.one", [], [1])
            addInt64Initializer("pre.flat_shape", [0, Int64(d)])
            addInt64Initializer("pre.nhwc_shape", [0, Int64(h), Int64(w), Int64(c)])
            addInitializer("pre.zca_mean", [1, d], preprocessing.zcaMean)
            addInitializer("pre.zca_matrix", [d, d], preprocessing.zcaMatrix)
            node("Mul", [input, "pre.255"], "pre.pixels")
            node("Transpose", ["pre.pixels"], "pre.nhwc", ints: ["perm": [0, 2, 3, 1]])
            node("Reshape", ["pre.nhwc", "pre.flat_shape"], "pre.flat")
            node("ReduceMean", ["pre.flat"], "pre.image_mean", ints: ["axes": [1], "keepdims": [1]], scalars: ["keepdims"])
            node("Sub", ["pre.flat", "pre.image_mean"], "pre.centred")
            node("ReduceSumSquare", ["pre.centred"], "pre.square_sum", ints: ["axes": [1], "keepdims": [1]], scalars: ["keepdims"])
            node("Sqrt", ["pre.square_sum"], "pre.norm")
            node("Div", ["pre.norm", "pre.gcn_scale"], "pre.normalizer")
            node("Less", ["pre.normalizer", "pre.gcn_min"], "pre.tiny")
            node("Where", ["pre.tiny", "pre.one", "pre.normalizer"], "pre.divisor")
            node("Div", ["pre.centred", "pre.divisor"], "pre.gcn")
            node("Sub", ["pre.gcn", "pre.zca_mean"], "pre.zca_centred")
            node("MatMul", ["pre.zca_centred", "pre.zca_matrix"], "pre.white")
            node("Reshape", ["pre.white", "pre.nhwc_shape"], "pre.white_nhwc")
            node("Transpose", ["pre.white_nhwc"], "pre.out", ints: ["perm": [0, 3, 1, 2]])
            return "pre.out"
        }
    }

    // MARK: - Protobuf helpers

    mutating func node(_ op: String, _ inputs: [String], _ output: String, ints: [String: [Int]] = [:], scalars: Set<String> = []) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "\(op)_\(output)"
        n.input = inputs
        n.output = [output]
        n.attribute = ints.keys.sorted().map { key in
            var a = Onnx_AttributeProto()
            a.name = key
            if scalars.contains(key) {
                a.type = .int
                a.i = Int64(ints[key]![0])
            } else {
                a.type = .ints
                a.ints = ints[key]!.map(Int64.init)
            }
            return a
        }
        nodes.append(n)
    }

    mutating func addInitializer(_ name: String, _ dims: [Int], _ values: [Float]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = littleEndianBytes(of: values)
        initializers.append(t)
    }

    mutating func addInt64Initializer(_ name: String, _ values: [Int64]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values
        initializers.append(t)
    }

    enum Dim { case value(Int), param(String) }

    static func valueInfo(_ name: String, dims: [Dim]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .value(let v): dim.dimValue = Int64(v)
            case .param(let p): dim.dimParam = p
            }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}
