/// The size of one example's feature map in **NHWC** order (height, width, channels); a
/// vector of `D` features is `1 × 1 × D`.
public struct FeatureShape: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Rows of the feature map (pixels).
    public var height: Int
    /// Columns of the feature map (pixels).
    public var width: Int
    /// Feature channels per pixel.
    public var channels: Int

    /// A feature-map shape.
    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Elements per example: `height · width · channels`.
    public var count: Int { height * width * channels }

    public var description: String { "\(height)×\(width)×\(channels)" }
}

/// The input image shape of a model description (NHWC, per example).
public typealias InputShape = FeatureShape

/// Whether a forward pass trains (dropout active, caches kept for backward) or infers.
public enum Mode: Sendable {
    /// Training: dropout draws a mask; backward may follow.
    case training
    /// Inference: dropout is the identity; no backward follows.
    case inference
}

/// One layer of the engine: a forward/backward pair over flat NHWC buffers (llm.c / Caffe style).
///
/// A layer owns its caches (im2col columns, pooling argmax, dropout mask) sized for `maxBatch`
/// when it is created. Its parameters (weights then bias) and their gradients live in flat
/// storage owned by the network (or a `ParameterStore`) and are handed over by `bind`.
/// Buffers: input `[N, inputShape]`, output `[N, outputShape]`, NHWC, with `N ≤ maxBatch`.
public protocol Layer: AnyObject {
    /// Name such as "block1.conv" or "head.fc".
    var name: String { get }
    /// Per-example input shape (NHWC).
    var inputShape: FeatureShape { get }
    /// Per-example output shape (NHWC).
    var outputShape: FeatureShape { get }
    /// The layer kind's formulas for this layer: output shape, parameter counts, multiply-adds,
    /// fan-in (the same value `ModelDescription.layerShapes()` reports).
    var formula: LayerFormula { get }
    /// Points the layer at its weights (`weightCount` floats, then `biasCount` bias floats) and
    /// at the same-layout gradient storage.
    func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>)
    /// Forward pass: reads `input [N, inputShape]`, writes `output [N, outputShape]`.
    /// Only dropout draws from `generator` (in training mode).
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                 mode: Mode, generator: inout SeededGenerator)
    /// Backward pass after a training forward of the same mini-batch: given `outputGradient`
    /// (`[N, outputShape]`, may be overwritten), writes the parameter gradients (overwriting,
    /// not accumulating) and, when `inputGradient` is not nil, `∂loss/∂input [N, inputShape]`.
    func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, batch: Int)
    /// True when the forward pass in `mode` would copy its input unchanged (dropout in inference,
    /// or at rate 0): `Network` then hands the input buffer on instead of running the layer, and
    /// skips the layer's backward, whose gradient would be a copy too.
    func isIdentity(in mode: Mode) -> Bool
}

extension Layer {
    /// Most layers always compute something.
    public func isIdentity(in mode: Mode) -> Bool { false }
    /// Number of weight floats (0 for parameter-free layers).
    public var weightCount: Int { formula.weightCount }
    /// Number of bias floats (0 for parameter-free layers).
    public var biasCount: Int { formula.biasCount }
    /// Weights plus bias floats.
    public var parameterCount: Int { formula.parameters }
    /// Forward multiply-adds per example (convolutions and Dense only; 0 otherwise).
    public var multiplyAddsPerExample: Int { formula.multiplyAdds }
    /// Inputs feeding one output unit (He initialisation); 0 for parameter-free layers.
    public var fanIn: Int { formula.fanIn }
}

/// Flat storage for the parameters and gradients of a list of layers, all in one allocation
/// each (llm.c style): layer by layer in order, weights then bias.
public final class ParameterStore {
    /// All parameters.
    public let parameters: FloatBuffer
    /// All gradients, same layout as `parameters`.
    public let gradients: FloatBuffer
    /// Offset of each layer's first parameter in the flat storage.
    public let offsets: [Int]

    /// Allocates storage for `layers` and binds each layer to its slice.
    public init(layers: [Layer]) {
        var offsets: [Int] = []
        var total = 0
        for layer in layers {
            offsets.append(total)
            total += layer.parameterCount
        }
        self.offsets = offsets
        parameters = FloatBuffer(count: total)
        gradients = FloatBuffer(count: total)
        for (layer, offset) in zip(layers, offsets) {
            layer.bind(parameters: parameters.pointer + offset, gradients: gradients.pointer + offset)
        }
    }
}
