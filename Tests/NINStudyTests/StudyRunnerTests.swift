import XCTest
import NINEngine
@testable import NINStore
@testable import NINRender
@testable import NINStudy

/// A reporter that records events and can request a stop after a given epoch.
final class RecordingReporter: RunReporter {
    var messages: [String] = []
    var epochs: [EpochMetrics] = []
    var outcomes: [TrialOutcome] = []
    /// The epoch count each started trial announced.
    var announcedEpochs: [Int] = []
    var stopAfterEpoch: Int?
    /// Called with every message (e.g. to request a stop at a chosen moment).
    var onMessage: (String) -> Void = { _ in }
    let stop: StopFlag
    init(stop: StopFlag) { self.stop = stop }
    func message(_ text: String) { messages.append(text); onMessage(text) }
    func trialStarted(index: Int, count: Int, trial: Trial, resumedFromEpoch: Int, epochs: Int) {
        messages.append("start \(trial.id.prefix(10)) resumed \(resumedFromEpoch)")
        announcedEpochs.append(epochs)
    }
    func batch(_ progress: BatchProgress, trialETA: Double, studyETA: Double) {}
    func epochFinished(_ metrics: EpochMetrics, trial: Trial) {
        epochs.append(metrics)
        if metrics.epoch == stopAfterEpoch { stop.set() }
    }
    func trialEnded(_ trial: Trial, outcome: TrialOutcome) { outcomes.append(outcome) }
}

