import Foundation
import XCTest
@testable import NINData

final class DataLocatorTests: XCTestCase {
    func testSearchOrderArgumentThenEnvironmentThenUserCache() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let env = ["NIN_DATA_DIR": root + "/env", "XDG_CACHE_HOME": root + "/xdg", "HOME": root + "/home"]
        let locator = DataLocator(environment: env, systemDirectory: root + "/system")
        XCTAssertEqual(locator.searchRoots(dataDir: root + "/arg").map(\.path),
                       [root + "/arg", root + "/env", root + "/xdg/nin-study/data", root + "/system"])
        XCTAssertEqual(DataLocator(environment: ["HOME": root + "/home"], systemDirectory: nil).userDataDirectory,
                       root + "/home/.cache/nin-study/data")

        try Fixtures.writeIDXFolder(root + "/xdg/nin-study/data/mnist", train: 3, test: 2)
        XCTAssertEqual(try locator.locate(.mnist, dataDir: nil).origin, .userCache)
        try Fixtures.writeIDXFolder(root + "/env", train: 4, test: 2) // the folder itself holds the files
        XCTAssertEqual(try locator.locate(.mnist, dataDir: nil).origin, .environment)
        XCTAssertEqual(try locator.load(.mnist, dataDir: nil).train.count, 4)
        try Fixtures.writeIDXFolder(root + "/arg/mnist", train: 5, test: 2)
        XCTAssertEqual(try locator.locate(.mnist, dataDir: root + "/arg").origin, .argument)
        XCTAssertEqual(try locator.load(.mnist, dataDir: root + "/arg").train.count, 5)

