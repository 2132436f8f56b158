import Foundation
import NINEngine
import NINData

/// The test images a confidence-map sheet shows: preprocessed for the network, and as read for
/// display.
public struct MapImages {
    /// Their indices in the trial's test split.
    public var indices: [Int]
    /// Whether this is the default selection (the first two test images of each class), whose
    /// sheets carry no suffix naming the images.
    var isDefaultSelection: Bool
    /// The images preprocessed as in training, `[N, H, W, C]` (NHWC), N = `indices.count`.
    public var inputs: Tensor
    /// The same images as read, `[H, W, C]` each, values in [0, 1].
    public var display: [[Float]]
    /// Their labels, class indices.
    public var labels: [Int]
    /// Per-image shape (NHWC).
    public var shape: FeatureShape
    /// Class names, indexed by label.
    public var classNames: [String]

    /// The default selection: the first `perClass` test images of each class, in class order.
    static func defaultIndices(labels: [Int32], classes: Int, perClass: Int) -> [Int] {
        (0..<classes).flatMap { c in labels.enumerated().filter { $0.element == Int32(c) }.prefix(perClass).map(\.offset) }
    }

    /// Reads a trial's dataset and prepares only the test images at `indices` (default: the
    /// default selection): the preprocessing is fitted on the training split (GCN + ZCA read
    /// from the cache the run wrote) and applied to those images alone.
    /// - Parameter expectedIdentity: called with the identity of the files read, before any
    ///   preprocessing; throw from it to refuse other files than the trial's.
    /// - Throws: `MapsError.imageIndexOutOfRange`, `DatasetError`, and what `expectedIdentity` throws.
    static func load(_ d: ResolvedDataset, dataDir: String?, cacheDirectory: String, indices: [Int]?,
                     expectedIdentity: (DatasetIdentity) throws -> Void) throws -> MapImages {
        let splits = try DatasetSplits(d, dataDir: dataDir, fetchMissing: false, log: { _ in })
        try expectedIdentity(splits.identity)
        let test = splits.test
        let defaults = defaultIndices(labels: test.labels, classes: splits.classNames.count, perClass: 2)
        let chosen = indices ?? defaults
        if let bad = chosen.first(where: { $0 >= test.count }) {
            throw MapsError.imageIndexOutOfRange(index: bad, count: test.count)
        }
        var inputs = test.gather(chosen)
        try splits.fitPreprocessing(d, cacheDirectory: cacheDirectory).apply(to: &inputs)
        return MapImages(indices: chosen, isDefaultSelection: chosen == defaults, inputs: inputs,
                         display: chosen.map { test.displayImage($0) }, labels: chosen.map { Int(test.labels[$0]) },
                         shape: FeatureShape(height: test.height, width: test.width, channels: test.channels),
                         classNames: splits.classNames)
    }
}
