import Foundation
import GRDB
import XCTest

@testable import NINStore

/// The documented schema: tables, columns, views, migrations, WAL mode, re-opening.
final class SchemaTests: XCTestCase {
    /// The documented columns of every table and view, in order (the stable contract for SQL users).
    static let documentedColumns: [String: [String]] = [
        "studies": ["name", "description", "definition_json", "definition_sha256", "created_at", "updated_at"],
        "environments": ["id", "fingerprint", "host", "cpu_model", "cores", "threads", "os", "swift_version", "blas",
                         "nin_study_version", "git_commit", "created_at", "gemm"],
        "datasets": ["identity", "name", "created_at", "class_names_json"],
        "dataset_files": ["identity", "file", "bytes", "sha256"],
        "trials": ["id", "config_json", "swept_json", "dataset", "head", "depth", "widths", "width_multiplier",
                   "dropout", "seed", "epochs_planned", "status", "failure_reason", "pid", "host", "environment_id",
                   "dataset_identity", "parameter_count", "multiply_adds", "created_at", "started_at", "finished_at",
                   "heartbeat_at", "wall_seconds", "epochs_done", "final_train_loss", "final_train_accuracy",
                   "final_val_accuracy", "final_test_loss", "final_test_accuracy", "best_test_accuracy", "best_epoch",
                   "boot_id", "process_start_ticks", "precision"],
        "study_trials": ["study", "trial_id", "added_at"],
        "trial_params": ["trial_id", "key", "value_json"],
        "epochs": ["trial_id", "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
                   "test_accuracy", "learning_rate", "wall_seconds", "images_per_second", "finished_at"],
        "artifacts": ["id", "trial_id", "kind", "path", "sha256", "bytes", "created_at"],
        "trial_summary": ["study", "trial_id", "short_id", "status", "dataset", "head", "depth", "widths",
                          "width_multiplier", "dropout", "seed", "epochs_planned", "epochs_done", "test_accuracy",
                          "test_error", "best_test_error", "best_epoch", "final_train_loss", "final_train_accuracy",
                          "final_val_accuracy", "test_loss", "wall_seconds", "images_per_second", "failure_reason",
                          "parameter_count", "multiply_adds", "host", "started_at", "finished_at"],
        "study_summary": ["study", "description", "trials", "pending", "running", "finished", "failed", "interrupted",
                          "best_test_error", "updated_at"],
    ]
    static let views: Set<String> = ["trial_summary", "study_summary"]

    /// The migrations released so far, in order. Written here, not read from `Schema`: a database
    /// in the field has applied these, so each must keep its name and place.
    static let releasedMigrations = ["v1-tables", "v1-views", "v2-dataset-class-names", "v2-claim-owner",
                                     "v3-trials-dropout-between-blocks", "v4-precision"]

    /// A released migration must also keep what it does: the schema (every table, view, index and
    /// trigger as SQLite stores its SQL; GRDB's own `grdb_migrations` aside) after the released
    /// migrations, as an FNV-1a 64 digest.
    func testReleasedMigrationsStillBuildTheReleasedSchema() throws {
        let queue = try DatabaseQueue()
        let last = try XCTUnwrap(Self.releasedMigrations.last)
        guard Schema.migrator.migrations.contains(last) else { return XCTFail("the released migration \(last) is gone") }
        try Schema.migrator.migrate(queue, upTo: last)
        let schema = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations' ORDER BY type, name")
        }.joined(separator: "\n")
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in schema.utf8 { digest = (digest ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        // fb9ed6485752dbc8 through v3-trials-dropout-between-blocks; v4-precision added two columns.
        XCTAssertEqual(String(digest, radix: 16), "c52989ef4699dc37", "a released migration changed what it does; add a new migration instead:\n\(schema)")
    }

    func testMigrationsApplyOnEmptyInMemoryDatabase() throws {
        let store = try ResultsStore.inMemory()
        let applied = try store.dbWriter.read { db in try Schema.migrator.appliedIdentifiers(db) }
        XCTAssertEqual(applied.sorted(), Schema.migrationNames.sorted())
        XCTAssertEqual(Schema.migrator.migrations, Schema.migrationNames, "the migrator registers exactly the listed migrations")
        XCTAssertEqual(Array(Schema.migrator.migrations.prefix(Self.releasedMigrations.count)), Self.releasedMigrations,
                       "migrations must only ever be appended: a released one was renamed, removed or moved")
        XCTAssertTrue(Schema.migrationNames.allSatisfy { ["v1-", "v2-", "v3-", "v4-"].contains(String($0.prefix(3))) })

        let objects = try store.dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
                .map { (type: $0["type"] as String, name: $0["name"] as String) }
        }
        let tables = Set(objects.filter { $0.type == "table" }.map(\.name))
        let views = Set(objects.filter { $0.type == "view" }.map(\.name))
        XCTAssertEqual(tables, Set(Self.documentedColumns.keys).subtracting(Self.views).union(["grdb_migrations"]))
        XCTAssertEqual(views, Self.views)
    }

