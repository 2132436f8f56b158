/// Live progress of a trial's training, called at most once per mini-batch.
public struct BatchProgress: Sendable {
    public var epoch: Int, epochs: Int, batch: Int, batches: Int
    /// Running mean loss and accuracy (percent) of the epoch so far.
    public var loss: Double, accuracy: Double
    public var imagesPerSecond: Double
}
