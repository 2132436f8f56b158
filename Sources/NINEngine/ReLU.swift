/// Rectified linear unit `y = max(x, 0)` as a separate layer (the network fuses ReLU into its
/// convolutions and Dense layers instead; this standalone form serves custom stacks and tests).
/// Input and output `[N, H, W, C]`; backward `dx = dy · [y > 0]`.
public final class ReLU: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }
    /// Threads (parallel over elements).
    public let threads: Int
    public var formula: LayerFormula { .parameterFree(output: inputShape) }

    /// Creates the layer.
    public init(name: String, shape: FeatureShape, threads: Int) {
        self.name = name
        self.inputShape = shape
        self.threads = max(1, threads)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {}

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        Parallel.forEachChunk(count: batch * inputShape.count, threads: threads, grain: 16384) { _, range in
            for i in range { output[i] = Swift.max(input[i], 0) }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let inputGradient else { return }
        Parallel.forEachChunk(count: batch * inputShape.count, threads: threads, grain: 16384) { _, range in
            for i in range { inputGradient[i] = output[i] > 0 ? outputGradient[i] : 0 }
        }
    }
}
