/// The model zoo's CIFAR-10 NIN solver settings (`train_val.prototxt` and `solver.prototxt`,
/// NIN.md "Solver"), in the study file's Double: the one place they are written. They are the
/// defaults of `SGD`, of `LearningRateMultipliers` and of a study's `training` keys.
public enum ZooSolver {
    /// Momentum m.
    public static let momentum = 0.9
    /// L2 weight decay wd.
    public static let weightDecay = 1e-4
    /// Every layer's multipliers but the last: weights lr ×1 and decay ×1, biases lr ×2, no decay.
    public static let multipliers = (weight: 1.0, bias: 2.0, weightDecay: 1.0, biasDecay: 0.0)
    /// The last layer's (the zoo's cccp6): weights lr ×0.1 and decay ×1, bias lr ×0.1, no decay.
    public static let lastLayerMultipliers = (weight: 0.1, bias: 0.1, weightDecay: 1.0, biasDecay: 0.0)
}

/// Per-parameter learning-rate and weight-decay multipliers (Caffe `lr_mult` / `decay_mult`).
///
/// Defaults are the model zoo's CIFAR-10 NIN (`train_val.prototxt`, NIN.md "Solver"): every
/// layer's weights lr ×1 and decay ×1, biases lr ×2 and no decay; the last layer with
/// parameters (the zoo's cccp6) weights lr ×0.1 with decay ×1, bias lr ×0.1 with no decay.
/// "Last" is the last layer with parameters in forward order: for a GAP head the class-map layer
/// (the last block's last 1×1 convolution, or its k×k convolution at depth 0); for an FC head the
/// final fully connected layer (`head.fc`), not its hidden layers.
public struct LearningRateMultipliers: Codable, Equatable, Sendable {
    /// Learning-rate multiplier of weights.
    public var weight: Float
    /// Learning-rate multiplier of biases.
    public var bias: Float
    /// Weight-decay multiplier of weights.
    public var weightDecay: Float
    /// Weight-decay multiplier of biases.
    public var biasDecay: Float
    /// Learning-rate multiplier of the last layer's weights (zoo cccp6: 0.1).
    public var lastWeight: Float
    /// Learning-rate multiplier of the last layer's bias (zoo cccp6: 0.1).
    public var lastBias: Float
    /// Weight-decay multiplier of the last layer's weights (zoo cccp6: 1).
    public var lastWeightDecay: Float
    /// Weight-decay multiplier of the last layer's bias (zoo cccp6: 0).
    public var lastBiasDecay: Float

    /// Every multiplier given; the zoo's by default.
    public init(weight: Float = Float(ZooSolver.multipliers.weight), bias: Float = Float(ZooSolver.multipliers.bias),
                weightDecay: Float = Float(ZooSolver.multipliers.weightDecay), biasDecay: Float = Float(ZooSolver.multipliers.biasDecay),
                lastWeight: Float = Float(ZooSolver.lastLayerMultipliers.weight), lastBias: Float = Float(ZooSolver.lastLayerMultipliers.bias),
                lastWeightDecay: Float = Float(ZooSolver.lastLayerMultipliers.weightDecay),
                lastBiasDecay: Float = Float(ZooSolver.lastLayerMultipliers.biasDecay)) {
        self.weight = weight
        self.bias = bias
        self.weightDecay = weightDecay
        self.biasDecay = biasDecay
        self.lastWeight = lastWeight
        self.lastBias = lastBias
        self.lastWeightDecay = lastWeightDecay
        self.lastBiasDecay = lastBiasDecay
    }

    /// The last layer's four multipliers are the other layers' times `factor` (a study's
    /// `training.multipliers.lastLayer`; with the defaults and 0.1: lr 0.1 / 0.2 and decay 0.1 / 0
    /// on the last layer, which is not the zoo's recipe).
    public init(weight: Float = Float(ZooSolver.multipliers.weight), bias: Float = Float(ZooSolver.multipliers.bias),
                weightDecay: Float = Float(ZooSolver.multipliers.weightDecay), biasDecay: Float = Float(ZooSolver.multipliers.biasDecay),
                scalingLastLayerBy factor: Float) {
        self.init(weight: weight, bias: bias, weightDecay: weightDecay, biasDecay: biasDecay,
                  lastWeight: weight * factor, lastBias: bias * factor,
                  lastWeightDecay: weightDecay * factor, lastBiasDecay: biasDecay * factor)
    }

    /// All multipliers 1 (bias decay too): plain SGD on every parameter.
    public static let uniform = LearningRateMultipliers(weight: 1, bias: 1, weightDecay: 1, biasDecay: 1,
                                                        lastWeight: 1, lastBias: 1, lastWeightDecay: 1, lastBiasDecay: 1)
}

/// A contiguous run of parameters sharing multipliers (one layer's weights or bias).
public struct ParameterGroup: Codable, Equatable, Sendable {
    /// e.g. "block1.conv.weight".
    public var name: String
    /// Offset into the flat parameter storage.
    public var offset: Int
    /// Number of floats.
    public var count: Int
    /// Learning-rate multiplier.
    public var learningRateMultiplier: Float
    /// Weight-decay multiplier.
    public var decayMultiplier: Float
}

/// Stochastic gradient descent with momentum and L2 weight decay, Caffe's update
/// (`sgd_solver.cpp`):
///
///     v ← m·v + lr·lrMult·(g + wd·decayMult·w)
///     w ← w − v
///
/// The velocity holds learning-rate-scaled steps (PyTorch's `SGD` keeps `v ← m·v + g` and steps
/// `lr·v`: the same while lr is constant, different right after lr changes).
///
/// The momentum buffer `velocity` has the layout of the network's flat parameters and is
/// allocated on the first step; `step` counts updates. Codable for checkpoints.
public struct SGD: Codable, Equatable, Sendable {
    /// Momentum m (zoo: 0.9).
    public var momentum: Float
    /// L2 weight decay wd (zoo: 1e-4), added to the gradient.
    public var weightDecay: Float
    /// Momentum buffers, one per parameter (empty before the first step).
    public var velocity: [Float]
    /// Updates done.
    public var step: Int

    /// A fresh optimizer.
    public init(momentum: Float = Float(ZooSolver.momentum), weightDecay: Float = Float(ZooSolver.weightDecay)) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = []
        step = 0
    }

    /// Applies one update to `parameters` given `gradients` (same layout), group by group.
    /// `learningRate` is per mini-batch (the gradient is of the batch-mean loss).
    /// - Precondition: the groups lie inside the buffers; `velocity` is empty or the same size.
    public mutating func update(parameters: UnsafeMutableBufferPointer<Float>,
                                gradients: UnsafeBufferPointer<Float>,
                                groups: [ParameterGroup], learningRate: Float) {
        precondition(parameters.count == gradients.count, "parameter/gradient size mismatch")
        if velocity.isEmpty { velocity = [Float](repeating: 0, count: parameters.count) }
        precondition(velocity.count == parameters.count,
                     "momentum buffer has \(velocity.count) values, parameters \(parameters.count)")
        let m = momentum, wd = weightDecay
        velocity.withUnsafeMutableBufferPointer { v in
            for group in groups {
                let lr = learningRate * group.learningRateMultiplier
                let decay = wd * group.decayMultiplier
                let w = parameters.baseAddress! + group.offset
                let g = gradients.baseAddress! + group.offset
                let vv = v.baseAddress! + group.offset
                for i in 0..<group.count {
                    let upd = m * vv[i] + lr * (g[i] + decay * w[i])
                    vv[i] = upd
                    w[i] -= upd
                }
            }
        }
        step += 1
    }
}
