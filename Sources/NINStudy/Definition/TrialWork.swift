import NINEngine

/// How much work a trial is: the one estimate behind the study ETA of `run` and the time column
/// of `run --dry-run`.
///
/// Image counts come from the dataset's official release (`DatasetName.officialCounts`) after
/// the trial's subsets and validation hold-out. An evaluated image is counted as a third of a
/// training image (a forward pass against forward + backward, about three forward passes).
public struct TrialWork: Equatable, Sendable {
    /// Training images per epoch (after subsets, without the validation hold-out).
    public var trainImagesPerEpoch: Int
    /// Images evaluated after each epoch (validation and test splits).
    var evaluatedImagesPerEpoch: Int
    /// Epochs planned; fractional for an `iterations` budget.
    public var epochs: Double
    /// Forward multiply-adds per image of the trial's network (0 for an invalid network).
    public var multiplyAddsPerImage: Int

    /// The work of a resolved trial configuration.
    public init(_ config: TrialConfig) {
        let d = config.dataset, t = config.training
        let counts = d.name.officialCounts
        let train = d.trainPerClass.map { $0 * d.classes } ?? d.trainSubset ?? counts.train
        trainImagesPerEpoch = max(train - d.validation, 0)
        evaluatedImagesPerEpoch = (d.testSubset ?? counts.test) + d.validation
        epochs = t.epochs.map(Double.init)
            ?? Double(t.iterations ?? 0) * Double(t.batchSize) / Double(max(trainImagesPerEpoch, 1))
        multiplyAddsPerImage = (try? config.model.engineDescription(dataset: d).multiplyAddsPerImage) ?? 0
    }

    /// The trial's work in training-image equivalents (all epochs).
    var trainingImageEquivalents: Double {
        epochs * (Double(trainImagesPerEpoch) + Double(evaluatedImagesPerEpoch) / 3)
    }

    /// The trial's work in forward multiply-adds (all epochs, training-image equivalents).
    public var multiplyAdds: Double { trainingImageEquivalents * Double(multiplyAddsPerImage) }

    /// Estimated seconds at a training throughput of this trial's network (images per second).
    public func seconds(imagesPerSecond: Double) -> Double { trainingImageEquivalents / max(imagesPerSecond, 1e-9) }

    /// Estimated seconds at a throughput measured in multiply-adds per second (for trials whose
    /// network differs from the one measured).
    public func seconds(multiplyAddsPerSecond: Double) -> Double { multiplyAdds / max(multiplyAddsPerSecond, 1e-9) }
}
