import XCTest
import ArgumentParser
import GRDB
@testable import NINStore
import NINEngine
@testable import NINRender
@testable import NINStudy
@testable import nin_study

/// The command-line tool: argument parsing, and whole runs through the CLI entry point and the
/// built binary.
final class CommandLineTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func write(_ data: Data, _ name: String) throws -> String {
        let url = root.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func testArgumentParsing() throws {
        let run = try XCTUnwrap(NINStudyCommand.parseAsRoot(["run", "s.json", "--db", "x.sqlite", "--threads", "3", "--only", "model.head=gap", "--dry-run", "--no-maps"]) as? NINStudyCommand.Run)
        XCTAssertEqual(run.study, "s.json")
        XCTAssertEqual(run.database.databasePath, "x.sqlite")
        XCTAssertEqual(run.threading.threads, 3)
        XCTAssertEqual(run.only, "model.head=gap")
        XCTAssertTrue(run.dryRun && run.noMaps && !run.retryFailed)
        let defaults = try XCTUnwrap(NINStudyCommand.parseAsRoot(["run", "s.json"]) as? NINStudyCommand.Run)
        XCTAssertEqual(defaults.database.databasePath, "results/results.sqlite")
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["run"]), "the study argument is required")
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["run", "s.json", "--threads", "0"])) {
            XCTAssertTrue(NINStudyCommand.message(for: $0).contains("--threads must be at least 1"), NINStudyCommand.message(for: $0))
        }
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["maps", "abc", "--threads", "0"]), "one --threads option, checked the same everywhere")
        // A negative count written with a space is read as the option's value, not as an unknown
        // option ("Missing value for '--threads'" before), so the message says what is wrong.
        for (arguments, expected) in [(["run", "s.json", "--threads", "-1"], "--threads must be at least 1, found -1"),
                                      (["verify", "abc", "--epochs", "-2"], "--epochs must be at least 1, found -2"),
                                      (["verify", "abc", "--threads", "-3"], "--threads must be at least 1, found -3")] {
            XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(arguments)) {
                XCTAssertTrue(NINStudyCommand.message(for: $0).contains(expected), "\(arguments): \(NINStudyCommand.message(for: $0))")
            }
        }
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["data", "list", "--data-dir", "/nonexistent-nin-folder"]))
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["maps", "abc", "--top-percent", "0"]))
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["maps", "abc", "--images", "1,x"]))
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["data", "fetch", "svhn"]))
        XCTAssertNoThrow(try NINStudyCommand.parseAsRoot(["data", "fetch", "fashion-mnist"]))
        XCTAssertNoThrow(try NINStudyCommand.parseAsRoot(["bench", "--model", "mnist", "--json"]))
        let bench = try XCTUnwrap(NINStudyCommand.parseAsRoot(["bench", "--precision", "bf16", "--gemm", "matmul"]) as? NINStudyCommand.Bench)
        XCTAssertEqual(bench.precision, .bf16)
        XCTAssertEqual(bench.gemm, .matmul)
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["bench", "--precision", "fp16"]))
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["bench", "--gemm", "blas"]))
    }

    /// A whole study through the CLI entry point: run, list, show, maps; bad input exits 2.
    func testRunListShowMapsThroughTheEntryPoint() throws {
        let study = try write(SyntheticDigits.study(epochs: 1, extra: #""sweep": {"model.head": ["gap", "fc"]}"#), "tiny.json")
        let db = root.appendingPathComponent("out/results.sqlite").path
        var run = try NINStudyCommand.parseAsRoot(["run", study, "--db", db, "--data-dir", root.path, "--threads", "2", "--no-fetch"])
        XCTAssertNoThrow(try run.run())

        let store = try ResultsStore(path: db)
        let trials = try store.trialSummaries(study: "tiny")
        XCTAssertEqual(trials.count, 2)
        XCTAssertEqual(Set(trials.map(\.status)), [.finished])
        XCTAssertEqual(Set(trials.compactMap(\.head)), ["gap", "fc"])
        // run's summary ends with the trials it finished, as recorded, and where the answer is.
        let runCommand = try XCTUnwrap(run as? NINStudyCommand.Run)
        var summary = RunSummary()
        summary.finished = trials.map(\.trialId)
        let text = runCommand.summaryText(summary, study: try StudyDefinition.load(path: study))
        for t in trials {
            let row = try XCTUnwrap(text.split(separator: "\n").first { $0.contains(t.shortId) }, text)
            XCTAssertTrue(row.contains(String(format: "%.2f", try XCTUnwrap(t.testError))), "\(row)")
            XCTAssertTrue(row.contains("model.head=\(t.head ?? "")"), "\(row)")
        }
        XCTAssertTrue(text.contains("2 trials trained in "), text)
        XCTAssertTrue(text.contains("the answer: \(runCommand.invokedBinary) report tiny --format text --db \(db)"), text)
        // Run again, everything skipped: no table, still the way to the answer.
        summary.finished = []
        summary.skipped = trials.map(\.trialId)
        let again = runCommand.summaryText(summary, study: try StudyDefinition.load(path: study))
        XCTAssertFalse(again.contains("trained in"), again)
        XCTAssertTrue(again.contains("report tiny --format text"), again)
        // The class names are stored with the dataset.
        let classNames = try store.dbWriter.read { db in try String.fetchAll(db, sql: "SELECT class_names_json FROM datasets") }
        XCTAssertEqual(classNames, [#"["0","1","2","3","4","5","6","7","8","9"]"#])
        for t in trials {
            XCTAssertEqual(try store.epochs(trialId: t.trialId).count, 1)
            let kinds = Set(try store.artifacts(trialId: t.trialId).map(\.kind))
            XCTAssertEqual(kinds, [.checkpoint, .confidenceMap, .confidenceMapTop, .learningCurve])
            for a in try store.artifacts(trialId: t.trialId) where a.kind != .checkpoint {
                XCTAssertFalse(a.path.hasPrefix("/"), "stored relative to the database folder: \(a.path)")
                let image = try PNG.read(from: URL(fileURLWithPath: store.resolvedArtifactPath(a.path)))
                XCTAssertGreaterThan(image.width, 100)
            }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("out/maps/results/tiny/learning-curves.png").path))

        try checkListRecoversAKilledRunReadOnly(store: store, db: db, trials: trials)
        try checkShowAndMaps(store: store, db: db, trials: trials)
        try checkBadInputExitsTwo(study: study, db: db)
    }

    /// `list` of the tiny study, then of a run killed mid-trial: `list` shows it interrupted (as
    /// `run` would record it) and, opening read-only, leaves the file as it was.
    func checkListRecoversAKilledRunReadOnly(store: ResultsStore, db: String, trials: [TrialSummary]) throws {
        let list = try XCTUnwrap(NINStudyCommand.parseAsRoot(["list", "--db", db]) as? NINStudyCommand.List)
        let listing = try list.text(store: store)
        XCTAssertTrue(listing.hasPrefix("tiny: 2 trials"), listing)
        for t in trials {
            let row = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasPrefix(t.shortId) }, listing)
            XCTAssertTrue(row.contains("finished") && row.contains(t.head ?? "?") && row.contains("1/1"), String(row))
        }
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try store.dbWriter.write { db in
            try db.execute(sql: "UPDATE trials SET status = 'running', host = ?, pid = ?, wall_seconds = NULL WHERE id = ?",
                           arguments: [ProcessInfo.processInfo.hostName, gone.processIdentifier, trials[1].trialId])
        }
        var listAgain = try NINStudyCommand.parseAsRoot(["list", "--db", db])
        XCTAssertNoThrow(try listAgain.run())
        let readOnly = try ResultsStore.openReadOnly(path: db)
        XCTAssertTrue(try list.text(store: readOnly).split(separator: "\n").contains { $0.hasPrefix(trials[1].shortId) && $0.contains("interrupted") })
        let recovered = try XCTUnwrap(readOnly.trial(id: trials[1].trialId))
        XCTAssertEqual(recovered.status, .interrupted)
        XCTAssertEqual(recovered.wallSeconds, try store.epochs(trialId: trials[1].trialId).first?.wallSeconds)
        XCTAssertEqual(try store.trial(id: trials[1].trialId)?.status, .running, "list wrote into the database")
    }

    /// `show` of a finished trial, and `maps` for other images and other dataset files.
    func checkShowAndMaps(store: ResultsStore, db: String, trials: [TrialSummary]) throws {
        let show = try XCTUnwrap(NINStudyCommand.parseAsRoot(["show", String(trials[0].trialId.prefix(6)), "--db", db]) as? NINStudyCommand.Show)
        let shown = try show.text(store: store)
        let epoch1 = try XCTUnwrap(store.epochs(trialId: trials[0].trialId).first)
        for expected in ["trial \(trials[0].trialId)", "studies: tiny", "status: finished", "\"head\" : \"\(trials[0].head ?? "?")\"",
                         "train-images-idx3-ubyte", "checkpoint: ", "confidence-map: ",
                         String(format: "%.4f", epoch1.trainLoss ?? .nan)] {
            XCTAssertTrue(shown.contains(expected), "show lacks \(expected):\n\(shown)")
        }
        XCTAssertFalse(shown.contains("— missing"), shown)
        let mapsFolder = root.appendingPathComponent("out/maps/results/tiny/\(trials[0].trialId)")
        let runSheet = try Data(contentsOf: mapsFolder.appendingPathComponent("confidence-maps.png"))
        var maps = try NINStudyCommand.parseAsRoot(["maps", String(trials[0].trialId.prefix(8)), "--db", db, "--data-dir", root.path, "--images", "0,1,2"])
        XCTAssertNoThrow(try maps.run())
        // Other images get their own sheets; the run's sheet is left as it was.
        XCTAssertEqual(try PNG.read(from: mapsFolder.appendingPathComponent("confidence-maps-images-0-1-2-top10.png")).width,
                       try PNG.read(from: mapsFolder.appendingPathComponent("confidence-maps-images-0-1-2.png")).width)
        XCTAssertEqual(try Data(contentsOf: mapsFolder.appendingPathComponent("confidence-maps.png")), runSheet)
        // Dataset files other than those the trial trained on are refused, naming the files.
        let other = root.appendingPathComponent("other")
        try SyntheticDigits.write(to: other, seed: 8)
        XCTAssertThrowsError(try TrialMaps.render(record: XCTUnwrap(store.trial(id: trials[0].trialId)), store: store, databasePath: db,
                                                  dataDir: other.path, indices: nil, topPercent: 10, output: nil, threads: 1)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("trained on other dataset files"), message)
            XCTAssertTrue(message.contains("t10k-images-idx3-ubyte: recorded "), message)
        }

    }

    /// Bad input: one clear message and exit status 2; a missing dataset registers nothing.
    func checkBadInputExitsTwo(study: String, db: String) throws {
        let bad = try write(Data(#"{"name": "bad", "dataset": {"name": "mnist"}, "model": {"depth": "two"}, "training": {"epochs": 1, "learningRate": 1}}"#.utf8), "bad.json")
        var badRun = try NINStudyCommand.parseAsRoot(["run", bad, "--db", db])
        XCTAssertThrowsError(try badRun.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        var unknown = try NINStudyCommand.parseAsRoot(["show", "ffffffffff", "--db", db])
        XCTAssertThrowsError(try unknown.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["run", study, "--data-dir", root.appendingPathComponent("typo").path])) {
            XCTAssertTrue(NINStudyCommand.message(for: $0).contains("is not an existing folder"), NINStudyCommand.message(for: $0))
        }
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var missingData = try NINStudyCommand.parseAsRoot(["run", study, "--db", root.appendingPathComponent("other.sqlite").path,
                                                             "--data-dir", empty.path, "--no-fetch"])
        setenv("NIN_DATA_DIR", empty.path, 1)
        defer { unsetenv("NIN_DATA_DIR") }
        XCTAssertThrowsError(try missingData.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        // Nothing was registered, nor a database created: no study with pending trials that never ran.
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("other.sqlite").path))
    }

    /// `show` refuses a finished trial's checkpoint whose SHA-256 is not the recorded one.
    func testShowRefusesACheckpointThatIsNotTheRecordedOne() throws {
        let study = try write(SyntheticDigits.study(epochs: 1), "one.json")
        let db = root.appendingPathComponent("s/results.sqlite").path
        var run = try NINStudyCommand.parseAsRoot(["run", study, "--db", db, "--data-dir", root.path, "--threads", "1", "--no-fetch", "--no-maps"])
        XCTAssertNoThrow(try run.run())
        let trial = try XCTUnwrap(ResultsStore(path: db).trials().first)
        var show = try NINStudyCommand.parseAsRoot(["show", trial.shortId, "--db", db])
        XCTAssertNoThrow(try show.run())
        let checkpoint = root.appendingPathComponent("s/checkpoints/results/\(trial.id).ckpt")
        var bytes = try Data(contentsOf: checkpoint)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: checkpoint)
        var again = try NINStudyCommand.parseAsRoot(["show", trial.shortId, "--db", db])
        XCTAssertThrowsError(try again.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
    }

    /// Output that cannot be written and inputs that do not exist fail before anything is written:
    /// `report --out` a file (or a folder under one), `report` with one unknown study among known
    /// ones, `merge` with a missing input.
    func testBadOutputFoldersAndInputsWriteNothing() throws {
        let study = try write(SyntheticDigits.study(epochs: 1), "out.json")
        let db = root.appendingPathComponent("o/results.sqlite").path
        var run = try NINStudyCommand.parseAsRoot(["run", study, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps"])
        XCTAssertNoThrow(try run.run())
        let name = try XCTUnwrap(ResultsStore(path: db).studies().first?.name)
        let file = root.appendingPathComponent("afile").path
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        for out in [file, file + "/sub"] {
            var report = try NINStudyCommand.parseAsRoot(["report", name, "--db", db, "--out", out])
            XCTAssertThrowsError(try report.run(), out) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), Data("x".utf8))
        let out = root.appendingPathComponent("reports").path
        var partial = try NINStudyCommand.parseAsRoot(["report", name, "nosuchstudy", "--db", db, "--out", out])
        XCTAssertThrowsError(try partial.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a report was written before the unknown study was found")
        var whole = try NINStudyCommand.parseAsRoot(["report", name, "--db", db, "--out", out])
        XCTAssertNoThrow(try whole.run())
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/\(name)/index.html"))
        let merged = root.appendingPathComponent("m/merged.sqlite").path
        var merge = try NINStudyCommand.parseAsRoot(["merge", "--into", merged, db, root.appendingPathComponent("missing.sqlite").path])
        XCTAssertThrowsError(try merge.run()) { XCTAssertEqual(($0 as? ExitCode)?.rawValue, 2) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: merged), "merge created its output before checking its inputs")
    }

    /// The built binary, as a user runs it: exit codes and the failure summary.
    func testBinaryExitStatus() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        let study = try write(SyntheticDigits.study(epochs: 1, extra: #""sweep": {"training.learningRate": [100000000, 0.05]}"#), "mixed.json")
        let db = root.appendingPathComponent("bin/results.sqlite").path
        let (status, output) = try runProcess(binary, ["run", study, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps"])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("1 failed"), output)
        XCTAssertTrue(output.contains("diverged"), output)
        let (status2, output2) = try runProcess(binary, ["run", root.appendingPathComponent("missing.json").path])
        XCTAssertEqual(status2, 2, output2)
        XCTAssertTrue(output2.contains("error: cannot read study file"), output2)
        XCTAssertFalse(output2.contains("Fatal error"), output2)
        // Invalid options are option errors (64), not failed trials (1) or bad input files (2).
        for arguments in [["run", study, "--shard", "4/3"], ["run", study, "--shard", "abc"], ["slurm", study, "--tasks", "0"],
                          ["slurm", study, "--tasks", "2", "--time", "1:00"], ["slurm", study, "--tasks", "2", "--mem", "4X"]] {
            let (status3, output3) = try runProcess(binary, arguments)
            XCTAssertEqual(status3, 64, "\(arguments): \(output3)")
        }
    }

    /// A FIFO in place of a dataset file: `data verify` and `run` (as whatever user runs the
    /// tests, root on CI) exit 2 promptly with a message naming the file and what it is.
    func testBinaryRefusesAFIFOInPlaceOfADatasetFile() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        let victim = root.appendingPathComponent("mnist/train-images-idx3-ubyte").path
        try FileManager.default.removeItem(atPath: victim)
        XCTAssertEqual(mkfifo(victim, 0o644), 0)
        let study = try write(SyntheticDigits.study(epochs: 1), "fifo.json")
        for arguments in [["data", "verify", "mnist", "--data-dir", root.path],
                          ["run", study, "--db", root.appendingPathComponent("fifo.sqlite").path, "--data-dir", root.path,
                           "--no-fetch", "--no-maps"]] {
            let (status, output) = try runProcess(binary, arguments, timeout: 60)
            XCTAssertNotEqual(status, 0, output)
            XCTAssertLessThan(status, 128, output)
            XCTAssertTrue(output.contains(victim) && output.contains("FIFO"), output)
            XCTAssertFalse(output.contains("permission") || output.contains("error 256"), output)
        }
    }
}

/// Runs a program to completion; returns its exit status and its standard output and error.
/// With `timeout` (seconds), a program still running then is killed (SIGKILL: status 137, which
/// the caller's "below 128" assertion reports as a hang).
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                timeout: Double? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    if let timeout {
        let pid = p.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [p] in if p.isRunning { kill(pid, SIGKILL) } }
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The `nin-study` binary built beside the test bundle; the test is skipped when there is none.
func builtBinary() throws -> URL {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
    return binary
}
