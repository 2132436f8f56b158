import NINStore

/// The metrics of one finished epoch. Accuracies in percent, losses in nats per image.
public struct EpochMetrics: Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// The learning rate used during the epoch (per mini-batch).
    public var learningRate: Double
    /// Wall seconds of the epoch, training and evaluation.
    public var wallSeconds: Double
    /// Training throughput, images per second.
    public var imagesPerSecond: Double
}

extension EpochMetrics {
    /// The store row of these metrics for `trialId` (the `epochs` table).
    public func record(trialId: String) -> EpochRecord {
        EpochRecord(trialId: trialId, epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy,
                    valLoss: valLoss, valAccuracy: valAccuracy, testLoss: testLoss, testAccuracy: testAccuracy,
                    learningRate: learningRate, wallSeconds: wallSeconds, imagesPerSecond: imagesPerSecond)
    }
}