final class StudyRunnerTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func options(db: String) -> RunOptions {
        var o = RunOptions()
        o.databasePath = root.appendingPathComponent(db).appendingPathComponent("results.sqlite").path
        o.dataDir = root.path
        o.threads = 2
        o.fetchMissing = false // tests never reach for the network
        o.cacheDirectory = root.appendingPathComponent("cache").path
        return o
    }

    func run(_ study: StudyDefinition, db: String, stopAfterEpoch: Int? = nil, renderMaps: Bool = false) throws -> (RunSummary, RecordingReporter) {
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        reporter.stopAfterEpoch = stopAfterEpoch
        var o = options(db: db)
        o.renderMaps = renderMaps
        return (try StudyRunner(study: study, options: o, reporter: reporter).run(stop: stop), reporter)
    }

    /// A study whose network stays at chance (a vanishing learning rate and initialisation), failed after epoch 1.
    func chanceStudy(epochs: Int) throws -> StudyDefinition {
        let json = String(decoding: SyntheticDigits.study(epochs: epochs), as: UTF8.self)
            .replacingOccurrences(of: #""learningRate": 0.05, "failAtChanceAfterEpoch": 0"#,
                                  with: #""learningRate": 1e-12, "failAtChanceAfterEpoch": 1, "initializer": {"kind": "gaussian", "std": 1e-7}"#)
        return try StudyDefinition(data: Data(json.utf8), file: "chance")
    }

    func checkpointBytes(_ db: String, _ trial: Trial) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(db).appendingPathComponent("checkpoints/results/\(trial.id).ckpt"))
    }

    /// A trial stopped after epoch 1 and resumed ends with the same metrics and the same
    /// checkpoint bytes as one never interrupted.
    func testResumeAfterInterruptionIsBitIdentical() throws {
        // Translation and dropout make every epoch draw from the generator, so resuming must restore it.
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 3, augmentation: #"{"translate": 2}"#), file: "tiny")
        let (a, ra) = try run(study, db: "a")
        XCTAssertTrue(a.succeeded)
        XCTAssertEqual(ra.epochs.count, 3)

        let (b1, rb1) = try run(study, db: "b", stopAfterEpoch: 1)
        XCTAssertTrue(b1.interrupted)
        XCTAssertEqual(rb1.epochs.count, 1)
        let storeB = try ResultsStore(path: options(db: "b").databasePath)
        XCTAssertEqual(try storeB.trial(id: study.trials[0].id)?.status, .interrupted)

        let (b2, rb2) = try run(study, db: "b")
        XCTAssertTrue(b2.succeeded)
        XCTAssertTrue(rb2.messages.contains { $0.contains("resumed 1") }, "\(rb2.messages)")
        XCTAssertEqual(rb2.epochs.map(\.epoch), [2, 3])
        func strip(_ m: EpochMetrics) -> [Double?] { [m.trainLoss, m.trainAccuracy, m.testLoss, m.testAccuracy, m.learningRate] }
        XCTAssertEqual((rb1.epochs + rb2.epochs).map(strip), ra.epochs.map(strip))
        let ca = try checkpointBytes("a", study.trials[0]), cb = try checkpointBytes("b", study.trials[0])
        XCTAssertEqual(ca.count, cb.count)
        let firstDifference = zip(ca, cb).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDifference, "checkpoints differ from byte \(firstDifference ?? -1) of \(ca.count)")
        // The model learned the synthetic task.
        XCTAssertGreaterThan(ra.epochs.last!.testAccuracy!, 60)
        // A third run skips the finished trial.
        let (c, rc) = try run(study, db: "b")
        XCTAssertEqual(c.skipped.count, 1)
        XCTAssertTrue(rc.epochs.isEmpty)
    }

    /// A database whose interrupted trial has recorded epochs but no checkpoint beside it (as in a
    /// clone: checkpoints are not committed) trains the trial again from epoch 1, says so, and
    /// ends with the same epochs as an uninterrupted run.
    func testRecordedEpochsWithoutACheckpointAreTrainedAgainFromEpochOne() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 2), file: "tiny")
        let (_, whole) = try run(study, db: "whole")
        let (stopped, _) = try run(study, db: "lost", stopAfterEpoch: 1)
        XCTAssertTrue(stopped.interrupted)
        let checkpoint = root.appendingPathComponent("lost/checkpoints/results/\(study.trials[0].id).ckpt")
        try FileManager.default.removeItem(at: checkpoint)
        let (again, reporter) = try run(study, db: "lost")
        XCTAssertTrue(again.succeeded)
        XCTAssertTrue(reporter.messages.contains { $0.contains("starting again from epoch 1: its 1 recorded epoch has no checkpoint here (\(checkpoint.path))") },
                      "\(reporter.messages)")
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1, 2])
        XCTAssertEqual(reporter.epochs.map(\.testAccuracy), whole.epochs.map(\.testAccuracy))
        XCTAssertEqual(try ResultsStore(path: options(db: "lost").databasePath).epochs(trialId: study.trials[0].id).count, 2)
    }

    /// One diverging trial is recorded as failed with its reason; the study goes on.
    func testFailedTrialDoesNotStopTheStudy() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""sweep": {"training.learningRate": [100000000, 0.05]}"#), file: "tiny")
        let (summary, reporter) = try run(study, db: "f")
        XCTAssertEqual(summary.failed.count, 1)
        XCTAssertEqual(summary.finished.count, 1)
        XCTAssertFalse(summary.succeeded)
        XCTAssertEqual(reporter.outcomes.count, 2)
        let store = try ResultsStore(path: options(db: "f").databasePath)
        let failed = try store.trial(id: summary.failed[0].id)!
        XCTAssertEqual(failed.status, .failed)
        XCTAssertTrue(failed.failureReason!.contains("diverged"), failed.failureReason!)
        XCTAssertEqual(try store.trial(id: summary.finished[0])?.status, .finished)
    }

    /// A loss that explodes but stays finite (lr 0.5 here: about 10³³ nats after one epoch) is a
    /// diverged trial by `LossDivergence`'s rule, not a finished one.
    func testFiniteExplodingLossIsDiverged() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 2, extra: #""sweep": {"training.learningRate": [0.5, 0.05]}"#), file: "tiny")
        let (summary, reporter) = try run(study, db: "x")
        XCTAssertEqual(summary.finished.count, 1)
        XCTAssertEqual(summary.failed.count, 1)
        let reason = try XCTUnwrap(summary.failed.first?.reason)
        XCTAssertTrue(reason.contains("at epoch 1 is above 10 × ln 10 = 23.03 (learning rate 0.5): the run diverged"), reason)
        let store = try ResultsStore(path: options(db: "x").databasePath)
        let failed = try XCTUnwrap(store.trial(id: summary.failed[0].id))
        XCTAssertEqual(failed.status, .failed)
        let loss = try XCTUnwrap(store.epochs(trialId: failed.id).first?.trainLoss)
        XCTAssertTrue(loss.isFinite && loss > LossDivergence.limit(classes: 10), "\(loss)")
        XCTAssertEqual(reporter.epochs.filter { $0.trainLoss > 23 }.count, 1, "the trial stops after the epoch that diverged")
    }

    /// The rule itself: above 10 · ln C for a whole epoch's mean (or not finite) is diverged.
    func testLossDivergenceRule() {
        XCTAssertEqual(LossDivergence.factor, 10)
        XCTAssertEqual(LossDivergence.limit(classes: 10), 10 * log(10), accuracy: 1e-12)
        XCTAssertNil(LossDivergence.failure(epoch: 1, trainLoss: 2.3, classes: 10, learningRate: 0.1))
        XCTAssertNil(LossDivergence.failure(epoch: 1, trainLoss: 23.0, classes: 10, learningRate: 0.1))
        let message = LossDivergence.failure(epoch: 3, trainLoss: 6.3e35, classes: 10, learningRate: 0.3)
        XCTAssertEqual(message, "training loss 6.3e+35 at epoch 3 is above 10 × ln 10 = 23.03 (learning rate 0.3): the run diverged; lower training.learningRate")
        XCTAssertNotNil(LossDivergence.failure(epoch: 1, trainLoss: 47, classes: 100, learningRate: 0.1))
        XCTAssertNil(LossDivergence.failure(epoch: 1, trainLoss: 46, classes: 100, learningRate: 0.1))
        XCTAssertNotNil(LossDivergence.failure(epoch: 1, trainLoss: .nan, classes: 10, learningRate: 0.1))
    }

    /// A network whose outputs stay at chance after epoch 1 is reported as the known NIN failure.
    func testAccuracyStuckAtChanceFails() throws {
        let study = try chanceStudy(epochs: 2)
        let (summary, reporter) = try run(study, db: "c")
        XCTAssertEqual(summary.failed.count, 1)
        XCTAssertTrue(summary.failed[0].reason.contains("stuck at chance after epoch 1"), summary.failed[0].reason)
        // The advice fits the configuration: Gaussian init → suggest He; finalReLU already off → not suggested.
        XCTAssertTrue(summary.failed[0].reason.contains("the \"he\" initializer"), summary.failed[0].reason)
        XCTAssertFalse(summary.failed[0].reason.contains("finalReLU"), summary.failed[0].reason)
        XCTAssertEqual(reporter.epochs.count, 1, "the trial stops after the epoch that failed the check")
    }

    /// Two databases in one folder keep their checkpoints and maps apart: the second trains the
    /// trial itself (with the same, deterministic numbers) and leaves the first one's files as they
    /// were; a checkpoint whose SHA-256 is not the recorded one is refused by `maps`.
    func testTwoDatabasesInOneFolderKeepTheirFilesApart() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 2), file: "tiny")
        let (first, r1) = try run(study, db: "shared", renderMaps: true)
        XCTAssertTrue(first.succeeded)
        // The synthetic digits are not MNIST: the run says so (their content checksums differ).
        XCTAssertTrue(r1.messages.contains { $0.hasPrefix("warning: mnist is not the official release: ") }, "\(r1.messages)")
        let firstCheckpoint = try checkpointBytes("shared", study.trials[0])
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        var o = options(db: "shared")
        o.databasePath = root.appendingPathComponent("shared/other.sqlite").path
        o.renderMaps = true
        o.threads = 1 // other weights than the first database's (2 threads)
        let second = try StudyRunner(study: study, options: o, reporter: reporter).run(stop: stop)
        XCTAssertTrue(second.succeeded)
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1, 2], "trained here, not adopted from the other database")
        let shared = root.appendingPathComponent("shared")
        let otherCheckpoint = shared.appendingPathComponent("checkpoints/other/\(study.trials[0].id).ckpt")
        XCTAssertTrue(FileManager.default.fileExists(atPath: otherCheckpoint.path))
        XCTAssertEqual(try checkpointBytes("shared", study.trials[0]), firstCheckpoint, "the first database's checkpoint is untouched")
        XCTAssertTrue(FileManager.default.fileExists(atPath: shared.appendingPathComponent("maps/other/tiny/\(study.trials[0].id)/confidence-maps.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: shared.appendingPathComponent("maps/results/tiny/\(study.trials[0].id)/confidence-maps.png").path))

        // A checkpoint put in place of the first database's (here: the other one's) is refused.
        let firstPath = shared.appendingPathComponent("checkpoints/results/\(study.trials[0].id).ckpt")
        try FileManager.default.removeItem(at: firstPath)
        try FileManager.default.copyItem(at: otherCheckpoint, to: firstPath)
        let store = try ResultsStore(path: options(db: "shared").databasePath)
        XCTAssertThrowsError(try TrialMaps.render(record: XCTUnwrap(store.trial(id: study.trials[0].id)), store: store, databasePath: store.path,
                                                  dataDir: root.path, indices: nil, topPercent: 10, output: nil, threads: 1)) {
            XCTAssertTrue("\($0)".contains("is not this database's checkpoint"), "\($0)")
        }
    }

    /// `--retry-failed` trains a failed trial again from epoch 1: one that failed in its last
    /// epoch is not declared finished from its checkpoint.
    func testRetryFailedTrainsAgainFromScratch() throws {
        let study = try chanceStudy(epochs: 1)
        let (failed, _) = try run(study, db: "retry")
        XCTAssertEqual(failed.failed.count, 1)
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        var o = options(db: "retry")
        o.retryFailed = true
        let again = try StudyRunner(study: study, options: o, reporter: reporter).run(stop: stop)
        XCTAssertTrue(reporter.messages.contains { $0.contains("starting again from epoch 1: retrying a failed trial") }, "\(reporter.messages)")
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1])
        XCTAssertEqual(again.failed.count, 1, "the same deterministic training fails the same way")
        let stored = try ResultsStore(path: o.databasePath).trial(id: study.trials[0].id)
        XCTAssertEqual(stored?.status, .failed)
        XCTAssertNotNil(stored?.failureReason)
    }

    /// A trial left "running" by a dead process is recovered as interrupted and then run.
    func testAbandonedRunningTrialIsRecovered() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        let o = options(db: "r")
        let store = try ResultsStore(path: o.databasePath)
        try store.upsertStudy(name: study.name, description: "", definitionJSON: "{}", definitionSHA256: String(repeating: "0", count: 64))
        let (record, params) = StudyRunner.record(for: study.trials[0], epochs: 1)
        try store.upsertTrial(record, params: params, study: study.name)
        _ = try store.claimTrial(record.id, owner: ClaimOwner(host: ProcessInfo.processInfo.hostName, pid: 999_999_999, bootId: nil, processStartTicks: nil),
            environmentId: nil, datasetIdentity: nil, retryFailed: false)
        let (summary, reporter) = try run(study, db: "r")
        XCTAssertTrue(reporter.messages.contains { $0.contains("abandoned") }, "\(reporter.messages)")
        XCTAssertEqual(summary.finished, [record.id])
    }

    /// A trial that a live process is running is left alone (and the run does not report success).
    func testTrialRunningInALiveProcessIsSkipped() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        let store = try ResultsStore(path: options(db: "l").databasePath)
        try store.upsertStudy(name: study.name, description: "", definitionJSON: "{}", definitionSHA256: String(repeating: "0", count: 64))
        let (record, params) = StudyRunner.record(for: study.trials[0], epochs: 1)
        try store.upsertTrial(record, params: params, study: study.name)
        _ = try store.claimTrial(record.id, owner: ClaimOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(), bootId: nil, processStartTicks: nil),
            environmentId: nil, datasetIdentity: nil, retryFailed: false)
        let (summary, reporter) = try run(study, db: "l")
        XCTAssertEqual(summary.runningElsewhere, [record.id])
        XCTAssertTrue(summary.notRun.isEmpty)
        XCTAssertFalse(summary.succeeded)
        XCTAssertTrue(summary.leftToOtherProcesses, "nothing failed here: the rest is another process's")
        XCTAssertTrue(reporter.epochs.isEmpty)
        XCTAssertEqual(try store.trial(id: record.id)?.status, .running)
    }

    /// A claim left running by an earlier attempt on another node (heartbeat still fresh) is
    /// another process's for a plain run, and taken over at once by an `--exclusive` one (a Slurm
    /// array task on its own shard's database).
    func testExclusiveRunTakesOverAClaimOfAnEarlierAttempt() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        let store = try ResultsStore(path: options(db: "x").databasePath)
        try store.upsertStudy(name: study.name, description: "", definitionJSON: "{}", definitionSHA256: String(repeating: "0", count: 64))
        let (record, params) = StudyRunner.record(for: study.trials[0], epochs: 1)
        try store.upsertTrial(record, params: params, study: study.name)
        _ = try store.claimTrial(record.id, owner: ClaimOwner(host: "node-17", pid: 4242, bootId: "b", processStartTicks: 9),
                                 environmentId: nil, datasetIdentity: nil, retryFailed: false)
        let (plain, _) = try run(study, db: "x")
        XCTAssertEqual(plain.runningElsewhere, [record.id])
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        var o = options(db: "x")
        o.exclusive = true
        let exclusive = try StudyRunner(study: study, options: o, reporter: reporter).run(stop: stop)
        XCTAssertEqual(exclusive.finished, [record.id])
        XCTAssertTrue(reporter.messages.contains { $0.contains("abandoned") }, "\(reporter.messages)")
    }

    /// A shard interrupted mid-trial, merged into another database in another folder, resumes
    /// there from the copied checkpoint and ends bit-identical to an uninterrupted run.
    func testAnInterruptedShardResumesFromTheMergedDatabase() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 3, augmentation: #"{"translate": 2}"#), file: "tiny")
        let (whole, _) = try run(study, db: "whole")
        XCTAssertTrue(whole.succeeded)
        let (shard, _) = try run(study, db: "shard", stopAfterEpoch: 1)
        XCTAssertTrue(shard.interrupted)
        let merged = try ResultsStore(path: options(db: "merged").databasePath)
        let report = try merged.merge(from: ResultsStore(path: options(db: "shard").databasePath))
        XCTAssertEqual(report.checkpointsCopied, [study.trials[0].id])
        XCTAssertEqual(try merged.trial(id: study.trials[0].id)?.status, .interrupted)
        let (resumed, reporter) = try run(study, db: "merged")
        XCTAssertTrue(resumed.succeeded)
        XCTAssertTrue(reporter.messages.contains { $0.contains("resumed 1") }, "\(reporter.messages)")
        XCTAssertEqual(reporter.epochs.map(\.epoch), [2, 3])
        func metrics(_ db: String) throws -> [[Double?]] {
            try ResultsStore(path: options(db: db).databasePath).epochs(trialId: study.trials[0].id)
                .map { [$0.trainLoss, $0.trainAccuracy, $0.testLoss, $0.testAccuracy, $0.learningRate] }
        }
        XCTAssertEqual(try metrics("merged"), try metrics("whole"))
        XCTAssertEqual(try checkpointBytes("merged", study.trials[0]), try checkpointBytes("whole", study.trials[0]))
    }

    /// An FC head with a hidden layer has no category maps: its sheet says so instead.
    func testHiddenFCHeadGetsAnExplanationSheet() throws {
        let json = String(decoding: SyntheticDigits.study(epochs: 1), as: UTF8.self)
            .replacingOccurrences(of: #""finalReLU": false,"#, with: #""finalReLU": false, "fcHidden": [16],"#)
        let study = try StudyDefinition(data: Data(json.utf8), file: "hidden")
        let (summary, _) = try run(study, db: "h", renderMaps: true)
        XCTAssertTrue(summary.succeeded)
        let store = try ResultsStore(path: options(db: "h").databasePath)
        let artifacts = try store.artifacts(trialId: study.trials[0].id)
        XCTAssertEqual(artifacts.map(\.kind).filter { $0 != .checkpoint }, [.confidenceMap, .learningCurve])
        let sheet = try PNG.read(from: URL(fileURLWithPath: store.resolvedArtifactPath(artifacts.first { $0.kind == .confidenceMap }!.path)))
        XCTAssertEqual(sheet.width, 760, "the explanation sheet, not a map grid")
    }

    /// Editing a study and running it again under the same name detaches the old trials, so the
    /// study's summaries do not mix two definitions.
    func testChangedDefinitionDetachesOldTrials() throws {
        let first = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "v1")
        _ = try run(first, db: "d")
        let second = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [2]"#), file: "v2")
        let (_, reporter) = try run(second, db: "d")
        XCTAssertTrue(reporter.messages.contains { $0.contains("changed since its last run: 1 trial is no longer part of it") }, "\(reporter.messages)")
        let store = try ResultsStore(path: options(db: "d").databasePath)
        XCTAssertEqual(try store.trialSummaries(study: "tiny").map(\.trialId), [second.trials[0].id])
        XCTAssertEqual(try store.trial(id: first.trials[0].id)?.status, .finished, "the old trial's results stay")
    }

    func testOnlyFilter() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""sweep": {"model.head": ["gap", "fc"]}, "seeds": [1, 2]"#), file: "tiny")
        var o = options(db: "o")
        o.only = "model.head=fc,seed=2"
        let picked = try StudyRunner(study: study, options: o, reporter: RecordingReporter(stop: StopFlag())).selectedTrials()
        XCTAssertEqual(picked.map(\.label), ["model.head=fc seed=2"])
        o.only = String(study.trials[0].id.prefix(8))
        XCTAssertEqual(try StudyRunner(study: study, options: o, reporter: RecordingReporter(stop: StopFlag())).selectedTrials().map(\.id), [study.trials[0].id])
        o.only = "model.head=mlp"
        XCTAssertThrowsError(try StudyRunner(study: study, options: o, reporter: RecordingReporter(stop: StopFlag())).selectedTrials()) {
            XCTAssertTrue("\($0)".contains("matches no trial"))
        }
    }

    /// The committed JSON Schema is the one generated from the validator's key table.
    func testCommittedJSONSchemaIsCurrent() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Studies/study.schema.json")
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), StudyJSONSchema.text,
                       "regenerate with: swift run nin-study schema > Studies/study.schema.json")
    }

    /// The git commit is recorded at build time: with no git reachable at run time (PATH
    /// emptied), the environment still names a commit of this repository, and no run spawns
    /// git (which took `index.lock` in the build folder's tree).
    func testGitCommitIsRecordedAtBuildTimeNotByRunningGit() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let git = URL(fileURLWithPath: "/usr/bin/git")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path)
                              && FileManager.default.isExecutableFile(atPath: git.path),
                          "not built in a git work tree (a tarball records no commit)")
        let savedPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        setenv("PATH", "/nonexistent", 1)
        let commit = EnvironmentProbe.current(threads: 1).gitCommit
        setenv("PATH", savedPath, 1)
        let recorded = try XCTUnwrap(commit, "a binary built in a git work tree records its commit without running git")
        XCTAssertNotNil(recorded.range(of: "^[0-9a-f]{40}(-dirty)?$", options: .regularExpression), recorded)
        let (status, output) = try runProcess(git, ["-C", root.path, "cat-file", "-e", String(recorded.prefix(40)) + "^{commit}"])
        XCTAssertEqual(status, 0, "\(recorded) is a commit of this repository: \(output)")
    }
}
