/// What a layer kind states about one layer from its hyper-parameters and per-example input
/// shape, without allocating it. Each layer type defines its own (`Conv2D.formula(…)`,
/// `Pool2D.formula(…)`, …); `ModelDescription.layerShapes()` reports it and the built layer
/// holds the same value, so a formula lives in one place.
public struct LayerFormula: Equatable, Sendable {
    /// Per-example output shape (NHWC).
    public var output: FeatureShape
    /// Weight floats (0 for parameter-free layers).
    public var weightCount: Int
    /// Bias floats (0 for parameter-free layers).
    public var biasCount: Int
    /// Forward multiply-adds per example (convolutions and Dense only; 0 otherwise).
    public var multiplyAdds: Int
    /// Inputs feeding one output unit (`k·k·Cin` for a convolution, the input features for a
    /// Dense layer): the fan-in of He initialisation; 0 for parameter-free layers.
    public var fanIn: Int

    /// Weights plus biases.
    public var parameters: Int { weightCount + biasCount }

    /// A parameter-free layer with the given output shape.
    public static func parameterFree(output: FeatureShape) -> LayerFormula {
        LayerFormula(output: output, weightCount: 0, biasCount: 0, multiplyAdds: 0, fanIn: 0)
    }
}

/// One layer of a planned network, by kind, with its hyper-parameters (ReLU is fused and given
/// separately, see `LayerPlan`).
public enum LayerSpec: Equatable, Sendable {
    /// A k×k convolution to `channels` maps (`Conv2D`); a 1×1 one with stride 1 and no padding
    /// is one GEMM without im2col (`Conv1x1`, the micro-network's "cccp" layers).
    case convolution(channels: Int, kernel: Int, stride: Int, pad: Int)
    /// Max or average pooling (`Pool2D`).
    case pooling(MlpconvBlock.Pool)
    /// Inverted dropout with drop probability `rate` (`Dropout`).
    case dropout(rate: Float)
    /// Global average pooling of each map to one value (`GlobalAveragePool`).
    case globalAveragePool
    /// A fully connected layer to `features` outputs over the flattened input (`Dense`).
    case dense(features: Int)

    /// Whether this is a 1×1 convolution with stride 1 and no padding (built as `Conv1x1`).
    public var isPointwiseConvolution: Bool {
        if case let .convolution(_, k, s, p) = self { return k == 1 && s == 1 && p == 0 }
        return false
    }

    /// The layer's formulas on a per-example `input` shape, from the type that implements it.
    public func formula(input: FeatureShape) -> LayerFormula {
        switch self {
        case let .convolution(channels, kernel, stride, pad):
            return isPointwiseConvolution ? Conv1x1.formula(input: input, outChannels: channels)
                : Conv2D.formula(input: input, outChannels: channels, kernel: kernel, stride: stride, pad: pad)
        case .pooling(let p): return Pool2D.formula(input: input, size: p.size, stride: p.stride, pad: p.pad)
        case .dropout: return Dropout.formula(input: input)
        case .globalAveragePool: return GlobalAveragePool.formula(input: input)
        case .dense(let features): return Dense.formula(input: input, outFeatures: features)
        }
    }

    /// Builds the layer (caches sized for `maxBatch`); `relu` applies to convolutions and Dense.
    /// - Precondition: the spec is valid on `input` (`ModelDescription.validate` checks this).
    func makeLayer(name: String, input: FeatureShape, relu: Bool, maxBatch: Int, threads: Int) -> Layer {
        switch self {
        case let .convolution(channels, kernel, stride, pad):
            if isPointwiseConvolution {
                return Conv1x1(name: name, input: input, outChannels: channels, relu: relu, maxBatch: maxBatch, threads: threads)
            }
            return Conv2D(name: name, input: input, outChannels: channels, kernel: kernel, stride: stride, pad: pad,
                          relu: relu, maxBatch: maxBatch, threads: threads)
        case .pooling(let p):
            return Pool2D(name: name, kind: p.kind, input: input, size: p.size, stride: p.stride, pad: p.pad,
                          maxBatch: maxBatch, threads: threads)
        case .dropout(let rate):
            return Dropout(name: name, shape: input, rate: rate, maxBatch: maxBatch, threads: threads)
        case .globalAveragePool:
            return GlobalAveragePool(name: name, input: input, threads: threads)
        case .dense(let features):
            return Dense(name: name, input: input, outFeatures: features, relu: relu, maxBatch: maxBatch, threads: threads)
        }
    }
}
