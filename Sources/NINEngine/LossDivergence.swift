import Foundation

/// The rule that calls a trial diverged although its loss stayed finite: an epoch whose mean
/// training loss (cross-entropy, nats) exceeds `factor` × ln C, C the number of classes.
///
/// ln C is the loss of a network that spreads its probability evenly over the classes, where a
/// freshly initialised network starts. An epoch mean of k · ln C means the geometric mean of the
/// probabilities the network gave the true classes over that epoch is C^−k: 10⁻¹⁰ for 10 classes
/// at k = 10. The reference runs' first epochs stay below 1 · ln C (CIFAR-10 2.17 nats at most,
/// MNIST 1.60); an exploding run passes 10 · ln C within an epoch or two and keeps climbing (one
/// seed at learning rate 0.3 reached 6.3 × 10³⁵ nats) until its weights overflow. A non-finite
/// mini-batch loss is caught earlier, by `TrialTrainer.run`.
public enum LossDivergence {
    /// k: how many times ln C a whole epoch's mean training loss may reach before the trial is
    /// called diverged (10: see the type's comment for why).
    public static let factor = 10.0

    /// The loss limit for `classes` classes, `factor · ln C` nats.
    public static func limit(classes: Int) -> Double { factor * log(Double(max(classes, 2))) }

    /// The failure message when epoch `epoch`'s mean training loss `trainLoss` (nats) is above
    /// the limit (or not finite), nil otherwise.
    public static func failure(epoch: Int, trainLoss: Double, classes: Int, learningRate: Double) -> String? {
        let limit = limit(classes: classes)
        guard !(trainLoss <= limit) else { return nil }
        return String(format: "training loss %.3g at epoch %d is above %g × ln %d = %.2f (learning rate %g): the run diverged; lower training.learningRate",
                      trainLoss, epoch, factor, classes, limit, learningRate)
    }
}