    func testEveryTableAndViewHasTheDocumentedColumns() throws {
        let store = try ResultsStore.inMemory()
        for (name, expected) in Self.documentedColumns {
            let columns = try store.dbWriter.read { db in try db.columns(in: name).map(\.name) }
            XCTAssertEqual(columns, expected, "columns of \(name)")
        }
        // Foreign keys hold the links together.
        let trialForeignKeys = try store.dbWriter.read { db in try db.foreignKeys(on: "trials") }
        XCTAssertEqual(Set(trialForeignKeys.map(\.destinationTable)), ["environments", "datasets"])
        let epochForeignKeys = try store.dbWriter.read { db in try db.foreignKeys(on: "epochs") }
        XCTAssertEqual(epochForeignKeys.map(\.destinationTable), ["trials"])
    }

    func testSchemaDocumentDescribesEveryColumn() throws {
        let document = try String(contentsOf: docsURL, encoding: .utf8)
        for (name, columns) in Self.documentedColumns {
            guard let heading = document.range(of: "### `\(name)`") else {
                XCTFail("docs/results-schema.md has no section \"### `\(name)`\"")
                continue
            }
            let rest = document[heading.upperBound...]
            let section = rest.range(of: "\n### ").map { rest[..<$0.lowerBound] } ?? rest
            for column in columns {
                XCTAssertTrue(section.contains("| `\(column)` |"),
                              "docs/results-schema.md section \(name) does not describe column \(column)")
            }
        }
    }

