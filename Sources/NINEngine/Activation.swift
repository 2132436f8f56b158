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

/// Dropout with inverted scaling (Srivastava et al. 2014; NIN §4.1 uses rate 0.5 between mlpconv
/// layers): in training each element is kept with probability `1 − rate` and scaled by
/// `1 / (1 − rate)`, so inference is the identity.
///
/// The mask is drawn from the passed `SeededGenerator`, one `nextFloat()` per element in NHWC
/// order of the mini-batch (keep iff `u < 1 − rate`), and cached for backward.
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

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let count = batch * inputShape.count
        guard mode == .training else {
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
        let m = mask.pointer
        Parallel.forEachChunk(count: batch * inputShape.count, threads: threads, grain: 16384) { _, range in
            for i in range { inputGradient[i] = outputGradient[i] * m[i] }
        }
    }
}

/// Softmax cross-entropy over `classes` logits per example, numerically stable (max subtracted
/// before `exp`; loss `log Σ exp(z − max) − (z_y − max)`).
public enum SoftmaxCrossEntropy {
    /// Computes the summed loss over the mini-batch (nats, Float64 accumulation) and optionally
    /// `gradient = (softmax(z) − onehot(y)) · gradientScale` (`[N, classes]`; pass
    /// `1/N` for the gradient of the batch mean), per-example correctness (`argmax z == y`,
    /// first maximum wins) and probabilities `[N, classes]`.
    /// - Precondition: labels in `0..<classes` (validated by the data readers).
    public static func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int,
                                classes: Int, gradientScale: Float = 1,
                                gradient: UnsafeMutablePointer<Float>? = nil,
                                correct: UnsafeMutablePointer<Bool>? = nil,
                                probabilities: UnsafeMutablePointer<Float>? = nil) -> Double {
        var lossSum = 0.0
        for n in 0..<batch {
            let z = logits + n * classes
            let y = Int(labels[n])
            precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
            var mx = z[0], arg = 0
            for k in 1..<max(classes, 1) where z[k] > mx { mx = z[k]; arg = k }
            var sum = 0.0
            for k in 0..<classes { sum += exp(Double(z[k] - mx)) }
            let logSum = log(sum)
            lossSum += logSum - Double(z[y] - mx)
            correct?[n] = arg == y
            if gradient != nil || probabilities != nil {
                for k in 0..<classes {
                    let p = exp(Double(z[k] - mx) - logSum)
                    probabilities?[n * classes + k] = Float(p)
                    if let gradient {
                        gradient[n * classes + k] = Float(p - (k == y ? 1 : 0)) * gradientScale
                    }
                }
            }
        }
        return lossSum
    }

    /// Softmax probabilities `[N, classes]` of logits `[N, classes]` (stable).
    public static func softmax(logits: UnsafePointer<Float>, batch: Int, classes: Int,
                               into probabilities: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            let z = logits + n * classes
            var mx = z[0]
            for k in 1..<max(classes, 1) where z[k] > mx { mx = z[k] }
            var sum = 0.0
            for k in 0..<classes { sum += exp(Double(z[k] - mx)) }
            for k in 0..<classes { probabilities[n * classes + k] = Float(exp(Double(z[k] - mx)) / sum) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
