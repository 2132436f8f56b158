import Foundation
import XCTest
@testable import NINEngine

final class CheckpointTests: XCTestCase {
    func sample() throws -> Checkpoint {
        var g = SeededGenerator(seed: 3)
        let net = try Network(description: TrainingTests.small, initializer: .he, maxBatch: 2, threads: 1, generator: &g)
        var sgd = SGD()
        sgd.velocity = gaussianArray(net.parameterCount, seed: 4)
        sgd.step = 17
        return net.checkpoint(optimizer: sgd, generator: g, metadata: Data([1, 2, 3]))
    }

    func testRoundTripAndLayout() throws {
        let c = try sample()
        let data = c.serialized()
        XCTAssertEqual(Array(data.prefix(8)), Array("NINCKPT\0".utf8))
        XCTAssertEqual(Array(data[8..<12]), [1, 0, 0, 0], "version 1, little-endian")
        XCTAssertEqual(try Checkpoint(data: data), c)
    }

    func testTruncatedFileIsReported() throws {
        let data = try sample().serialized()
        for cut in [5, 40, data.count / 2, data.count - 9] {
            XCTAssertThrowsError(try Checkpoint(data: data.prefix(cut), path: "x.ninckpt")) { error in
                guard case CheckpointError.truncated(let path, _, _, _) = error else {
                    return XCTFail("cut \(cut): expected truncated, got \(error)")
                }
                XCTAssertEqual(path, "x.ninckpt")
            }
        }
    }

    func testCorruptionIsReported() throws {
        var data = try sample().serialized()
        var bad = data
        bad[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try Checkpoint(data: bad)) {
            guard case CheckpointError.badMagic = $0 else { return XCTFail("\($0)") }
        }
        bad = data
        bad[8] = 9
        XCTAssertThrowsError(try Checkpoint(data: bad)) {
            XCTAssertEqual($0 as? CheckpointError, .unsupportedVersion(path: "<memory>", expected: 1, found: 9))
        }
        data[data.count / 2] ^= 0x10 // one flipped bit in the parameters
        XCTAssertThrowsError(try Checkpoint(data: data)) {
            guard case CheckpointError.checksumMismatch = $0 else { return XCTFail("\($0)") }
        }
    }

    func testRestoreRejectsAnotherModel() throws {
        let c = try sample()
        var g = SeededGenerator(seed: 1)
        let other = try Network(description: .ninMNIST, initializer: .he, maxBatch: 1, threads: 1, generator: &g)
        var sgd = SGD()
        XCTAssertThrowsError(try other.restore(from: c, optimizer: &sgd, generator: &g)) {
            guard case CheckpointError.mismatch = $0 else { return XCTFail("\($0)") }
        }
    }

    func testMissingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/a.ninckpt")
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { XCTAssertTrue("\($0)".contains("/nonexistent/dir/a.ninckpt")) }
        XCTAssertThrowsError(try (try sample()).write(to: url)) { XCTAssertTrue("\($0)".contains("/nonexistent/dir")) }
    }
}
