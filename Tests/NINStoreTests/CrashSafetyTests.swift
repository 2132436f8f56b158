import Foundation
import GRDB
import GRDBSQLite
import XCTest

@testable import NINStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// "A kill at any moment never corrupts the database."
///
/// Two checks:
/// 1. A real `kill -9`: this test binary is started again as a child process that runs only
///    ``testChildWriterLoop`` (selected by its XCTest name; the environment variable
///    `NIN_STORE_CHILD_DB` tells it which database to write). The child records epochs, heartbeats
///    and artifacts in a tight loop; the parent sends SIGKILL at a few different moments, then checks
///    `PRAGMA integrity_check`, foreign keys, and that the trial's derived columns agree with its
///    epoch rows (they are written in one transaction, so a kill can never split them), and that
///    the trial is recovered as interrupted and resumes.
/// 2. A transaction left open on one connection that is closed without committing: none of its
///    writes are visible afterwards and the file stays consistent.
final class CrashSafetyTests: XCTestCase {
    static let childDatabaseVariable = "NIN_STORE_CHILD_DB"
    static let childTrialId = hexId(4_242)

    /// Runs only in the child process started by ``testKillDuringWritesLeavesAConsistentDatabase``.
    func testChildWriterLoop() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDatabaseVariable] else {
            throw XCTSkip("runs only as the child process of testKillDuringWritesLeavesAConsistentDatabase")
        }
        let store = try ResultsStore(path: path)
        let id = Self.childTrialId
        _ = try store.claimTrial(id, owner: ClaimOwner(host: testHost, pid: getpid(), bootId: nil, processStartTicks: nil),
            environmentId: nil, datasetIdentity: nil, retryFailed: false)
        let deadline = Date().addingTimeInterval(60)  // the parent kills us long before
        var epoch = 1
        while Date() < deadline {
            let accuracy = Double((epoch * 37) % 100)
            try store.recordEpoch(EpochRecord(trialId: id, epoch: epoch, trainLoss: 1 / Double(epoch),
                                              trainAccuracy: accuracy, testLoss: 2 / Double(epoch),
                                              testAccuracy: accuracy, learningRate: 0.1, wallSeconds: 0.01,
                                              imagesPerSecond: 1000))
            try store.heartbeat(trialId: id)
            try store.addArtifact(trialId: id, kind: .checkpoint, path: "checkpoints/\(id).ckpt",
                                  sha256: hexId(UInt64(epoch)), bytes: Int64(epoch))
            // Every fifth epoch, replay the previous epoch and this one, as a resume from an older
            // checkpoint does.
            if epoch % 5 == 0 {
                for replayed in [epoch - 1, epoch] {
                    try store.recordEpoch(EpochRecord(trialId: id, epoch: replayed, trainLoss: 0.5,
                                                      trainAccuracy: 50, testAccuracy: Double(replayed % 100)))
                }
            }
            epoch += 1
        }
    }

    func testKillDuringWritesLeavesAConsistentDatabase() throws {
        #if os(Linux)
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
        throw XCTSkip("the child process is started through the Linux XCTest runner")
        #endif
        let folder = try makeTemporaryFolder(self)
        for (round, killAfterEpochs) in [3, 30, 90].enumerated() {
            let path = folder.appendingPathComponent("kill-\(round).sqlite").path
            let store = try ResultsStore(path: path)
            try store.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: hexId(1))
            try store.upsertTrial(sampleTrial(id: Self.childTrialId, head: "gap", depth: 1, seed: 1), params: [:],
                                  study: "s")

            let child = Process()
            child.executableURL = testBinary
            child.arguments = ["NINStoreTests.CrashSafetyTests/testChildWriterLoop"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.childDatabaseVariable] = path
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()

            // Wait until the child has committed enough epochs, then kill it mid-stream.
            let deadline = Date().addingTimeInterval(60)
            var seen = 0
            while seen < killAfterEpochs, child.isRunning, Date() < deadline {
                usleep(2_000)
                seen = try store.trial(id: Self.childTrialId)?.epochsDone ?? 0
            }
            XCTAssertTrue(child.isRunning, "the child writer stopped by itself (round \(round))")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal)
            XCTAssertGreaterThanOrEqual(seen, killAfterEpochs, "the child wrote too little (round \(round))")

            try checkConsistency(path: path, round: round)

            // The killed run is recovered as interrupted and the trial resumes where it stopped.
            let reopened = try ResultsStore(path: path)
            XCTAssertEqual(try reopened.recoverAbandonedTrials(currentHost: testHost), [Self.childTrialId])
            let done = try XCTUnwrap(reopened.trial(id: Self.childTrialId)).epochsDone
            _ = try reopened.claimTrial(Self.childTrialId, owner: ClaimOwner(host: testHost, pid: getpid(), bootId: nil, processStartTicks: nil),
                environmentId: nil, datasetIdentity: nil, retryFailed: false)
            try reopened.recordEpoch(EpochRecord(trialId: Self.childTrialId, epoch: done + 1, testAccuracy: 99))
            XCTAssertEqual(try reopened.trial(id: Self.childTrialId)?.epochsDone, done + 1)
        }
    }

    func testUncommittedTransactionOfAClosedConnectionLeavesNoTrace() throws {
        let folder = try makeTemporaryFolder(self)
        let path = folder.appendingPathComponent("results.sqlite").path
        let clock = TestClock()
        let store = try ResultsStore(path: path, clock: { clock.now })
        let finished = try populate(store, clock: clock)
        let epochsBefore = try store.epochs(trialId: finished[0])

        // A second, raw SQLite connection starts rewriting a trial's epochs and derived columns, then
        // is closed before COMMIT, like a process that dies inside a transaction.
        var connection: OpaquePointer?
        XCTAssertEqual(sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE, nil), SQLITE_OK)
        let script = """
            BEGIN IMMEDIATE;
            DELETE FROM epochs WHERE trial_id = '\(finished[0])';
            UPDATE trials SET epochs_done = 0, status = 'running' WHERE id = '\(finished[0])';
            INSERT INTO studies VALUES ('half-written', '', '{}', '', '', '');
            """
        XCTAssertEqual(sqlite3_exec(connection, script, nil, nil, nil), SQLITE_OK)
        XCTAssertEqual(sqlite3_get_autocommit(connection), 0, "the transaction is still open")
        XCTAssertEqual(sqlite3_close_v2(connection), SQLITE_OK)

        try checkConsistency(path: path, round: 0)
        let reopened = try ResultsStore(path: path)
        XCTAssertEqual(try reopened.epochs(trialId: finished[0]), epochsBefore)
        XCTAssertEqual(try reopened.trial(id: finished[0])?.status, .finished)
        XCTAssertNil(try reopened.study(named: "half-written"))
    }

    /// integrity_check is ok, no foreign-key violation, and each trial's derived columns match its epochs.
    private func checkConsistency(path: String, round: Int) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.read { db in
            XCTAssertEqual(try String.fetchAll(db, sql: "PRAGMA integrity_check"), ["ok"], "round \(round)")
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"), [], "round \(round)")
            for trial in try TrialRecord.fetchAll(db) {
                let epochs = try EpochRecord.filter(Column("trial_id") == trial.id).order(Column("epoch")).fetchAll(db)
                XCTAssertEqual(epochs.map(\.epoch), Array(0..<epochs.count).map { $0 + 1 },
                               "epochs are contiguous from 1 (round \(round))")
                let summary = EpochSummary(epochs: epochs)
                XCTAssertEqual(trial.epochsDone, summary.epochsDone, "round \(round)")
                XCTAssertEqual(trial.finalTestAccuracy, summary.last?.testAccuracy, "round \(round)")
                XCTAssertEqual(trial.bestTestAccuracy, summary.bestTestAccuracy, "round \(round)")
                XCTAssertEqual(trial.bestEpoch, summary.bestEpoch, "round \(round)")
            }
        }
    }
}
