import Foundation
import NINEngine

/// Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
///
/// Format (LeCun et al., "THE MNIST DATABASE of handwritten digits", file-format section):
/// a big-endian header — magic `0x00000803` (2051) for images with dimensions N, rows, cols, or
/// `0x00000801` (2049) for labels with dimension N — then N·rows·cols (or N) unsigned bytes.
/// Headers and sizes are checked before any byte is trusted; a file whose first two bytes are
/// the gzip magic 1f 8b is decompressed with zlib first.
enum IDXReader {
    /// Magic number of an IDX3 unsigned-byte image file.
    static let imageMagic: UInt32 = 2051
    /// Magic number of an IDX1 unsigned-byte label file.
    static let labelMagic: UInt32 = 2049

    /// Reads an IDX image file.
    /// - Returns: images `[N, rows, cols, 1]` (NHWC, pixel values 0–255 as Float32) and the
    ///   file's digest.
    /// - Throws: `DatasetError.missingFile`, `.badGzip`, `.truncated`, `.trailingBytes`,
    ///   `.wrongMagic`, `.badHeader`.
    static func readImages(path: String) throws -> (images: Tensor, digest: FileDigest) {
        let file = try FileChunks.readAll(path, expected: "an IDX image file (magic 2051)")
        let digest = FileDigest(name: (path as NSString).lastPathComponent, bytes: file.count,
                                sha256: Digests.sha256(file))
        return (try decodeImages(try content(file, path: path), path: path), digest)
    }

    /// Reads an IDX label file and checks every label is in `0..<classCount`.
    /// - Returns: labels and the file's digest.
    /// - Throws: as `readImages`, plus `DatasetError.labelOutOfRange`.
    static func readLabels(path: String, classCount: Int) throws -> (labels: [Int32], digest: FileDigest) {
        let file = try FileChunks.readAll(path, expected: "an IDX label file (magic 2049)")
        let digest = FileDigest(name: (path as NSString).lastPathComponent, bytes: file.count,
                                sha256: Digests.sha256(file))
        return (try decodeLabels(try content(file, path: path), path: path, classCount: classCount), digest)
    }

    /// Reads a training/test pair of image and label files into a `LabeledImages`.
    /// - Throws: as `readImages`/`readLabels`, plus `DatasetError.countMismatch` when the two
    ///   files disagree on N (names the label file).
    static func readSplit(images imagesPath: String, labels labelsPath: String,
                                 classCount: Int) throws -> (split: LabeledImages, digests: [FileDigest]) {
        let (images, imageDigest) = try readImages(path: imagesPath)
        let (labels, labelDigest) = try readLabels(path: labelsPath, classCount: classCount)
        guard images.shape[0] == labels.count else {
            throw DatasetError.countMismatch(path: labelsPath, expected: images.shape[0], found: labels.count,
                                             detail: "labels vs images in \(imagesPath)")
        }
        return (LabeledImages(images: images, labels: labels), [imageDigest, labelDigest])
    }

    /// A file's IDX bytes: decompressed when it starts with the gzip magic 1f 8b, else as is.
    /// - Throws: `DatasetError.badGzip` naming `path`.
    static func content(_ file: Data, path: String) throws -> Data {
        Gzip.isGzip(file) ? try Gzip.decompress(file, path: path) : file
    }

    /// Decodes an uncompressed IDX3 image buffer.
    /// - Parameter path: named in errors.
    /// - Returns: `[N, rows, cols, 1]` Float32, values 0–255.
    static func decodeImages(_ data: Data, path: String) throws -> Tensor {
        let dims = try header(data, path: path, magic: imageMagic, dimensionCount: 3)
        let (n, rows, cols) = (dims[0], dims[1], dims[2])
        guard rows > 0, cols > 0 else {
            throw DatasetError.badHeader(path: path, field: "image size", expected: "rows > 0 and cols > 0",
                                         found: "\(rows)×\(cols)")
        }
        let headerBytes = 16
        let (perImage, o1) = rows.multipliedReportingOverflow(by: cols)
        let (total, o2) = n.multipliedReportingOverflow(by: perImage)
        guard !o1, !o2, total <= Int(Int32.max) * 64 else {
            throw DatasetError.badHeader(path: path, field: "dimensions", expected: "a plausible N×rows×cols",
                                         found: "\(n)×\(rows)×\(cols)")
        }
        try checkSize(data, expected: headerBytes + total, path: path)
        let pixels = data.withUnsafeBytes { raw in
            let src = raw.bindMemory(to: UInt8.self).baseAddress! + headerBytes
            return [Float](unsafeUninitializedCapacity: total) { dst, initialized in
                for i in 0..<total { dst[i] = Float(src[i]) }
                initialized = total
            }
        }
        return Tensor(shape: [n, rows, cols, 1], data: pixels)
    }

    /// Decodes an uncompressed IDX1 label buffer and checks labels are in `0..<classCount`.
    /// - Parameter path: named in errors.
    static func decodeLabels(_ data: Data, path: String, classCount: Int) throws -> [Int32] {
        let n = try header(data, path: path, magic: labelMagic, dimensionCount: 1)[0]
        let headerBytes = 8
        try checkSize(data, expected: headerBytes + n, path: path)
        var labels = [Int32](repeating: 0, count: n)
        try data.withUnsafeBytes { raw in
            let src = raw.bindMemory(to: UInt8.self).baseAddress! + headerBytes
            for i in 0..<n {
                let label = Int(src[i])
                guard label < classCount else {
                    throw DatasetError.labelOutOfRange(path: path, index: i, label: label, classCount: classCount)
                }
                labels[i] = Int32(label)
            }
        }
        return labels
    }

    /// Checks the magic number (data type 0x08 = unsigned byte, dimension count) and returns
    /// the dimensions.
    static func header(_ data: Data, path: String, magic: UInt32, dimensionCount: Int) throws -> [Int] {
        let headerBytes = 4 + 4 * dimensionCount
        guard data.count >= 4 else {
            throw DatasetError.truncated(path: path, expectedBytes: headerBytes, foundBytes: data.count)
        }
        let found = bigEndianUInt32(data, at: 0)
        guard found == magic else {
            throw DatasetError.wrongMagic(path: path, expected: "\(magic) (0x\(String(magic, radix: 16)))",
                                          found: "\(found) (0x\(String(found, radix: 16)))")
        }
        guard data.count >= headerBytes else {
            throw DatasetError.truncated(path: path, expectedBytes: headerBytes, foundBytes: data.count)
        }
        return (0..<dimensionCount).map { Int(bigEndianUInt32(data, at: 4 + 4 * $0)) }
    }

    static func checkSize(_ data: Data, expected: Int, path: String) throws {
        if data.count < expected {
            throw DatasetError.truncated(path: path, expectedBytes: expected, foundBytes: data.count)
        }
        if data.count > expected {
            throw DatasetError.trailingBytes(path: path, expectedBytes: expected, foundBytes: data.count)
        }
    }

    static func bigEndianUInt32(_ data: Data, at offset: Int) -> UInt32 {
        let b = data.startIndex + offset
        return UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
    }
}
