import Foundation
import GRDB
import XCTest

@testable import NINStore

/// Studies, environments, datasets, artifacts, trial links and abbreviated-id look-ups.
final class RegistrationAndLookupTests: XCTestCase {
    var store: ResultsStore!
    let clock = TestClock()

    override func setUpWithError() throws {
        let clock = self.clock
        store = try ResultsStore.inMemory(clock: { clock.now })
        try store.upsertStudy(name: "s", description: "first", definitionJSON: "{\"a\":1}", definitionSHA256: hexId(1))
    }

    private func addTrial(_ id: String, study: String = "s") throws {
        try store.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: 1), params: [:], study: study)
    }

    func testUpsertStudyKeepsCreationTimeAndUpdatesDefinition() throws {
        let created = clock.now
        clock.advance(by: 60)
        let updated = try store.upsertStudy(name: "s", description: "second", definitionJSON: "{\"a\":2}",
                                            definitionSHA256: hexId(2))
        XCTAssertEqual(updated.createdAt, created)
        XCTAssertEqual(updated.updatedAt, clock.now)
        XCTAssertEqual(updated.description, "second")
        XCTAssertEqual(updated.definitionSHA256, hexId(2))
        XCTAssertEqual(try store.studies().map(\.name), ["s"])
        XCTAssertThrowsError(try store.upsertStudy(name: "", description: "", definitionJSON: "{}",
                                                   definitionSHA256: hexId(3)))
    }

    func testTrialNeedsAKnownStudyAValidIdAndJSONParameters() throws {
        XCTAssertThrowsError(try addTrial(hexId(1), study: "nope")) { error in
            XCTAssertEqual(error as? StoreError, .studyNotFound(name: "nope"))
        }
        XCTAssertThrowsError(try addTrial("ABC")) { error in
            guard case let .invalidValue(what, _, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(what, "trial id")
        }
        XCTAssertThrowsError(try store.upsertTrial(sampleTrial(id: hexId(1), head: "gap", depth: 1, seed: 1),
                                                   params: ["model.head": "gap"], study: "s")) { error in
            XCTAssertEqual(error as? StoreError, .invalidValue(
                what: "trial_params[\"model.head\"] of trial \(hexId(1).prefix(10))", expected: "JSON text",
                found: "gap"))
        }
        XCTAssertEqual(try store.trials().count, 0, "a rejected trial leaves nothing behind")
    }

    func testATrialSharedByTwoStudiesIsStoredOnce() throws {
        try store.upsertStudy(name: "t", description: "", definitionJSON: "{}", definitionSHA256: hexId(4))
        let id = hexId(10)
        try store.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: 1),
                              params: ["model.depth": "1"], study: "s")
        try store.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: 1),
                              params: ["model.head": "\"gap\""], study: "t")
        XCTAssertEqual(try store.trials().count, 1)
        XCTAssertEqual(try store.trials(study: "s").map(\.id), [id])
        XCTAssertEqual(try store.trials(study: "t").map(\.id), [id])
        XCTAssertEqual(try store.studies(containingTrial: id), ["s", "t"])
        XCTAssertEqual(try store.params(trialId: id), ["model.depth": "1", "model.head": "\"gap\""])
        XCTAssertEqual(try store.trialSummaries().map(\.study).sorted(), ["s", "t"])
    }

    /// Trials registered in the same millisecond keep their registration order (not id order), so
    /// listings and learning-curve legends are the same in every identical run.
    func testTrialsAreListedInRegistrationOrder() throws {
        let ids = [hexId(9), hexId(3), hexId(7)]  // the test clock does not move between them
        for id in ids { try addTrial(id) }
        XCTAssertEqual(try store.trials(study: "s").map(\.id), ids)
        XCTAssertEqual(try store.trials().map(\.id), ids)
        XCTAssertEqual(try store.trialSummaries(study: "s").map(\.trialId), ids)
        try addTrial(ids[1])  // registering again keeps the first position
        XCTAssertEqual(try store.trialSummaries().map(\.trialId), ids)
    }

    func testIdPrefixLookup() throws {
        // Three ids: two share the prefix "abc1", one starts "abd".
        let ids = ["abc1" + String(repeating: "0", count: 60), "abc1" + String(repeating: "f", count: 60),
                   "abd" + String(repeating: "7", count: 61)]
        for id in ids { try addTrial(id) }

        XCTAssertEqual(try store.trial(idPrefix: "abd").id, ids[2])
        XCTAssertEqual(try store.trial(idPrefix: "ABC1F").id, ids[1], "case-insensitive like git")
        XCTAssertEqual(try store.trial(idPrefix: ids[0]).id, ids[0], "a full id matches itself")

        XCTAssertThrowsError(try store.trial(idPrefix: "abc")) { error in
            XCTAssertEqual(error as? StoreError, .ambiguousTrialPrefix(
                prefix: "abc", candidates: ["abc1000000 (pending)", "abc1ffffff (pending)"]))
            XCTAssertTrue("\(error)".contains("abc1000000"), "\(error)")
        }
        XCTAssertThrowsError(try store.trial(idPrefix: "abe")) { error in
            XCTAssertEqual(error as? StoreError, .trialNotFound(prefix: "abe"))
        }
        for bad in ["", "xyz", "ab*", String(repeating: "a", count: 65)] {
            XCTAssertThrowsError(try store.trial(idPrefix: bad), bad) { error in
                XCTAssertEqual(error as? StoreError, .invalidTrialPrefix(prefix: bad))
            }
        }
    }

    func testAmbiguousPrefixListsAtMostTenCandidates() throws {
        for n in 0..<12 { try addTrial("f" + String(format: "%02x", n) + String(repeating: "0", count: 61)) }
        XCTAssertThrowsError(try store.trial(idPrefix: "f")) { error in
            guard case let .ambiguousTrialPrefix(_, candidates)? = error as? StoreError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(candidates.count, 11)
            XCTAssertEqual(candidates.last, "…")
        }
    }

    func testEnvironmentIsRegisteredOncePerFingerprint() throws {
        let first = try store.registerEnvironment(sampleEnvironment(threads: 2))
        let again = try store.registerEnvironment(sampleEnvironment(threads: 2))
        let other = try store.registerEnvironment(sampleEnvironment(threads: 1))
        XCTAssertEqual(first, again)
        XCTAssertNotEqual(first, other)
        let stored = try XCTUnwrap(store.environment(id: first))
        XCTAssertEqual(stored.cpuModel, "Test CPU @ 2.0GHz")
        XCTAssertEqual(stored.fingerprint, sampleEnvironment(threads: 2).makeFingerprint())
        XCTAssertTrue(stored.fingerprint.contains("threads=2"))
    }

    func testDatasetRegistrationIsIdempotentAndDetectsMismatches() throws {
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
        XCTAssertEqual(try store.datasetFiles(identity: testDatasetIdentity).map(\.file),
                       sampleDatasetFiles().map(\.file).sorted())
        XCTAssertEqual(try store.dataset(identity: testDatasetIdentity)?.name, "cifar10")

        var changed = sampleDatasetFiles()
        changed[1].sha256 = hexId(31)
        XCTAssertThrowsError(try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: changed)) {
            error in
            guard case let .datasetMismatch(_, file, expected, found)? = error as? StoreError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, "cifar-10-batches-bin/test_batch.bin")
            XCTAssertTrue(expected.contains(hexId(1_002)))
            XCTAssertTrue(found.contains(hexId(31)))
        }
        XCTAssertThrowsError(try store.registerDataset(identity: testDatasetIdentity, name: "cifar10",
                                                       files: Array(sampleDatasetFiles().prefix(1))))
        XCTAssertThrowsError(try store.registerDataset(identity: hexId(8), name: "mnist", files: []))
    }

    /// Class names are stored with the dataset (migration v2), and filled in for an identity
    /// registered without them.
    func testDatasetClassNamesAreStored() throws {
        let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
        XCTAssertNil(try store.dataset(identity: testDatasetIdentity)?.classNames)
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", classNames: names, files: sampleDatasetFiles())
        XCTAssertEqual(try store.dataset(identity: testDatasetIdentity)?.classNames, names)
        let other = hexId(77)
        try store.registerDataset(identity: other, name: "mnist", classNames: (0..<10).map(String.init),
                                  files: [DatasetFileRecord(file: "t10k-labels-idx1-ubyte.gz", bytes: 10, sha256: hexId(78))])
        XCTAssertEqual(try store.dataset(identity: other)?.classNamesJSON, #"["0","1","2","3","4","5","6","7","8","9"]"#)
    }

    /// A database made before migration v2 gains the column; its datasets have NULL class names.
    func testVersion1DatabaseGainsTheClassNamesColumn() throws {
        let queue = try DatabaseQueue()
        var v1 = DatabaseMigrator()
        v1.registerMigration("v1-tables") { db in try db.execute(sql: Schema.v1Tables) }
        v1.registerMigration("v1-views") { db in try db.execute(sql: Schema.v1Views) }
        try v1.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO datasets (identity, name, created_at) VALUES ('abc', 'mnist', '2026-01-01T00:00:00Z')")
        }
        try Schema.migrator.migrate(queue)
        let value = try queue.read { db in try String?.fetchOne(db, sql: "SELECT class_names_json FROM datasets WHERE identity = 'abc'") }
        XCTAssertNil(value ?? nil)
        XCTAssertEqual(try queue.read { db in try Schema.migrator.appliedIdentifiers(db) }.sorted(), Schema.migrationNames.sorted())
    }

    func testArtifactsAreUpsertedPerTrialKindAndPath() throws {
        let id = hexId(20)
        try addTrial(id)
        let first = try store.addArtifact(trialId: id, kind: .checkpoint, path: "ckpt/a", sha256: hexId(1), bytes: 10)
        clock.advance(by: 5)
        let rewritten = try store.addArtifact(trialId: id, kind: .checkpoint, path: "ckpt/a", sha256: hexId(2),
                                              bytes: 12)
        try store.addArtifact(trialId: id, kind: .confidenceMap, path: "maps/a.png", sha256: hexId(3), bytes: 99)
        XCTAssertEqual(first.id, rewritten.id)
        XCTAssertEqual(rewritten.sha256, hexId(2))
        XCTAssertEqual(rewritten.bytes, 12)
        XCTAssertEqual(rewritten.createdAt, clock.now)
        let all = try store.artifacts(trialId: id)
        XCTAssertEqual(all.map(\.kind), [.checkpoint, .confidenceMap])
        XCTAssertEqual(all.map(\.kind.rawValue), ["checkpoint", "confidence-map"])
        XCTAssertThrowsError(try store.addArtifact(trialId: hexId(21), kind: .learningCurve, path: "x.png",
                                                   sha256: hexId(4), bytes: 1)) { error in
            XCTAssertEqual(error as? StoreError, .trialNotFound(prefix: hexId(21)))
        }
    }

    /// Artifact paths inside the database's folder are stored relative to it (a results folder can be
    /// moved or committed whole); paths elsewhere stay absolute; both resolve back to the same file.
    func testArtifactPathsAreStoredRelativeToTheDatabaseFolder() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("nin-artifacts-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fileStore = try ResultsStore(path: folder.appendingPathComponent("results/results.sqlite").path)
        let base = folder.appendingPathComponent("results").path
        try fileStore.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: hexId(1))
        let id = hexId(22)
        try fileStore.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: 1), params: [:], study: "s")
        let inside = base + "/maps/s/t/../t/confidence-maps.png"
        let outside = "/elsewhere/maps/x.png"
        let sibling = folder.appendingPathComponent("results-old/y.png").path  // shares a name prefix only
        try fileStore.addArtifact(trialId: id, kind: .confidenceMap, path: inside, sha256: hexId(3), bytes: 1)
        try fileStore.addArtifact(trialId: id, kind: .learningCurve, path: outside, sha256: hexId(4), bytes: 1)
        try fileStore.addArtifact(trialId: id, kind: .confidenceMapTop, path: sibling, sha256: hexId(5), bytes: 1)
        let stored = try fileStore.artifacts(trialId: id).map(\.path)
        XCTAssertEqual(stored, ["maps/s/t/confidence-maps.png", sibling, outside])  // ordered by kind
        XCTAssertEqual(stored.map(fileStore.resolvedArtifactPath),
                       [base + "/maps/s/t/confidence-maps.png", sibling, outside])
    }

    /// The query commands' store reads (and recovers trials in) a closed database without rewriting
    /// its file, so a committed database such as `results/reference/` stays byte-identical; the
    /// read-write `DatabasePool` store does rewrite it (GRDB's WAL bootstrap), which is why the
    /// query commands do not use it.
    func testOpeningAnExistingDatabaseForQueriesLeavesItsBytesUnchanged() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("nin-query-open-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("results.sqlite").path
        do {
            let writer = try ResultsStore(path: path)
            try writer.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: hexId(1))
            try writer.upsertTrial(sampleTrial(id: hexId(40), head: "gap", depth: 1, seed: 1), params: [:], study: "s")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let reader = try ResultsStore.openExisting(path: path)
            XCTAssertEqual(try reader.studies().map(\.name), ["s"])
            XCTAssertEqual(try reader.recoverAbandonedTrials(currentHost: "h"), [])
            XCTAssertEqual(try reader.trialSummaries().count, 1)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
        do { _ = try ResultsStore(path: path) }
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before,
                          "the pool store no longer rewrites the file; openExisting may be unnecessary")
        XCTAssertThrowsError(try ResultsStore.openExisting(path: folder.appendingPathComponent("none.sqlite").path))
        // A folder given as the database names itself and what was meant.
        for open in [{ _ = try ResultsStore(path: folder.path) }, { _ = try ResultsStore.openExisting(path: folder.path) }] {
            XCTAssertThrowsError(try open()) { XCTAssertTrue("\($0)".contains("is a folder, not a database file"), "\($0)") }
        }
    }

    func testTimestampsAreISO8601UTCText() throws {
        let id = hexId(30)
        try addTrial(id)
        let text = try store.dbWriter.read { db in
            try String.fetchOne(db, sql: "SELECT created_at FROM trials WHERE id = ?", arguments: [id])
        }
        XCTAssertEqual(text, "2027-01-15T08:00:00.000Z")  // 1_800_000_000 s after the Unix epoch
        XCTAssertEqual(Timestamp.date(from: "2027-01-15T08:00:00Z"), clock.now)
        XCTAssertNil(Timestamp.date(from: "15/01/2027"))
    }

    func testDatabaseErrorsNameTheOperationAndPath() throws {
        try store.dbWriter.write { db in try db.execute(sql: "DROP VIEW trial_summary") }
        XCTAssertThrowsError(try store.trialSummaries()) { error in
            guard case let .database(operation, path, message)? = error as? StoreError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(operation, "read trial summary")
            XCTAssertEqual(path, ":memory:")
            XCTAssertTrue(message.contains("trial_summary"), message)
        }
    }
}
