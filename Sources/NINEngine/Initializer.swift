/// How a layer's weights are initialised (biases are set to a constant, 0 by default).
///
/// Draw order (fixed, documented): layers in forward order; within a layer the weights in
/// storage order (`[k, k, Cin, Cout]` for convolutions, `[Din, Dout]` for Dense), one
/// `nextGaussian()` per weight; biases draw nothing.
public enum Initializer: Codable, Equatable, Sendable {
    /// Gaussian with mean 0 and the given standard deviation (the zoo recipe: 0.05).
    case gaussian(std: Float)
    /// He / Kaiming normal (He et al. 2015): Gaussian with std `√(2 / fanIn)`, `fanIn = k·k·Cin`
    /// (Dense: its input features).
    case he
    /// Every weight the same constant (draws nothing).
    case constant(Float)

    /// Fills `weights` (`count` floats, fan-in `fanIn`) drawing from `generator`.
    public func fill(_ weights: UnsafeMutablePointer<Float>, count: Int, fanIn: Int,
                     generator: inout SeededGenerator) {
        switch self {
        case .gaussian(let std):
            for i in 0..<count { weights[i] = std * generator.nextGaussian() }
        case .he:
            let std = (2 / Float(max(fanIn, 1))).squareRoot()
            for i in 0..<count { weights[i] = std * generator.nextGaussian() }
        case .constant(let v):
            weights.update(repeating: v, count: count)
        }
    }
}
