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
