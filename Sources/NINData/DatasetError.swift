/// Every way reading, locating, verifying, fetching or preprocessing a dataset can fail.
///
/// Each case names the file (or URL) involved, what was expected and what was found, so the
/// command-line layer can print `description` as the whole message. Library code throws these;
/// it never crashes on bad input and never returns a silently partial dataset.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// A required file does not exist.
    case missingFile(path: String, expected: String)
    /// A file ended before the bytes its header (or format) promises.
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    /// A file is longer than its header (or format) promises.
    case trailingBytes(path: String, expectedBytes: Int, foundBytes: Int)
    /// A header's magic number is not the one the format requires.
    case wrongMagic(path: String, expected: String, found: String)
    /// A header field (dimension count, image size, …) has an unexpected value.
    case badHeader(path: String, field: String, expected: String, found: String)
    /// zlib could not decode a gzip stream.
    case badGzip(path: String, reason: String)
    /// Two files that must agree (images and labels) disagree on their count.
    case countMismatch(path: String, expected: Int, found: Int, detail: String)
    /// A file holds the same bytes as another that must differ (a copied CIFAR-10 batch).
    case duplicateFile(path: String, sameAs: String)
    /// A label is outside `0..<classCount`.
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// A tar archive member is malformed, unexpected or would escape its folder.
    case badTarMember(archive: String, member: String, reason: String)
    /// A file's checksum does not match the known one.
    case checksumMismatch(path: String, algorithm: String, expected: String, found: String)
    /// The dataset was not found in any search location.
    case datasetNotFound(dataset: String, searched: [String], hint: String)
    /// A download failed (offline, refused, HTTP error); says which files to place where.
    case downloadFailed(url: String, reason: String, placeFiles: [String], directory: String)
    /// An I/O operation (read, write, rename, create folder) failed.
    case io(path: String, operation: String, reason: String)
    /// An argument is outside its valid range (subset size, split size, batch shape, …).
    case invalidArgument(name: String, expected: String, found: String)
    /// An augmentation was requested that changes the meaning of the data (flipping digits).
    case augmentationRefused(dataset: String, reason: String)
    /// A cached fitted preprocessing transform is unreadable or does not match its key.
    case badCache(path: String, reason: String)
    /// LAPACK reported a failure.
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .missingFile(path, expected):
            return "missing file \(path): expected \(expected)"
        case let .truncated(path, expectedBytes, foundBytes):
            return "truncated file \(path): expected \(expectedBytes) bytes, found \(foundBytes)"
        case let .trailingBytes(path, expectedBytes, foundBytes):
            return "unexpected trailing bytes in \(path): expected \(expectedBytes) bytes, found \(foundBytes)"
        case let .wrongMagic(path, expected, found):
            return "wrong magic number in \(path): expected \(expected), found \(found)"
        case let .badHeader(path, field, expected, found):
            return "bad header in \(path): \(field) expected \(expected), found \(found)"
        case let .badGzip(path, reason):
            return "bad gzip stream in \(path): \(reason)"
        case let .countMismatch(path, expected, found, detail):
            return "count mismatch in \(path): expected \(expected), found \(found) (\(detail))"
        case let .duplicateFile(path, sameAs):
            return "duplicate file \(path): the same bytes as \(sameAs) (a copy, not a batch of its own)"
        case let .labelOutOfRange(path, index, label, classCount):
            return "label out of range in \(path): record \(index) has label \(label), expected 0..<\(classCount)"
        case let .badTarMember(archive, member, reason):
            return "bad tar member '\(member)' in \(archive): \(reason)"
        case let .checksumMismatch(path, algorithm, expected, found):
            return "checksum mismatch for \(path): expected \(algorithm) \(expected), found \(found)"
        case let .datasetNotFound(dataset, searched, hint):
            return "dataset \(dataset) not found; searched: \(searched.joined(separator: ", ")). \(hint)"
        case let .downloadFailed(url, reason, placeFiles, directory):
            return "download of \(url) failed (\(reason)). If this machine is offline, place these files "
                + "in \(directory): \(placeFiles.joined(separator: ", "))"
        case let .io(path, operation, reason):
            return "cannot \(operation) \(path): \(reason)"
        case let .invalidArgument(name, expected, found):
            return "invalid \(name): expected \(expected), found \(found)"
        case let .augmentationRefused(dataset, reason):
            return "augmentation refused for \(dataset): \(reason)"
        case let .badCache(path, reason):
            return "unusable preprocessing cache \(path): \(reason)"
        case let .lapack(routine, info):
            return "LAPACK \(routine) failed with info = \(info)"
        }
    }
}
