import Foundation
import GRDB

extension ResultsStore {
    /// All studies, by name.
    /// - Throws: A database error.
    public func studies() throws -> [StudyRecord] {
        try read("list studies") { db in try StudyRecord.order(Column("name")).fetchAll(db) }
    }

    /// The study named `name`, or nil.
    /// - Throws: A database error.
    public func study(named name: String) throws -> StudyRecord? {
        try read("read study \(name)") { db in try StudyRecord.fetchOne(db, key: name) }
    }

    /// The trials of one study (or of all studies when `study` is nil) in the order they were first
    /// registered (a run registers a study's trials in expansion order). The order is the table's
    /// rowid, not `created_at`: trials registered in the same millisecond would otherwise fall
    /// back to id order, so listings and learning-curve legends would differ between identical runs.
    /// - Throws: A database error.
    public func trials(study: String? = nil) throws -> [TrialRecord] {
        try read("list trials") { db in
            if let study {
                return try TrialRecord.fetchAll(
                    db,
                    sql: """
                        SELECT trials.* FROM trials JOIN study_trials ON study_trials.trial_id = trials.id
                        WHERE study_trials.study = ? ORDER BY trials.rowid
                        """,
                    arguments: [study])
            }
            return try TrialRecord.fetchAll(db, sql: "SELECT * FROM trials ORDER BY rowid")
        }
    }

    /// The trial with exactly this id, or nil.
    /// - Throws: A database error.
    public func trial(id: String) throws -> TrialRecord? {
        try read("read trial \(id.prefix(10))") { db in try TrialRecord.fetchOne(db, key: id) }
    }

    /// The one trial whose id starts with `idPrefix` (case-insensitive), like an abbreviated git commit id.
    /// - Throws: ``StoreError/invalidTrialPrefix(prefix:)`` if the prefix is not 1–64 hex digits,
    ///   ``StoreError/trialNotFound(prefix:)`` if no id matches, ``StoreError/ambiguousTrialPrefix(prefix:candidates:)``
    ///   (listing up to 10 matching short ids with their status) if several do.
    public func trial(idPrefix: String) throws -> TrialRecord {
        let prefix = idPrefix.lowercased()
        guard (1...64).contains(prefix.utf8.count),
              prefix.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { throw StoreError.invalidTrialPrefix(prefix: idPrefix) }
        let matches = try read("look up trial \(idPrefix)") { db in
            // Hex digits hold no GLOB metacharacters, so the pattern is exactly "starts with".
            try TrialRecord.filter(sql: "id GLOB ?", arguments: [prefix + "*"]).order(Column("id")).limit(11).fetchAll(db)
        }
        switch matches.count {
        case 0: throw StoreError.trialNotFound(prefix: idPrefix)
        case 1: return matches[0]
        default:
            var candidates = matches.prefix(10).map { "\($0.shortId) (\($0.status.rawValue))" }
            if matches.count > 10 { candidates.append("…") }
            throw StoreError.ambiguousTrialPrefix(prefix: idPrefix, candidates: candidates)
        }
    }

    /// The studies a trial belongs to, by name.
    /// - Throws: A database error.
    public func studies(containingTrial trialId: String) throws -> [String] {
        try read("list studies of trial \(trialId.prefix(10))") { db in
            try String.fetchAll(db, sql: "SELECT study FROM study_trials WHERE trial_id = ? ORDER BY study",
                                arguments: [trialId])
        }
    }

    /// A trial's swept values: dotted key path → JSON text.
    /// - Throws: A database error.
    public func params(trialId: String) throws -> [String: String] {
        try read("read parameters of trial \(trialId.prefix(10))") { db in
            let rows = try TrialParamRecord.filter(Column("trial_id") == trialId).fetchAll(db)
            return Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.valueJSON) })
        }
    }

    /// A trial's recorded epochs, in order.
    /// - Throws: A database error.
    public func epochs(trialId: String) throws -> [EpochRecord] {
        try read("read epochs of trial \(trialId.prefix(10))") { db in
            try EpochRecord.filter(Column("trial_id") == trialId).order(Column("epoch")).fetchAll(db)
        }
    }

    /// A trial's artifacts, by kind then path.
    /// - Throws: A database error.
    public func artifacts(trialId: String) throws -> [ArtifactRecord] {
        try read("read artifacts of trial \(trialId.prefix(10))") { db in
            try ArtifactRecord.filter(Column("trial_id") == trialId).order(Column("kind"), Column("path")).fetchAll(db)
        }
    }

    /// The environment with this id, or nil.
    /// - Throws: A database error.
    public func environment(id: Int64) throws -> EnvironmentRecord? {
        try read("read environment \(id)") { db in try EnvironmentRecord.fetchOne(db, key: id) }
    }

    /// The dataset with this identity, or nil.
    /// - Throws: A database error.
    public func dataset(identity: String) throws -> DatasetRecord? {
        try read("read dataset \(identity.prefix(10))") { db in try DatasetRecord.fetchOne(db, key: identity) }
    }

    /// The files of a dataset identity, by file name.
    /// - Throws: A database error.
    public func datasetFiles(identity: String) throws -> [DatasetFileRecord] {
        try read("read files of dataset \(identity.prefix(10))") { db in
            try DatasetFileRecord.filter(Column("identity") == identity).order(Column("file")).fetchAll(db)
        }
    }

    /// Rows of the `trial_summary` view for one study (or all), in the order of ``trials(study:)``.
    /// - Throws: A database error.
    public func trialSummaries(study: String? = nil) throws -> [TrialSummary] {
        try read("read trial summary") { db in
            let order = "ORDER BY (SELECT rowid FROM trials WHERE id = trial_id), study"
            if let study {
                return try TrialSummary.fetchAll(db, sql: "SELECT * FROM trial_summary WHERE study = ? \(order)",
                                                 arguments: [study])
            }
            return try TrialSummary.fetchAll(db, sql: "SELECT * FROM trial_summary \(order)")
        }
    }
}
