import XCTest
import NINEngine
@testable import NINStore
@testable import NINStudy

/// Faults during a run: kills at chosen moments, stop requests at awkward times, dataset files
/// that changed under the same names, files left behind by dead runs.
final class RunFaultTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func options(db: String) -> RunOptions {
        var o = RunOptions()
        o.databasePath = root.appendingPathComponent(db).appendingPathComponent("results.sqlite").path
        o.dataDir = root.path
        o.threads = 1
        o.fetchMissing = false
        o.renderMaps = false
        o.cacheDirectory = root.appendingPathComponent("cache").path
        return o
    }

    /// A study whose network stays at chance, failed by the check after epoch `failAfter`.
    func chanceStudy(epochs: Int, failAfter: Int) throws -> StudyDefinition {
        let json = String(decoding: SyntheticDigits.study(epochs: epochs), as: UTF8.self)
            .replacingOccurrences(of: #""learningRate": 0.05, "failAtChanceAfterEpoch": 0"#,
                                  with: #""learningRate": 1e-12, "failAtChanceAfterEpoch": \#(failAfter), "initializer": {"kind": "gaussian", "std": 1e-7}"#)
        return try StudyDefinition(data: Data(json.utf8), file: "chance")
    }

    /// Item 1 of issue 13: a kill right after the checkpoint of the epoch that fails the at-chance
    /// check (before the outcome reaches the database) must not turn the failure into a finished
    /// trial, nor move it to a later epoch: the resumed trainer returns the same failure at once.
    func testAChanceFailureSurvivesAKillAfterItsCheckpoint() throws {
        for (epochs, failAfter) in [(1, 1), (3, 2)] {
            let study = try chanceStudy(epochs: epochs, failAfter: failAfter)
            let trial = study.trials[0]
            let o = options(db: "kill-\(epochs)")
            let data = try PreparedData(trial.config.dataset, dataDir: o.dataDir, cacheDirectory: o.cache)
            let checkpoints = o.checkpoints
            let first = try TrialTrainer(trial: trial, data: data, threads: 1, resume: nil, checkpoints: checkpoints)
            let outcome = try first.run(stop: StopFlag(), progress: { _ in }, epochFinished: { _ in })
            guard case .failed(let reason) = outcome else { return XCTFail("expected a failure, found \(outcome)") }
            XCTAssertTrue(reason.contains("after epoch \(failAfter)"), reason)
            // Killed here: the failing epoch's checkpoint is on disk, the outcome is not recorded.
            let saved = try XCTUnwrap(checkpoints.load(trialId: trial.id))
            XCTAssertEqual(saved.epoch, failAfter)
            let resumed = try TrialTrainer(trial: trial, data: data, threads: 1, resume: saved, checkpoints: checkpoints)
            var epochsRun: [Int] = []
            XCTAssertEqual(try resumed.run(stop: StopFlag(), progress: { _ in }, epochFinished: { epochsRun.append($0.epoch) }),
                           .failed(reason))
            XCTAssertEqual(epochsRun, [], "the resumed trainer trains nothing more")
        }
    }

    /// Item 13 of issue 13: a stop requested while the data is being read ends the run as
    /// interrupted (exit 1, "run the same command again"), not as trials "running in another process".
    func testAStopWhileReadingTheDataIsAnInterruption() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [1, 2]"#), file: "tiny")
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        reporter.onMessage = { if $0.hasPrefix("read mnist") { stop.set() } }
        let summary = try StudyRunner(study: study, options: options(db: "s"), reporter: reporter).run(stop: stop)
        XCTAssertTrue(summary.interrupted)
        XCTAssertEqual(summary.notRun.count, 2)
        XCTAssertEqual(summary.finished.count, 0)
    }

    /// Item 13 of issue 13: SIGTERM (Slurm's preemption) and SIGHUP stop the built binary like
    /// Ctrl-C: after the current mini-batch, exit status 1, the trial marked interrupted with its
    /// epoch checkpoint kept; running again resumes it.
    func testSIGTERMAndSIGHUPStopCleanly() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        let studyFile = root.appendingPathComponent("long.json")
        // A small learning rate: the trial must still be training when the signal comes.
        let long = String(decoding: SyntheticDigits.study(name: "long", epochs: 400), as: UTF8.self)
            .replacingOccurrences(of: #""learningRate": 0.05"#, with: #""learningRate": 0.001"#)
        try Data(long.utf8).write(to: studyFile)
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            let db = root.appendingPathComponent("\(name)/results.sqlite").path
            let log = root.appendingPathComponent("\(name).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let p = Process()
            p.executableURL = binary
            p.arguments = ["run", studyFile.path, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps", "--threads", "1"]
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            // Wait until an epoch is recorded, then signal.
            let deadline = Date().addingTimeInterval(60)
            var epochs = 0
            while epochs == 0, Date() < deadline, p.isRunning {
                Thread.sleep(forTimeInterval: 0.1)
                epochs = (try? ResultsStore.openExisting(path: db).trialSummaries(study: "long").first?.epochsDone) ?? 0
            }
            XCTAssertGreaterThan(epochs, 0, "no epoch recorded within a minute")
            kill(p.processIdentifier, number)
            p.waitUntilExit()
            try handle.close()
            let output = try String(contentsOf: log, encoding: .utf8)
            XCTAssertEqual(p.terminationReason, .exit, "\(name) killed the process:\n\(output)")
            XCTAssertEqual(p.terminationStatus, 1, output)
            XCTAssertTrue(output.contains("\(name): stopping after this mini-batch"), output)
            XCTAssertTrue(output.contains("run the same command again to resume"), output)
            let store = try ResultsStore.openExisting(path: db)
            let trial = try XCTUnwrap(store.trialSummaries(study: "long").first)
            let record = try XCTUnwrap(store.trial(id: trial.trialId))
            XCTAssertEqual(record.status, .interrupted, "\(record.failureReason ?? "") \(output)")
            XCTAssertGreaterThan(record.epochsDone, 0)
            XCTAssertTrue(output.contains("interrupted; the next run resumes after epoch \(record.epochsDone)"), output)
            XCTAssertTrue(CheckpointStore(databasePath: db).exists(trialId: trial.trialId))
        }
    }

    func run(_ study: StudyDefinition, _ o: RunOptions) throws -> (RunSummary, RecordingReporter) {
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        return (try StudyRunner(study: study, options: o, reporter: reporter).run(stop: stop), reporter)
    }

    /// Item 3 of issue 13: a finished trial is not skipped as if current when the dataset files
    /// under the same names now hold other content: the run names the files whose SHA-256
    /// differ, says what the user can do, trains nothing and exits 1; with the files it read put
    /// back, it is skipped again.
    func testAFinishedTrialOnChangedDataIsNotSkippedSilently() throws {
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        let o = options(db: "changed")
        XCTAssertTrue(try run(study, o).0.succeeded)
        try SyntheticDigits.write(to: root, seed: 8) // same names, other images
        let (summary, reporter) = try run(study, o)
        XCTAssertFalse(summary.succeeded)
        XCTAssertEqual(summary.skipped, [])
        XCTAssertEqual(summary.finished, [])
        XCTAssertEqual(summary.datasetChanged.map(\.id), [study.trials[0].id])
        let differences = summary.datasetChanged[0].differences
        XCTAssertTrue(differences.contains { $0.hasPrefix("t10k-images-idx3-ubyte: recorded ") }, "\(differences)")
        XCTAssertTrue(differences.contains { $0.hasPrefix("train-images-idx3-ubyte: recorded ") }, "\(differences)")
        XCTAssertTrue(reporter.messages.contains { $0.contains("finished earlier on other mnist files") && $0.contains("run with another --db") },
                      "\(reporter.messages)")
        XCTAssertEqual(reporter.epochs.count, 0, "nothing is trained again")
        XCTAssertEqual(try ResultsStore(path: o.databasePath).trial(id: study.trials[0].id)?.status, .finished)
        try SyntheticDigits.write(to: root) // the files it read, back
        let (again, _) = try run(study, o)
        XCTAssertTrue(again.succeeded)
        XCTAssertEqual(again.skipped, [study.trials[0].id])
    }

    /// Item 14 of issue 13 and item 5 of issue 21: the temporary file of a checkpoint write killed
    /// before its rename is deleted by the next run, however soon it starts (a file written a
    /// second ago by a dead process); the file of a live writer (this process, which started before
    /// writing it) and another trial's real checkpoint stay; a file named with a live pid that
    /// started after the file was written (a reused pid) is deleted.
    func testAbandonedTemporaryCheckpointsAreDeleted() throws {
        let o = options(db: "tmp")
        let folder = o.checkpoints.directory
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = Date().addingTimeInterval(-3600)
        func place(_ name: String, modified: Date) throws -> String {
            let path = (folder as NSString).appendingPathComponent(name)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
            return path
        }
        let started = try XCTUnwrap(ProcessProbe.system.startDate(getpid()))
        XCTAssertLessThan(abs(started.timeIntervalSinceNow), 24 * 3600, "the start time of this process is read")
        let dead = try place(".abc.ckpt.tmp-2147483000", modified: old)
        let live = try place(".abd.ckpt.tmp-\(getpid())", modified: Date())
        let immediate = try place(".abe.ckpt.tmp-2147483001", modified: Date())
        let reused = try place(".abg.ckpt.tmp-\(getpid())", modified: started.addingTimeInterval(-120))
        let checkpoint = try place("abf.ckpt", modified: old)
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        let (_, reporter) = try run(study, o)
        for gone in [dead, immediate, reused] { XCTAssertFalse(FileManager.default.fileExists(atPath: gone), gone) }
        XCTAssertTrue(reporter.messages.contains { $0.contains("deleted 3 temporary checkpoint files of killed runs: .abc.ckpt.tmp-2147483000, .abe.ckpt.tmp-2147483001, .abg.ckpt.tmp-\(getpid())") },
                      "\(reporter.messages)")
        for kept in [live, checkpoint] { XCTAssertTrue(FileManager.default.fileExists(atPath: kept), kept) }
    }

    /// Item 5 of issue 21: the writer of a trial's temporary checkpoint is the owner of its claim:
    /// while that claim is live, even on another host (whose processes cannot be checked), its
    /// file stays; once the claim is gone the file goes at once.
    func testATemporaryCheckpointOfALiveClaimElsewhereStays() throws {
        var trial = TrialRecord(id: String(repeating: "a", count: 64), configJSON: "{}", sweptJSON: "{}", dataset: "mnist", seed: 1)
        trial.status = .running
        trial.pid = 77
        trial.host = "other-node"
        trial.heartbeatAt = Date()
        let probe = ProcessProbe.noneAlive
        XCTAssertTrue(CheckpointStore.temporaryWriterMayBeLive(trial: trial, pid: 77, modified: Date(), currentHost: "here", now: Date(), probe: probe))
        XCTAssertFalse(CheckpointStore.temporaryWriterMayBeLive(trial: trial, pid: 78, modified: Date(), currentHost: "here", now: Date(), probe: probe),
                       "another pid is not the claim's owner")
        trial.heartbeatAt = Date().addingTimeInterval(-2 * ClaimTimeout.staleAfter)
        XCTAssertFalse(CheckpointStore.temporaryWriterMayBeLive(trial: trial, pid: 77, modified: Date(), currentHost: "here", now: Date(), probe: probe),
                       "a stale claim elsewhere")
    }

    /// Item 14 of issue 13: the checkpoints and maps of trials a changed study detached are
    /// deleted (and forgotten by the database) when no study contains them any more; a trial
    /// another study of the same database still contains keeps them, and another database in
    /// the same folder keeps its own files (`checkpoints/NAME/`, `maps/NAME/`).
    func testFilesOfDetachedTrialsAreDeleted() throws {
        let v1 = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [1, 2, 3]"#), file: "v1")
        let v2 = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [2]"#), file: "v2")
        let keeper = try StudyDefinition(data: SyntheticDigits.study(name: "keeper", epochs: 1, extra: #""seeds": [3]"#), file: "k")
        var o = options(db: "detach")
        o.renderMaps = true
        _ = try run(v1, o)
        _ = try run(keeper, o)
        let gone = v1.trials.first { $0.label == "seed=1" }!
        let store = try ResultsStore(path: o.databasePath)
        let files = try store.artifacts(trialId: gone.id).filter { $0.kind != .learningCurve }.map { store.resolvedArtifactPath($0.path) }
        XCTAssertTrue(files.contains(o.checkpoints.url(trialId: gone.id).path), "\(files)")
        XCTAssertTrue(files.contains { $0.contains("/maps/results/tiny/\(gone.id)/") }, "\(files)")
        for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), f) }

        // Another database in the folder, with its own checkpoint of the same trial: it stays.
        var otherOptions = o
        otherOptions.databasePath = (o.databasePath as NSString).deletingLastPathComponent + "/other.sqlite"
        _ = try run(v1, otherOptions)
        let othersCheckpoint = otherOptions.checkpoints.url(trialId: gone.id).path
        XCTAssertTrue(FileManager.default.fileExists(atPath: othersCheckpoint), othersCheckpoint)
        let (_, r2) = try run(v2, o)
        XCTAssertTrue(r2.messages.contains { $0.contains("checkpoint and map files of trials no study contains any more") }, "\(r2.messages)")
        for f in files { XCTAssertFalse(FileManager.default.fileExists(atPath: f), f) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: (files.first { $0.contains("/maps/") }! as NSString).deletingLastPathComponent))
        XCTAssertEqual(try store.artifacts(trialId: gone.id).map(\.kind).filter { $0 != .learningCurve }, [])
        XCTAssertEqual(try store.trial(id: gone.id)?.status, .finished, "its results stay")
        XCTAssertTrue(FileManager.default.fileExists(atPath: othersCheckpoint), "the other database's files stay")
        for t in v2.trials + keeper.trials { XCTAssertTrue(o.checkpoints.exists(trialId: t.id), t.label) }
    }

    /// Item 4 of issue 21: with a relative `--db` (as the default `results/results.sqlite` is),
    /// the checkpoint and maps of a trial a changed study dropped are deleted as with an absolute
    /// one (the folders were compared relative, the artifact paths absolute, so nothing matched).
    func testFilesOfDetachedTrialsAreDeletedWithARelativeDatabasePath() throws {
        let v1 = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [1, 2]"#), file: "v1")
        let v2 = try StudyDefinition(data: SyntheticDigits.study(epochs: 1, extra: #""seeds": [2]"#), file: "v2")
        let fm = FileManager.default
        let previous = fm.currentDirectoryPath
        XCTAssertTrue(fm.changeCurrentDirectoryPath(root.path))
        defer { fm.changeCurrentDirectoryPath(previous) }
        var o = options(db: "unused")
        o.databasePath = "results/results.sqlite"
        o.dataDir = "."
        o.renderMaps = true
        _ = try run(v1, o)
        let gone = v1.trials.first { $0.label == "seed=1" }!
        let store = try ResultsStore(path: o.databasePath)
        let files = try store.artifacts(trialId: gone.id).filter { $0.kind != .learningCurve }.map { store.resolvedArtifactPath($0.path) }
        XCTAssertTrue(files.contains { $0.hasSuffix("/checkpoints/results/\(gone.id).ckpt") }, "\(files)")
        XCTAssertTrue(files.contains { $0.contains("/maps/results/tiny/\(gone.id)/") }, "\(files)")
        for f in files { XCTAssertTrue(fm.fileExists(atPath: f), f) }
        let (_, r2) = try run(v2, o)
        XCTAssertTrue(r2.messages.contains { $0.contains("checkpoint and map files of trials no study contains any more") },
                      "\(r2.messages)")
        for f in files { XCTAssertFalse(fm.fileExists(atPath: f), f) }
        XCTAssertTrue(o.checkpoints.exists(trialId: v2.trials[0].id), "the kept trial's checkpoint stays")
    }

    /// A run whose dataset cannot be read, into a database that does not exist yet, creates
    /// neither the database nor its folders: a typo in `--db` or a bad `--data-dir` leaves
    /// nothing behind (found by a new user's try on 2026-12-04: a stray folder and an empty
    /// database were left). An existing database is opened first, since only it says which
    /// trials still need data.
    func testUnreadableDataCreatesNoNewDatabaseNorItsFolders() throws {
        let bad = root.appendingPathComponent("bad")
        try SyntheticDigits.write(to: bad)
        let images = bad.appendingPathComponent("mnist/train-images-idx3-ubyte")
        try Data(try Data(contentsOf: images).prefix(1000)).write(to: images)
        var o = options(db: "no/such/dir")
        o.dataDir = bad.path
        let study = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "t")
        XCTAssertThrowsError(try run(study, o)) { error in
            XCTAssertTrue("\(error)".contains("train-images-idx3-ubyte"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("no").path),
                       "the database's folders were created for a run that could not start")
    }

    /// Item 11 of issue 13: a subset the dataset files found cannot give (the synthetic test set
    /// has 100 images; the study asks for 150) names the study file and the key.
    func testASubsetTheFilesCannotGiveNamesTheFileAndKey() throws {
        let json = String(decoding: SyntheticDigits.study(epochs: 1), as: UTF8.self)
            .replacingOccurrences(of: #""preprocessing": "scale","#, with: #""preprocessing": "scale", "subset": {"test": 150},"#)
        let study = try StudyDefinition(data: Data(json.utf8), file: "Studies/sub.json")
        XCTAssertThrowsError(try run(study, options(db: "sub"))) {
            let message = "\($0)"
            XCTAssertTrue(message.hasPrefix("Studies/sub.json: dataset.subset.test: the dataset files found cannot give it: "), message)
            XCTAssertTrue(message.contains("150"), message)
        }
    }
}
