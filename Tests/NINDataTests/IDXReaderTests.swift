import Foundation
import XCTest
@testable import NINData
import NINEngine

final class IDXReaderTests: XCTestCase {
    func testReadsGzipRawAndDottedLayoutsIdentically() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(root + "/gz", gzip: true)
        try Fixtures.writeIDXFolder(root + "/raw", gzip: false)
        try Fixtures.writeIDXFolder(root + "/dotted", gzip: false, dotted: true)
        let locator = DataLocator(environment: [:], systemDirectory: nil)
        var loaded: [Dataset] = []
        for layout in ["gz", "raw", "dotted"] {
            let location = try locator.locate(.mnist, dataDir: root + "/" + layout)
            XCTAssertEqual(location.layout, .idxFolder)
            XCTAssertEqual(location.origin, .argument)
            loaded.append(try DataLocator.load(location))
        }
        let d = loaded[0]
        XCTAssertEqual(d.train.images.shape, [30, 28, 28, 1])
        XCTAssertEqual(d.test.images.shape, [20, 28, 28, 1])
        XCTAssertEqual(d.train.labels, Fixtures.labels(30).map(Int32.init))
        // Pixel (image 7, row 3, col 5) = pattern value, as Float 0–255.
        XCTAssertEqual(d.train.images.data[7 * 784 + 3 * 28 + 5], Float(Fixtures.pixel(7, 3 * 28 + 5)))
        XCTAssertEqual(d.classNames, DatasetName.mnist.classNames)
        for other in loaded.dropFirst() {
            XCTAssertEqual(other.train, d.train)
            XCTAssertEqual(other.test, d.test)
        }
        // Identity: one digest per file read, combined over sorted "name sha256" lines.
        XCTAssertEqual(d.identity.files.count, 4)
        XCTAssertEqual(d.identity.files.map(\.name), d.identity.files.map(\.name).sorted())
        let lines = d.identity.files.map { "\($0.name) \($0.sha256)\n" }.joined()
        XCTAssertEqual(d.identity.combined, Digests.sha256(Data(lines.utf8)))
        XCTAssertNotEqual(d.identity.combined, loaded[1].identity.combined, "different bytes, different identity")
        let gzPath = root + "/gz/train-images-idx3-ubyte.gz"
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: gzPath))
        XCTAssertEqual(d.identity.files.first { $0.name == "train-images-idx3-ubyte.gz" }?.sha256, Digests.sha256(onDisk))
    }

    func testWrongMagicNamesFileExpectedAndFound() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-images-idx3-ubyte"
        try Fixtures.idxImages(n: 2, magic: 2049).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readImages(path: path) }
        XCTAssertMentions(message, "wrong magic", path, "expected 2051", "found 2049")
    }

    func testTruncatedImageFile() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-images-idx3-ubyte.gz"
        let full = Fixtures.idxImages(n: 3)
        try Gzip.compress(full.prefix(full.count - 100)).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readImages(path: path) }
        XCTAssertMentions(message, "truncated", path, "expected \(full.count) bytes", "found \(full.count - 100)")
    }

    func testTruncatedHeader() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/t10k-labels-idx1-ubyte"
        try Data(Fixtures.bigEndian(2049) + [0, 0]).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readLabels(path: path, classCount: 10) }
        XCTAssertMentions(message, "truncated", path, "expected 8 bytes", "found 6")
    }

    func testTrailingBytesAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/t10k-labels-idx1-ubyte"
        try (Fixtures.idxLabels([1, 2, 3]) + Data([9])).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readLabels(path: path, classCount: 10) }
        XCTAssertMentions(message, "trailing bytes", path, "expected 11 bytes", "found 12")
    }

    func testImplausibleDimensionsAreRefusedBeforeAllocating() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-images-idx3-ubyte"
        let huge = UInt32(0x7FFF_FFFF)
        try Data(Fixtures.bigEndian(2051) + Fixtures.bigEndian(huge) + Fixtures.bigEndian(huge) + Fixtures.bigEndian(huge))
            .write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readImages(path: path) }
        XCTAssertMentions(message, "bad header", path, "dimensions", "\(huge)×\(huge)×\(huge)")
    }

    func testLabelTenIsOutOfRange() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-labels-idx1-ubyte.gz"
        try Gzip.compress(Fixtures.idxLabels([0, 9, 10, 3])).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readLabels(path: path, classCount: 10) }
        XCTAssertMentions(message, "label out of range", path, "record 2 has label 10", "0..<10")
    }

    func testImageLabelCountMismatch() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(dir, train: 5, test: 4, gzip: false)
        // Replace the training labels with 6 labels for 5 images.
        let labels = dir + "/train-labels-idx1-ubyte"
        try Fixtures.idxLabels(Fixtures.labels(6)).write(to: URL(fileURLWithPath: labels))
        let locator = DataLocator(environment: [:], systemDirectory: nil)
        let message = Fixtures.message { _ = try locator.load(.mnist, dataDir: dir) }
        XCTAssertMentions(message, "count mismatch", labels, "expected 5", "found 6")
    }

    func testBrokenGzipStream() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-images-idx3-ubyte.gz"
        var gz = Gzip.compress(Fixtures.idxImages(n: 4))
        // Corrupt the deflate data after the 10-byte gzip header.
        for i in 12..<40 { gz[i] ^= 0xA5 }
        try gz.write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readImages(path: path) }
        XCTAssertMentions(message, "bad gzip stream", path)
    }

    func testTruncatedGzipStream() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/train-images-idx3-ubyte.gz"
        let gz = Gzip.compress(Fixtures.idxImages(n: 40))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try IDXReader.readImages(path: path) }
        XCTAssertMentions(message, "bad gzip stream", path, "truncated gzip stream")
    }

    func testGzipRoundTripOfConcatenatedMembers() throws {
        let a = Data((0..<5000).map { UInt8($0 % 251) }), b = Data((0..<3000).map { UInt8($0 % 13) })
        let decoded = try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), path: "mem")
        XCTAssertEqual(decoded, a + b)
    }

    func testWrongImageSizeForDataset() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: dir + "/mnist", withIntermediateDirectories: true)
        let files: [(String, Data)] = [
            ("train-images-idx3-ubyte", Fixtures.idxImages(n: 2, rows: 20, cols: 20)),
            ("train-labels-idx1-ubyte", Fixtures.idxLabels([1, 2])),
            ("t10k-images-idx3-ubyte", Fixtures.idxImages(n: 1, rows: 20, cols: 20)),
            ("t10k-labels-idx1-ubyte", Fixtures.idxLabels([3])),
        ]
        for (n, d) in files { try d.write(to: URL(fileURLWithPath: dir + "/mnist/" + n)) }
        let message = Fixtures.message { _ = try DataLocator(environment: [:], systemDirectory: nil).load(.mnist, dataDir: dir) }
        XCTAssertMentions(message, "image size", "expected 28×28", "found 20×20", "train-images-idx3-ubyte")
    }
}
