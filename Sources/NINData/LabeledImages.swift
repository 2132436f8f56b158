import Crypto
import Foundation
import NINEngine

/// A set of images with one integer label each.
///
/// `images` is a Float32 tensor of shape `[N, H, W, C]` (NHWC); pixel values are as decoded
/// (0–255) until a `FittedPreprocessing` is applied. `labels[i]` is the class of image `i`.
public struct LabeledImages: Equatable, Sendable {
    /// Images, shape `[N, H, W, C]` (NHWC), Float32.
    public var images: Tensor
    /// One label per image, in `0..<classCount`.
    public var labels: [Int32]

    /// Wraps images and labels.
    /// - Precondition: `images` has rank 4 and `images.shape[0] == labels.count` (programmer error).
    public init(images: Tensor, labels: [Int32]) {
        precondition(images.shape.count == 4, "images must be NHWC [N, H, W, C], got \(images.shape)")
        precondition(images.shape[0] == labels.count, "\(images.shape[0]) images but \(labels.count) labels")
        self.images = images
        self.labels = labels
    }

    /// Number of images N.
    public var count: Int { labels.count }
    /// Image height H in pixels.
    public var height: Int { images.shape[1] }
    /// Image width W in pixels.
    public var width: Int { images.shape[2] }
    /// Channels C (1 for grayscale, 3 for RGB).
    public var channels: Int { images.shape[3] }
    /// Floats per image, H·W·C.
    public var imageSize: Int { height * width * channels }

    /// Images per label, indexed by label (`classCount` entries).
    func labelCounts(classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for l in labels where Int(l) >= 0 && Int(l) < classCount { counts[Int(l)] += 1 }
        return counts
    }

    /// The images at `indices`, in that order (a copy).
    /// - Precondition: every index in `0..<count` (programmer error).
    func selecting(_ indices: [Int]) -> LabeledImages {
        let size = imageSize
        var data = [Float](repeating: 0, count: indices.count * size)
        images.data.withUnsafeBufferPointer { src in
            data.withUnsafeMutableBufferPointer { dst in
                for (row, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
                    (dst.baseAddress! + row * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        return LabeledImages(images: Tensor(shape: [indices.count, height, width, channels], data: data),
                             labels: indices.map { labels[$0] })
    }

    /// Holds out the last `n` images as a validation split (the paper holds out the last
    /// 10,000 CIFAR-10 training images; Goodfellow et al. 2013, maxout setup).
    /// - Returns: `train` = the first `count − n` images, `validation` = the last `n`.
    /// - Throws: `DatasetError.invalidArgument` unless `0 < n < count`.
    public func validationSplit(last n: Int) throws -> (train: LabeledImages, validation: LabeledImages) {
        guard n > 0, n < count else {
            throw DatasetError.invalidArgument(name: "validation size", expected: "1..<\(count)", found: "\(n)")
        }
        return (selecting(Array(0..<(count - n))), selecting(Array((count - n)..<count)))
    }

    /// The first `n` images (a deterministic subset for quick studies).
    /// - Throws: `DatasetError.invalidArgument` unless `0 < n ≤ count`.
    public func firstN(_ n: Int) throws -> LabeledImages {
        guard n > 0, n <= count else {
            throw DatasetError.invalidArgument(name: "subset size", expected: "1...\(count)", found: "\(n)")
        }
        return selecting(Array(0..<n))
    }

    /// A stratified subset: the first `n` images of each class, in their original order.
    /// - Returns: `n · classCount` images, in dataset order (classes interleaved as they occur).
    /// - Throws: `DatasetError.invalidArgument` if `n ≤ 0` or some class has fewer than `n` images.
    public func perClass(_ n: Int, classCount: Int) throws -> LabeledImages {
        guard n > 0 else {
            throw DatasetError.invalidArgument(name: "images per class", expected: "> 0", found: "\(n)")
        }
        var taken = [Int](repeating: 0, count: classCount)
        var indices: [Int] = []
        indices.reserveCapacity(n * classCount)
        for (i, l) in labels.enumerated() where Int(l) < classCount && taken[Int(l)] < n {
            taken[Int(l)] += 1
            indices.append(i)
        }
        if let short = taken.firstIndex(where: { $0 < n }) {
            throw DatasetError.invalidArgument(name: "images per class",
                                               expected: "at most \(taken[short]) (class \(short) has \(taken[short]) images)",
                                               found: "\(n)")
        }
        return selecting(indices)
    }
}

/// The SHA-256 of one file a dataset was read from.
public struct FileDigest: Codable, Equatable, Sendable {
    /// File name (without folder), e.g. `train-images-idx3-ubyte.gz`.
    public var name: String
    /// File size in bytes.
    public var bytes: Int
    /// SHA-256 of the file's bytes, lowercase hex.
    public var sha256: String

    public init(name: String, bytes: Int, sha256: String) {
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// What exactly a dataset was read from: one SHA-256 per file and one combined hash.
///
/// `combined` is the SHA-256 (lowercase hex) of the lines `"<name> <sha256>\n"`, one per file,
/// sorted by name. The identity is of the files read: the same images read from
/// `cifar-10-batches-bin/` and from `cifar-10-binary.tar.gz` have different identities.
public struct DatasetIdentity: Codable, Equatable, Sendable {
    /// Per-file digests, sorted by name.
    public var files: [FileDigest]
    /// SHA-256 over the sorted `"name sha256"` lines.
    public var combined: String

    /// Builds the identity from per-file digests (sorts them and computes `combined`).
    public init(files: [FileDigest]) {
        self.files = files.sorted { $0.name < $1.name }
        let lines = self.files.map { "\($0.name) \($0.sha256)\n" }.joined()
        self.combined = Digests.sha256(Data(lines.utf8))
    }
}

/// A decoded dataset: training and test splits, class names and the identity of its files.
public struct Dataset: Sendable {
    /// Which dataset this is.
    public var name: DatasetName
    /// Class names indexed by label.
    public var classNames: [String]
    /// Training split, `[N, H, W, C]`.
    public var train: LabeledImages
    /// Test split, `[N, H, W, C]`.
    public var test: LabeledImages
    /// SHA-256 of every file read, and the combined identity hash the study runner records.
    public var identity: DatasetIdentity

    public init(name: DatasetName, classNames: [String], train: LabeledImages, test: LabeledImages,
                identity: DatasetIdentity) {
        self.name = name
        self.classNames = classNames
        self.train = train
        self.test = test
        self.identity = identity
    }
}
