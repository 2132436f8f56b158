import Foundation
import GRDB

// MARK: - Studies, environments, datasets

extension ResultsStore {
    /// Registers a study, or updates its description and definition if it exists (keeps `created_at`).
    /// - Parameter definitionSHA256: SHA-256 (lowercase hex) of `definitionJSON`'s UTF-8 bytes.
    /// - Returns: The stored row.
    /// - Throws: ``StoreError/invalidValue(what:expected:found:)`` for an empty name, or a database error.
    @discardableResult
    public func upsertStudy(name: String, description: String, definitionJSON: String,
                            definitionSHA256: String) throws -> StudyRecord {
        guard !name.isEmpty else {
            throw StoreError.invalidValue(what: "study name", expected: "a non-empty name", found: "\"\"")
        }
        let now = nowText
        return try write("register study \(name)") { db in
            try db.execute(
                sql: """
                    INSERT INTO studies (name, description, definition_json, definition_sha256, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET
                        description = excluded.description,
                        definition_json = excluded.definition_json,
                        definition_sha256 = excluded.definition_sha256,
                        updated_at = excluded.updated_at
                    """,
                arguments: [name, description, definitionJSON, definitionSHA256, now, now])
            return try StudyRecord.fetchOne(db, key: name)!
        }
    }

    /// Registers an environment (machine and build) and returns its id; an identical environment
    /// (same ``EnvironmentRecord/fingerprint``) registered before returns the existing id.
    /// - Throws: A database error.
    /// Detaches from `study` every trial not in `keeping` (the study's current expansion), so that
    /// a study whose definition changed no longer counts the trials of its old definition. The
    /// trials themselves, their epochs and artifacts stay (another study may share them; they
    /// remain queryable in `trials`).
    /// - Returns: the detached trial ids, sorted.
    /// - Throws: a database error.
    @discardableResult
    public func detachTrials(study: String, keeping: Set<String>) throws -> [String] {
        try write("detach old trials of study \(study)") { db in
            let linked = try String.fetchAll(db, sql: "SELECT trial_id FROM study_trials WHERE study = ? ORDER BY trial_id",
                                             arguments: [study])
            let stale = linked.filter { !keeping.contains($0) }
            for id in stale {
                try db.execute(sql: "DELETE FROM study_trials WHERE study = ? AND trial_id = ?", arguments: [study, id])
            }
            return stale
        }
    }

    @discardableResult
    public func registerEnvironment(_ environment: EnvironmentRecord) throws -> Int64 {
        var record = environment
        if record.fingerprint.isEmpty { record.fingerprint = record.makeFingerprint() }
        record.id = nil
        record.createdAt = clock()
        return try write("register environment \(record.host)") { db in
            if let existing = try EnvironmentRecord.filter(Column("fingerprint") == record.fingerprint)
                .fetchOne(db), let id = existing.id
            {
                return id
            }
            try record.insert(db)
            return db.lastInsertedRowID
        }
    }

