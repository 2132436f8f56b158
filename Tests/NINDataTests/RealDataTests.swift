import Foundation
import XCTest
@testable import NINData

/// Tests on the real files: `../shared/data` (CI always has it) and Debian's Fashion-MNIST.
final class RealDataTests: XCTestCase {
    private func shared() throws -> String {
        guard let path = Fixtures.sharedData else {
            print("SKIPPED real-data test: ../shared/data is absent")
            throw XCTSkip("../shared/data is absent")
        }
        return path
    }

    /// The facts the rest of the code asks `DatasetName` for (image counts, image shape, classes:
    /// the ETA, the study resolver, the report) are those of the real files.
    func assertDeclaredFactsMatch(_ d: Dataset, _ name: DatasetName, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(d.train.images.shape, [name.officialCounts.train] + name.imageShape, "\(name)", file: file, line: line)
        XCTAssertEqual(d.test.images.shape, [name.officialCounts.test] + name.imageShape, "\(name)", file: file, line: line)
        XCTAssertEqual(d.classNames.count, name.classCount, "\(name)", file: file, line: line)
    }

    func testMNISTCountsDimensionsAndLabelCounts() throws {
        let d = try DataLocator(environment: [:], systemDirectory: nil).load(.mnist, dataDir: try shared())
        assertDeclaredFactsMatch(d, .mnist)
        XCTAssertEqual(d.train.images.shape, [60_000, 28, 28, 1])
        XCTAssertEqual(d.test.images.shape, [10_000, 28, 28, 1])
        XCTAssertEqual(d.train.labelCounts(classCount: 10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(d.test.labelCounts(classCount: 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(d.train.images.data.max(), 255)
        XCTAssertEqual(d.train.images.data.min(), 0)
        // The identity hashes the files as stored (SHA256SUMS of the shared folder).
        let sums = try String(contentsOfFile: try shared() + "/SHA256SUMS", encoding: .utf8)
        for file in d.identity.files {
            XCTAssertTrue(sums.contains("\(file.sha256)  mnist/\(file.name)"), "\(file.name) not in SHA256SUMS")
        }
    }

    func testCIFAR10PerClassCountsAndClassNames() throws {
        let d = try DataLocator(environment: [:], systemDirectory: nil).load(.cifar10, dataDir: try shared())
        assertDeclaredFactsMatch(d, .cifar10)
        XCTAssertEqual(d.train.images.shape, [50_000, 32, 32, 3])
        XCTAssertEqual(d.test.images.shape, [10_000, 32, 32, 3])
        XCTAssertEqual(d.train.labelCounts(classCount: 10), Array(repeating: 5000, count: 10))
        XCTAssertEqual(d.test.labelCounts(classCount: 10), Array(repeating: 1000, count: 10))
        XCTAssertEqual(d.classNames, ["airplane", "automobile", "bird", "cat", "deer",
                                      "dog", "frog", "horse", "ship", "truck"])
        XCTAssertEqual(d.identity.files.count, 7)
    }

    /// The real CIFAR-10 folder with data_batch_2.bin cut to 5,000 whole records, or replaced by
    /// a copy of data_batch_1.bin: `data verify` (and every load, hence `run`) refuses it.
    func testCIFAR10CutOrDuplicatedBatchIsRefusedByVerify() throws {
        let real = try shared() + "/cifar-10-batches-bin"
        let fm = FileManager.default
        for damage in ["cut", "copy"] {
            let root = try Fixtures.temporaryDirectory(self) + "/\(damage)"
            let dir = root + "/cifar-10-batches-bin"
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: real) where name != "data_batch_2.bin" {
                try fm.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: real + "/" + name)
            }
            if damage == "cut" {
                let batch = try Data(contentsOf: URL(fileURLWithPath: real + "/data_batch_2.bin"))
                try batch.prefix(5000 * 3073).write(to: URL(fileURLWithPath: dir + "/data_batch_2.bin"))
            } else {
                try fm.copyItem(atPath: real + "/data_batch_1.bin", toPath: dir + "/data_batch_2.bin")
            }
            let report = try XCTUnwrap(DataLocator(environment: [:], systemDirectory: nil).verify([.cifar10], dataDir: root).first)
            XCTAssertFalse(report.isOK)
            XCTAssertMentions(report.problems.joined(separator: "\n"), dir + "/data_batch_2.bin",
                              damage == "cut" ? "expected 10000, found 5000" : "same bytes as \(dir)/data_batch_1.bin")
        }
    }

    func testFashionMNISTFromDebianPackage() throws {
        let system = "/usr/share/datasets"
        guard FileManager.default.fileExists(atPath: system + "/fashion-mnist") else {
            print("SKIPPED testFashionMNISTFromDebianPackage: /usr/share/datasets/fashion-mnist is absent")
            throw XCTSkip("/usr/share/datasets/fashion-mnist is absent (install dataset-fashion-mnist)")
        }
        let d = try DataLocator(environment: [:], systemDirectory: system).load(.fashionMNIST, dataDir: nil)
        assertDeclaredFactsMatch(d, .fashionMNIST)
        XCTAssertEqual(d.train.images.shape, [60_000, 28, 28, 1])
        XCTAssertEqual(d.test.images.shape, [10_000, 28, 28, 1])
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        XCTAssertEqual(d.train.labelCounts(classCount: 10), Array(repeating: 6000, count: 10))
        XCTAssertEqual(d.test.labelCounts(classCount: 10), Array(repeating: 1000, count: 10))
        XCTAssertEqual(d.classNames[0], "T-shirt/top")
    }
}
