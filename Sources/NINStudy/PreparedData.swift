import Foundation
import NINEngine
import NINData

/// A dataset made ready for the trials of a study: read, subset, split for validation,
/// preprocessed (fitted on the training split only) — one copy in memory, shared by every
/// trial with the same dataset settings.
public final class PreparedData {
    /// The dataset settings this was prepared for (augmentation excluded: it acts per batch).
    public let key: String
    public let name: DatasetName
    public let classNames: [String]
    /// Training images `[N, H, W, C]` (NHWC), preprocessed.
    public var train: LabeledImages
    /// Validation images (the last N training images), preprocessed; nil when none are held out.
    public var validation: LabeledImages?
    /// Test images, preprocessed.
    public var test: LabeledImages
    public let identity: DatasetIdentity
    /// Indices into `test` of the images shown on confidence-map sheets: the first
    /// `perClass` test images of each class, in class order.
    public let displayIndices: [Int]
    /// Those test images before preprocessing, `[H, W, C]` each, values in [0, 1] for display.
    public let displayImages: [[Float]]

    /// The dataset key of a trial: everything that changes the prepared arrays.
    static func key(for d: ResolvedDataset) -> String {
        [d.name.rawValue, d.preprocessing.rawValue, "\(d.gcnScale ?? 0)", "\(d.zcaFilterBias ?? 0)", "\(d.trainSubset ?? -1)",
         "\(d.trainPerClass ?? -1)", "\(d.testSubset ?? -1)", "\(d.validation)"].joined(separator: "|")
    }

    /// Reads and prepares a dataset.
    /// - Parameters:
    ///   - dataDir: the `--data-dir` option (see `DataLocator` for the lookup order).
    ///   - cacheDirectory: where fitted GCN+ZCA transforms are cached.
    ///   - mapsPerClass: test images per class on confidence-map sheets.
    /// - Throws: `DatasetError` (missing or corrupt files, bad subsets).
    ///   - fetchMissing: download the dataset from its official location (checksums verified) when
    ///     it is found nowhere; offline this fails with a message saying which files to place where.
    public init(_ d: ResolvedDataset, dataDir: String?, cacheDirectory: String, mapsPerClass: Int = 2,
                fetchMissing: Bool = false, log: (String) -> Void = { _ in }) throws {
        let name = d.name
        key = PreparedData.key(for: d)
        self.name = name
        let t0 = Date()
        var dataset: Dataset
        do {
            dataset = try DataLocator().load(name, dataDir: dataDir)
        } catch DatasetError.datasetNotFound where fetchMissing {
            log("\(name.rawValue) not found; downloading it from its official location (checksums verified)")
            let report = try withoutActuallyEscaping(log) { try DatasetFetcher().fetch(name, dataDir: dataDir, progress: $0) }
            log("\(name.rawValue) downloaded to \(report.directory)")
            dataset = try DataLocator().load(name, dataDir: dataDir)
        }
        log("read \(name.rawValue): \(dataset.train.count) training and \(dataset.test.count) test images in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
        for mismatch in DataLocator().officialContentMismatches(name, dataDir: dataDir) {
            log("warning: \(name.rawValue) is not the official release: \(mismatch) (results are recorded with these files' SHA-256)")
        }
        classNames = dataset.classNames
        identity = dataset.identity
        // Move the splits out so that preprocessing in place does not copy them (one copy in memory).
        var train = dataset.train
        var test = dataset.test
        let empty = LabeledImages(images: Tensor(zeros: [0, train.height, train.width, train.channels]), labels: [])
        dataset.train = empty
        dataset.test = empty
        if let n = d.trainSubset { train = try train.firstN(n) }
        if let n = d.trainPerClass { train = try train.perClass(n, classCount: dataset.classNames.count) }
        var validation: LabeledImages?
        if d.validation > 0 {
            let split = try train.validationSplit(last: d.validation)
            train = split.train
            validation = split.validation
        }
        if let n = d.testSubset { test = try test.firstN(n) }

        // Display images: the first `mapsPerClass` test images of each class, before preprocessing.
        var indices: [Int] = []
        for c in 0..<classNames.count {
            indices += test.labels.enumerated().filter { $0.element == Int32(c) }.prefix(mapsPerClass).map(\.offset)
        }
        displayIndices = indices
        let size = test.imageSize
        displayImages = indices.map { i in test.images.data[(i * size)..<((i + 1) * size)].map { $0 / 255 } }

        let preprocessing = d.preprocessingMethod
        let t1 = Date()
        let fitted = try preprocessing.fit(on: train, identity: identity, cacheDirectory: cacheDirectory)
        try fitted.apply(to: &train)
        if validation != nil { try fitted.apply(to: &validation!) }
        try fitted.apply(to: &test)
        if preprocessing != .none, preprocessing != .scale {
            log("preprocessing \(d.preprocessing.rawValue) \(fitted.loadedFromCache ? "loaded from cache" : "fitted") in \(String(format: "%.1f", Date().timeIntervalSince(t1))) s")
        }
        self.train = train
        self.validation = validation
        self.test = test
    }
}

extension ResolvedDataset {
    /// The NINData preprocessing this dataset configuration names, with its parameters.
    public var preprocessingMethod: Preprocessing {
        Preprocessing(kind: preprocessing, gcnScale: gcnScale.map(Float.init), zcaFilterBias: zcaFilterBias.map(Float.init))
    }
}
