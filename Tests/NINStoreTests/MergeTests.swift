import Foundation
import GRDB
import XCTest

@testable import NINStore

/// `nin-study merge`: shards folded into one database, files reachable, idempotent, conflicts reported.
final class MergeTests: XCTestCase {
    var folder: URL!
    let clock = TestClock()

    override func setUpWithError() throws { folder = try makeTemporaryFolder(self) }

    /// A database at `name` (relative to the test folder) with study `s`, on host `host`.
    func database(_ name: String, host: String = testHost) throws -> (ResultsStore, Int64) {
        let clock = self.clock
        let store = try ResultsStore(path: folder.appendingPathComponent(name).path, clock: { clock.now })
        try store.upsertStudy(name: "s", description: "shards", definitionJSON: #"{"name":"s"}"#, definitionSHA256: hexId(0))
        var environment = sampleEnvironment()
        environment.host = host
        environment.fingerprint = environment.makeFingerprint()
        let environmentId = try store.registerEnvironment(environment)
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
        return (store, environmentId)
    }

    /// Registers and trains trial `n` for `epochs` epochs (test accuracy 50 + epoch + `shift`),
    /// writing its checkpoint file and recording it (and a map) like a run; finished when all 3 epochs are done.
    func train(_ store: ResultsStore, _ environmentId: Int64, trial n: UInt64, epochs: Int, shift: Double = 0) throws {
        let id = hexId(n)
        try store.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: Int64(n)),
                              params: sampleParams(head: "gap", depth: 1, seed: Int64(n)), study: "s")
        guard epochs > 0 else { return }
        guard case .claimed = try store.claimTrial(id, owner: ClaimOwner(host: testHost, pid: 1, bootId: nil, processStartTicks: nil),
                                                   environmentId: environmentId, datasetIdentity: testDatasetIdentity, retryFailed: false)
        else { return XCTFail("claim") }
        for e in 1...epochs {
            try store.recordEpoch(EpochRecord(trialId: id, epoch: e, trainLoss: 1 / Double(e), trainAccuracy: 40,
                                              testLoss: 2 / Double(e), testAccuracy: 50 + Double(e) + shift, learningRate: 0.1, wallSeconds: 3))
        }
        let checkpoint = store.files.checkpointPath(trialId: id)
        try FileManager.default.createDirectory(atPath: store.files.checkpointFolder, withIntermediateDirectories: true)
        let bytes = Data("checkpoint of \(id) after \(epochs) epochs, \(shift)".utf8)
        try bytes.write(to: URL(fileURLWithPath: checkpoint))
        try store.addArtifact(trialId: id, kind: .checkpoint, path: checkpoint, sha256: ResultsStore.sha256Hex(bytes), bytes: Int64(bytes.count))
        if epochs == 3 {
            let map = (store.files.mapsFolder as NSString).appendingPathComponent("s/\(id)/confidence-maps.png")
            try FileManager.default.createDirectory(atPath: (map as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("png \(id)".utf8).write(to: URL(fileURLWithPath: map))
            try store.addArtifact(trialId: id, kind: .confidenceMap, path: map, sha256: ResultsStore.sha256Hex(Data("png \(id)".utf8)), bytes: 10)
            try store.markFinished(trialId: id)
        } else {
            try store.markInterrupted(trialId: id)
        }
    }

    /// Every row of every table, as text, for comparing whole databases.
    func dump(_ store: ResultsStore) throws -> [String] {
        try store.dbWriter.read { db in
            var rows: [String] = []
            for table in ["studies", "environments", "datasets", "dataset_files", "trials", "study_trials", "trial_params", "epochs", "artifacts"] {
                rows += try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { "\(table) \($0)" }.sorted()
            }
            return rows
        }
    }

    func testShardsMergeIntoOneDatabaseWithReachableFilesAndMergingAgainChangesNothing() throws {
        // Two shards in one folder (their files kept apart by DatabaseFiles), merged into the folder above.
        let (a, envA) = try database("shards/shard-1-of-2.sqlite", host: "node-1")
        let (b, envB) = try database("shards/shard-2-of-2.sqlite", host: "node-2")
        try train(a, envA, trial: 1, epochs: 3)
        try train(a, envA, trial: 2, epochs: 1) // preempted after epoch 1
        try train(b, envB, trial: 3, epochs: 3)
        try train(b, envB, trial: 4, epochs: 0) // registered, never started
        let merged = try ResultsStore(path: folder.appendingPathComponent("merged.sqlite").path)
        let ra = try merged.merge(from: a), rb = try merged.merge(from: b)
        XCTAssertEqual(ra.added, [hexId(1), hexId(2)])
        XCTAssertEqual(rb.added, [hexId(3), hexId(4)])
        XCTAssertEqual(ra.checkpointsCopied, [hexId(1), hexId(2)])
        XCTAssertEqual(ra.conflicts + rb.conflicts, [])

        XCTAssertEqual(try merged.trials(study: "s").map(\.status), [.finished, .interrupted, .finished, .pending])
        XCTAssertEqual(try merged.epochs(trialId: hexId(1)).map(\.testAccuracy), [51, 52, 53])
        XCTAssertEqual(try merged.trial(id: hexId(2))?.epochsDone, 1)
        let hosts = try [1, 3].map { try merged.environment(id: XCTUnwrap(merged.trial(id: hexId($0))?.environmentId))?.host }
        XCTAssertEqual(hosts, ["node-1", "node-2"], "each trial keeps the environment it ran on")
        // Every artifact opens from the merged database: maps where the shard wrote them, checkpoints
        // copied to the merged database's own checkpoint folder (where run resumes and maps renders).
        for id in [1, 2, 3].map(hexId) {
            let artifacts = try merged.artifacts(trialId: id)
            XCTAssertFalse(artifacts.isEmpty)
            for artifact in artifacts {
                XCTAssertEqual(merged.fileState(of: artifact), .matches, artifact.path)
                XCTAssertFalse(artifact.path.hasPrefix("/"), "inside the merged database's folder tree: relative")
            }
            let checkpoint = try XCTUnwrap(artifacts.first { $0.kind == .checkpoint })
            XCTAssertEqual(merged.resolvedArtifactPath(checkpoint.path), merged.files.checkpointPath(trialId: id))
        }
        XCTAssertEqual(try merged.artifacts(trialId: hexId(1)).first { $0.kind == .confidenceMap }?.path,
                       "shards/maps/shard-1-of-2/s/\(hexId(1))/confidence-maps.png", "rewritten relative to the merged database")

        // Idempotent: merging both again changes no row.
        let before = try dump(merged)
        let again = try [a, b].map { try merged.merge(from: $0) }
        XCTAssertEqual(try dump(merged), before)
        XCTAssertEqual(again.flatMap(\.unchanged).count, 4)
        XCTAssertEqual(again.flatMap { $0.added + $0.updated }, [])

        // A later run of a shard that got further wins; the source itself is not changed.
        let sourceBefore = try dump(a)
        guard case .claimed = try a.claimTrial(hexId(2), owner: ClaimOwner(host: testHost, pid: 1, bootId: nil, processStartTicks: nil),
                                               environmentId: envA, datasetIdentity: testDatasetIdentity, retryFailed: false)
        else { return XCTFail("claim") }
        try a.recordEpoch(EpochRecord(trialId: hexId(2), epoch: 2, testAccuracy: 52))
        XCTAssertEqual(try merged.merge(from: a).updated, [hexId(2)])
        XCTAssertEqual(try merged.trial(id: hexId(2))?.status, .interrupted, "running in the shard: resumable in the merged database")
        XCTAssertEqual(try merged.trial(id: hexId(2))?.epochsDone, 2)
        XCTAssertNotEqual(try dump(a), sourceBefore) // (the claim and epoch above, not the merge)
        XCTAssertThrowsError(try merged.merge(from: merged)) { XCTAssertTrue("\($0)".contains("the destination itself")) }
    }

    /// A trial finished in one database and interrupted after fewer epochs in another ends
    /// finished with all its epochs, whichever side the finished copy is on (the mutation record
    /// found no test of the rank that decides it).
    func testAFinishedCopyWinsOverAnInterruptedOne() throws {
        let (finished, envF) = try database("finished.sqlite")
        let (interrupted, envI) = try database("interrupted.sqlite")
        try train(finished, envF, trial: 1, epochs: 3)
        try train(interrupted, envI, trial: 1, epochs: 1)
        for (name, order) in [("finished-last", [interrupted, finished]), ("finished-first", [finished, interrupted])] {
            let merged = try ResultsStore(path: folder.appendingPathComponent("\(name).sqlite").path)
            for source in order { _ = try merged.merge(from: source) }
            XCTAssertEqual(try merged.trial(id: hexId(1))?.status, .finished, name)
            XCTAssertEqual(try merged.epochs(trialId: hexId(1)).map(\.testAccuracy), [51, 52, 53], name)
        }
    }

    /// The same trial finished in two databases: identical metrics are one trial; different
    /// metrics are a conflict with both values and both environments, the destination's kept.
    func testSameTrialFinishedTwice() throws {
        let (a, envA) = try database("a.sqlite", host: "node-1")
        let (same, envSame) = try database("same.sqlite", host: "node-1")
        let (other, envOther) = try database("other.sqlite", host: "node-9")
        try train(a, envA, trial: 1, epochs: 3)
        try train(same, envSame, trial: 1, epochs: 3)
        try train(other, envOther, trial: 1, epochs: 3, shift: 0.25)
        let merged = try ResultsStore(path: folder.appendingPathComponent("merged.sqlite").path)
        _ = try merged.merge(from: a)
        let identical = try merged.merge(from: same)
        XCTAssertEqual(identical.unchanged, [hexId(1)])
        XCTAssertEqual(identical.conflicts, [])
        let report = try merged.merge(from: other)
        XCTAssertEqual(report.unchanged, [])
        let conflict = try XCTUnwrap(report.conflicts.first)
        XCTAssertEqual(conflict.trialId, hexId(1))
        XCTAssertEqual(conflict.differences, ["epoch 1 test_accuracy: 51.0 vs 51.25", "epoch 2 test_accuracy: 52.0 vs 52.25",
                                              "epoch 3 test_accuracy: 53.0 vs 53.25"])
        XCTAssertEqual(conflict.kept.environment?.host, "node-1")
        XCTAssertEqual(conflict.other.environment?.host, "node-9")
        XCTAssertEqual(conflict.other.epochs.map(\.testAccuracy), [51.25, 52.25, 53.25])
        XCTAssertTrue(conflict.description.contains("node-9") && conflict.description.contains("53.0 vs 53.25"), conflict.description)
        XCTAssertEqual(try merged.epochs(trialId: hexId(1)).map(\.testAccuracy), [51, 52, 53], "the destination's version is kept")
    }
}
