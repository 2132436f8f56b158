import Foundation
import XCTest
@testable import NINData
import NINEngine

final class CIFAR10ReaderTests: XCTestCase {
    func testFolderDecodesPlanesToNHWC() throws {
        let dir = try Fixtures.temporaryDirectory(self) + "/cifar-10-batches-bin"
        try Fixtures.writeCIFARFolder(dir)
        let d = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4)
        XCTAssertEqual(d.train.images.shape, [20, 32, 32, 3])
        XCTAssertEqual(d.test.images.shape, [4, 32, 32, 3])
        XCTAssertEqual(d.classNames, DatasetName.cifar10.classNames)
        // Training record 5 is batch 2 (4 records per batch), record 1: label (1 + 2) % 10; pixel (y 3, x 5, channel c)
        // comes from plane c at position 3·32 + 5.
        XCTAssertEqual(d.train.labels[5], 3)
        let p = 3 * 32 + 5
        for c in 0..<3 {
            let expected = Float((2 * 13 + 1 * 5 + c * 101 + p) % 256)
            XCTAssertEqual(d.train.images.data[5 * 3072 + p * 3 + c], expected)
        }
        XCTAssertEqual(d.identity.files.map(\.name).sorted(),
                       (CIFAR10Reader.trainBatchNames + ["batches.meta.txt", "test_batch.bin"]).sorted())
    }

    func testArchiveReadsTheSameImagesWithoutExtracting() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeCIFARFolder(root + "/unpacked/cifar-10-batches-bin")
        let archive = root + "/packed/cifar-10-binary.tar.gz"
        try FileManager.default.createDirectory(atPath: root + "/packed", withIntermediateDirectories: true)
        try Fixtures.cifarArchive().write(to: URL(fileURLWithPath: archive))
        let locator = DataLocator(environment: [:], systemDirectory: nil, cifarRecordsPerBatch: 4)
        let fromFolder = try locator.load(.cifar10, dataDir: root + "/unpacked")
        let location = try locator.locate(.cifar10, dataDir: root + "/packed")
        XCTAssertEqual(location.layout, .cifarArchive)
        let fromArchive = try DataLocator.load(location, cifarRecordsPerBatch: 4)
        XCTAssertEqual(fromArchive.train, fromFolder.train)
        XCTAssertEqual(fromArchive.test, fromFolder.test)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/packed"), ["cifar-10-binary.tar.gz"],
                       "nothing extracted next to the archive")
        XCTAssertEqual(fromArchive.identity.files.map(\.name), ["cifar-10-binary.tar.gz"])
    }

    func testTruncatedBatch() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[2].data = files[2].data.prefix(3073 * 3 + 100)
        try Fixtures.writeCIFARFolder(dir, files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4) }
        XCTAssertMentions(message, "truncated", "data_batch_3.bin", "expected \(3073 * 4) bytes", "found \(3073 * 3 + 100)")
    }

    /// A batch of whole records, but not the expected count (a cut file), is refused by count.
    func testBatchWithTheWrongRecordCountIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[1].data = files[1].data.prefix(3073 * 2)
        try Fixtures.writeCIFARFolder(dir, files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4) }
        XCTAssertMentions(message, "count mismatch", "data_batch_2.bin", "expected 4, found 2", "holds 10000")
        // The official count is the default: a fixture of 4 records per batch is refused too.
        try Fixtures.writeCIFARFolder(dir)
        XCTAssertMentions(Fixtures.message { _ = try CIFAR10Reader.readFolder(dir) }, "data_batch_1.bin", "expected 10000, found 4")
    }

    /// A whole batch plus 5 bytes has trailing bytes; it is not "truncated".
    func testBatchWithExtraBytesIsNotCalledTruncated() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[5].data.append(contentsOf: [1, 2, 3, 4, 5])
        try Fixtures.writeCIFARFolder(dir, files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4) }
        XCTAssertMentions(message, "trailing bytes", "test_batch.bin", "expected \(3073 * 4) bytes", "found \(3073 * 4 + 5)")
        XCTAssertFalse(message.contains("truncated"), message)
    }

    /// A copy of one batch under another batch's name is refused, in a folder and in an archive.
    func testDuplicatedBatchIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[1].data = files[0].data
        try Fixtures.writeCIFARFolder(dir + "/folder", files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir + "/folder", recordsPerBatch: 4) }
        XCTAssertMentions(message, "duplicate file", dir + "/folder/data_batch_2.bin", "same bytes as", dir + "/folder/data_batch_1.bin")
        let archive = dir + "/cifar-10-binary.tar.gz"
        try Fixtures.cifarArchive(files: files).write(to: URL(fileURLWithPath: archive))
        XCTAssertMentions(Fixtures.message { _ = try CIFAR10Reader.readArchive(archive, recordsPerBatch: 4) },
                          "duplicate file", archive + ":data_batch_2.bin", archive + ":data_batch_1.bin")
    }

    /// A UTF-8 byte-order mark before the first class name is not part of the name.
    func testMetaFileWithByteOrderMark() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[6].data = Data([0xEF, 0xBB, 0xBF]) + Fixtures.cifarMeta
        try Fixtures.writeCIFARFolder(dir, files: files)
        XCTAssertEqual(try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4).classNames, DatasetName.cifar10.classNames)
    }

    func testLabelTenInBatch() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[5].data[3073 * 2] = 10
        try Fixtures.writeCIFARFolder(dir, files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4) }
        XCTAssertMentions(message, "label out of range", "test_batch.bin", "record 2 has label 10")
    }

    func testMissingBatchInFolderIsNamed() throws {
        let root = try Fixtures.temporaryDirectory(self)
        try Fixtures.writeCIFARFolder(root + "/cifar-10-batches-bin",
                                      files: Fixtures.cifarFiles().filter { $0.name != "data_batch_4.bin" })
        let message = Fixtures.message {
            _ = try DataLocator(environment: [:], systemDirectory: nil, cifarRecordsPerBatch: 4).load(.cifar10, dataDir: root)
        }
        XCTAssertMentions(message, "missing file", root + "/cifar-10-batches-bin/data_batch_4.bin")
    }

    func testArchiveMissingMember() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/cifar-10-binary.tar.gz"
        try Fixtures.cifarArchive(files: Fixtures.cifarFiles().filter { $0.name != "test_batch.bin" })
            .write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
        XCTAssertMentions(message, "missing file", path, "test_batch.bin")
    }

    func testArchiveMemberEscapingItsFolderIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for (i, evil) in ["../evil.bin", "/etc/evil.bin", "cifar-10-batches-bin/../../evil.bin"].enumerated() {
            let path = dir + "/evil\(i).tar.gz"
            let entries = Fixtures.cifarFiles().map { ("cifar-10-batches-bin/" + $0.name, $0.data) } + [(evil, Data([1, 2, 3]))]
            try Gzip.compress(TarWriter.archive(entries)).write(to: URL(fileURLWithPath: path))
            let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
            XCTAssertMentions(message, "bad tar member", evil, "escapes the extraction folder", path)
        }
        XCTAssertEqual(try TarStreamReader.safeRelativePath("./cifar-10-batches-bin//x.bin", archive: "a"),
                       "cifar-10-batches-bin/x.bin")
    }

    func testCorruptTarHeaderChecksum() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/cifar-10-binary.tar.gz"
        var tar = TarWriter.archive(Fixtures.cifarFiles().map { ("cifar-10-batches-bin/" + $0.name, $0.data) })
        tar[10] ^= 0x20 // a byte of the first member's name: the header checksum no longer matches
        try Gzip.compress(tar).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
        XCTAssertMentions(message, "bad tar member", "header checksum expected", path)
    }

    /// A size field in GNU base-256 that overflows (or reads negative), or an octal size of
    /// gigabytes in a short archive: a typed error naming the member, no crash, no huge allocation.
    func testArchiveWithAnAbsurdSizeField() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for (i, field) in [[UInt8](repeating: 0xff, count: 12), Array("77777777777\0".utf8)].enumerated() {
            var tar = [UInt8](TarWriter.archive(Fixtures.cifarFiles().map { ("cifar-10-batches-bin/" + $0.name, $0.data) }))
            tar.replaceSubrange(124..<136, with: field)
            tar.replaceSubrange(148..<156, with: Array("        ".utf8))
            let sum = tar[0..<512].reduce(0) { $0 + Int($1) }
            tar.replaceSubrange(148..<156, with: Array(String(format: "%06o\0 ", sum).utf8))
            let path = dir + "/absurd\(i).tar.gz"
            try Gzip.compress(Data(tar)).write(to: URL(fileURLWithPath: path))
            let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
            XCTAssertMentions(message, "bad tar member", path, "data_batch_1.bin")
        }
    }

    func testArchiveEndingInsideAMember() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/cifar-10-binary.tar.gz"
        let tar = TarWriter.archive(Fixtures.cifarFiles().map { ("cifar-10-batches-bin/" + $0.name, $0.data) })
        try Gzip.compress(tar.prefix(512 + 5000)).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
        XCTAssertMentions(message, "bad tar member", "data_batch_1.bin", "archive ends inside the member")
    }

    func testBrokenGzipArchive() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir + "/cifar-10-binary.tar.gz"
        try Data("this is not gzip at all".utf8).write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try CIFAR10Reader.readArchive(path, recordsPerBatch: 4) }
        XCTAssertMentions(message, "bad gzip stream", path)
    }

    func testBadMetaFile() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var files = Fixtures.cifarFiles()
        files[6].data = Data("cat\ndog\n".utf8)
        try Fixtures.writeCIFARFolder(dir, files: files)
        let message = Fixtures.message { _ = try CIFAR10Reader.readFolder(dir, recordsPerBatch: 4) }
        XCTAssertMentions(message, "batches.meta.txt", "class names", "expected 10", "found 2")
    }
}
