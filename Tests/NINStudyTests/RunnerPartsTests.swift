import XCTest
import NINEngine
@testable import NINData
@testable import NINStore
@testable import NINStudy

/// The runner's parts on their own: the work estimate, the checkpoint store, the decision what
/// to do with a stored trial, and the recorder.
final class RunnerPartsTests: XCTestCase {
    func config(_ json: String) throws -> TrialConfig {
        try XCTUnwrap(StudyDefinition(data: Data(json.utf8), file: "w.json").trials.first?.config)
    }

    /// Image counts are the dataset's own (60,000 for MNIST, 50,000 for CIFAR-10), less the
    /// validation hold-out; an iteration budget gives fractional epochs.
    func testWorkEstimateUsesTheDatasetsCounts() throws {
        let mnist = TrialWork(try config(#"{"name": "w", "dataset": {"name": "mnist", "validation": 5000}, "training": {"epochs": 2, "learningRate": 0.1}}"#))
        XCTAssertEqual(mnist.trainImagesPerEpoch, 55_000)
        XCTAssertEqual(mnist.evaluatedImagesPerEpoch, 15_000)
        XCTAssertEqual(mnist.epochs, 2)
        XCTAssertEqual(mnist.multiplyAddsPerImage, try ModelDescription.ninMNIST.multiplyAddsPerImage)
        XCTAssertEqual(mnist.trainingImageEquivalents, 2 * (55_000 + 5_000))
        XCTAssertEqual(mnist.seconds(imagesPerSecond: 1000), 120)
        XCTAssertEqual(mnist.seconds(multiplyAddsPerSecond: 1000 * Double(mnist.multiplyAddsPerImage)), 120, accuracy: 1e-9)

        let cifar = TrialWork(try config(#"{"name": "w", "dataset": {"name": "cifar10", "subset": {"test": 3000}}, "training": {"iterations": 500, "batchSize": 100, "learningRate": 0.1}}"#))
        XCTAssertEqual(cifar.trainImagesPerEpoch, 50_000)
        XCTAssertEqual(cifar.evaluatedImagesPerEpoch, 3000)
        XCTAssertEqual(cifar.epochs, 1)
        let perClass = TrialWork(try config(#"{"name": "w", "dataset": {"name": "fashion-mnist", "subset": {"trainPerClass": 30}}, "training": {"epochs": 1, "learningRate": 0.1}}"#))
        XCTAssertEqual(perClass.trainImagesPerEpoch, 300)
    }

    func testCheckpointStorePathsAndLoading() throws {
        let dir = try SyntheticDigits.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let beside = CheckpointStore(databasePath: dir.appendingPathComponent("results/r.sqlite").path)
        XCTAssertEqual(beside.directory, dir.appendingPathComponent("results/checkpoints/r").path)
        XCTAssertEqual(beside.url(trialId: "abc").lastPathComponent, "abc.ckpt")
        XCTAssertNil(try beside.load(trialId: "abc"), "no file: nothing to resume")

        var g = SeededGenerator(seed: 3)
        let description = ModelDescription(input: InputShape(height: 6, width: 6, channels: 1), classes: 3,
                                           blocks: [MlpconvBlock(channels: 4, kernel: 3, microWidths: [3])], head: .gap())
        let net = try Network(description: description, initializer: .he, maxBatch: 2, threads: 1, generator: &g)
        let state = ResumeState(trialId: "abc", epoch: 2, iterationsDone: 7, schedule: ScheduleState(learningRate: 0.01))
        try beside.save(net.checkpoint(optimizer: SGD(), generator: g, metadata: JSONEncoder().encode(state)), trialId: "abc")
        let loaded = try XCTUnwrap(try beside.load(trialId: "abc"))
        XCTAssertEqual(loaded.epoch, 2)
        XCTAssertEqual(loaded.state, state)
        XCTAssertEqual(loaded.checkpoint.parameters, net.parameterValues())
        // A checkpoint whose metadata names another trial is not this trial's.
        try FileManager.default.copyItem(at: beside.url(trialId: "abc"), to: beside.url(trialId: "def"))
        XCTAssertNil(try beside.load(trialId: "def"))
        // A damaged file is an error naming it, not a silent restart.
        try Data("not a checkpoint".utf8).write(to: beside.url(trialId: "abc"))
        XCTAssertThrowsError(try beside.load(trialId: "abc")) { XCTAssertTrue("\($0)".contains("abc.ckpt"), "\($0)") }
        beside.remove(trialId: "abc")
        XCTAssertFalse(beside.exists(trialId: "abc"))
    }

    func testDecisionFromTheStoredRecord() {
        var r = TrialRecord(id: "t", configJSON: "{}", sweptJSON: "{}", dataset: "mnist", seed: 1)
        for (status, retry, expected) in [(TrialStatus.pending, false, TrialDecision.train), (.interrupted, false, .train),
                                          (.finished, true, .skipFinished), (.failed, true, .train)] {
            r.status = status
            XCTAssertEqual(TrialDecision(stored: r, retryFailed: retry), expected, "\(status)")
        }
        r.status = .failed
        r.failureReason = "loss became nan"
        XCTAssertEqual(TrialDecision(stored: r, retryFailed: false), .skipFailed(reason: "loss became nan"))
        r.status = .running
        r.pid = 42
        r.host = "h"
        XCTAssertEqual(TrialDecision(stored: r, retryFailed: true), .runningElsewhere(pid: "42", host: "h"))
    }

    /// When an interrupted trial resumes from its checkpoint and when it starts again from epoch 1:
    /// a checkpoint past the recorded epochs is another database's, recorded epochs without a
    /// checkpoint are trained again, and so are epochs recorded on other dataset files.
    func testRestartRuleOfAnInterruptedTrial() {
        var r = TrialRecord(id: "t", configJSON: "{}", sweptJSON: "{}", dataset: "mnist", seed: 1)
        r.status = .interrupted
        r.datasetIdentity = "aaaa"
        func reason(checkpoint: Int, data: String = "aaaa", retry: Bool = false) -> String? {
            StudyRunner.restartReason(stored: r, checkpointEpoch: checkpoint, checkpointPath: "c/t.ckpt", datasetIdentity: data, retryFailed: retry)
        }
        r.epochsDone = 0
        XCTAssertNil(reason(checkpoint: 0), "a trial never trained starts at epoch 1 with nothing to say")
        XCTAssertEqual(reason(checkpoint: 2), "its checkpoint (after epoch 2) is not from this database, which recorded 0 epochs")
        r.epochsDone = 3
        XCTAssertNil(reason(checkpoint: 3), "its own checkpoint resumes")
        XCTAssertNil(reason(checkpoint: 2), "an earlier checkpoint of its own (killed between the epoch row and the checkpoint) resumes")
        XCTAssertEqual(reason(checkpoint: 4), "its checkpoint (after epoch 4) is not from this database, which recorded 3 epochs")
        XCTAssertEqual(reason(checkpoint: 0), "its 3 recorded epochs have no checkpoint here (c/t.ckpt); they are trained again")
        XCTAssertEqual(reason(checkpoint: 3, data: "bbbb"), "its recorded epochs read other dataset files (SHA-256 identity aaaa…, now bbbb…)")
        r.status = .failed
        XCTAssertEqual(reason(checkpoint: 3, retry: true), "retrying a failed trial")
        XCTAssertNil(reason(checkpoint: 3, retry: false))
    }

    /// Item 5b of issue 21: a heartbeat fires once its interval has passed (`heartbeat_at`
    /// moves to the store's clock), and after another process took the claim over every write
    /// of the old owner fails with a typed error and changes nothing.
    func testAHeartbeatFiresAndWritesOfALostClaimFail() throws {
        let dir = try SyntheticDigits.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_800_000_000) }
        let clock = Clock()
        let store = try ResultsStore(path: dir.appendingPathComponent("h.sqlite").path, clock: { clock.now })
        try store.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: "0")
        let id = String(repeating: "ef", count: 32)
        try store.upsertTrial(TrialRecord(id: id, configJSON: "{}", sweptJSON: "{}", dataset: "mnist", seed: 1), params: [:], study: "s")
        let environment = try store.registerEnvironment(EnvironmentProbe.current(threads: 1))
        let identity = String(repeating: "cd", count: 32)
        try store.registerDataset(identity: identity, name: "mnist", files: [DatasetFileRecord(file: "f", bytes: 1, sha256: "00")])
        var warnings: [String] = []
        let recorder = TrialRecorder(store: store, trialId: id, heartbeatInterval: 30, warn: { warnings.append($0) })
        guard case .claimed = try recorder.claim(environmentId: environment, datasetIdentity: identity, retryFailed: false) else {
            return XCTFail("a pending trial is claimable")
        }
        XCTAssertEqual(try store.trial(id: id)?.heartbeatAt, clock.now)
        clock.now = clock.now.addingTimeInterval(45)
        XCTAssertTrue(try recorder.heartbeatIfDue(now: Date().addingTimeInterval(31)), "due after 30 s")
        XCTAssertEqual(try store.trial(id: id)?.heartbeatAt, clock.now, "the heartbeat reached the database")
        try recorder.record(EpochMetrics(epoch: 1, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 40,
                                         learningRate: 0.1, wallSeconds: 1, imagesPerSecond: 10))

        // Another process (here: another pid on this host) takes the claim over, as `--exclusive` does.
        try store.recoverAbandonedTrials(currentHost: ProcessInfo.processInfo.hostName, staleAfter: -1, probe: .noneAlive)
        let winner = ClaimOwner(host: ProcessInfo.processInfo.hostName, pid: 1, bootId: nil, processStartTicks: nil)
        guard case .claimed = try store.claimTrial(id, owner: winner, environmentId: environment, datasetIdentity: identity,
                                                   retryFailed: false) else { return XCTFail("the take-over claims the trial") }
        let before = try XCTUnwrap(store.trial(id: id))
        let file = dir.appendingPathComponent("a.png")
        try Data([1]).write(to: file)
        let writes: [(String, () throws -> Void)] = [
            ("heartbeat", { _ = try recorder.heartbeatIfDue(now: Date().addingTimeInterval(1000)) }),
            ("epoch", { try recorder.record(EpochMetrics(epoch: 2, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 40,
                                                           learningRate: 0.1, wallSeconds: 1, imagesPerSecond: 10)) }),
            ("artifact", { try recorder.recordArtifact(.checkpoint, path: file.path) }),
            ("finish", { try recorder.record(TrialOutcome.finished) }),
            ("interrupt", { try recorder.record(TrialOutcome.interrupted) }),
            ("fail", { try recorder.record(TrialOutcome.failed("x")) }),
        ]
        for (name, write) in writes {
            XCTAssertThrowsError(try write(), name) { error in
                guard case .claimLost(let trial, _, let owner)? = error as? StoreError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(trial, id)
                XCTAssertEqual(owner, "running in process 1 on \(ProcessInfo.processInfo.hostName)")
                XCTAssertTrue("\(error)".contains("this process no longer owns its claim"), "\(error)")
            }
        }
        XCTAssertEqual(try store.trial(id: id), before, "the loser changed the winner's trial")
        XCTAssertEqual(try store.artifacts(trialId: id), [])
        XCTAssertEqual(try store.epochs(trialId: id).count, 1)
        XCTAssertEqual(warnings, [], "a lost claim is an error, not a warning")
    }

    /// The recorder claims, records epochs, beats at its interval and ends the trial with the
    /// wall time the store sums from the recorded epochs.
    func testRecorderRecordsATrialsRun() throws {
        let dir = try SyntheticDigits.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultsStore(path: dir.appendingPathComponent("r.sqlite").path)
        try store.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: "0")
        let id = String(repeating: "ab", count: 32)
        try store.upsertTrial(TrialRecord(id: id, configJSON: "{}", sweptJSON: "{}", dataset: "mnist", seed: 1), params: [:], study: "s")
        let environment = try store.registerEnvironment(EnvironmentProbe.current(threads: 1))
        try store.registerDataset(identity: String(repeating: "cd", count: 32), name: "mnist", files: [DatasetFileRecord(file: "f", bytes: 1, sha256: "00")])
        let recorder = TrialRecorder(store: store, trialId: id, heartbeatInterval: 1000)
        guard case .claimed(let previous) = try recorder.claim(environmentId: environment, datasetIdentity: String(repeating: "cd", count: 32),
                                                               retryFailed: false) else { return XCTFail("a pending trial is claimable") }
        XCTAssertEqual(previous.status, .pending)
        XCTAssertEqual(try store.trial(id: id)?.status, .running)
        XCTAssertEqual(try store.trial(id: id)?.pid, getpid())
        guard case .notClaimable(let current) = try recorder.claim(environmentId: environment, datasetIdentity: String(repeating: "cd", count: 32),
                                                                   retryFailed: false) else { return XCTFail("a trial this live process runs is not claimable again") }
        XCTAssertEqual(current.status, .running)
        for (epoch, seconds) in [(1, 1.5), (2, 2.25)] {
            try recorder.record(EpochMetrics(epoch: epoch, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 40,
                                             learningRate: 0.1, wallSeconds: seconds, imagesPerSecond: 10))
        }
        let before = try XCTUnwrap(store.trial(id: id)?.heartbeatAt)
        XCTAssertFalse(try recorder.heartbeatIfDue(now: Date().addingTimeInterval(10)))
        XCTAssertEqual(try store.trial(id: id)?.heartbeatAt, before, "not due yet")
        let file = dir.appendingPathComponent("a.png")
        try Data([1, 2, 3]).write(to: file)
        try recorder.recordArtifact(.confidenceMap, path: file.path)
        XCTAssertEqual(try store.artifacts(trialId: id).map(\.bytes), [3])
        try recorder.record(TrialOutcome.finished)
        let done = try XCTUnwrap(store.trial(id: id))
        XCTAssertEqual(done.status, .finished)
        XCTAssertEqual(done.epochsDone, 2)
        XCTAssertEqual(done.wallSeconds, 3.75)
    }

    /// `maps` preprocesses only the images it draws, and gets the same inputs as the run, which
    /// preprocessed the whole split (preprocessing fitted on the training split in both).
    func testMapImagesMatchTheRunsPreprocessedImages() throws {
        let root = try SyntheticDigits.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticDigits.write(to: root)
        let d = try config(#"{"name": "w", "dataset": {"name": "mnist", "preprocessing": "meanstd", "subset": {"trainPerClass": 10}}, "training": {"epochs": 1, "learningRate": 0.1}}"#).dataset
        let cache = root.appendingPathComponent("cache").path
        let prepared = try PreparedData(d, dataDir: root.path, cacheDirectory: cache)
        let run = prepared.mapImages()
        XCTAssertTrue(run.isDefaultSelection)
        var seen: DatasetIdentity?
        let loaded = try MapImages.load(d, dataDir: root.path, cacheDirectory: cache, indices: nil) { seen = $0 }
        XCTAssertEqual(seen, prepared.identity)
        XCTAssertEqual(loaded.indices, run.indices)
        XCTAssertTrue(loaded.isDefaultSelection)
        XCTAssertEqual(loaded.inputs, run.inputs)
        XCTAssertEqual(loaded.display, run.display)
        XCTAssertEqual(loaded.labels, run.labels)
        let some = try MapImages.load(d, dataDir: root.path, cacheDirectory: cache, indices: [5, 0]) { _ in }
        XCTAssertFalse(some.isDefaultSelection)
        XCTAssertEqual(some.inputs.shape, [2, 28, 28, 1])
        XCTAssertEqual(some.inputs.data[0..<784].map { $0 }, prepared.test.images.data[(5 * 784)..<(6 * 784)].map { $0 })
        XCTAssertThrowsError(try MapImages.load(d, dataDir: root.path, cacheDirectory: cache, indices: [100_000]) { _ in }) {
            XCTAssertTrue("\($0)".contains("test image 100000 does not exist"), "\($0)")
        }
    }
}
