import XCTest
import GRDB
import NINStore
@testable import NINStudy

/// Issue 21, item 3, through the built binary as a user runs it: read-only commands leave a
/// results database's bytes unchanged, and files without nin-study's schema are refused in one
/// line and left untouched.
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
}
