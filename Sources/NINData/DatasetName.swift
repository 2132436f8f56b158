import Foundation
import NINEngine

/// The datasets nin-study can read: MNIST, Fashion-MNIST and CIFAR-10 (binary version).
///
/// The raw value is the name used on the command line and in study files
/// (`mnist`, `fashion-mnist`, `cifar10`).
public enum DatasetName: String, Codable, CaseIterable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// Class names indexed by label.
    ///
    /// MNIST: the digits "0"…"9". Fashion-MNIST: the names from the Fashion-MNIST README
    /// (Xiao, Rasul, Vollgraf 2017). CIFAR-10: the names in `batches.meta.txt` of the binary
    /// version (the reader prefers the file's own names when present).
    public var classNames: [String] {
        switch self {
        case .mnist:
            return (0..<10).map(String.init)
        case .fashionMNIST:
            return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case .cifar10:
            return ["airplane", "automobile", "bird", "cat", "deer",
                    "dog", "frog", "horse", "ship", "truck"]
        }
    }

    /// Number of classes (10 for all three).
    public var classCount: Int { classNames.count }

    /// Image shape `[H, W, C]` (NHWC without the batch axis), in pixels and channels (the
    /// engine's `FeatureShape.cifar10Image` and `.mnistImage`).
    public var imageShape: [Int] {
        let s: FeatureShape
        switch self {
        case .mnist, .fashionMNIST: s = .mnistImage
        case .cifar10: s = .cifar10Image
        }
        return [s.height, s.width, s.channels]
    }

    /// Number of training and test images in the official release.
    public var officialCounts: (train: Int, test: Int) {
        switch self {
        case .mnist, .fashionMNIST: return (60_000, 10_000)
        case .cifar10: return (50_000, 10_000)
        }
    }

    /// Whether a horizontal flip changes the meaning of an image (digits, asymmetric garments
    /// are treated the same way: the IDX datasets refuse flips unless explicitly overridden).
    var flipChangesMeaning: Bool { self != .cifar10 }

    /// The folder name this dataset is stored under inside a data directory
    /// (`mnist/`, `fashion-mnist/`, `cifar-10-batches-bin/`).
    var folderName: String {
        switch self {
        case .mnist: return "mnist"
        case .fashionMNIST: return "fashion-mnist"
        case .cifar10: return "cifar-10-batches-bin"
        }
    }

    /// The files of the official download, with their official URLs (first = primary location,
    /// then mirrors) and known checksums.
    var officialFiles: [OfficialFile] {
        switch self {
        case .mnist:
            // MD5s of the official .gz files: the values torchvision's MNIST loader verifies.
            // MD5s of the decompressed IDX files: train-images from /work/shared/data/README.md;
            // the other three computed from that byte-identical copy of the official files.
            let bases = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                         "http://yann.lecun.com/exdb/mnist/"]
            return [
                OfficialFile(name: "train-images-idx3-ubyte.gz", role: .trainImages, baseURLs: bases,
                             md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", contentMD5: "6bbc9ace898e44ae57da46a324031adb"),
                OfficialFile(name: "train-labels-idx1-ubyte.gz", role: .trainLabels, baseURLs: bases,
                             md5: "d53e105ee54ea40749a09fcbcd1e9432", contentMD5: "a25bea736e30d166cdddb491f175f624"),
                OfficialFile(name: "t10k-images-idx3-ubyte.gz", role: .testImages, baseURLs: bases,
                             md5: "9fb629c4189551a2d022fa330f9573f3", contentMD5: "2646ac647ad5339dbf082846283269ea"),
                OfficialFile(name: "t10k-labels-idx1-ubyte.gz", role: .testLabels, baseURLs: bases,
                             md5: "ec29112dd5afa0611ce80d1b7f02629c", contentMD5: "27ae3e4e09519cfbb04c329615203637"),
            ]
        case .fashionMNIST:
            // MD5s of the official .gz files (Fashion-MNIST README / torchvision). The MD5s of the
            // decompressed content are not known to us: recompressed copies (Debian's
            // dataset-fashion-mnist package) are verified structurally only.
            let bases = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            return [
                OfficialFile(name: "train-images-idx3-ubyte.gz", role: .trainImages, baseURLs: bases,
                             md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", contentMD5: nil),
                OfficialFile(name: "train-labels-idx1-ubyte.gz", role: .trainLabels, baseURLs: bases,
                             md5: "25c81989df183df01b3e8a0aad5dffbe", contentMD5: nil),
                OfficialFile(name: "t10k-images-idx3-ubyte.gz", role: .testImages, baseURLs: bases,
                             md5: "bef4ecab320f06d8554ea6380940ec79", contentMD5: nil),
                OfficialFile(name: "t10k-labels-idx1-ubyte.gz", role: .testLabels, baseURLs: bases,
                             md5: "bb300cfdad3c16e7a12a480ee83cd310", contentMD5: nil),
            ]
        case .cifar10:
            // MD5 of the official archive from the CIFAR-10 page (Krizhevsky 2009). Individual
            // batch files have no published checksum: they are verified structurally
            // (10,000 records of 1 + 3,072 bytes, labels 0–9).
            return [OfficialFile(name: "cifar-10-binary.tar.gz", role: .archive,
                                 baseURLs: ["https://www.cs.toronto.edu/~kriz/"],
                                 md5: "c32a1d4ab5d03f1284b67883e8d87530", contentMD5: nil)]
        }
    }
}

/// One file of an official dataset download.
public struct OfficialFile: Codable, Equatable, Sendable {
    /// What the file holds.
    public enum Role: String, Codable, Sendable { case trainImages, trainLabels, testImages, testLabels, archive }

    /// Official file name (e.g. `train-images-idx3-ubyte.gz`).
    public var name: String
    /// What the file holds.
    var role: Role
    /// Base URLs (ending in `/`) to download `name` from, tried in order.
    var baseURLs: [String]
    /// Known MD5 (hex) of the file as officially distributed, if known.
    var md5: String?
    /// Known MD5 (hex) of the decompressed content (for `.gz` files), if known; lets a
    /// recompressed or uncompressed copy be recognised as the official content.
    var contentMD5: String?

    /// The name without a trailing `.gz` (the raw IDX file name).
    var rawName: String { name.hasSuffix(".gz") ? String(name.dropLast(3)) : name }

    /// The raw name in the dotted variant some mirrors use (`train-images.idx3-ubyte`).
    var dottedRawName: String { rawName.replacingOccurrences(of: "-idx", with: ".idx") }

    /// The names this file is accepted under, most preferred first: the official `.gz`, the raw
    /// IDX name, and the dotted variant (raw and `.gz`).
    var acceptedNames: [String] {
        guard name.hasSuffix(".gz"), role != .archive else { return [name] }
        return [name, rawName, dottedRawName, dottedRawName + ".gz"]
    }
}
