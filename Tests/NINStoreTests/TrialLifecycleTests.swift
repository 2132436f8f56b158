import Foundation
import GRDB
import XCTest

@testable import NINStore

/// pending → running → epochs → finished / failed / interrupted, with the metrics the store derives.
final class TrialLifecycleTests: XCTestCase {
    var clock: TestClock!
    var store: ResultsStore!
    var environmentId: Int64!
    let trialId = hexId(1)

    override func setUpWithError() throws {
        clock = TestClock()
        let clock = self.clock!
        store = try ResultsStore.inMemory(clock: { clock.now })
        try store.upsertStudy(name: "study", description: "d", definitionJSON: "{}", definitionSHA256: hexId(0))
        environmentId = try store.registerEnvironment(sampleEnvironment())
        try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
        try store.upsertTrial(sampleTrial(id: trialId, head: "gap", depth: 2, seed: 7, epochs: 4),
                              params: sampleParams(head: "gap", depth: 2, seed: 7), study: "study")
    }

    /// Claims the trial as process `pid` on `host` (a claim without boot id or start time),
    /// throwing `invalidTransition` when it is not claimable (finished, or running in a live claim).
    private func start(_ id: String? = nil, pid: Int32 = 100, host: String = testHost) throws {
        let owner = ClaimOwner(host: host, pid: pid, bootId: nil, processStartTicks: nil)
        let claim = try store.claimTrial(id ?? trialId, owner: owner, environmentId: environmentId,
                                         datasetIdentity: testDatasetIdentity, retryFailed: true)
        if case .notClaimable(let current) = claim {
            throw StoreError.invalidTransition(trialId: current.id, action: "claim", from: current.status,
                                               allowed: [.pending, .interrupted, .failed])
        }
    }

    private func epoch(_ n: Int, test: Double?, train: Double = 50, id: String? = nil) -> EpochRecord {
        EpochRecord(trialId: id ?? trialId, epoch: n, trainLoss: 1.0 / Double(n), trainAccuracy: train,
                    valLoss: 1.1 / Double(n), valAccuracy: 40 + Double(n), testLoss: 1.2 / Double(n),
                    testAccuracy: test, learningRate: 0.1, wallSeconds: 20, imagesPerSecond: 100 * Double(n))
    }