    /// Migration `v4-precision`: a trial recorded before it ran fp32 and says so; an environment
    /// recorded before it has no GEMM description; a precision that is not one is refused.
    func testPrecisionMigrationMarksEarlierTrialsFP32() throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v3-trials-dropout-between-blocks")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO environments (fingerprint, host, cpu_model, cores, threads, os, swift_version, blas, nin_study_version, created_at)
                VALUES ('f', 'h', 'c', 2, 2, 'o', 's', 'b', 'v', '2026-12-01T00:00:00Z');
                INSERT INTO trials (id, config_json, swept_json, dataset, created_at)
                VALUES ('old', '{}', '{}', 'mnist', '2026-12-01T00:00:00Z');
                """)
        }
        try Schema.migrator.migrate(queue)
        try queue.write { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT precision FROM trials WHERE id = 'old'"), "fp32")
            XCTAssertNil(try String.fetchOne(db, sql: "SELECT gemm FROM environments"))
            XCTAssertThrowsError(try db.execute(sql: "UPDATE trials SET precision = 'fp16' WHERE id = 'old'"))
            XCTAssertNoThrow(try db.execute(sql: "UPDATE trials SET precision = 'bf16' WHERE id = 'old'"))
        }
    }

    func testStatusCheckConstraintRejectsUnknownStatus() throws {
        let store = try ResultsStore.inMemory()
        try store.upsertStudy(name: "s", description: "", definitionJSON: "{}", definitionSHA256: hexId(1))
        try store.upsertTrial(sampleTrial(id: hexId(2), head: "gap", depth: 1, seed: 1), params: [:], study: "s")
        XCTAssertThrowsError(try store.dbWriter.write { db in
            try db.execute(sql: "UPDATE trials SET status = 'done' WHERE id = ?", arguments: [hexId(2)])
        })
    }

    /// `trials.dropout` is the dropout between mlpconv blocks. Versions before migration
    /// `v3-trials-dropout-between-blocks` stored an `fc-dropout` head's rate there; the migration
    /// recomputes every row from its configuration (the first block rate that is set, else 0).
    func testDropoutMigrationRecomputesTheRateBetweenBlocks() throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v2-claim-owner")
        let rows: [(id: String, config: String, stored: Double)] = [
            ("head-only", #"{"model":{"blocks":[{"channels":8},{"channels":8}],"fcDropout":0.5,"head":"fc-dropout"}}"#, 0.5),
            ("second-block", #"{"model":{"blocks":[{"channels":8},{"channels":8,"dropout":0.3}],"head":"gap"}}"#, 0.3),
            ("first-block", #"{"model":{"blocks":[{"channels":8,"dropout":0.5},{"channels":8}],"fcDropout":0.2,"head":"fc-dropout"}}"#, 0.5),
            ("not-json", "{", 0.7),
        ]
        try queue.write { db in
            for row in rows {
                try db.execute(sql: """
                    INSERT INTO trials (id, config_json, swept_json, dataset, dropout, created_at)
                    VALUES (?, ?, '{}', 'mnist', ?, '2026-12-01T00:00:00Z')
                    """,
                               arguments: [row.id, row.config, row.stored])
            }
        }
        try Schema.migrator.migrate(queue)
        let after = try queue.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, dropout FROM trials").map {
                ($0["id"] as String, $0["dropout"] as Double)
            })
        }
        XCTAssertEqual(after, ["head-only": 0, "second-block": 0.3, "first-block": 0.5, "not-json": 0.7])
    }

    func testFileDatabaseUsesWALAndReopeningIsANoOp() throws {
        let folder = try makeTemporaryFolder(self)
        // The parent folder does not exist yet: the store creates it.
        let path = folder.appendingPathComponent("results/nested/results.sqlite").path
        let clock = TestClock()
        var store: ResultsStore? = try ResultsStore(path: path, clock: { clock.now })
        let journalMode = try store!.dbWriter.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(journalMode, "wal")
        try populate(store!, clock: clock)
        let before = try store!.dbWriter.read { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM grdb_migrations"),
             try String.fetchAll(db, sql: "SELECT coalesce(sql, name) FROM sqlite_master ORDER BY name"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM epochs")!)
        }
        store = nil

        let reopened = try ResultsStore(path: path, clock: { clock.now })
        let after = try reopened.dbWriter.read { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM grdb_migrations"),
             try String.fetchAll(db, sql: "SELECT coalesce(sql, name) FROM sqlite_master ORDER BY name"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM epochs")!)
        }
        XCTAssertEqual(before.0, after.0)
        XCTAssertEqual(before.1, after.1)
        XCTAssertEqual(before.2, after.2)
        XCTAssertEqual(after.2, 18 * 3 + 1)
        XCTAssertEqual(try reopened.trials(study: "table5-gap-vs-fc-cifar10").count, 19)
        let integrity = try reopened.dbWriter.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        XCTAssertEqual(integrity, "ok")
    }

    /// What a second process sees while the first creates the schema: GRDB's migrator creates
    /// `grdb_migrations` outside any transaction, then commits each migration. That empty table
    /// alone is a new database (the concurrent-open race ClusterTests met), not a foreign one;
    /// the same table with a recorded migration but no nin-study tables stays foreign.
    func testAFileWithOnlyAnEmptyMigrationTableIsNewButARecordedMigrationAloneIsForeign() throws {
        let folder = try makeTemporaryFolder(self)
        let path = folder.appendingPathComponent("half-created.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)") }
        try queue.close()
        XCTAssertEqual(try DatabaseFileKind.inspect(path: path), .new)
        let store = try ResultsStore(path: path)
        let applied = try store.dbWriter.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(applied, Schema.migrationNames)
        XCTAssertEqual(try DatabaseFileKind.inspect(path: path), .results(applied: Schema.migrationNames))

        let otherPath = folder.appendingPathComponent("other-tool.sqlite").path
        let other = try DatabaseQueue(path: otherPath)
        try other.write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('createUsers')")
        }
        try other.close()
        XCTAssertEqual(try DatabaseFileKind.inspect(path: otherPath), .foreign)
        XCTAssertThrowsError(try ResultsStore(path: otherPath)) { error in
            guard case StoreError.notAResultsDatabase = error else { return XCTFail("unexpected error \(error)") }
        }
    }

    func testOpeningAPathWhoseFolderCannotBeCreatedThrowsWithThePath() throws {
        let folder = try makeTemporaryFolder(self)
        let blocker = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let path = blocker.appendingPathComponent("results.sqlite").path
        XCTAssertThrowsError(try ResultsStore(path: path)) { error in
            guard case let StoreError.cannotCreateDirectory(failedPath, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(failedPath, blocker.path)
        }
    }
}

/// `docs/results-schema.md` in this package.
let docsURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("docs/results-schema.md")
