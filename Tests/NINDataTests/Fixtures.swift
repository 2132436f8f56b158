import Foundation
import XCTest
@testable import NINData
import NINEngine

/// Small generated dataset files (made at test time, never committed) and shared helpers.
enum Fixtures {
    /// A fresh temporary folder, removed at the end of the test.
    static func temporaryDirectory(_ test: XCTestCase) throws -> String {
        let path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("nin-data-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The repository's shared real data (`<package root>/../shared/data`), or nil when absent.
    static var sharedData: String? {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }

    /// Pixel value of image `i` at byte `j` (deterministic pattern).
    static func pixel(_ i: Int, _ j: Int) -> UInt8 { UInt8((i * 31 + j * 7) % 256) }

    /// An IDX3 image file of `n` images of rows×cols.
    static func idxImages(n: Int, rows: Int = 28, cols: Int = 28, magic: UInt32 = 2051) -> Data {
        var bytes = bigEndian(magic) + bigEndian(UInt32(n)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(cols))
        for i in 0..<n { for j in 0..<(rows * cols) { bytes.append(pixel(i, j)) } }
        return Data(bytes)
    }

    /// An IDX1 label file; labels default to i % 10.
    static func idxLabels(_ labels: [UInt8], magic: UInt32 = 2049) -> Data {
        Data(bigEndian(magic) + bigEndian(UInt32(labels.count)) + labels)
    }

    static func labels(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 10) } }

    /// Writes a complete IDX dataset folder (official .gz names unless `raw`/`dotted`).
    static func writeIDXFolder(_ folder: String, train: Int = 30, test: Int = 20, gzip: Bool = true,
                               dotted: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files: [(String, Data)] = [
            ("train-images-idx3-ubyte", idxImages(n: train)),
            ("train-labels-idx1-ubyte", idxLabels(labels(train))),
            ("t10k-images-idx3-ubyte", idxImages(n: test)),
            ("t10k-labels-idx1-ubyte", idxLabels(labels(test))),
        ]
        for (name, data) in files {
            var fileName = dotted ? name.replacingOccurrences(of: "-idx", with: ".idx") : name
            if gzip { fileName += ".gz" }
            try (gzip ? Gzip.compress(data) : data).write(to: URL(fileURLWithPath: folder + "/" + fileName))
        }
    }

    /// A CIFAR-10 batch: `n` records, label of record r = (r + offset) % 10, pixel plane values
    /// derived from (batch, record, channel, position).
    static func cifarBatch(n: Int, batch: Int) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n * 3073)
        for r in 0..<n {
            bytes.append(UInt8((r + batch) % 10))
            for c in 0..<3 { for p in 0..<1024 { bytes.append(UInt8((batch * 13 + r * 5 + c * 101 + p) % 256)) } }
        }
        return Data(bytes)
    }

    static let cifarMeta = Data("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n".utf8)

    /// The files of a small CIFAR-10 binary folder: five training batches and a test batch of
    /// `perBatch` records each, plus batches.meta.txt.
    static func cifarFiles(perBatch: Int = 4) -> [(name: String, data: Data)] {
        (1...5).map { ("data_batch_\($0).bin", cifarBatch(n: perBatch, batch: $0)) }
            + [("test_batch.bin", cifarBatch(n: perBatch, batch: 0)), ("batches.meta.txt", cifarMeta)]
    }

    static func writeCIFARFolder(_ folder: String, files: [(name: String, data: Data)] = cifarFiles()) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: URL(fileURLWithPath: folder + "/" + name)) }
    }

    /// A cifar-10-binary.tar.gz with members under `cifar-10-batches-bin/`.
    static func cifarArchive(files: [(name: String, data: Data)] = cifarFiles(), prefix: String = "cifar-10-batches-bin/") -> Data {
        Gzip.compress(TarWriter.archive(files.map { (prefix + $0.name, $0.data) }))
    }

    /// The `description` of the error `body` throws (fails the test if it does not throw a DatasetError).
    static func message(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> String {
        do {
            try body()
            XCTFail("expected a DatasetError", file: file, line: line)
            return ""
        } catch let error as DatasetError {
            return error.description
        } catch {
            XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
            return ""
        }
    }
}

/// Asserts `text` contains every fragment.
func XCTAssertMentions(_ text: String, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
    for f in fragments where !text.contains(f) {
        XCTFail("message does not mention '\(f)': \(text)", file: file, line: line)
    }
}
