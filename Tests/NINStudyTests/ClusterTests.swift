import XCTest
@testable import NINStore
@testable import NINStudy

/// A study run three ways with the built binary — one process; concurrent processes (more than the
/// cores) on one database; a Slurm job array of shards and its merge job on a real single-node Slurm cluster —
/// gives the same trials, each trained once, with bit-identical per-epoch metrics (one thread
/// each). A Slurm task requeued mid-trial resumes its trial and finishes bit-identically.
final class ClusterTests: XCTestCase {
    var root: URL!
    var binary: URL!

    override func setUpWithError() throws {
        binary = try builtBinary()
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root, train: 300, test: 100)
    }

    override func tearDownWithError() throws { if let root { try? FileManager.default.removeItem(at: root) } }

    /// A study of `seeds.count` trials (one per seed) with translation and dropout (every epoch
    /// draws from the generator), written to `<root>/<name>.json`.
    func studyFile(_ name: String, seeds: [Int], epochs: Int) throws -> String {
        let url = root.appendingPathComponent("\(name).json")
        try SyntheticDigits.study(name: name, epochs: epochs, augmentation: #"{"translate": 2}"#, extra: #""seeds": \#(seeds)"#).write(to: url)
        return url.path
    }

    func runArguments(_ study: String, db: String) -> [String] {
        ["run", study, "--db", db, "--data-dir", root.path, "--threads", "1", "--no-fetch", "--no-maps"]
    }

    /// Per trial id, the per-epoch metrics (not times) of a database's finished trials.
    func metrics(_ db: String) throws -> [String: [[Double?]]] {
        let store = try ResultsStore.openExisting(path: db)
        var result: [String: [[Double?]]] = [:]
        for trial in try store.trials() {
            XCTAssertEqual(trial.status, .finished, "\(db): \(trial.shortId)")
            result[trial.id] = try store.epochs(trialId: trial.id).map {
                [Double($0.epoch), $0.trainLoss, $0.trainAccuracy, $0.testLoss, $0.testAccuracy, $0.learningRate]
            }
        }
        return result
    }

    /// How many times each trial started training, from the runs' output: the lines
    /// "[i/n] <short id> <label>: E epochs[, resuming after epoch k]".
    func starts(in outputs: [String], of ids: [String]) -> [String: Int] {
        let lines = outputs.flatMap { $0.components(separatedBy: "\n") }
        return Dictionary(uniqueKeysWithValues: ids.map { id in
            (id, lines.filter { $0.contains("] \(id.prefix(10)) ") && $0.range(of: #": [0-9]+ epochs?($|, resuming)"#, options: .regularExpression) != nil }.count)
        })
    }

    /// Metrics of the one-process run of each study, computed once per test process.
    nonisolated(unsafe) static var references: [String: [String: [[Double?]]]] = [:]

    /// The per-epoch metrics of a study run by one process (computed once per study file content).
    func reference(_ study: String) throws -> [String: [[Double?]]] {
        let key = try String(contentsOfFile: study, encoding: .utf8)
        if let known = Self.references[key] { return known }
        let db = root.appendingPathComponent("one/results.sqlite").path
        let (status, output) = try runProcess(binary, runArguments(study, db: db))
        XCTAssertEqual(status, 0, output)
        let result = try metrics(db)
        Self.references[key] = result
        return result
    }

    /// Concurrent processes (four, or two more than this machine's cores if that is more), all
    /// started before any is waited for, on one database share the study: every process ends
    /// with 0 (all finished) or 3 (the rest was another live process's), each trial is trained
    /// by exactly one of them, with the metrics of the one-process run.
    func concurrentProcesses(_ study: String, reference: [String: [[Double?]]]) throws {
        let db = root.appendingPathComponent("concurrent/results.sqlite").path
        let count = max(4, ProcessInfo.processInfo.activeProcessorCount + 2)
        var processes: [(Process, URL)] = []
        for k in 0..<count {
            let p = Process(), log = root.appendingPathComponent("concurrent-\(k).log")
            XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil))
            let handle = try FileHandle(forWritingTo: log)
            p.executableURL = binary
            p.arguments = runArguments(study, db: db)
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            processes.append((p, log))
        }
        XCTAssertTrue(processes.allSatisfy { $0.0.isRunning }, "\(count) processes at once")
        var results: [(Int32, String)] = []
        for (p, log) in processes {
            p.waitUntilExit()
            results.append((p.terminationStatus, try String(contentsOf: log, encoding: .utf8)))
        }
        for (status, output) in results { XCTAssertTrue(status == 0 || status == 3, "exit \(status): \(output)") }
        XCTAssertTrue(results.contains { $0.0 == 0 }, "the last one to end saw every trial finished")
        XCTAssertEqual(try metrics(db), reference, "bit-identical to the one-process run")
        XCTAssertEqual(Set(starts(in: results.map(\.1), of: Array(reference.keys)).values), [1], "each trial trained once")
    }

    func testConcurrentProcessesOnOneDatabase() throws {
        let study = try studyFile("tiny", seeds: [1, 2, 3, 4, 5], epochs: 2)
        let reference = try reference(study)
        XCTAssertEqual(reference.count, 5)
        try concurrentProcesses(study, reference: reference)
    }

    // MARK: - Slurm

    /// Starts the project's single-node test cluster (scripts/slurm-test-cluster.sh) and stops
    /// its daemons, by PID, when the test ends. Skips where Slurm cannot run (not root, not installed).
    func startCluster() throws -> [String: String] {
        try XCTSkipUnless(getuid() == 0, "the Slurm test cluster runs its daemons as root")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld")
                          && FileManager.default.isExecutableFile(atPath: "/usr/sbin/munged"),
                          "Slurm is not installed (apt-get install slurm-wlm munge)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/slurm-test-cluster.sh")
        let folder = root.appendingPathComponent("cluster").path
        let (status, output) = try runProcess(script, ["start", folder])
        addTeardownBlock { _ = try? runProcess(script, ["stop", folder]) }
        XCTAssertEqual(status, 0, output)
        guard status == 0 else { throw XCTSkip("the test cluster did not start: \(output)") }
        return ["SLURM_CONF": folder + "/slurm.conf"]
    }

    func scontrol(_ arguments: [String], _ environment: [String: String]) throws -> String {
        let (status, output) = try runProcess(URL(fileURLWithPath: "/usr/bin/scontrol"), arguments, environment: environment)
        XCTAssertEqual(status, 0, "scontrol \(arguments): \(output)")
        return output
    }

    /// Waits (up to `timeout` seconds) until a job reaches `state`; fails on a final state that is not it.
    func wait(job: String, state: String, _ environment: [String: String], timeout: Double = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var shown = ""
        while Date() < deadline {
            shown = try scontrol(["show", "job", job], environment)
            if shown.contains("JobState=\(state) ") { return }
            for final in ["FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"] where shown.contains("JobState=\(final) ") {
                return XCTFail("job \(job) ended \(final): \(shown)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("job \(job) did not reach \(state) in \(timeout) s: \(shown)")
    }

    /// Submits a study with `nin-study slurm --submit`; returns the array and merge job ids and the job's folder.
    func submit(_ study: String, tasks: Int, db: String, _ environment: [String: String]) throws -> (array: String, merge: String, folder: String) {
        let (status, output) = try runProcess(binary, ["slurm", study, "--tasks", "\(tasks)", "--cpus-per-task", "1", "--db", db,
                                                       "--data-dir", root.path, "--no-fetch", "--submit"], environment: environment)
        XCTAssertEqual(status, 0, output)
        func id(_ prefix: String) -> String {
            output.components(separatedBy: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count).prefix { $0.isNumber }) } ?? ""
        }
        XCTAssertTrue(output.contains("merged database \(db)"), output)
        let name = ((study as NSString).lastPathComponent as NSString).deletingPathExtension
        return (id("submitted array job "), id("submitted merge job "), (db as NSString).deletingLastPathComponent + "/slurm/\(name)")
    }

    func logs(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder + "/logs").filter { $0.hasPrefix("array-") }.sorted()
            .map { try String(contentsOfFile: folder + "/logs/" + $0, encoding: .utf8) }
    }

    /// The third way: a Slurm array of 3 shards then merge, against the same one-process run
    /// as the concurrent processes above.
    func testSlurmArrayThenMergeMatchesOneProcess() throws {
        let environment = try startCluster()
        let study = try studyFile("tiny", seeds: [1, 2, 3, 4, 5], epochs: 2)
        let reference = try reference(study)
        XCTAssertEqual(reference.count, 5)

        let start = Date()
        let merged = root.appendingPathComponent("slurm-run/results.sqlite").path
        let job = try submit(study, tasks: 3, db: merged, environment)
        try wait(job: job.merge, state: "COMPLETED", environment)
        print("Slurm array of 3 shards and merge: \(String(format: "%.1f", Date().timeIntervalSince(start))) s wall time")
        XCTAssertEqual(try metrics(merged), reference, "bit-identical to the one-process run, same trial set")
        let shardLogs = try logs(job.folder)
        XCTAssertEqual(shardLogs.count, 3)
        XCTAssertEqual(Set(starts(in: shardLogs, of: Array(reference.keys)).values), [1], "each trial trained once, in one shard")
        // The shards' own databases hold disjoint trial sets that make up the study.
        let shardTrials = try (1...3).map { k in try Set(ResultsStore.openExisting(path: job.folder + "/shard-\(k)-of-3.sqlite").trials().map(\.id)) }
        XCTAssertEqual(shardTrials.map(\.count).reduce(0, +), 5)
        XCTAssertEqual(shardTrials.reduce(Set<String>()) { $0.union($1) }, Set(reference.keys))
        // Artifacts open from the merged database (maps in the shards' folders, checkpoints copied).
        let store = try ResultsStore.openExisting(path: merged)
        for id in reference.keys {
            let artifacts = try store.artifacts(trialId: id)
            XCTAssertTrue(artifacts.contains { $0.kind == .checkpoint } && artifacts.contains { $0.kind == .confidenceMap })
            for a in artifacts { XCTAssertEqual(store.fileState(of: a), .matches, a.path) }
        }
    }

    /// A task requeued mid-trial (SIGTERM, then pending with Reason=BeginTime until started
    /// again) resumes from its last epoch checkpoint and ends bit-identical to an uninterrupted run.
    func testSlurmTaskRequeuedMidTrialFinishesBitIdentically() throws {
        let environment = try startCluster()
        let study = try studyFile("long", seeds: [1], epochs: 5)
        let reference = try reference(study)
        let merged = root.appendingPathComponent("slurm-requeue/results.sqlite").path
        let job = try submit(study, tasks: 1, db: merged, environment)
        let task = "\(job.array)_1"
        let shard = job.folder + "/shard-1-of-1.sqlite"
        let deadline = Date().addingTimeInterval(60)
        var epochs = 0
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: shard),
               let trial = try? ResultsStore.openExisting(path: shard).trials().first, trial.status == .running {
                epochs = trial.epochsDone
                if epochs >= 1 { break }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertGreaterThanOrEqual(epochs, 1)
        _ = try scontrol(["requeue", task], environment)
        try wait(job: task, state: "PENDING", environment, timeout: 60)
        XCTAssertTrue(try scontrol(["show", "job", task], environment).contains("Reason=BeginTime"))
        _ = try scontrol(["update", "jobid=\(task)", "starttime=now"], environment)
        try wait(job: job.merge, state: "COMPLETED", environment)
        XCTAssertEqual(try metrics(merged), reference)
        let log = try logs(job.folder).joined()
        XCTAssertTrue(log.contains("SIGTERM: stopping after this mini-batch"), log)
        XCTAssertTrue(log.contains("restart 1"), log)
        let resumed = log.components(separatedBy: "resuming after epoch ").dropFirst().first.map { Int($0.prefix { $0.isNumber }) ?? 0 } ?? 0
        XCTAssertTrue((1..<5).contains(resumed), "the requeued task resumed mid-trial: \(log)")
    }

    /// Item 1 of issue 21: in a 4-task array one task is SIGKILLed mid-trial (Slurm records it
    /// FAILED). The merge job merges what the shards hold, names every trial of the study that is
    /// not finished, by shard, and ends FAILED (exit 1); `report` counts "N of M trials of the study".
    func testASlurmTaskKilledMidTrialFailsTheMergeJobNamingItsTrials() throws {
        let environment = try startCluster()
        let study = try studyFile("killed", seeds: Array(1...8), epochs: 3)
        let definition = try StudyDefinition.load(path: study)
        let merged = root.appendingPathComponent("slurm-killed/results.sqlite").path
        let job = try submit(study, tasks: 4, db: merged, environment)
        // A shard with a trial running that has recorded an epoch: its process is the task's (the script execs).
        var victim: (shard: Int, trial: TrialRecord)?
        let deadline = Date().addingTimeInterval(120)
        while victim == nil, Date() < deadline {
            for k in 1...4 {
                let path = job.folder + "/shard-\(k)-of-4.sqlite"
                if FileManager.default.fileExists(atPath: path),
                   let trial = try? ResultsStore.openReadOnly(path: path).trials().first(where: { $0.status == .running && $0.epochsDone >= 1 }) {
                    victim = (k, trial)
                    break
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let (shard, trial) = try XCTUnwrap(victim, "no shard trained a trial within 2 minutes")
        XCTAssertEqual(kill(try XCTUnwrap(trial.pid), SIGKILL), 0)
        try wait(job: "\(job.array)_\(shard)", state: "FAILED", environment)
        try wait(job: job.merge, state: "FAILED", environment, timeout: 600)
        let mergeLog = try FileManager.default.contentsOfDirectory(atPath: job.folder + "/logs").filter { $0.hasPrefix("merge-") }
            .map { try String(contentsOfFile: job.folder + "/logs/" + $0, encoding: .utf8) }.joined()
        let killed = try XCTUnwrap(definition.trials.first { $0.id == trial.id })
        XCTAssertTrue(mergeLog.contains("  shard \(shard)/4: \(trial.id.prefix(10)) \(killed.label): interrupted"), mergeLog)
        let ended = try ResultsStore.openReadOnly(path: merged).trials(study: "killed").filter { $0.status == .finished }.count
        XCTAssertLessThan(ended, 8)
        XCTAssertTrue(mergeLog.contains("study killed: \(ended) of 8 trials of the study ended (\(ended) finished, 0 failed, \(8 - ended) unfinished"), mergeLog)
        // Every trial not finished is named, each under the shard that runs it.
        let gaps = mergeLog.components(separatedBy: "\n").filter { $0.hasPrefix("  shard ") }
        XCTAssertEqual(gaps.count, 8 - ended, mergeLog)
        for line in gaps {
            let t = try XCTUnwrap(definition.trials.first { line.contains(" \($0.id.prefix(10)) ") }, line)
            XCTAssertTrue(line.hasPrefix("  shard \(Shard.assignment(trialId: t.id, count: 4))/4: "), line)
        }
        let (status, text) = try runProcess(binary, ["report", "--db", merged, "--format", "text"])
        XCTAssertEqual(status, 0, text)
        let counts = try XCTUnwrap(text.components(separatedBy: "\n").first { $0.hasPrefix("8 of 8 trials of the study: ") }, text)
        XCTAssertTrue(counts.contains(" \(ended) finished") && counts.contains("1 interrupted"), counts)
    }

    /// Item 1 of issue 21, without a cluster: a shard whose run died on a bad --data-dir leaves a
    /// database without the study; merge still knows the study's full trial set from the other
    /// shard's definition, names each missing trial under its shard, and exits 1.
    func testMergeNamesTheMissingTrialsOfAShardThatRecordedNothing() throws {
        let study = try studyFile("split", seeds: [1, 2, 3, 4, 5, 6], epochs: 1)
        let definition = try StudyDefinition.load(path: study)
        let shards = (1...2).map { root.appendingPathComponent("split/shard-\($0)-of-2.sqlite").path }
        let (ok, okOutput) = try runProcess(binary, runArguments(study, db: shards[0]) + ["--shard", "1/2"])
        XCTAssertEqual(ok, 0, okOutput)
        let empty = root.appendingPathComponent("no-data")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let (bad, badOutput) = try runProcess(binary, ["run", study, "--shard", "2/2", "--db", shards[1], "--data-dir", empty.path,
                                                       "--no-fetch", "--no-maps"], environment: ["NIN_DATA_DIR": empty.path])
        XCTAssertEqual(bad, 2, badOutput)
        if !FileManager.default.fileExists(atPath: shards[1]) { _ = try ResultsStore(path: shards[1]) }
        let merged = root.appendingPathComponent("split/merged.sqlite").path
        let (status, output) = try runProcess(binary, ["merge", "--into", merged] + shards)
        XCTAssertEqual(status, 1, output)
        let missing = definition.trials.filter { Shard.assignment(trialId: $0.id, count: 2) == 2 }
        XCTAssertFalse(missing.isEmpty)
        XCTAssertTrue(output.contains("study split: \(6 - missing.count) of 6 trials of the study ended (\(6 - missing.count) finished, 0 failed, \(missing.count) missing); not ended:"), output)
        for t in missing {
            XCTAssertTrue(output.contains("  shard 2/2: \(t.id.prefix(10)) \(t.label): missing (in no database"), output)
        }
        XCTAssertFalse(output.contains("shard 1/2:"), output)
        let (_, text) = try runProcess(binary, ["report", "--db", merged, "--format", "text"])
        XCTAssertTrue(text.contains("\(6 - missing.count) of 6 trials of the study: \(6 - missing.count) finished, \(missing.count) missing"), text)
        // Both shards complete: exit 0.
        let (again, againOutput) = try runProcess(binary, runArguments(study, db: shards[1]) + ["--shard", "2/2"])
        XCTAssertEqual(again, 0, againOutput)
        let (complete, completeOutput) = try runProcess(binary, ["merge", "--into", merged] + shards)
        XCTAssertEqual(complete, 0, completeOutput)
        XCTAssertTrue(completeOutput.contains("study split: 6 of 6 trials of the study ended (6 finished, 0 failed)"), completeOutput)
    }
}