    /// Registers a dataset identity with its files (size in bytes and SHA-256 each) and its class
    /// names (indexed by label).
    ///
    /// Registering the same identity again with the same files does nothing, except that class
    /// names are filled in for an identity registered without them (the files, hence the names,
    /// are the same).
    /// - Throws: ``StoreError/datasetMismatch(identity:file:expected:found:)`` if the identity was
    ///   registered with other files, ``StoreError/invalidValue(what:expected:found:)`` for an
    ///   empty identity or file list, or a database error.
    public func registerDataset(identity: String, name: String, classNames: [String]? = nil,
                                files: [DatasetFileRecord]) throws {
        let classNamesJSON = try classNames.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        guard !identity.isEmpty else {
            throw StoreError.invalidValue(what: "dataset identity", expected: "a SHA-256 hex string", found: "\"\"")
        }
        guard !files.isEmpty else {
            throw StoreError.invalidValue(what: "dataset \(name) files", expected: "at least one file", found: "none")
        }
        let now = clock()
        let given = files.map { DatasetFileRecord(identity: identity, file: $0.file, bytes: $0.bytes, sha256: $0.sha256) }
        try write("register dataset \(name)") { db in
            if try DatasetRecord.exists(db, key: identity) {
                let stored = try DatasetFileRecord.filter(Column("identity") == identity).fetchAll(db)
                let storedByFile = Dictionary(uniqueKeysWithValues: stored.map { ($0.file, $0) })
                let givenByFile = Dictionary(given.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
                for file in Set(storedByFile.keys).union(givenByFile.keys).sorted() {
                    let describe = { (f: DatasetFileRecord?) in f.map { "\($0.bytes) bytes, sha256 \($0.sha256)" } ?? "no such file" }
                    if storedByFile[file] != givenByFile[file] {
                        throw StoreError.datasetMismatch(identity: identity, file: file,
                                                         expected: describe(storedByFile[file]),
                                                         found: describe(givenByFile[file]))
                    }
                }
                if let classNamesJSON {
                    try db.execute(sql: "UPDATE datasets SET class_names_json = ? WHERE identity = ? AND class_names_json IS NULL",
                                   arguments: [classNamesJSON, identity])
                }
                return
            }
            try DatasetRecord(identity: identity, name: name, createdAt: now, classNamesJSON: classNamesJSON).insert(db)
            for file in given { try file.insert(db) }
        }
    }
}

// MARK: - Trial life cycle

extension ResultsStore {
    /// Registers a trial in a study: inserted as `pending` if new, otherwise only its descriptive
    /// columns and swept values are refreshed (status and metrics are never touched, so a finished
    /// trial stays finished). The trial is linked to `study` (a trial may belong to several studies).
    ///
    /// - Parameters:
    ///   - trial: The trial; `id` must be 64 lowercase hex digits (SHA-256 of the canonical config).
    ///   - params: Swept values, dotted key path → JSON text (e.g. `"model.depth": "2"`); merged
    ///     into `trial_params` (keys from other studies are kept).
    ///   - study: A study registered with ``upsertStudy(name:description:definitionJSON:definitionSHA256:)``.
    /// - Returns: The stored trial.
    /// - Throws: ``StoreError/studyNotFound(name:)``, ``StoreError/invalidValue(what:expected:found:)``
    ///   for a malformed id or a parameter value that is not JSON, or a database error.
    @discardableResult
    public func upsertTrial(_ trial: TrialRecord, params: [String: String], study: String) throws -> TrialRecord {
        try Self.validateTrialId(trial.id)
        for (key, value) in params {
            guard Self.isJSON(value) else {
                throw StoreError.invalidValue(what: "trial_params[\"\(key)\"] of trial \(trial.shortId)",
                                              expected: "JSON text", found: value)
            }
        }
        let now = clock()
        return try write("register trial \(trial.shortId)") { db in
            guard try StudyRecord.exists(db, key: study) else { throw StoreError.studyNotFound(name: study) }
            if var stored = try TrialRecord.fetchOne(db, key: trial.id) {
                stored.configJSON = trial.configJSON
                stored.sweptJSON = trial.sweptJSON
                stored.dataset = trial.dataset
                stored.head = trial.head
                stored.depth = trial.depth
                stored.widths = trial.widths
                stored.widthMultiplier = trial.widthMultiplier
                stored.dropout = trial.dropout
                stored.seed = trial.seed
                stored.epochsPlanned = trial.epochsPlanned
                stored.precision = trial.precision
                stored.parameterCount = trial.parameterCount ?? stored.parameterCount
                stored.multiplyAdds = trial.multiplyAdds ?? stored.multiplyAdds
                try stored.update(db)
            } else {
                var fresh = TrialRecord(
                    id: trial.id, configJSON: trial.configJSON, sweptJSON: trial.sweptJSON, dataset: trial.dataset,
                    head: trial.head, depth: trial.depth, widths: trial.widths, widthMultiplier: trial.widthMultiplier,
                    dropout: trial.dropout, seed: trial.seed, epochsPlanned: trial.epochsPlanned, precision: trial.precision,
                    parameterCount: trial.parameterCount, multiplyAdds: trial.multiplyAdds, createdAt: now)
                fresh.status = .pending
                try fresh.insert(db)
            }
            try db.execute(
                sql: "INSERT INTO study_trials (study, trial_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [study, trial.id, Timestamp.string(from: now)])
            for (key, value) in params.sorted(by: { $0.key < $1.key }) {
                try TrialParamRecord(trialId: trial.id, key: key, valueJSON: value).upsert(db)
            }
            return try TrialRecord.fetchOne(db, key: trial.id)!
        }
    }

    /// Marks a pending, interrupted or failed trial as running in process `pid` on `host`.
    ///
    /// Sets `started_at` and `heartbeat_at` to now and clears `finished_at` and `failure_reason`.
    /// A trial left `running` by a dead process must first go through
    /// ``recoverAbandonedTrials(currentHost:staleAfter:isAlive:)``.
    /// - Throws: ``StoreError/trialNotFound(prefix:)``, ``StoreError/invalidTransition(trialId:action:from:allowed:)``,
    ///   ``StoreError/environmentNotFound(id:)``, ``StoreError/datasetNotFound(identity:)``, or a database error.
    public func markRunning(trialId: String, pid: Int32, host: String, environmentId: Int64?,
                            datasetIdentity: String?) throws {
        let now = nowText
        try write("mark trial \(trialId.prefix(10)) running") { db in
            _ = try Self.requireStatus(db, trialId: trialId, action: "start",
                                       allowed: [.pending, .interrupted, .failed])
            if let environmentId, try !EnvironmentRecord.exists(db, key: environmentId) {
                throw StoreError.environmentNotFound(id: environmentId)
            }
            if let datasetIdentity, try !DatasetRecord.exists(db, key: datasetIdentity) {
                throw StoreError.datasetNotFound(identity: datasetIdentity)
            }
            try db.execute(
                sql: """
                    UPDATE trials SET status = 'running', pid = ?, host = ?, environment_id = ?, dataset_identity = ?,
                        started_at = ?, heartbeat_at = ?, finished_at = NULL, failure_reason = NULL
                    WHERE id = ?
                    """,
                arguments: [pid, host, environmentId, datasetIdentity, now, now, trialId])
        }
    }

    /// Records that the running trial's process is alive (sets `heartbeat_at` to now).
    /// - Throws: ``StoreError/invalidTransition(trialId:action:from:allowed:)`` if the trial is no
    ///   longer running (e.g. another process recovered it as interrupted), or ``StoreError/trialNotFound(prefix:)``.
    public func heartbeat(trialId: String) throws {
        let now = nowText
        try write("heartbeat of trial \(trialId.prefix(10))") { db in
            _ = try Self.requireStatus(db, trialId: trialId, action: "heartbeat", allowed: [.running])
            try db.execute(sql: "UPDATE trials SET heartbeat_at = ? WHERE id = ?", arguments: [now, trialId])
        }
    }

    /// Records one epoch of a running trial and, in the same transaction, updates the trial's
    /// `epochs_done`, `final_*` (from the last epoch) and `best_test_accuracy`/`best_epoch` columns.
    ///
    /// Epochs are numbered 1, 2, … Recording epoch `e` again (a resume from an earlier checkpoint)
    /// replaces it and discards any rows after `e`, which belong to the run being replayed.
    /// Non-finite values (NaN, ±Inf) are stored as NULL. `finishedAt` is set to now.
    /// - Throws: ``StoreError/invalidTransition(trialId:action:from:allowed:)`` unless running,
    ///   ``StoreError/epochOutOfOrder(trialId:epoch:epochsDone:)`` for a gap,
    ///   ``StoreError/invalidValue(what:expected:found:)`` for an accuracy outside 0–100 %.
    public func recordEpoch(_ epoch: EpochRecord) throws {
        var row = epoch
        row.finishedAt = clock()
        let finite = { (x: Double?) -> Double? in x.flatMap { $0.isFinite ? $0 : nil } }
        row.trainLoss = finite(row.trainLoss)
        row.valLoss = finite(row.valLoss)
        row.testLoss = finite(row.testLoss)
        row.learningRate = finite(row.learningRate)
        row.wallSeconds = finite(row.wallSeconds)
        row.imagesPerSecond = finite(row.imagesPerSecond)
        for (name, value) in [("train_accuracy", row.trainAccuracy), ("val_accuracy", row.valAccuracy),
                              ("test_accuracy", row.testAccuracy)]
        {
            if let value, value.isFinite, !(0...100).contains(value) {
                throw StoreError.invalidValue(what: "epoch \(row.epoch) \(name) of trial \(row.trialId.prefix(10))",
                                              expected: "a percentage in 0...100", found: "\(value)")
            }
        }
        row.trainAccuracy = finite(row.trainAccuracy)
        row.valAccuracy = finite(row.valAccuracy)
        row.testAccuracy = finite(row.testAccuracy)

        try write("record epoch \(row.epoch) of trial \(row.trialId.prefix(10))") { db in
            let trial = try Self.requireStatus(db, trialId: row.trialId, action: "record an epoch of",
                                               allowed: [.running])
            guard row.epoch >= 1, row.epoch <= trial.epochsDone + 1 else {
                throw StoreError.epochOutOfOrder(trialId: row.trialId, epoch: row.epoch, epochsDone: trial.epochsDone)
            }
            try db.execute(sql: "DELETE FROM epochs WHERE trial_id = ? AND epoch >= ?",
                           arguments: [row.trialId, row.epoch])
            try row.insert(db)
            let all = try EpochRecord.filter(Column("trial_id") == row.trialId).order(Column("epoch")).fetchAll(db)
            let summary = EpochSummary(epochs: all)
            try db.execute(
                sql: """
                    UPDATE trials SET epochs_done = ?, final_train_loss = ?, final_train_accuracy = ?,
                        final_val_accuracy = ?, final_test_loss = ?, final_test_accuracy = ?,
                        best_test_accuracy = ?, best_epoch = ?, heartbeat_at = ?
                    WHERE id = ?
                    """,
                arguments: [summary.epochsDone, summary.last?.trainLoss, summary.last?.trainAccuracy,
                            summary.last?.valAccuracy, summary.last?.testLoss, summary.last?.testAccuracy,
                            summary.bestTestAccuracy, summary.bestEpoch, Timestamp.string(from: row.finishedAt),
                            row.trialId])
        }
    }

    /// Marks a running trial finished after all its epochs. Its `wall_seconds` becomes the sum of
    /// its recorded epochs' wall times (summed here, in SQL).
    /// - Throws: ``StoreError/invalidTransition(trialId:action:from:allowed:)`` unless running.
    public func markFinished(trialId: String) throws {
        let now = nowText
        try write("mark trial \(trialId.prefix(10)) finished") { db in
            _ = try Self.requireStatus(db, trialId: trialId, action: "finish", allowed: [.running])
            try db.execute(
                sql: """
                    UPDATE trials SET status = 'finished', finished_at = ?, heartbeat_at = ?,
                        wall_seconds = (SELECT sum(wall_seconds) FROM epochs WHERE trial_id = ?)
                    WHERE id = ?
                    """,
                arguments: [now, now, trialId, trialId])
        }
    }

    /// Marks a trial failed with a plain reason (e.g. "training loss became NaN in epoch 3"). Its
    /// `wall_seconds` becomes the sum of its recorded epochs' wall times, when it has any.
    /// - Throws: ``StoreError/invalidTransition(trialId:action:from:allowed:)`` if the trial is finished.
    public func markFailed(trialId: String, reason: String) throws {
        let now = nowText
        try write("mark trial \(trialId.prefix(10)) failed") { db in
            _ = try Self.requireStatus(db, trialId: trialId, action: "fail",
                                       allowed: [.pending, .running, .interrupted, .failed])
            try db.execute(
                sql: """
                    UPDATE trials SET status = 'failed', failure_reason = ?, finished_at = ?,
                        wall_seconds = coalesce((SELECT sum(wall_seconds) FROM epochs WHERE trial_id = ?), wall_seconds)
                    WHERE id = ?
                    """,
                arguments: [reason, now, trialId, trialId])
        }
    }

    /// Marks a running trial interrupted (Ctrl-C): it will resume from its last checkpoint.
    /// Its `wall_seconds` becomes the sum of its recorded epochs' wall times (training so far).
    /// - Throws: ``StoreError/invalidTransition(trialId:action:from:allowed:)`` unless running.
    public func markInterrupted(trialId: String) throws {
        try write("mark trial \(trialId.prefix(10)) interrupted") { db in
            _ = try Self.requireStatus(db, trialId: trialId, action: "interrupt", allowed: [.running])
            try Self.setInterrupted(db, trialId: trialId)
        }
    }

    /// Sets `status = 'interrupted'` and `wall_seconds` to the wall time of the epochs recorded so far.
    static func setInterrupted(_ db: Database, trialId: String) throws {
        try db.execute(
            sql: """
                UPDATE trials SET status = 'interrupted',
                    wall_seconds = (SELECT sum(wall_seconds) FROM epochs WHERE trial_id = ?)
                WHERE id = ?
                """,
            arguments: [trialId, trialId])
    }

    /// Records a file a trial produced; the same (trial, kind, path) again updates its checksum and size.
    ///
    /// The path is stored by ``storedArtifactPath(_:)``: relative to the database's folder when the
    /// file lies inside it, absolute otherwise.
    /// - Parameters:
    ///   - path: The file's path, absolute or relative to the current directory.
    ///   - sha256: SHA-256 (lowercase hex) of the file's bytes.
    ///   - bytes: File size in bytes.
    /// - Returns: The stored row.
    /// - Throws: ``StoreError/trialNotFound(prefix:)`` or a database error.
    @discardableResult
    public func addArtifact(trialId: String, kind: ArtifactKind, path: String, sha256: String,
                            bytes: Int64) throws -> ArtifactRecord {
        try write("add \(kind.rawValue) artifact of trial \(trialId.prefix(10))") { db in
            try addArtifactRow(db, trialId: trialId, kind: kind, path: path, sha256: sha256, bytes: bytes)
        }
    }

    /// ``addArtifact(trialId:kind:path:sha256:bytes:)`` inside an open write transaction.
    @discardableResult
    func addArtifactRow(_ db: Database, trialId: String, kind: ArtifactKind, path: String, sha256: String,
                        bytes: Int64) throws -> ArtifactRecord {
        let path = storedArtifactPath(path)
        guard try TrialRecord.exists(db, key: trialId) else { throw StoreError.trialNotFound(prefix: trialId) }
        try db.execute(
            sql: """
                INSERT INTO artifacts (trial_id, kind, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(trial_id, kind, path) DO UPDATE SET
                    sha256 = excluded.sha256, bytes = excluded.bytes, created_at = excluded.created_at
                """,
            arguments: [trialId, kind, path, sha256, bytes, nowText])
        return try ArtifactRecord
            .filter(Column("trial_id") == trialId && Column("kind") == kind && Column("path") == path)
            .fetchOne(db)!
    }
}

extension ResultsStore {
    /// Forgets the artifacts of a trial whose files were deleted (a trial no study contains any
    /// more), except those of `keeping` kinds.
    /// - Returns: the rows removed. - Throws: a database error.
    @discardableResult
    public func removeArtifacts(trialId: String, keeping: Set<ArtifactKind> = []) throws -> [ArtifactRecord] {
        try write("forget artifacts of trial \(trialId.prefix(10))") { db in
            let rows = try ArtifactRecord.filter(Column("trial_id") == trialId).fetchAll(db).filter { !keeping.contains($0.kind) }
            for row in rows { _ = try row.delete(db) }
            return rows
        }
    }
}

// MARK: - Helpers

extension ResultsStore {
    /// Fetches a trial and checks its status is one of `allowed`.
    static func requireStatus(_ db: Database, trialId: String, action: String,
                              allowed: [TrialStatus]) throws -> TrialRecord {
        guard let trial = try TrialRecord.fetchOne(db, key: trialId) else {
            throw StoreError.trialNotFound(prefix: trialId)
        }
        guard allowed.contains(trial.status) else {
            throw StoreError.invalidTransition(trialId: trialId, action: action, from: trial.status, allowed: allowed)
        }
        return trial
    }

