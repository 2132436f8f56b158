import XCTest
import ArgumentParser
import GRDB
import NINStore
@testable import NINStudy
@testable import nin_study

/// `nin-study verify`: a recorded trial re-run into a scratch database and compared with its record.
final class TrialVerifierTests: XCTestCase {
    var root: URL!
    var db: String { root.appendingPathComponent("rec/results.sqlite").path }
    var scratchParent: String { root.appendingPathComponent("tmp").path }

    override func setUpWithError() throws {
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
        try FileManager.default.createDirectory(atPath: scratchParent, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Records the tiny study's one trial (2 epochs, 2 threads); returns its id.
    func record(epochs: Int = 2) throws -> String {
        try record(SyntheticDigits.study(epochs: epochs))
    }

    func record(_ definition: Data) throws -> String {
        let study = try StudyDefinition(data: definition, file: "tiny")
        var o = RunOptions()
        o.databasePath = db
        o.dataDir = root.path
        o.threads = 2
        o.fetchMissing = false
        o.renderMaps = false
        o.cacheDirectory = root.appendingPathComponent("cache").path
        let stop = StopFlag()
        let summary = try StudyRunner(study: study, options: o, reporter: RecordingReporter(stop: stop)).run(stop: stop)
        XCTAssertTrue(summary.succeeded, "\(summary.failed.map(\.reason))")
        return study.trials[0].id
    }

    func verify(_ trial: String, threads: Int? = nil, epochs: Int? = nil) throws -> (TrialVerification, RecordingReporter) {
        var v = TrialVerifier(databasePath: db)
        v.dataDir = root.path
        v.threads = threads
        v.epochs = epochs
        v.fetchMissing = false
        v.cacheDirectory = root.appendingPathComponent("cache").path
        let stop = StopFlag()
        let reporter = RecordingReporter(stop: stop)
        let scratch = try ScratchFolder.create(in: scratchParent)
        defer { scratch.remove() }
        return (try v.verify(trial: String(trial.prefix(12)), in: scratch, reporter: reporter, stop: stop), reporter)
    }

    /// The bytes of the user's database files (main file and WAL; a missing WAL reads as empty, since
    /// SQLite may create an empty one for a reader), to show verify writes nothing.
    func databaseBytes() -> [Data] {
        [db, db + "-wal"].map { FileManager.default.contents(atPath: $0) ?? Data() }
    }

    func alter(_ trial: String, epoch: Int, column: String, to value: Double) throws {
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE epochs SET \(column) = ? WHERE trial_id = ? AND epoch = ?", arguments: [value, trial, epoch]) }
    }

    /// A trial re-run with its recorded thread count is identical, epoch by epoch and checkpoint
    /// bytes; the database is not written and the scratch folder is gone.
    func testRecordedTrialVerifiesAsIdentical() throws {
        let id = try record()
        let before = databaseBytes()
        let (v, reporter) = try verify(id)
        XCTAssertTrue(v.identical, v.text)
        XCTAssertEqual(v.headline, "identical (2 epochs, checkpoint bytes equal)")
        XCTAssertEqual(v.checkpoint, .equal)
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1, 2], "trained again, both epochs")
        XCTAssertTrue(v.environmentDifferences.isEmpty, v.text)
        XCTAssertTrue(v.text.contains("environment: the recorded run's"), v.text)
        XCTAssertEqual(databaseBytes(), before, "verify wrote to the user's database")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratchParent), [], "scratch folder left behind")
    }

    /// A record whose epoch 2 was altered differs from epoch 2, with both values side by side; one
    /// altered at epoch 1 differs from epoch 1 and the re-run stops there.
    func testAlteredEpochIsReportedAtThatEpoch() throws {
        let id = try record()
        let recorded = try XCTUnwrap(ResultsStore(path: db).epochs(trialId: id).first { $0.epoch == 2 }?.testAccuracy)
        try alter(id, epoch: 2, column: "test_accuracy", to: recorded - 0.01)
        let (v, _) = try verify(id)
        XCTAssertFalse(v.identical)
        XCTAssertEqual(v.headline, "differs from epoch 2")
        XCTAssertEqual(v.firstDifference?.differing.map(\.name), ["test accuracy %"])
        XCTAssertEqual(v.firstDifference?.differing.first?.rerun, recorded)
        XCTAssertTrue(v.text.contains("\(recorded - 0.01)") && v.text.contains("\(recorded)"), v.text)
        XCTAssertTrue(v.text.contains("≠ test accuracy %"), v.text)
        XCTAssertTrue(v.text.contains("epochs 1–1 are identical"), v.text)

        try alter(id, epoch: 1, column: "train_loss", to: 2.5)
        let (v1, reporter) = try verify(id)
        XCTAssertEqual(v1.headline, "differs from epoch 1")
        XCTAssertEqual(v1.firstDifference?.differing.map(\.name), ["train loss"])
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1], "the re-run stops at the first epoch that differs")
        XCTAssertEqual(v1.rerunEpochs, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratchParent), [])
    }

    /// Another thread count is named as an environment difference (the GEMM library's threads too).
    func testOtherThreadsAreAnEnvironmentDifference() throws {
        let id = try record()
        let (v, _) = try verify(id, threads: 1)
        let threads = try XCTUnwrap(v.environmentDifferences.first { $0.field == "threads" }, v.text)
        XCTAssertEqual(threads.recorded, "2")
        XCTAssertEqual(threads.current, "1")
        XCTAssertTrue(v.environmentDifferences.contains { $0.field == "library" && $0.recorded.contains("threads 2") && $0.current.contains("threads 1") }, v.text)
        XCTAssertTrue(v.text.contains("environment differences (recorded → this run):\n  threads: 2 → 1"), v.text)
    }

    /// `--epochs 1` compares epoch 1 only and says why the checkpoint is not compared.
    func testSpotCheckOfTheFirstEpochs() throws {
        let id = try record()
        let (v, reporter) = try verify(id, epochs: 1)
        XCTAssertTrue(v.identical, v.text)
        XCTAssertEqual(reporter.epochs.map(\.epoch), [1])
        XCTAssertEqual(reporter.announcedEpochs, [1], "the re-run announces the epochs it trains, not the trial's 2")
        XCTAssertEqual(v.headline, "identical (1 of 2 epochs; checkpoint not compared: the record keeps only the checkpoint after epoch 2)")
        XCTAssertTrue(reporter.outcomes.isEmpty, "the verifier's own stop is not reported as an interruption")
        // More epochs than recorded compares the recorded ones.
        let (all, _) = try verify(id, epochs: 5)
        XCTAssertEqual(all.headline, "identical (2 epochs, checkpoint bytes equal)")
    }

    /// A recorded checkpoint SHA-256 that is not the re-run's: every epoch equal, the checkpoint differs.
    func testCheckpointDifference() throws {
        let id = try record()
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE artifacts SET sha256 = ? WHERE trial_id = ? AND kind = 'checkpoint'", arguments: [String(repeating: "0", count: 64), id]) }
        let (v, _) = try verify(id)
        XCTAssertFalse(v.identical)
        XCTAssertEqual(v.headline, "differs from epoch 2")
        XCTAssertNil(v.firstDifference)
        guard case .differs(2, let recorded, let rerun) = v.checkpoint else { return XCTFail(v.text) }
        XCTAssertEqual(recorded, String(repeating: "0", count: 64))
        XCTAssertEqual(rerun.count, 64)
        XCTAssertTrue(v.text.contains("checkpoint after epoch 2: SHA-256 recorded 0000"), v.text)
    }

    /// Dataset files other than the recorded ones are refused before training, naming the file.
    func testOtherDatasetFilesAreNamed() throws {
        let id = try record()
        let file = root.appendingPathComponent("mnist/t10k-labels-idx1-ubyte")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] = (bytes[bytes.count - 1] + 1) % 10
        try bytes.write(to: file)
        XCTAssertThrowsError(try verify(id)) { error in
            guard case VerifyError.datasetFilesDiffer(_, let differences) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(differences.count, 1, "\(differences)")
            XCTAssertTrue(differences[0].hasPrefix("t10k-labels-idx1-ubyte: recorded "), "\(differences)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratchParent), [])
    }

    /// A scratch folder of a killed process (its pid gone) is removed by the next one; a live one's stays.
    func testAbandonedScratchFoldersAreRemoved() throws {
        let dead = (scratchParent as NSString).appendingPathComponent("nin-study-verify-2147483000-x")
        let mine = try ScratchFolder.create(in: scratchParent)
        try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: true)
        XCTAssertEqual(ScratchFolder.removeAbandoned(in: scratchParent), [dead])
        XCTAssertTrue(FileManager.default.fileExists(atPath: mine.path))
        mine.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: mine.path))
    }

    /// Through the command: exit 0 identical, 1 different, 2 other data files or an unknown trial,
    /// 64 (a validation error) for bad options.
    func testExitStatus() throws {
        let id = try record(epochs: 1)
        func run(_ extra: [String] = []) throws -> Int32 {
            var command = try NINStudyCommand.parseAsRoot(["verify", String(id.prefix(10)), "--db", db, "--data-dir", root.path] + extra)
            do { try command.run(); return 0 } catch let e as ExitCode { return e.rawValue }
        }
        XCTAssertEqual(try run(), 0)
        try alter(id, epoch: 1, column: "test_loss", to: 9)
        XCTAssertEqual(try run(), 1)
        var unknown = try NINStudyCommand.parseAsRoot(["verify", "ffff", "--db", db])
        XCTAssertThrowsError(try unknown.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        let file = root.appendingPathComponent("mnist/t10k-labels-idx1-ubyte")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] = (bytes[bytes.count - 1] + 1) % 10
        try bytes.write(to: file)
        XCTAssertEqual(try run(), 2)
        for bad in [["verify"], ["verify", id, "--epochs", "0"], ["verify", id, "--threads", "0"]] {
            XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(bad)) {
                XCTAssertEqual(NINStudyCommand.exitCode(for: $0).rawValue, 64, "\(bad)")
            }
        }
    }

    /// The built binary stopped by SIGTERM while it trains the trial again exits 3 (nothing
    /// concluded) and leaves no scratch folder; so does a second signal, which quits at once.
    func testASignalStopsVerifyAndRemovesItsScratchFolder() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        // Enough images that the re-run's epoch is still going when the signal comes.
        try SyntheticDigits.write(to: root, train: 3_000, test: 100)
        let id = try record(SyntheticDigits.study(epochs: 1))
        for signals in [[SIGTERM], [SIGTERM, SIGTERM]] {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["verify", String(id.prefix(10)), "--db", db, "--data-dir", root.path]
            p.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratchParent]) { $1 }
            let log = root.appendingPathComponent("verify.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            XCTAssertTrue(waitUntilTraining(p, trial: id), "the re-run did not start within a minute")
            // 5 ms apart: long enough for the first signal's handler to run (signals that arrive
            // together are delivered to it once), short enough that the run is still stopping
            // (its last mini-batch, the interrupted record, the scratch folder's removal) when
            // the second one comes; 50 ms let a quiet machine finish stopping first.
            for number in signals {
                kill(p.processIdentifier, number)
                Thread.sleep(forTimeInterval: 0.005)
            }
            p.waitUntilExit()
            try handle.close()
            let output = try String(contentsOf: log, encoding: .utf8)
            XCTAssertEqual(p.terminationStatus, signals.count == 1 ? 3 : 128 + SIGTERM, output)
            if signals.count == 1 { XCTAssertTrue(output.contains("nothing was concluded"), output) }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratchParent), [], "scratch folder left behind: \(output)")
        }
    }

    /// While the built binary trains (here `verify`'s re-run), every one of its threads (main,
    /// oneDNN's OpenMP pool, libdispatch's workers) has SIGINT, SIGTERM and SIGHUP blocked, so the
    /// signals reach only libdispatch's signal sources and no handler runs on a compute thread
    /// (one did, inside a oneDNN kernel, and corrupted the heap: see `StopSignals`). Read from
    /// /proc/PID/task/TID/status, `SigBlk` (a hex mask, bit n−1 for signal n).
    func testEveryThreadOfATrainingProcessBlocksTheStopSignals() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/task"), "no /proc")
        try SyntheticDigits.write(to: root, train: 3_000, test: 100)
        let id = try record(SyntheticDigits.study(epochs: 1))
        let p = Process()
        p.executableURL = binary
        p.arguments = ["verify", String(id.prefix(10)), "--db", db, "--data-dir", root.path, "--threads", "2"]
        p.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratchParent]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        XCTAssertTrue(waitUntilTraining(p, trial: id), "the re-run did not start within a minute")
        Thread.sleep(forTimeInterval: 0.5)  // into the mini-batches, where the engine's threads run
        let tasks = "/proc/\(p.processIdentifier)/task"
        let threads = try FileManager.default.contentsOfDirectory(atPath: tasks)
        XCTAssertGreaterThan(threads.count, 1)
        let stopSignals: UInt64 = (1 << (UInt64(SIGINT) - 1)) | (1 << (UInt64(SIGTERM) - 1)) | (1 << (UInt64(SIGHUP) - 1))
        // Threads that libraries start while they load, before main runs (OpenBLAS's pool, idle
        // on a condition variable: a handler there runs on an ordinary stack), cannot get main's
        // mask; they are the ones numbered below libdispatch's first thread, which main's code
        // starts. Every thread after that must have the mask.
        func name(_ tid: String) -> String {
            (try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        }
        let firstDispatchThread = try XCTUnwrap(threads.filter { name($0).hasSuffix("qos") || name($0).contains("qos.") }.compactMap(Int.init).min(),
                                                "no libdispatch thread among \(threads.map(name))")
        var checked = 0
        for tid in threads {
            if tid != String(p.processIdentifier), let t = Int(tid), t < firstDispatchThread { continue }
            // A thread may end between the listing and the read.
            guard let status = try? String(contentsOfFile: "\(tasks)/\(tid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
                  let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { continue }
            checked += 1
            XCTAssertEqual(mask & stopSignals, stopSignals, "thread \(tid) (\(name(tid))) can receive a stop signal: \(line) (process \(p.processIdentifier), \(threads.count) threads)")
        }
        XCTAssertGreaterThan(checked, 1)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 3)
    }

    /// Waits (at most a minute) until `verify`'s re-run is training: its scratch database records
    /// the trial running. False when it did not start or the process ended first.
    func waitUntilTraining(_ p: Process, trial id: String) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
            let folders = (try? FileManager.default.contentsOfDirectory(atPath: scratchParent)) ?? []
            let training = folders.contains { folder in
                let scratchDb = (scratchParent as NSString).appendingPathComponent("\(folder)/results.sqlite")
                return (try? ResultsStore.openReadOnly(path: scratchDb).trial(id: id)?.status) == .running
            }
            if training { return true }
        }
        return false
    }
}
