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
    /// The image shape `[32, 32, 3]` (`DatasetName.cifar10.imageShape`).
    static let shape = DatasetName.cifar10.imageShape
    /// Bytes per record: 1 label + 3·32·32 pixels.
    static let recordBytes = 1 + shape.reduce(1, *)
    /// Training batch file names, in the order their records are concatenated.
    static let trainBatchNames = (1...5).map { "data_batch_\($0).bin" }
    /// Test batch file name.
    static let testBatchName = "test_batch.bin"
    /// Class-name file (one name per line).
    static let metaName = "batches.meta.txt"
    /// Records in every official batch file: 10,000 (the official test split's size; the training
    /// split's 50,000 in five batches).
    public static let officialRecordsPerBatch = DatasetName.cifar10.officialCounts.test

    /// Reads the unpacked folder `cifar-10-batches-bin/`.
    /// - Parameter recordsPerBatch: records every batch file must hold (the official 10,000;
    ///   tests pass the size of their small fixtures).
    /// - Throws: `DatasetError.missingFile` (a batch file), `.truncated` / `.trailingBytes` (a
    ///   size that is not `recordsPerBatch` whole 3,073-byte records), `.countMismatch` (whole
    ///   records, but not `recordsPerBatch` of them), `.duplicateFile` (two batches with the same
    ///   bytes), `.labelOutOfRange`, `.badHeader` (meta file without 10 class names), `.io`
    ///   (a directory, FIFO or device in place of a file).
    static func readFolder(_ folder: String, recordsPerBatch: Int = officialRecordsPerBatch) throws -> Dataset {
        func load(_ name: String) throws -> (name: String, path: String, data: Data) {
            let path = (folder as NSString).appendingPathComponent(name)
            return (name, path, try FileChunks.readAll(path, expected: "a CIFAR-10 batch of 3,073-byte records"))
        }
        let metaPath = (folder as NSString).appendingPathComponent(metaName)
        return try decodeFolder(train: try trainBatchNames.map(load), test: try load(testBatchName),
                                meta: FileManager.default.fileExists(atPath: metaPath) ? try load(metaName) : nil,
                                recordsPerBatch: recordsPerBatch)
    }

    /// Decodes the files of a folder, already read (`path` is named in errors).
    /// - Throws: the batch errors of `readFolder`.
    static func decodeFolder(train: [(name: String, path: String, data: Data)], test: (name: String, path: String, data: Data),
                             meta: (name: String, path: String, data: Data)?, recordsPerBatch: Int) throws -> Dataset {
        try checkBatches((train + [test]).map { ($0.path, $0.data) }, recordsPerBatch: recordsPerBatch)
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
    static func readArchive(_ path: String, recordsPerBatch: Int = officialRecordsPerBatch) throws -> Dataset {
        var sha = SHA256()
        var bytes = 0
        var dataset = try decodeArchive(path: path, recordsPerBatch: recordsPerBatch) { feed in
            try FileChunks.read(path) { chunk in
                sha.update(bufferPointer: chunk)
                bytes += chunk.count
                try feed(chunk)
            }
        }
        dataset.identity = DatasetIdentity(files: [FileDigest(name: (path as NSString).lastPathComponent, bytes: bytes,
                                                              sha256: Digests.hex(sha.finalize()))])
        return dataset
    }

    /// Decodes an archive's bytes as `source` hands them to its argument, chunk by chunk
    /// (`path` is named in errors). The returned identity is empty: the caller hashes the file.
    /// - Throws: the errors of `readArchive`.
    static func decodeArchive(path: String, recordsPerBatch: Int,
                              source: (_ feed: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Dataset {
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
        try source { try inflater.feed($0) }
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
        try checkBatches(train + test, recordsPerBatch: recordsPerBatch)
        var classNames = DatasetName.cifar10.classNames
        if let meta = members[metaName] { classNames = try parseClassNames(meta, path: "\(path):\(metaName)") }
        members.removeAll()
        return Dataset(name: .cifar10, classNames: classNames, train: try decode(train), test: try decode(test),
                       identity: DatasetIdentity(files: []))
    }

    /// Checks every batch before any record is decoded: exactly `recordsPerBatch` whole records
    /// each, and no batch a byte-for-byte copy of another (a copied `data_batch_1.bin` under the
    /// name `data_batch_2.bin` would otherwise train on 10,000 images twice).
    /// - Throws: `DatasetError.truncated` (fewer bytes than `recordsPerBatch` records, not whole
    ///   records), `.trailingBytes` (more bytes, not whole records), `.countMismatch` (whole
    ///   records, the wrong number of them), `.duplicateFile`.
    static func checkBatches(_ batches: [(path: String, data: Data)], recordsPerBatch: Int) throws {
        let expectedBytes = recordsPerBatch * recordBytes
        for (path, data) in batches where data.count != expectedBytes {
            if data.count % recordBytes == 0 {
                throw DatasetError.countMismatch(path: path, expected: recordsPerBatch, found: data.count / recordBytes,
                                                 detail: "whole 3,073-byte records; every official CIFAR-10 batch "
                                                     + "holds \(officialRecordsPerBatch)")
            }
            if data.count < expectedBytes {
                throw DatasetError.truncated(path: path, expectedBytes: expectedBytes, foundBytes: data.count)
            }
            throw DatasetError.trailingBytes(path: path, expectedBytes: expectedBytes, foundBytes: data.count)
        }
        for (j, later) in batches.enumerated() {
            if let earlier = batches[..<j].first(where: { $0.data == later.data }) {
                throw DatasetError.duplicateFile(path: later.path, sameAs: earlier.path)
            }
        }
    }

    /// Decodes batches of records into one `LabeledImages` (`[N, 32, 32, 3]` NHWC, 0–255).
    /// - Precondition: every batch is a whole number of records (`checkBatches`).
    /// - Throws: `DatasetError.labelOutOfRange`.
    static func decode(_ batches: [(path: String, data: Data)]) throws -> LabeledImages {
        var total = 0
        for (_, data) in batches {
            precondition(data.count % recordBytes == 0, "batch sizes are checked by checkBatches")
            total += data.count / recordBytes
        }
        let plane = shape[0] * shape[1], classes = DatasetName.cifar10.classCount
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
                        guard label < classes else {
                            throw DatasetError.labelOutOfRange(path: path, index: r, label: label, classCount: classes)
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
        return LabeledImages(images: Tensor(shape: [total] + shape, data: pixels), labels: labels)
    }

    /// Parses `batches.meta.txt`: one class name per line (UTF-8; a leading byte-order mark is
    /// dropped), blank lines ignored, exactly 10 names.
    static func parseClassNames(_ data: Data, path: String) throws -> [String] {
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let names = text
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
