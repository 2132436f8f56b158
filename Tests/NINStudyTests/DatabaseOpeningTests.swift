import XCTest
import GRDB
import NINStore
@testable import NINStudy

/// Issue 21, items 3, 7 and 10, mostly through the built binary as a user runs it: read-only
/// commands leave a results database's bytes unchanged, files without nin-study's schema are
/// refused in one line and left untouched; a database on a network filesystem is warned about;
/// the small option and exit-status rules.
final class DatabaseOpeningTests: XCTestCase {
    var root: URL!
    var binary: URL!

    override func setUpWithError() throws {
        binary = try builtBinary()
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
    }

    override func tearDownWithError() throws { if let root { try? FileManager.default.removeItem(at: root) } }

    func digest(_ path: String) throws -> String { sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func studyFile(_ name: String = "tiny", extra: String = "") throws -> String {
        let path = root.appendingPathComponent("\(name).json").path
        try SyntheticDigits.study(name: name, epochs: 1, extra: extra).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Item 3: `list`, `show`, `report` and `maps` open the database read-only: its SHA-256 is
    /// the same before and after (`maps` used to record the sheets it rendered).
    func testReadOnlyCommandsLeaveTheDatabaseBytesUnchanged() throws {
        let db = root.appendingPathComponent("ro/results.sqlite").path
        let (status, output) = try runProcess(binary, ["run", try studyFile(), "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps", "--threads", "1"])
        XCTAssertEqual(status, 0, output)
        let trial = try XCTUnwrap(ResultsStore.openReadOnly(path: db).trials().first?.id)
        let before = try digest(db)
        for arguments in [["list"], ["show", String(trial.prefix(8))], ["report", "--format", "text"],
                          ["maps", String(trial.prefix(8)), "--data-dir", root.path, "--threads", "1",
                           "--output", root.appendingPathComponent("sheets").path]] {
            let (s, out) = try runProcess(binary, arguments + ["--db", db])
            XCTAssertEqual(s, 0, "\(arguments): \(out)")
            XCTAssertEqual(try digest(db), before, "\(arguments) changed the database file")
        }
        let store = try ResultsStore.openReadOnly(path: db)
        XCTAssertThrowsError(try store.heartbeat(trialId: trial)) {
            XCTAssertEqual($0 as? StoreError, .readOnly(path: db, operation: "heartbeat of trial \(trial.prefix(10))"))
        }
    }

    /// An Optuna-like SQLite database (its own `studies` and `trials` tables, no nin-study
    /// schema), written with plain SQL.
    func optunaLikeFile() throws -> String {
        let path = root.appendingPathComponent("optuna.db").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
                INSERT INTO alembic_version VALUES ('v3.2.0.a');
                CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name VARCHAR(512) NOT NULL UNIQUE);
                CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, number INTEGER, study_id INTEGER REFERENCES studies, state VARCHAR(8));
                INSERT INTO studies VALUES (1, 'lr-sweep');
                INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE');
                """)
        }
        try queue.close()
        return path
    }

    /// Item 3: a file without nin-study's schema (an Optuna database, random bytes, an empty file
    /// for the read-only commands) is refused by every command with one line naming it, and its
    /// bytes are unchanged; no command leaves a `grdb_migrations` table or nin-study's tables in it.
    func testFilesWithoutOurSchemaAreRefusedInOneLineAndLeftUntouched() throws {
        let study = try studyFile()
        let random = root.appendingPathComponent("random.bin").path
        var generator = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: random))
        let zero = root.appendingPathComponent("zero.sqlite").path
        XCTAssertTrue(FileManager.default.createFile(atPath: zero, contents: Data()))
        let optuna = try optunaLikeFile()
        let ours = root.appendingPathComponent("ours.sqlite").path
        _ = try ResultsStore(path: ours)
        for (file, writersToo) in [(optuna, true), (random, true), (zero, false)] {
            let before = try digest(file)
            var commands = [["list"], ["show", "abc"], ["report"], ["maps", "abc"]].map { $0 + ["--db", file] }
            commands.append(["merge", "--into", root.appendingPathComponent("merged-\(UUID()).sqlite").path, file])
            if writersToo {
                commands.append(["run", study, "--db", file, "--data-dir", root.path, "--no-fetch", "--no-maps"])
                commands.append(["merge", "--into", file, ours])
            }
            for arguments in commands {
                let (status, output) = try runProcess(binary, arguments)
                XCTAssertEqual(status, 2, "\(arguments): \(output)")
                let expected = "error: \(file) is not a nin-study results database"
                XCTAssertEqual(output.split(separator: "\n").filter { $0.hasPrefix("error") }, [Substring(expected)], "\(arguments): \(output)")
                XCTAssertLessThanOrEqual(output.split(separator: "\n").count, 2, "\(arguments): one line, not a schema dump: \(output)")
                XCTAssertEqual(try digest(file), before, "\(arguments) changed \(file)")
            }
        }
        // A 0-byte file is a new database for `run`, which creates the schema in it.
        let (status, output) = try runProcess(binary, ["run", study, "--db", zero, "--data-dir", root.path, "--no-fetch", "--no-maps", "--threads", "1"])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(try ResultsStore.openReadOnly(path: zero).studies().map(\.name), ["tiny"])
    }

    /// Item 3: a database with a migration this binary does not know (written by a newer
    /// nin-study) is refused clearly by readers and writers, and left as it was.
    func testADatabaseFromANewerSchemaIsRefused() throws {
        let db = root.appendingPathComponent("newer.sqlite").path
        try ResultsStore(path: db).dbWriter.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')") }
        let before = try digest(db)
        for arguments in [["list", "--db", db], ["run", try studyFile(), "--db", db, "--data-dir", root.path, "--no-fetch"],
                          ["merge", "--into", root.appendingPathComponent("m.sqlite").path, db]] {
            let (status, output) = try runProcess(binary, arguments)
            XCTAssertEqual(status, 2, "\(arguments): \(output)")
            XCTAssertTrue(output.contains("\(db) was written by a newer nin-study (schema migrations v99-from-the-future are unknown"), output)
            XCTAssertEqual(try digest(db), before)
        }
    }

    /// Item 10: `--shard -1/4` is an option error (64) that says what a shard is, not "Missing value".
    func testANegativeShardIsAClearOptionError() throws {
        let (status, output) = try runProcess(binary, ["run", try studyFile(), "--shard", "-1/4"])
        XCTAssertEqual(status, 64, output)
        XCTAssertTrue(output.contains("--shard -1/4: expected K/N with 1 ≤ K ≤ N"), output)
        XCTAssertFalse(output.contains("--shard: --shard"), "the option is named once: \(output)")
        XCTAssertFalse(output.contains("Missing value"), output)
    }

    /// Item 10: `slurm --tasks N` with more tasks than trials warns and still writes the job as asked.
    func testSlurmWarnsWhenTasksOutnumberTrials() throws {
        let study = try studyFile(extra: #""seeds": [1, 2, 3]"#)
        let (status, output) = try runProcess(binary, ["slurm", study, "--tasks", "100000", "--db", root.appendingPathComponent("s/results.sqlite").path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("warning: study tiny: --tasks 100000 is more than its 3 trials: at least 99997 array tasks get no trial"), output)
        XCTAssertTrue(output.contains("(100000 array tasks"), output)
        let (_, quiet) = try runProcess(binary, ["slurm", study, "--tasks", "1", "--db", root.appendingPathComponent("s/results.sqlite").path])
        XCTAssertFalse(quiet.contains("warning"), quiet)
        XCTAssertEqual(SlurmArrayJob.emptyTasksWarning(trialIds: ["a", "b"], tasks: 2).map { $0.contains("of the 2 array tasks get no trial") }
                       ?? true, true, "an exact count, or no warning when both shards have a trial")
    }

    /// Item 10: a worker that finds every trial taken by other live processes exits 3, but 0 as a
    /// Slurm array task (a pool of array workers sharing one database), saying why.
    func testAWorkerWithNothingLeftExitsZeroInASlurmArray() throws {
        let study = try studyFile()
        let db = root.appendingPathComponent("pool/results.sqlite").path
        let definition = try StudyDefinition.load(path: study)
        var options = RunOptions()
        options.databasePath = db
        options.dataDir = root.path
        options.fetchMissing = false
        // Register the study's trial without training it, then claim it as this (live) process.
        let runner = StudyRunner(study: definition, options: options, reporter: RecordingReporter(stop: StopFlag()))
        let store = try ResultsStore(path: db)
        _ = try runner.register(in: store)
        let claim = try store.claimTrial(definition.trials[0].id, owner: .current(), environmentId: nil, datasetIdentity: nil, retryFailed: false)
        guard case .claimed = claim else { return XCTFail("\(claim)") }
        let arguments = ["run", study, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps"]
        let (plain, plainOutput) = try runProcess(binary, arguments)
        XCTAssertEqual(plain, 3, plainOutput)
        let (array, arrayOutput) = try runProcess(binary, arguments, environment: ["SLURM_ARRAY_TASK_ID": "2"])
        XCTAssertEqual(array, 0, arrayOutput)
        XCTAssertTrue(arrayOutput.contains("nothing left for this array task"), arrayOutput)
    }

    /// Item 7: the network filesystems whose `statfs` magic (or FUSE subtype) `run` warns about,
    /// and none for this test's local temporary folder.
    func testNetworkFilesystemsAreRecognised() {
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x6969, fuseType: nil), .nfs)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0xFF53_4D42, fuseType: nil), .smb)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0xFE53_4D42, fuseType: nil), .smb)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x0BD0_0BD0, fuseType: nil), .lustre)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x4750_4653, fuseType: nil), .gpfs)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x00C3_6400, fuseType: nil), .cephfs)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x0102_1997, fuseType: nil), .ninep)
        XCTAssertEqual(NetworkFilesystem.classify(magic: 0x6573_5546, fuseType: "fuse.sshfs"), .remoteFUSE)
        XCTAssertNil(NetworkFilesystem.classify(magic: 0x6573_5546, fuseType: "fuse.fuse-overlayfs"), "a local FUSE mount")
        XCTAssertNil(NetworkFilesystem.classify(magic: 0xEF53, fuseType: nil), "ext4")
        XCTAssertNil(NetworkFilesystem.classify(magic: 0x0102_1994, fuseType: nil), "tmpfs")
        XCTAssertNil(NetworkFilesystem.holding(root.appendingPathComponent("not/yet/results.sqlite").path))
        XCTAssertTrue(NetworkFilesystem.nfs.warning(database: "x.sqlite").contains("one database per machine or per shard"))
    }

    /// Item 7: `run` warns when its database lies on a network filesystem (here the detector
    /// answers NFS), saying what to do, and not for an --exclusive run (a shard's only writer).
    func testRunWarnsAboutADatabaseOnANetworkFilesystem() throws {
        let definition = try StudyDefinition(data: SyntheticDigits.study(epochs: 1), file: "tiny")
        for exclusive in [false, true] {
            var options = RunOptions()
            options.databasePath = root.appendingPathComponent("nfs-\(exclusive)/results.sqlite").path
            options.dataDir = root.path
            options.fetchMissing = false
            options.renderMaps = false
            options.threads = 1
            options.exclusive = exclusive
            options.networkFilesystem = { _ in .nfs }
            let reporter = RecordingReporter(stop: StopFlag())
            _ = try StudyRunner(study: definition, options: options, reporter: reporter).run(stop: StopFlag())
            let warned = reporter.messages.contains {
                $0.hasPrefix("warning: the results database \(options.databasePath) is on NFS, a network filesystem") && $0.contains("nin-study merge")
            }
            XCTAssertEqual(warned, !exclusive, "\(reporter.messages)")
        }
    }
}
