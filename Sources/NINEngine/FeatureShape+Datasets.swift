/// The image shapes of the datasets the paper's networks are defined for: the one place they
/// are written. NINData's `DatasetName.imageShape` and its readers ask here (NINData builds on
/// the engine, not the other way round), and so do the presets `ModelDescription.ninCIFAR10`
/// and `.ninMNIST`.
extension FeatureShape {
    /// CIFAR-10's images: 32×32 pixels, RGB (NHWC `[32, 32, 3]` per image).
    public static let cifar10Image = FeatureShape(height: 32, width: 32, channels: 3)
    /// MNIST's and Fashion-MNIST's images: 28×28 pixels, one grey channel (`[28, 28, 1]`).
    public static let mnistImage = FeatureShape(height: 28, width: 28, channels: 1)
}
