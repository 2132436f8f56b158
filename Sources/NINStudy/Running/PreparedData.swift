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
    let displayIndices: [Int]
    /// Those test images before preprocessing, `[H, W, C]` each, values in [0, 1] for display.
    let displayImages: [[Float]]

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
    ///   - fetchMissing: download the dataset from its official location (checksums verified) when
    ///     it is found nowhere; offline this fails with a message saying which files to place where.
    /// - Throws: `DatasetError` (missing or corrupt files, bad subsets).
    public init(_ d: ResolvedDataset, dataDir: String?, cacheDirectory: String, mapsPerClass: Int = 2,
                fetchMissing: Bool = false, log: (String) -> Void = { _ in }) throws {
        var splits = try DatasetSplits(d, dataDir: dataDir, fetchMissing: fetchMissing, log: log)
        key = PreparedData.key(for: d)
        name = d.name
        classNames = splits.classNames
        identity = splits.identity

        // Display images: the first `mapsPerClass` test images of each class, before preprocessing.
        displayIndices = MapImages.defaultIndices(labels: splits.test.labels, classes: classNames.count, perClass: mapsPerClass)
        displayImages = displayIndices.map { splits.test.displayImage($0) }

        let t1 = Date()
        let fitted = try splits.fitPreprocessing(d, cacheDirectory: cacheDirectory)
        try fitted.apply(to: &splits.train)
        if splits.validation != nil { try fitted.apply(to: &splits.validation!) }
        try fitted.apply(to: &splits.test)
        if d.preprocessing != .none, d.preprocessing != .scale {
            log("preprocessing \(d.preprocessing.rawValue) \(fitted.loadedFromCache ? "loaded from cache" : "fitted") in \(String(format: "%.1f", Date().timeIntervalSince(t1))) s")
        }
        train = splits.train
        validation = splits.validation
        test = splits.test
    }

    /// The default confidence-map images (`displayIndices`), preprocessed, with their display copies.
    func mapImages() -> MapImages {
        MapImages(indices: displayIndices, isDefaultSelection: true, inputs: test.gather(displayIndices),
                  display: displayImages, labels: displayIndices.map { Int(test.labels[$0]) },
                  shape: FeatureShape(height: test.height, width: test.width, channels: test.channels), classNames: classNames)
    }
}

/// A dataset setting of the study (subset, validation hold-out) that the dataset files found
/// cannot satisfy: the key and the reader's error. `StudyRunner` adds the study file.
struct DatasetKeyError: Error, CustomStringConvertible {
    var key: String
    var error: DatasetError
    var description: String { "\(key): \(error)" }
}

/// A dataset configuration's splits as read, before preprocessing: subset and validation
/// hold-out applied. Only one copy of the images is kept in memory.
struct DatasetSplits {
    var classNames: [String]
    var identity: DatasetIdentity
    var train: LabeledImages
    var validation: LabeledImages?
    var test: LabeledImages

    /// Reads (or, with `fetchMissing`, downloads and reads) the dataset and applies the subsets
    /// and validation hold-out of `d`. - Throws: `DatasetError`.
    init(_ d: ResolvedDataset, dataDir: String?, fetchMissing: Bool, log: (String) -> Void) throws {
        let name = d.name
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
        // A subset the files found cannot give is the study's problem: named by its key.
        func keyed<T>(_ key: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as DatasetError { throw DatasetKeyError(key: key, error: error) }
        }
        if let n = d.trainSubset { train = try keyed("dataset.subset.train") { try train.firstN(n) } }
        if let n = d.trainPerClass {
            train = try keyed("dataset.subset.trainPerClass") { try train.perClass(n, classCount: dataset.classNames.count) }
        }
        if d.validation > 0 {
            let split = try keyed("dataset.validation") { try train.validationSplit(last: d.validation) }
            train = split.train
            validation = split.validation
        }
        if let n = d.testSubset { test = try keyed("dataset.subset.test") { try test.firstN(n) } }
        self.train = train
        self.test = test
    }

    /// The preprocessing of `d` fitted on the training split (GCN + ZCA read from the cache when
    /// fitted before). - Throws: `DatasetError`.
    func fitPreprocessing(_ d: ResolvedDataset, cacheDirectory: String) throws -> FittedPreprocessing {
        try d.preprocessingMethod.fit(on: train, identity: identity, cacheDirectory: cacheDirectory)
    }
}

extension LabeledImages {
    /// Images at `indices`, `[indices.count, H, W, C]` (NHWC), in that order.
    func gather(_ indices: [Int]) -> Tensor {
        let size = imageSize
        var out = Tensor(zeros: [indices.count, height, width, channels])
        for (n, i) in indices.enumerated() {
            out.data.replaceSubrange((n * size)..<((n + 1) * size), with: images.data[(i * size)..<((i + 1) * size)])
        }
        return out
    }

    /// Image `i` as read (0–255) scaled to [0, 1] for display, `[H, W, C]`.
    func displayImage(_ i: Int) -> [Float] {
        images.data[(i * imageSize)..<((i + 1) * imageSize)].map { $0 / 255 }
    }
}

extension ResolvedDataset {
    /// The NINData preprocessing this dataset configuration names, with its parameters.
    public var preprocessingMethod: Preprocessing {
        Preprocessing(kind: preprocessing, gcnScale: gcnScale.map(Float.init), zcaFilterBias: zcaFilterBias.map(Float.init))
    }
}
