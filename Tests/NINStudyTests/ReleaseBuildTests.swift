import Foundation
import XCTest
@testable import NINStore

/// The release build (NINEngine at `-Ounchecked`, Package.swift), which every figure in README
/// and docs/ comes from, trains like the debug build the other tests run: a short study (two
/// trials, three epochs of translation and dropout on the synthetic digits, one thread) run by
/// both binaries gives the same trials with per-epoch losses within a relative 1e-4 and
/// accuracies within 1 percentage point (one test image in 100); when written they agreed
/// bit for bit.
///
/// The release binary is `$NIN_STUDY_RELEASE_BINARY`, else `.build/release/nin-study` of this
/// checkout. `scripts/test` (CI) builds it first and sets `NIN_STUDY_REQUIRE_RELEASE=1`, which
/// turns a missing binary into a failure; elsewhere the test skips without one.
final class ReleaseBuildTests: XCTestCase {
    static let lossTolerance = 1e-4, accuracyTolerance = 1.0

    func testReleaseBuildTrainsLikeTheDebugBuild() throws {
        let environment = ProcessInfo.processInfo.environment
        let debug = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: debug.path), "no nin-study binary beside the test bundle")
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let release = environment["NIN_STUDY_RELEASE_BINARY"].map { URL(fileURLWithPath: $0) }
            ?? checkout.appendingPathComponent(".build/release/nin-study")
        guard FileManager.default.isExecutableFile(atPath: release.path) else {
            let message = "no release binary at \(release.path) (swift build -c release --product nin-study)"
            if environment["NIN_STUDY_REQUIRE_RELEASE"] == "1" { return XCTFail(message) }
            throw XCTSkip(message)
        }
        XCTAssertNotEqual(release.resolvingSymlinksInPath().path, debug.resolvingSymlinksInPath().path)

        let root = try SyntheticDigits.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticDigits.write(to: root, train: 300, test: 100)
        let study = root.appendingPathComponent("release.json")
        try SyntheticDigits.study(name: "release", epochs: 3, augmentation: #"{"translate": 2}"#, extra: #""seeds": [1, 2]"#).write(to: study)

        var seconds: [String: Double] = [:]
        func train(_ binary: URL, _ name: String) throws -> [String: [EpochRecord]] {
            let db = root.appendingPathComponent("\(name)/results.sqlite").path
            let start = Date()
            let (status, output) = try runProcess(binary, ["run", study.path, "--db", db, "--data-dir", root.path,
                                                           "--threads", "1", "--no-fetch", "--no-maps"], timeout: 600)
            XCTAssertEqual(status, 0, "\(name): \(output)")
            seconds[name] = Date().timeIntervalSince(start)
            print("\(name) build: \(String(format: "%.1f", seconds[name]!)) s")
            let store = try ResultsStore.openExisting(path: db)
            return try Dictionary(uniqueKeysWithValues: store.trials().map { ($0.id, try store.epochs(trialId: $0.id)) })
        }
        let fromDebug = try train(debug, "debug"), fromRelease = try train(release, "release")
        XCTAssertEqual(fromDebug.count, 2)
        XCTAssertEqual(Set(fromRelease.keys), Set(fromDebug.keys), "the same trial ids")
        var largest = (loss: 0.0, accuracy: 0.0)
        for (id, epochs) in fromDebug {
            let other = try XCTUnwrap(fromRelease[id])
            XCTAssertEqual(other.map(\.epoch), [1, 2, 3], id)
            XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3], id)
            for (d, r) in zip(epochs, other) {
                for (a, b) in [(d.trainLoss, r.trainLoss), (d.testLoss, r.testLoss)] {
                    let (a, b) = (try XCTUnwrap(a), try XCTUnwrap(b))
                    largest.loss = max(largest.loss, abs(a - b) / max(abs(a), 1e-12))
                }
                for (a, b) in [(d.trainAccuracy, r.trainAccuracy), (d.testAccuracy, r.testAccuracy)] {
                    largest.accuracy = max(largest.accuracy, abs(try XCTUnwrap(a) - XCTUnwrap(b)))
                }
            }
        }
        print("release vs debug: largest relative loss difference \(largest.loss), accuracy difference \(largest.accuracy) points")
        XCTAssertLessThanOrEqual(largest.loss, Self.lossTolerance)
        XCTAssertLessThanOrEqual(largest.accuracy, Self.accuracyTolerance)
        // The optimised engine is several times faster (20 s against 2 s when written): a debug
        // binary in its place would not be.
        XCTAssertLessThan(try XCTUnwrap(seconds["release"]), try XCTUnwrap(seconds["debug"]) * 0.8, "the release binary is not the optimised build")
    }
}
