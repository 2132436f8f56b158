import GRDB

/// The results database schema: named, append-only migrations.
///
/// Never edit a registered migration: a database already migrated would not see the change.
/// Add a new migration (`"v2-…"`) instead. The schema is documented in `docs/results-schema.md`;
/// GRDB records applied migrations in the table `grdb_migrations`.
public enum Schema {
    /// Names of the migrations, in the order they apply.
    public static let migrationNames = ["v1-tables", "v1-views", "v2-dataset-class-names", "v2-claim-owner",
                                        "v3-trials-dropout-between-blocks", "v4-precision"]

    /// The migrator that brings any database to the current schema.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tables") { db in
            try db.execute(sql: v1Tables)
        }
        migrator.registerMigration("v1-views") { db in
            try db.execute(sql: v1Views)
        }
        migrator.registerMigration("v2-dataset-class-names") { db in
            // NULL for datasets registered before this column existed (filled on their next use).
            try db.execute(sql: "ALTER TABLE datasets ADD COLUMN class_names_json TEXT")
        }
        migrator.registerMigration("v2-claim-owner") { db in
            try db.execute(sql: v2ClaimOwner)
        }
        migrator.registerMigration("v3-trials-dropout-between-blocks") { db in
            try db.execute(sql: v3DropoutBetweenBlocks)
        }
        migrator.registerMigration("v4-precision") { db in
            try db.execute(sql: v4Precision)
        }
        return migrator
    }

    /// `training.precision`: `trials.precision` is the number format of the trial's GEMM inputs
    /// (every trial before this migration ran fp32), `environments.gemm` the GEMM kernels each
    /// precision runs on there (NULL for environments recorded before).
    static let v4Precision = """
        ALTER TABLE trials ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32' CHECK (precision IN ('fp32', 'bf16'));
        ALTER TABLE environments ADD COLUMN gemm TEXT;
        """

    /// `trials.dropout` is the dropout between mlpconv blocks (the first block's rate that is
    /// set, 0 when none), as documented. Before this migration an `fc-dropout` trial without
    /// dropout between blocks recorded its head's rate there; recompute every row from the
    /// trial's configuration.
    static let v3DropoutBetweenBlocks = """
        UPDATE trials SET dropout = COALESCE(
            (SELECT json_extract(b.value, '$.dropout') FROM json_each(trials.config_json, '$.model.blocks') AS b
             WHERE json_extract(b.value, '$.dropout') IS NOT NULL ORDER BY b.key LIMIT 1), 0)
        WHERE json_valid(config_json);
        """

    static let v1Tables = """
        CREATE TABLE studies (
            name               TEXT PRIMARY KEY NOT NULL,
            description        TEXT NOT NULL DEFAULT '',
            definition_json    TEXT NOT NULL,
            definition_sha256  TEXT NOT NULL,
            created_at         TEXT NOT NULL,
            updated_at         TEXT NOT NULL
        );

        CREATE TABLE environments (
            id                 INTEGER PRIMARY KEY,
            fingerprint        TEXT NOT NULL UNIQUE,
            host               TEXT NOT NULL,
            cpu_model          TEXT NOT NULL,
            cores              INTEGER NOT NULL,
            threads            INTEGER NOT NULL,
            os                 TEXT NOT NULL,
            swift_version      TEXT NOT NULL,
            blas               TEXT NOT NULL,
            nin_study_version  TEXT NOT NULL,
            git_commit         TEXT,
            created_at         TEXT NOT NULL
        );

        CREATE TABLE datasets (
            identity           TEXT PRIMARY KEY NOT NULL,
            name               TEXT NOT NULL,
            created_at         TEXT NOT NULL
        );

        CREATE TABLE dataset_files (
            identity           TEXT NOT NULL REFERENCES datasets(identity) ON DELETE CASCADE,
            file               TEXT NOT NULL,
            bytes              INTEGER NOT NULL,
            sha256             TEXT NOT NULL,
            PRIMARY KEY (identity, file)
        );

        CREATE TABLE trials (
            id                    TEXT PRIMARY KEY NOT NULL,
            config_json           TEXT NOT NULL,
            swept_json            TEXT NOT NULL,
            dataset               TEXT NOT NULL,
            head                  TEXT,
            depth                 INTEGER,
            widths                TEXT,
            width_multiplier      REAL,
            dropout               REAL,
            seed                  INTEGER,
            epochs_planned        INTEGER,
            status                TEXT NOT NULL DEFAULT 'pending'
                                  CHECK (status IN ('pending', 'running', 'finished', 'failed', 'interrupted')),
            failure_reason        TEXT,
            pid                   INTEGER,
            host                  TEXT,
            environment_id        INTEGER REFERENCES environments(id),
            dataset_identity      TEXT REFERENCES datasets(identity),
            parameter_count       INTEGER,
            multiply_adds         INTEGER,
            created_at            TEXT NOT NULL,
            started_at            TEXT,
            finished_at           TEXT,
            heartbeat_at          TEXT,
            wall_seconds          REAL,
            epochs_done           INTEGER NOT NULL DEFAULT 0,
            final_train_loss      REAL,
            final_train_accuracy  REAL,
            final_val_accuracy    REAL,
            final_test_loss       REAL,
            final_test_accuracy   REAL,
            best_test_accuracy    REAL,
            best_epoch            INTEGER
        );
        CREATE INDEX trials_status ON trials(status);

        CREATE TABLE study_trials (
            study              TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE ON UPDATE CASCADE,
            trial_id           TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            added_at           TEXT NOT NULL,
            PRIMARY KEY (study, trial_id)
        );
        CREATE INDEX study_trials_trial_id ON study_trials(trial_id);

        CREATE TABLE trial_params (
            trial_id           TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            key                TEXT NOT NULL,
            value_json         TEXT NOT NULL,
            PRIMARY KEY (trial_id, key)
        );

        CREATE TABLE epochs (
            trial_id           TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            epoch              INTEGER NOT NULL CHECK (epoch >= 1),
            train_loss         REAL,
            train_accuracy     REAL,
            val_loss           REAL,
            val_accuracy       REAL,
            test_loss          REAL,
            test_accuracy      REAL,
            learning_rate      REAL,
            wall_seconds       REAL,
            images_per_second  REAL,
            finished_at        TEXT NOT NULL,
            PRIMARY KEY (trial_id, epoch)
        );

        CREATE TABLE artifacts (
            id                 INTEGER PRIMARY KEY,
            trial_id           TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            kind               TEXT NOT NULL,
            path               TEXT NOT NULL,
            sha256             TEXT NOT NULL,
            bytes              INTEGER NOT NULL,
            created_at         TEXT NOT NULL,
            UNIQUE (trial_id, kind, path)
        );
        """

    /// The owner of a claim, exactly: the boot of the machine and the start time of the process,
    /// so a reused process id (a restarted container's PID 1) is not taken for the claim's owner.
    static let v2ClaimOwner = """
        ALTER TABLE trials ADD COLUMN boot_id TEXT;
        ALTER TABLE trials ADD COLUMN process_start_ticks INTEGER;
        """

    static let v1Views = """
        CREATE VIEW trial_summary AS
        SELECT st.study                        AS study,
               t.id                            AS trial_id,
               substr(t.id, 1, 10)             AS short_id,
               t.status                        AS status,
               t.dataset                       AS dataset,
               t.head                          AS head,
               t.depth                         AS depth,
               t.widths                        AS widths,
               t.width_multiplier              AS width_multiplier,
               t.dropout                       AS dropout,
               t.seed                          AS seed,
               t.epochs_planned                AS epochs_planned,
               t.epochs_done                   AS epochs_done,
               t.final_test_accuracy           AS test_accuracy,
               100.0 - t.final_test_accuracy   AS test_error,
               100.0 - t.best_test_accuracy    AS best_test_error,
               t.best_epoch                    AS best_epoch,
               t.final_train_loss              AS final_train_loss,
               t.final_train_accuracy          AS final_train_accuracy,
               t.final_val_accuracy            AS final_val_accuracy,
               t.final_test_loss               AS test_loss,
               t.wall_seconds                  AS wall_seconds,
               (SELECT avg(e.images_per_second) FROM epochs e WHERE e.trial_id = t.id)
                                               AS images_per_second,
               t.failure_reason                AS failure_reason,
               t.parameter_count               AS parameter_count,
               t.multiply_adds                 AS multiply_adds,
               t.host                          AS host,
               t.started_at                    AS started_at,
               t.finished_at                   AS finished_at
          FROM study_trials st
          JOIN trials t ON t.id = st.trial_id;

        CREATE VIEW study_summary AS
        SELECT s.name                                              AS study,
               s.description                                       AS description,
               count(t.id)                                         AS trials,
               coalesce(sum(t.status = 'pending'), 0)              AS pending,
               coalesce(sum(t.status = 'running'), 0)              AS running,
               coalesce(sum(t.status = 'finished'), 0)             AS finished,
               coalesce(sum(t.status = 'failed'), 0)               AS failed,
               coalesce(sum(t.status = 'interrupted'), 0)          AS interrupted,
               min(CASE WHEN t.status = 'finished' THEN 100.0 - t.final_test_accuracy END)
                                                                   AS best_test_error,
               s.updated_at                                        AS updated_at
          FROM studies s
          LEFT JOIN study_trials st ON st.study = s.name
          LEFT JOIN trials t ON t.id = st.trial_id
         GROUP BY s.name;
        """
}
