import Crypto
import Foundation
import NINEngine

/// Reader for the CIFAR-10 binary version (Krizhevsky 2009, "Learning Multiple Layers of
/// Features from Tiny Images"; layout as described on the CIFAR-10 page).
///
/// Each batch file holds records of 1 label byte followed by 3,072 pixel bytes: the 1,024
/// red values, then green, then blue, each plane row-major 32×32. The reader accepts the
/// unpacked folder `cifar-10-batches-bin/` or the official archive `cifar-10-binary.tar.gz`,
/// which it streams through zlib and a ustar parser in memory (no extraction to disk).
/// Output images are `[N, 32, 32, 3]` NHWC Float32 with values 0–255.
public enum CIFAR10Reader {
    /// Bytes per record: 1 label + 3·32·32 pixels.
    public static let recordBytes = 1 + 3 * 32 * 32
    /// Training batch file names, in the order their records are concatenated.
    public static let trainBatchNames = (1...5).map { "data_batch_\($0).bin" }
    /// Test batch file name.
    public static let testBatchName = "test_batch.bin"
    /// Class-name file (one name per line).
    public static let metaName = "batches.meta.txt"

    /// Reads the unpacked folder `cifar-10-batches-bin/`.
    /// - Throws: `DatasetError.missingFile` (a batch file), `.truncated` (size not a whole
    ///   number of 3,073-byte records), `.labelOutOfRange`, `.badHeader` (meta file without 10
    ///   class names), `.io`.
    public static func readFolder(_ folder: String) throws -> Dataset {
        func load(_ name: String) throws -> (name: String, path: String, data: Data) {
            let path = (folder as NSString).appendingPathComponent(name)
            return (name, path, try FileChunks.readAll(path, expected: "a CIFAR-10 batch of 3,073-byte records"))
        }
        let train = try trainBatchNames.map(load)
        let test = try load(testBatchName)
        let metaPath = (folder as NSString).appendingPathComponent(metaName)
        let meta = FileManager.default.fileExists(atPath: metaPath) ? try load(metaName) : nil
        let files = train + [test] + (meta.map { [$0] } ?? [])
        // SHA-256 of the files on a second thread while this one decodes.
        let hashing = ConcurrentResult<[FileDigest]>()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            hashing.value = files.map { FileDigest(name: $0.name, bytes: $0.data.count, sha256: Digests.sha256($0.data)) }
        }
        let classNames = try meta.map { try parseClassNames($0.data, path: $0.path) } ?? DatasetName.cifar10.classNames
        let decodedTrain = try decode(train.map { ($0.path, $0.data) })
        let decodedTest = try decode([(test.path, test.data)])
        group.wait()
        return Dataset(name: .cifar10, classNames: classNames, train: decodedTrain, test: decodedTest,
                       identity: DatasetIdentity(files: hashing.value ?? []))
    }

    /// Reads the official archive `cifar-10-binary.tar.gz` directly (stream gunzip + ustar).
    ///
    /// Members are matched by file name inside the archive's folder (`cifar-10-batches-bin/`
    /// officially); the archive is refused if any member path would escape its folder.
    /// - Throws: `DatasetError.badGzip`, `.badTarMember`, `.missingFile` (a batch absent from
    ///   the archive, named as `archive:member`), plus the batch errors of `readFolder`.
    public static func readArchive(_ path: String) throws -> Dataset {
        var members: [String: Data] = [:]
        let wanted = Set(trainBatchNames + [testBatchName, metaName])
        let tar = TarStreamReader(archive: path,
                                  wants: { wanted.contains(($0 as NSString).lastPathComponent) },
                                  onMember: { name, data in
                                      let base = (name as NSString).lastPathComponent
                                      if members[base] != nil {
                                          throw DatasetError.badTarMember(archive: path, member: name,
                                                                          reason: "duplicate \(base) in the archive")
                                      }
                                      members[base] = data
                                  })
        let inflater = try GzipInflater(path: path) { try tar.feed($0) }
        var sha = SHA256()
        var bytes = 0
        try FileChunks.read(path) { chunk in
            sha.update(bufferPointer: chunk)
            bytes += chunk.count
            try inflater.feed(chunk)
        }
        try inflater.finish()
        try tar.finish()
        func member(_ name: String) throws -> (path: String, data: Data) {
            guard let data = members[name] else {
                throw DatasetError.missingFile(path: "\(path):cifar-10-batches-bin/\(name)",
                                               expected: "a member \(name) in the archive")
            }
            return ("\(path):\(name)", data)
        }
        let train = try trainBatchNames.map(member)
        let test = [try member(testBatchName)]
        var classNames = DatasetName.cifar10.classNames
        if let meta = members[metaName] { classNames = try parseClassNames(meta, path: "\(path):\(metaName)") }
        let digest = FileDigest(name: (path as NSString).lastPathComponent, bytes: bytes,
                                sha256: Digests.hex(sha.finalize()))
        members.removeAll()
        return Dataset(name: .cifar10, classNames: classNames, train: try decode(train), test: try decode(test),
                       identity: DatasetIdentity(files: [digest]))
    }

    /// Decodes batches of records into one `LabeledImages` (`[N, 32, 32, 3]` NHWC, 0–255).
    /// - Throws: `DatasetError.truncated` / `.invalidArgument` (empty batch) / `.labelOutOfRange`.
    static func decode(_ batches: [(path: String, data: Data)]) throws -> LabeledImages {
        var total = 0
        for (path, data) in batches {
            if data.isEmpty {
                throw DatasetError.truncated(path: path, expectedBytes: recordBytes, foundBytes: 0)
            }
            if data.count % recordBytes != 0 {
                let whole = data.count / recordBytes
                throw DatasetError.truncated(path: path, expectedBytes: (whole + 1) * recordBytes, foundBytes: data.count)
            }
            total += data.count / recordBytes
        }
        let plane = 32 * 32
        // Every element is written below (or the function throws): no zero-fill pass needed.
        var pixels = [Float](unsafeUninitializedCapacity: total * 3 * plane) { _, n in n = total * 3 * plane }
        var labels = [Int32](repeating: 0, count: total)
        var first = 0
        for (path, data) in batches {
            let n = data.count / recordBytes
            try data.withUnsafeBytes { raw in
                let src = raw.bindMemory(to: UInt8.self).baseAddress!
                try pixels.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<n {
                        let record = src + r * recordBytes
                        let label = Int(record[0])
                        guard label < 10 else {
                            throw DatasetError.labelOutOfRange(path: path, index: r, label: label, classCount: 10)
                        }
                        labels[first + r] = Int32(label)
                        let out = dst.baseAddress! + (first + r) * 3 * plane
                        let red = record + 1, green = red + plane, blue = green + plane
                        for p in 0..<plane {
                            out[3 * p] = Float(red[p])
                            out[3 * p + 1] = Float(green[p])
                            out[3 * p + 2] = Float(blue[p])
                        }
                    }
                }
            }
            first += n
        }
        return LabeledImages(images: Tensor(shape: [total, 32, 32, 3], data: pixels), labels: labels)
    }

    /// Parses `batches.meta.txt`: one class name per line, blank lines ignored, exactly 10 names.
    static func parseClassNames(_ data: Data, path: String) throws -> [String] {
        let names = String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count == 10 else {
            throw DatasetError.badHeader(path: path, field: "class names", expected: "10 non-empty lines",
                                         found: "\(names.count)")
        }
        return names
    }
}

/// A value produced on another thread and read after `DispatchGroup.wait()` (the group orders
/// the write before the read).
final class ConcurrentResult<T>: @unchecked Sendable {
    var value: T?
}