    func testNewTrialIsPendingWithItsParameters() throws {
        let trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.status, .pending)
        XCTAssertEqual(trial.epochsDone, 0)
        XCTAssertNil(trial.finalTestAccuracy)
        XCTAssertEqual(trial.createdAt, clock.now)
        XCTAssertEqual(trial.widths, "192-160-96")
        XCTAssertEqual(try store.params(trialId: trialId),
                       ["model.head": "\"gap\"", "model.depth": "2", "seed": "7"])
        XCTAssertEqual(try store.studies(containingTrial: trialId), ["study"])
    }

    func testFullLifecycleComputesFinalAndBestMetrics() throws {
        clock.advance(by: 5)
        try start()
        var trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.status, .running)
        XCTAssertEqual(trial.pid, 100)
        XCTAssertEqual(trial.host, testHost)
        XCTAssertEqual(trial.environmentId, environmentId)
        XCTAssertEqual(trial.datasetIdentity, testDatasetIdentity)
        XCTAssertEqual(trial.startedAt, clock.now)

        // Test accuracy peaks at epoch 2 (tied again at epoch 4: the earliest wins).
        let accuracies = [61.5, 70.25, 68.0, 70.25]
        for (i, accuracy) in accuracies.enumerated() {
            clock.advance(by: 20)
            try store.recordEpoch(epoch(i + 1, test: accuracy, train: 50 + Double(i)))
        }
        trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.epochsDone, 4)
        XCTAssertEqual(trial.finalTestAccuracy, 70.25)
        XCTAssertEqual(trial.finalTrainAccuracy, 53)
        XCTAssertEqual(trial.finalValAccuracy, 44)
        XCTAssertEqual(try XCTUnwrap(trial.finalTrainLoss), 0.25, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(trial.finalTestLoss), 0.3, accuracy: 1e-12)
        XCTAssertEqual(trial.bestTestAccuracy, 70.25)
        XCTAssertEqual(trial.bestEpoch, 2)
        XCTAssertEqual(trial.heartbeatAt, clock.now)

        clock.advance(by: 1)
        try store.markFinished(trialId: trialId)
        trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.status, .finished)
        XCTAssertEqual(trial.wallSeconds, 80, "the sum of the 4 epochs' 20 s")
        XCTAssertEqual(trial.finishedAt, clock.now)

        let epochs = try store.epochs(trialId: trialId)
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3, 4])
        XCTAssertEqual(epochs.map(\.testAccuracy), accuracies)
        XCTAssertEqual(epochs[3].imagesPerSecond, 400)
    }

    func testReRecordingAnEpochReplacesItAndDropsLaterEpochs() throws {
        try start()
        for n in 1...3 { try store.recordEpoch(epoch(n, test: 60 + Double(n))) }
        XCTAssertEqual(try store.trial(id: trialId)?.bestEpoch, 3)
        // Resume from the checkpoint of epoch 1: epoch 2 is recomputed, epoch 3 will be recomputed later.
        try store.markInterrupted(trialId: trialId)
        try start(pid: 101)
        try store.recordEpoch(epoch(2, test: 55))
        let epochs = try store.epochs(trialId: trialId)
        XCTAssertEqual(epochs.map(\.epoch), [1, 2])
        XCTAssertEqual(epochs.map(\.testAccuracy), [61, 55])
        let trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.epochsDone, 2)
        XCTAssertEqual(trial.finalTestAccuracy, 55)
        XCTAssertEqual(trial.bestTestAccuracy, 61)
        XCTAssertEqual(trial.bestEpoch, 1)
        XCTAssertEqual(trial.pid, 101)
    }

    func testEpochGapAndOutOfRangeAccuracyAreRejected() throws {
        try start()
        try store.recordEpoch(epoch(1, test: 50))
        XCTAssertThrowsError(try store.recordEpoch(epoch(3, test: 50))) { error in
            XCTAssertEqual(error as? StoreError, .epochOutOfOrder(trialId: trialId, epoch: 3, epochsDone: 1))
            XCTAssertTrue("\(error)".contains("expected an epoch in 1...2"), "\(error)")
        }
        XCTAssertThrowsError(try store.recordEpoch(epoch(0, test: 50)))
        // A fraction instead of a percentage is not caught, but a value above 100 is.
        XCTAssertThrowsError(try store.recordEpoch(epoch(2, test: 9_000))) { error in
            guard case let .invalidValue(what, _, found)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("test_accuracy"), what)
            XCTAssertEqual(found, "9000.0")
        }
        XCTAssertEqual(try store.trial(id: trialId)?.epochsDone, 1)
    }

    func testNonFiniteLossIsStoredAsNull() throws {
        try start()
        var record = epoch(1, test: 10)
        record.trainLoss = .nan
        record.testLoss = .infinity
        try store.recordEpoch(record)
        let stored = try XCTUnwrap(store.epochs(trialId: trialId).first)
        XCTAssertNil(stored.trainLoss)
        XCTAssertNil(stored.testLoss)
        XCTAssertEqual(stored.testAccuracy, 10)
    }

    func testFinishedTrialIsNeverDowngraded() throws {
        try start()
        try store.recordEpoch(epoch(1, test: 80))
        try store.markFinished(trialId: trialId)
        // Registering the same trial again (a re-run of the study) keeps it finished with its metrics.
        let again = try store.upsertTrial(sampleTrial(id: trialId, head: "gap", depth: 2, seed: 7, epochs: 4),
                                          params: sampleParams(head: "gap", depth: 2, seed: 7), study: "study")
        XCTAssertEqual(again.status, .finished)
        XCTAssertEqual(again.finalTestAccuracy, 80)
        XCTAssertEqual(again.epochsDone, 1)
        for action in [{ try self.start() }, { try self.store.markFailed(trialId: self.trialId, reason: "x") },
                       { try self.store.markInterrupted(trialId: self.trialId) },
                       { try self.store.recordEpoch(self.epoch(2, test: 1)) }]
        {
            XCTAssertThrowsError(try action()) { error in
                guard case let .invalidTransition(_, _, from, _)? = error as? StoreError else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(from, .finished)
            }
        }
        XCTAssertEqual(try store.trial(id: trialId)?.status, .finished)
    }

    func testFailedTrialKeepsItsReasonAndCanBeRetried() throws {
        try start()
        try store.recordEpoch(epoch(1, test: 10))
        try store.markFailed(trialId: trialId, reason: "test accuracy at chance (10.0 %) after epoch 1")
        var trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.status, .failed)
        XCTAssertEqual(trial.failureReason, "test accuracy at chance (10.0 %) after epoch 1")
        XCTAssertEqual(trial.wallSeconds, 20)
        XCTAssertEqual(try store.trialSummaries(study: "study").first?.failureReason, trial.failureReason)
        // Not running any more: epochs and heartbeats are refused.
        XCTAssertThrowsError(try store.heartbeat(trialId: trialId))
        XCTAssertThrowsError(try store.recordEpoch(epoch(2, test: 10)))
        // A retry starts it again and clears the reason.
        try start(pid: 200)
        trial = try XCTUnwrap(store.trial(id: trialId))
        XCTAssertEqual(trial.status, .running)
        XCTAssertNil(trial.failureReason)
        XCTAssertNil(trial.finishedAt)
    }

    func testAClaimChecksTheEnvironmentAndDataset() throws {
        let owner = ClaimOwner(host: testHost, pid: 1, bootId: nil, processStartTicks: nil)
        XCTAssertThrowsError(try store.claimTrial(trialId, owner: owner, environmentId: 999, datasetIdentity: nil,
                                                  retryFailed: false)) { error in
            XCTAssertEqual(error as? StoreError, .environmentNotFound(id: 999))
        }
        XCTAssertThrowsError(try store.claimTrial(trialId, owner: owner, environmentId: nil, datasetIdentity: hexId(5),
                                                  retryFailed: false)) { error in
            XCTAssertEqual(error as? StoreError, .datasetNotFound(identity: hexId(5)))
        }
        XCTAssertThrowsError(try store.claimTrial(hexId(404), owner: owner, environmentId: nil, datasetIdentity: nil,
                                                  retryFailed: false)) { error in
            XCTAssertEqual(error as? StoreError, .trialNotFound(prefix: hexId(404)))
        }
        XCTAssertEqual(try store.trial(id: trialId)?.status, .pending)
    }

    func testAbandonedRunningTrialsAreRecoveredAsInterrupted() throws {
        let dead = trialId, alive = hexId(2), noPid = hexId(3), remoteStale = hexId(4), remoteFresh = hexId(5)
        for (n, id) in [alive, noPid, remoteStale, remoteFresh].enumerated() {
            try store.upsertTrial(sampleTrial(id: id, head: "fc", depth: n, seed: 1), params: [:], study: "study")
        }
        try start(dead, pid: 1001)
        try store.recordEpoch(EpochRecord(trialId: dead, epoch: 1, testAccuracy: 50, wallSeconds: 12.5))
        try store.recordEpoch(EpochRecord(trialId: dead, epoch: 2, testAccuracy: 60, wallSeconds: 10))
        try start(alive, pid: 1002)
        try store.dbWriter.write { db in
            try db.execute(sql: "UPDATE trials SET status = 'running', host = ?, pid = NULL WHERE id = ?",
                           arguments: [testHost, noPid])
        }
        try start(remoteStale, pid: 1001, host: "other-host")
        clock.advance(by: 3_600)
        try start(remoteFresh, pid: 1001, host: "other-host")
        clock.advance(by: 60)
        try store.heartbeat(trialId: alive)

        var asked: [Int32] = []
        let recovered = try store.recoverAbandonedTrials(currentHost: testHost, staleAfter: 900) { pid in
            asked.append(pid)
            return pid == 1002
        }
        XCTAssertEqual(recovered, [dead, noPid, remoteStale].sorted())
        XCTAssertEqual(asked.sorted(), [1001, 1002], "only this host's processes are checked")
        XCTAssertEqual(try store.trial(id: dead)?.status, .interrupted)
        XCTAssertEqual(try store.trial(id: dead)?.wallSeconds, 22.5, "training time of the recorded epochs")
        XCTAssertNil(try store.trial(id: noPid)?.wallSeconds, "no epoch recorded")
        XCTAssertEqual(try store.trial(id: noPid)?.status, .interrupted)
        XCTAssertEqual(try store.trial(id: remoteStale)?.status, .interrupted)
        XCTAssertEqual(try store.trial(id: alive)?.status, .running)
        XCTAssertEqual(try store.trial(id: remoteFresh)?.status, .running)
        // The interrupted trial resumes; a second recovery finds nothing new.
        try start(dead, pid: 1003)
        XCTAssertEqual(try store.recoverAbandonedTrials(currentHost: testHost, staleAfter: 900) { _ in true }, [])
    }

    func testProcessIsAliveSeesThisProcessAndNotAnExitedOne() throws {
        XCTAssertTrue(ResultsStore.processIsAlive(getpid()))
        XCTAssertFalse(ResultsStore.processIsAlive(0))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "exit 0"]
        try child.run()
        child.waitUntilExit()
        XCTAssertFalse(ResultsStore.processIsAlive(child.processIdentifier))
    }

    /// A process killed with -9 whose parent has not reaped it yet (a zombie) is gone, not alive.
    func testZombieProcessIsNotAlive() throws {
        #if os(Linux)
        var pid: pid_t = 0
        let args = ["/bin/sh", "-c", "exit 0"]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ), 0)
        // Wait until the child has exited but do not reap it.
        var waited = 0
        while waited < 200, (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z") != true {
            usleep(10_000); waited += 1
        }
        XCTAssertEqual(kill(pid, 0), 0, "a zombie still answers kill(pid, 0)")
        XCTAssertFalse(ResultsStore.processIsAlive(pid))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #else
        throw XCTSkip("zombie detection reads /proc (Linux)")
        #endif
    }

    func testHeartbeatOfARecoveredTrialThrows() throws {
        try start(pid: 1)
        try store.recoverAbandonedTrials(currentHost: testHost) { _ in false }
        XCTAssertThrowsError(try store.heartbeat(trialId: trialId)) { error in
            XCTAssertEqual(error as? StoreError, .invalidTransition(trialId: trialId, action: "heartbeat",
                                                                    from: .interrupted, allowed: [.running]))
        }
    }
}