    /// Checks a trial id is a SHA-256 in lowercase hex.
    static func validateTrialId(_ id: String) throws {
        guard id.utf8.count == 64, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw StoreError.invalidValue(what: "trial id", expected: "64 lowercase hexadecimal digits (SHA-256)",
                                          found: "\"\(id)\"")
        }
    }

    /// Whether `text` parses as a JSON value (object, array, string, number, boolean or null).
    static func isJSON(_ text: String) -> Bool {
        guard let data = text.data(using: .utf8) else { return false }
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
    }
}

/// The per-trial summary of a trial's recorded epochs: last epoch and best test accuracy.
struct EpochSummary {
    /// Number of recorded epochs.
    var epochsDone: Int
    /// The last recorded epoch (the source of the `final_*` columns).
    var last: EpochRecord?
    /// Highest test accuracy (%), nil if no epoch measured it.
    var bestTestAccuracy: Double?
    /// Epoch of `bestTestAccuracy`; the earliest epoch on ties.
    var bestEpoch: Int?

    /// Summarizes `epochs`, which must be sorted by epoch.
    init(epochs: [EpochRecord]) {
        epochsDone = epochs.count
        last = epochs.last
        for epoch in epochs {
            if let accuracy = epoch.testAccuracy, bestTestAccuracy.map({ accuracy > $0 }) ?? true {
                bestTestAccuracy = accuracy
                bestEpoch = epoch.epoch
            }
        }
    }
}
