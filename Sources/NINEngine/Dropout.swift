/// Dropout with inverted scaling (Srivastava et al. 2014; NIN §4.1 uses rate 0.5 between mlpconv
/// layers): in training each element is kept with probability `1 − rate` and scaled by
/// `1 / (1 − rate)`, so inference is the identity.
///
/// The mask is drawn from the passed `SeededGenerator`, one `nextFloat()` per element in NHWC
/// order of the mini-batch (keep iff `u < 1 − rate`), and cached for backward. A rate of 0 is the
/// identity: it draws nothing from the generator (a p = 0 layer leaves every later draw in place).
/// Input and output `[N, H, W, C]`.
public final class Dropout: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }
    /// Probability of dropping an element, in [0, 1).
    public let rate: Float
    /// Largest mini-batch.
    public let maxBatch: Int
    /// Threads for the elementwise work.
    public let threads: Int
    /// The cached mask of the last training forward: `0` or `1/(1 − rate)` per element.
    let mask: FloatBuffer
    public var formula: LayerFormula { Dropout.formula(input: inputShape) }

    /// Dropout keeps the shape and has no parameters.
    public static func formula(input: FeatureShape) -> LayerFormula { .parameterFree(output: input) }

    /// Creates the layer.
    /// - Precondition: `0 ≤ rate < 1`.
    public init(name: String, shape: FeatureShape, rate: Float, maxBatch: Int, threads: Int) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.name = name
        self.inputShape = shape
        self.rate = rate
        self.maxBatch = maxBatch
        self.threads = max(1, threads)
        mask = FloatBuffer(count: maxBatch * shape.count)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {}

    /// Inference, and a rate of 0 in training, pass the input through unchanged.
    public func isIdentity(in mode: Mode) -> Bool { mode == .inference || rate == 0 }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let count = batch * inputShape.count
        // Inference, and a rate of 0 (the identity) in training, draw nothing from the generator,
        // so a network with p = 0 dropout trains bit-identically to one without the layer.
        guard mode == .training, rate > 0 else {
            if UnsafePointer(output) != input { output.update(from: input, count: count) }
            return
        }
        let keep = 1 - rate, scale = 1 / (1 - rate)
        let m = mask.pointer
        generator.fillUniformFloats(m, count: count)
        Parallel.forEachChunk(count: count, threads: threads, grain: 16384) { _, range in
            for i in range {
                let k: Float = m[i] < keep ? scale : 0
                m[i] = k
                output[i] = input[i] * k
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let inputGradient else { return }
        if rate == 0 {
            if UnsafePointer(inputGradient) != UnsafePointer(outputGradient) {
                inputGradient.update(from: outputGradient, count: batch * inputShape.count)
            }
            return
        }
        let m = mask.pointer
        Parallel.forEachChunk(count: batch * inputShape.count, threads: threads, grain: 16384) { _, range in
            for i in range { inputGradient[i] = outputGradient[i] * m[i] }
        }
    }
}
