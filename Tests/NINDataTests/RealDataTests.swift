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

    func testMNISTCountsDimensionsAndLabelCounts() throws {
        let d = try DataLocator(environment: [:], systemDirectory: nil).load(.mnist, dataDir: try shared())
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
        XCTAssertEqual(d.train.images.shape, [50_000, 32, 32, 3])
        XCTAssertEqual(d.test.images.shape, [10_000, 32, 32, 3])
        XCTAssertEqual(d.train.labelCounts(classCount: 10), Array(repeating: 5000, count: 10))
        XCTAssertEqual(d.test.labelCounts(classCount: 10), Array(repeating: 1000, count: 10))
        XCTAssertEqual(d.classNames, ["airplane", "automobile", "bird", "cat", "deer",
                                      "dog", "frog", "horse", "ship", "truck"])
        XCTAssertEqual(d.identity.files.count, 7)
    }

    func testFashionMNISTFromDebianPackage() throws {
        let system = "/usr/share/datasets"
        guard FileManager.default.fileExists(atPath: system + "/fashion-mnist") else {
            print("SKIPPED testFashionMNISTFromDebianPackage: /usr/share/datasets/fashion-mnist is absent")
            throw XCTSkip("/usr/share/datasets/fashion-mnist is absent (install dataset-fashion-mnist)")
        }
        let d = try DataLocator(environment: [:], systemDirectory: system).load(.fashionMNIST, dataDir: nil)
        XCTAssertEqual(d.train.images.shape, [60_000, 28, 28, 1])
        XCTAssertEqual(d.test.images.shape, [10_000, 28, 28, 1])
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        XCTAssertEqual(d.train.labelCounts(classCount: 10), Array(repeating: 6000, count: 10))
        XCTAssertEqual(d.test.labelCounts(classCount: 10), Array(repeating: 1000, count: 10))
        XCTAssertEqual(d.classNames[0], "T-shirt/top")
    }
}
