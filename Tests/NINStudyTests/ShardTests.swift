import XCTest
@testable import NINStudy

/// `--shard K/N`: every trial in exactly one shard, stable under study edits and shard-count changes.
final class ShardTests: XCTestCase {
    /// 200 trial-id-shaped strings (SHA-256 of a counter).
    let ids = (0..<200).map { sha256Hex(Data("trial \($0)".utf8)) }

    func testEveryTrialIsInExactlyOneShardAndShardsAreBalanced() throws {
        for count in [1, 2, 3, 8] {
            let shards = try (1...count).map { try Shard(index: $0, count: count) }
            for id in ids { XCTAssertEqual(shards.filter { $0.contains(trialId: id) }.count, 1) }
            let sizes = shards.map { s in ids.filter { s.contains(trialId: $0) }.count }
            XCTAssertEqual(sizes.reduce(0, +), ids.count)
            // Hashing spreads 200 trials evenly enough: no shard holds twice its share.
            XCTAssertLessThan(sizes.max()!, 2 * ids.count / count + 1, "\(sizes)")
        }
    }

    /// Editing a study (trials added or removed) moves no other trial; one more shard takes
    /// trials only for itself, about 1/(N+1) of them.
    func testAssignmentIsStable() {
        let before = ids.map { Shard.assignment(trialId: $0, count: 4) }
        let subset = Array(ids.dropFirst(50))
        XCTAssertEqual(subset.map { Shard.assignment(trialId: $0, count: 4) }, Array(before.dropFirst(50)))
        let after = ids.map { Shard.assignment(trialId: $0, count: 5) }
        let moved = zip(before, after).filter { $0 != $1 }
        XCTAssertTrue(moved.allSatisfy { $0.1 == 5 }, "a trial moved between old shards: \(moved.filter { $0.1 != 5 })")
        XCTAssertGreaterThan(moved.count, 20)
        XCTAssertLessThan(moved.count, 70)
        // Fixed values: the assignment is the same on every machine and in every version
        // (computed independently: argmax over shards of SHA-256("<id>/<shard>")'s first 8 bytes, big-endian).
        XCTAssertEqual(ids.prefix(12).map { Shard.assignment(trialId: $0, count: 2) }, [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 2])
        XCTAssertEqual(Array(before.prefix(12)), [1, 1, 4, 1, 4, 1, 3, 2, 2, 3, 3, 2])
        XCTAssertEqual(ids.prefix(12).map { Shard.assignment(trialId: $0, count: 8) }, [1, 6, 7, 1, 8, 5, 5, 2, 2, 3, 3, 8])
        XCTAssertEqual((1...4).map { Shard.assignment(trialId: String(repeating: "0", count: 64), count: $0) }, [1, 1, 1, 4])
    }

    func testParsing() throws {
        XCTAssertEqual(try Shard(parsing: "2/8"), try Shard(index: 2, count: 8))
        XCTAssertEqual("\(try Shard(parsing: "1/1"))", "1/1")
        for bad in ["0/4", "5/4", "2", "a/b", "2/", "/3", "1/0", "-1/4", "1/2/3"] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad) {
                XCTAssertEqual($0 as? ShardError, .invalid(bad))
                XCTAssertTrue("\($0)".contains("expected K/N"))
            }
        }
    }
}