        // Fashion-MNIST from the system folder (Debian's layout).
        try Fixtures.writeIDXFolder(root + "/system/fashion-mnist", train: 6, test: 2)
        let fashion = try locator.locate(.fashionMNIST, dataDir: nil)
        XCTAssertEqual(fashion.origin, .system)
        XCTAssertEqual(fashion.path, root + "/system/fashion-mnist")
        XCTAssertEqual(try locator.load(.fashionMNIST, dataDir: nil).classNames.last, "Ankle boot")
    }

    func testNotFoundSaysWhereItLookedAndWhatToPlaceWhere() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let locator = DataLocator(environment: ["XDG_CACHE_HOME": root + "/xdg"], systemDirectory: nil)
        let message = Fixtures.message { _ = try locator.locate(.cifar10, dataDir: root + "/arg") }
        XCTAssertMentions(message, "dataset cifar10 not found", root + "/arg/cifar-10-batches-bin",
                          root + "/xdg/nin-study/data/cifar-10-binary.tar.gz", "nin-study data fetch cifar10",
                          "place cifar-10-binary.tar.gz in \(root)/arg")
        let mnist = Fixtures.message { _ = try locator.locate(.mnist, dataDir: nil) }
        XCTAssertMentions(mnist, "train-images-idx3-ubyte.gz", "in \(root)/xdg/nin-study/data/mnist")
    }

    func testIncompleteFolderNamesTheMissingFile() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(root + "/mnist")
        try FileManager.default.removeItem(atPath: root + "/mnist/t10k-labels-idx1-ubyte.gz")
        let message = Fixtures.message {
            _ = try DataLocator(environment: [:], systemDirectory: nil).locate(.mnist, dataDir: root)
        }
        XCTAssertMentions(message, "missing file", root + "/mnist/t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte")
    }

    func testListAndVerifyReports() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(root + "/mnist")
        try Fixtures.writeCIFARFolder(root + "/cifar-10-batches-bin")
        let locator = DataLocator(environment: ["XDG_CACHE_HOME": root + "/xdg"], systemDirectory: nil, cifarRecordsPerBatch: 4)
        let list = locator.list(dataDir: root)
        XCTAssertEqual(list.map(\.dataset), DatasetName.allCases)
        XCTAssertTrue(list[0].isOK)
        XCTAssertEqual(list[0].files.first?.bytes,
                       try Data(contentsOf: URL(fileURLWithPath: root + "/mnist/train-images-idx3-ubyte.gz")).count)
        XCTAssertNil(list[1].location, "no Fashion-MNIST here")
        XCTAssertMentions(list[1].problems.joined(), "not found")
        XCTAssertTrue(list[2].isOK)

        let verified = locator.verify([.mnist, .cifar10], dataDir: root)
        // The generated MNIST files are not the official ones: the known content MD5s mismatch.
        XCTAssertEqual(verified[0].files.map(\.status), Array(repeating: .mismatch, count: 4))
        XCTAssertFalse(verified[0].isOK)
        XCTAssertEqual(verified[0].identity, try locator.load(.mnist, dataDir: root).identity.combined)
        // What `run` warns about: files whose known content checksum differs; none for CIFAR here.
        let mismatches = locator.officialContentMismatches(.mnist, dataDir: root)
        XCTAssertEqual(mismatches.count, 4)
        XCTAssertMentions(mismatches.joined(separator: "\n"), "train-images-idx3-ubyte.gz: content MD5 expected ")
        XCTAssertEqual(locator.officialContentMismatches(.cifar10, dataDir: root), [])
        // CIFAR batch files have no published checksum: structural verification only.
        XCTAssertEqual(Set(verified[1].files.map(\.status)), [.unknown])
        XCTAssertTrue(verified[1].isOK, "\(verified[1].problems)")
        let sha = Digests.sha256(try Data(contentsOf: URL(fileURLWithPath: root + "/cifar-10-batches-bin/test_batch.bin")))
        XCTAssertEqual(verified[1].files.first { $0.path.hasSuffix("test_batch.bin") }?.sha256, sha)

        // A structurally broken file shows up as a problem, not a crash.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: root + "/cifar-10-batches-bin/data_batch_5.bin"))
        let broken = locator.verify([.cifar10], dataDir: root)[0]
        XCTAssertFalse(broken.isOK)
        XCTAssertMentions(broken.problems.joined(), "truncated", "data_batch_5.bin")
    }

    func testVerifyRecognisesOfficialContentWhenRecompressed() throws {
        // The shared MNIST copy is recompressed: the .gz MD5s differ but the content matches.
        guard let shared = Fixtures.sharedData else {
            print("SKIPPED testVerifyRecognisesOfficialContentWhenRecompressed: ../shared/data is absent")
            throw XCTSkip("../shared/data is absent")
        }
        let report = try XCTUnwrap(DataLocator(environment: [:], systemDirectory: nil)
            .verify([.mnist], dataDir: shared).first)
        XCTAssertTrue(report.isOK, "\(report.problems)")
        XCTAssertEqual(report.files.map(\.status), Array(repeating: .matchesOfficialContent, count: 4))
        XCTAssertEqual(DataLocator(environment: [:], systemDirectory: nil).officialContentMismatches(.mnist, dataDir: shared), [])
    }

    /// A FIFO, a link to /dev/zero or a directory in place of a dataset file: `verify` and `load`
    /// end promptly with an error naming the file and what it is (never a hang, never
    /// "permission" when running as root, never Foundation's "error 256").
    func testSpecialFilesInPlaceOfDatasetFilesGetClearErrors() throws {
        let cases: [(String, (String) throws -> Void)] = [
            ("a FIFO (named pipe)", { path in XCTAssertEqual(mkfifo(path, 0o644), 0) }),
            ("a character device", { path in try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero") }),
            ("a directory", { path in try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }),
        ]
        for (kind, make) in cases {
            let root = try Fixtures.temporaryDirectory(self)
            try Fixtures.writeIDXFolder(root + "/mnist")
            let victim = root + "/mnist/train-labels-idx1-ubyte.gz"
            try FileManager.default.removeItem(atPath: victim)
            try make(victim)
            let locator = DataLocator(environment: ["XDG_CACHE_HOME": root + "/xdg"], systemDirectory: nil)
            let done = DispatchSemaphore(value: 0)
            let outcome = ConcurrentResult<(String, String)>()
            DispatchQueue.global().async {
                let report = locator.verify([.mnist], dataDir: root)[0]
                let load = Fixtures.message { _ = try locator.load(.mnist, dataDir: root) }
                outcome.value = (report.problems.joined(separator: "\n"), load)
                done.signal()
            }
            guard done.wait(timeout: .now() + 20) == .success, let (verified, loaded) = outcome.value else {
                return XCTFail("verify/load of \(kind) did not finish within 20 s")
            }
            for message in [verified, loaded] {
                XCTAssertMentions(message, victim, "it is \(kind), not a regular file")
                XCTAssertFalse(message.contains("permission") || message.contains("error 256"), message)
            }
        }
    }

    /// `list` reports the size of the file a symbolic link points to, not the link's own.
    func testListFollowsSymbolicLinks() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(root + "/real")
        try FileManager.default.createDirectory(atPath: root + "/linked/mnist", withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/real") {
            try FileManager.default.createSymbolicLink(atPath: root + "/linked/mnist/" + name, withDestinationPath: root + "/real/" + name)
        }
        let report = DataLocator(environment: ["XDG_CACHE_HOME": root + "/xdg"], systemDirectory: nil).list(dataDir: root + "/linked")[0]
        let target = try Data(contentsOf: URL(fileURLWithPath: root + "/real/train-images-idx3-ubyte.gz")).count
        XCTAssertEqual(report.files.first?.bytes, target)
    }

    /// A missing file with a near-miss name beside it (a browser's " (1)" suffix) is suggested;
    /// the other expected files are not.
    func testMissingFileSuggestsNearMissNames() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeIDXFolder(root + "/mnist")
        try FileManager.default.moveItem(atPath: root + "/mnist/train-images-idx3-ubyte.gz",
                                         toPath: root + "/mnist/train-images-idx3-ubyte (1).gz")
        let message = Fixtures.message {
            _ = try DataLocator(environment: [:], systemDirectory: nil).locate(.mnist, dataDir: root)
        }
        XCTAssertMentions(message, "missing file", root + "/mnist/train-images-idx3-ubyte.gz",
                          #"found "train-images-idx3-ubyte (1).gz" there"#, "rename it to train-images-idx3-ubyte.gz")
        XCTAssertFalse(message.contains("t10k-images"), message)

        try Fixtures.writeCIFARFolder(root + "/cifar-10-batches-bin")
        try FileManager.default.moveItem(atPath: root + "/cifar-10-batches-bin/data_batch_4.bin",
                                         toPath: root + "/cifar-10-batches-bin/Data_Batch_4(1).bin")
        let cifar = Fixtures.message { _ = try DataLocator(environment: [:], systemDirectory: nil).locate(.cifar10, dataDir: root) }
        XCTAssertMentions(cifar, "data_batch_4.bin", #"found "Data_Batch_4(1).bin" there"#)
        XCTAssertFalse(cifar.contains("\"data_batch_5.bin\""), cifar)
    }
}
