import Foundation
import GRDB

/// One side of a merge conflict: a trial's metrics in one database and the environment it ran on.
public struct MergeSide: Equatable, Sendable {
    /// The database file.
    public var database: String
    /// The trial's recorded epochs.
    public var epochs: [EpochRecord]
    /// The environment of the run that recorded them, if known.
    public var environment: EnvironmentRecord?
}

/// The same trial finished in two databases with different metrics. Nothing is dropped: the
/// destination keeps its version, the source database is left as it was, and the conflict is
/// reported with both values and both environments.
public struct MergeConflict: Equatable, Sendable, CustomStringConvertible {
    public var trialId: String
    /// The destination's version (kept).
    public var kept: MergeSide
    /// The source's version (not merged).
    public var other: MergeSide
    /// One line per differing value, e.g. `epoch 2 test_accuracy: 91.2 vs 91.3`.
    public var differences: [String]

    public var description: String {
        func environment(_ e: EnvironmentRecord?) -> String {
            guard let e else { return "environment unknown" }
            return "\(e.host), \(e.cpuModel), \(e.threads) threads, \(e.blas), \(e.swiftVersion), nin-study \(e.ninStudyVersion) \(e.gitCommit ?? "")"
                .trimmingCharacters(in: .whitespaces)
        }
        return "conflict: trial \(trialId.prefix(10)) finished in both with different metrics: "
            + differences.joined(separator: "; ")
            + " (kept \(kept.database): \(environment(kept.environment)); not merged \(other.database): \(environment(other.environment)))"
    }
}

/// What ``ResultsStore/merge(from:)`` did with one source database.
public struct MergeReport: Equatable, Sendable {
    /// The source database file.
    public var source: String
    /// Trials the destination did not have.
    public var added: [String] = []
    /// Trials the source had further along (finished, failed, or more epochs), replaced in the destination.
    public var updated: [String] = []
    /// Trials already in the destination as far along (or identical): left as they were.
    public var unchanged: [String] = []
    /// Finished in both with different metrics.
    public var conflicts: [MergeConflict] = []
    /// Checkpoints copied into the destination's checkpoint folder.
    public var checkpointsCopied: [String] = []
    /// Trials taken from the source whose checkpoint was not found (or not the one recorded): an
    /// unfinished one trains again from epoch 1 when resumed; a finished one has no maps to render.
    public var checkpointsUnreachable: [String] = []
}

extension ResultsStore {
    /// Folds another results database into this one, in one write transaction: studies,
    /// environments, datasets, trials with their parameters, epochs and artifacts.
    ///
    /// Per trial the version furthest along wins: finished, then failed, then the one with more
    /// recorded epochs, then pending; an unfinished trial arrives `interrupted`, so the next
    /// `run` on this database resumes it. The same trial finished in both with identical per-epoch
    /// metrics is one trial; with differing metrics it is a ``MergeConflict`` (this database's
    /// version is kept). A trial running here is never replaced. Artifact paths are rewritten to
    /// stay valid relative to this database (``storedArtifactPath(_:)``), and the checkpoint of
    /// every trial taken from the source is copied to this database's checkpoint path
    /// (``DatabaseFiles``), where `run` resumes and `maps` renders from it. Merging the same
    /// source again changes nothing. The source is only read.
    /// - Throws: ``StoreError/invalidValue(what:expected:found:)`` when the source is this very
    ///   database file; database errors; a checkpoint that cannot be copied.
    public func merge(from source: ResultsStore) throws -> MergeReport {
        guard let here = artifactBase, let there = source.artifactBase else {
            throw StoreError.invalidValue(what: "merge", expected: "two database files", found: "an in-memory database")
        }
        let mine = (here as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        let theirs = (there as NSString).appendingPathComponent((source.path as NSString).lastPathComponent)
        guard mine != theirs else {
            throw StoreError.invalidValue(what: "merge source \(source.path)", expected: "another database than the destination", found: "the destination itself")
        }
        let snapshot = try source.read("read \(source.path) for merging") { db in try MergeSnapshot(db) }
        var report = MergeReport(source: source.path)
        try write("merge \(source.path)") { db in
            for study in snapshot.studies where try !StudyRecord.exists(db, key: study.name) {
                try study.insert(db)
            }
            let environmentIds = try Self.mergeEnvironments(snapshot.environments, into: db)
            for dataset in snapshot.datasets { try dataset.insert(db, onConflict: .ignore) }
            for file in snapshot.datasetFiles { try file.insert(db, onConflict: .ignore) }

            for var incoming in snapshot.trials {
                let id = incoming.id
                let epochs = snapshot.epochs[id] ?? []
                let sourceEnvironment = snapshot.environments.first { $0.id != nil && $0.id == incoming.environmentId }
                incoming.environmentId = incoming.environmentId.flatMap { environmentIds[$0] }
                let existing = try TrialRecord.fetchOne(db, key: id)
                switch Self.mergeDecision(existing: existing, incoming: incoming) {
                case .keep:
                    if let existing, existing.status == .finished, incoming.status == .finished {
                        let kept = try EpochRecord.filter(Column("trial_id") == id).order(Column("epoch")).fetchAll(db)
                        let differences = Self.metricDifferences(kept, epochs)
                        if !differences.isEmpty {
                            let keptEnvironment = try existing.environmentId.flatMap { try EnvironmentRecord.fetchOne(db, key: $0) }
                            report.conflicts.append(MergeConflict(
                                trialId: id, kept: MergeSide(database: path, epochs: kept, environment: keptEnvironment),
                                other: MergeSide(database: source.path, epochs: epochs, environment: sourceEnvironment),
                                differences: differences))
                            break
                        }
                    }
                    report.unchanged.append(id)
                case .take:
                    if incoming.status == .running { incoming.status = .interrupted }
                    if existing == nil {
                        try incoming.insert(db)
                        report.added.append(id)
                    } else {
                        try incoming.update(db)
                        report.updated.append(id)
                    }
                    try db.execute(sql: "DELETE FROM epochs WHERE trial_id = ?", arguments: [id])
                    for epoch in epochs { try epoch.insert(db) }
                    try db.execute(sql: "DELETE FROM artifacts WHERE trial_id = ?", arguments: [id])
                    for artifact in snapshot.artifacts[id] ?? [] where artifact.kind != .checkpoint {
                        var copy = artifact
                        copy.id = nil
                        copy.path = storedArtifactPath(source.resolvedArtifactPath(artifact.path))
                        try copy.insert(db, onConflict: .ignore)
                    }
                    if let copied = try copyCheckpoint(of: incoming, from: source, recorded: snapshot.artifacts[id] ?? []) {
                        try addArtifactRow(db, trialId: id, kind: .checkpoint, path: copied.path, sha256: copied.sha256, bytes: copied.bytes)
                        report.checkpointsCopied.append(id)
                    } else if incoming.epochsDone > 0 {
                        report.checkpointsUnreachable.append(id)
                    }
                }
                for link in snapshot.studyTrials[id] ?? [] { try link.insert(db, onConflict: .ignore) }
                for param in snapshot.params[id] ?? [] { try param.insert(db, onConflict: .ignore) }
            }
        }
        return report
    }

    /// Inserts the source's environments this database lacks (same fingerprint, same environment).
    /// - Returns: each source environment id mapped to its id here.
    static func mergeEnvironments(_ environments: [EnvironmentRecord], into db: Database) throws -> [Int64: Int64] {
        var environmentIds: [Int64: Int64] = [:]
        for environment in environments {
            if let existing = try EnvironmentRecord.filter(Column("fingerprint") == environment.fingerprint).fetchOne(db) {
                environmentIds[environment.id!] = existing.id!
            } else {
                var copy = environment
                copy.id = nil
                try copy.insert(db)
                environmentIds[environment.id!] = db.lastInsertedRowID
            }
        }
        return environmentIds
    }

    /// Whether a merge keeps this database's version of a trial or takes the source's.
    enum MergeDecision { case keep, take }

    /// The rule of ``merge(from:)``: the version furthest along wins; ties keep the destination's.
    static func mergeDecision(existing: TrialRecord?, incoming: TrialRecord) -> MergeDecision {
        guard let existing else { return .take }
        if existing.status == .running { return .keep }
        func rank(_ t: TrialRecord) -> (Int, Int) {
            switch t.status {
            case .finished: return (3, 0)
            case .failed: return (2, 0)
            case .running, .interrupted: return (1, t.epochsDone)
            case .pending: return (t.epochsDone > 0 ? 1 : 0, t.epochsDone)
            }
        }
        return rank(incoming) > rank(existing) ? .take : .keep
    }

    /// The per-epoch metrics (losses, accuracies, learning rate; not times) that differ, one line each.
    static func metricDifferences(_ a: [EpochRecord], _ b: [EpochRecord]) -> [String] {
        guard a.count == b.count else { return ["epochs recorded: \(a.count) vs \(b.count)"] }
        let columns: [(String, KeyPath<EpochRecord, Double?>)] = [
            ("train_loss", \.trainLoss), ("train_accuracy", \.trainAccuracy), ("val_loss", \.valLoss),
            ("val_accuracy", \.valAccuracy), ("test_loss", \.testLoss), ("test_accuracy", \.testAccuracy),
            ("learning_rate", \.learningRate),
        ]
        var lines: [String] = []
        for (x, y) in zip(a, b) {
            for (name, key) in columns where x[keyPath: key] != y[keyPath: key] {
                lines.append("epoch \(x.epoch) \(name): \(x[keyPath: key].map { "\($0)" } ?? "NULL") vs \(y[keyPath: key].map { "\($0)" } ?? "NULL")")
            }
        }
        return lines
    }

    /// Copies the source's checkpoint of a trial to this database's checkpoint path (write to a
    /// temporary file, then rename), or returns nil when the source has none, or has a file that
    /// is not the checkpoint it recorded. Returns the copy's path, SHA-256 and size.
    private func copyCheckpoint(of trial: TrialRecord, from source: ResultsStore,
                                recorded: [ArtifactRecord]) throws -> (path: String, sha256: String, bytes: Int64)? {
        let from = source.files.checkpointPath(trialId: trial.id)
        guard let data = FileManager.default.contents(atPath: from) else { return nil }
        let sha = Self.sha256Hex(data)
        let stored = source.storedArtifactPath(from)
        if let record = recorded.last(where: { $0.kind == .checkpoint && $0.path == stored }),
           record.sha256 != sha, trial.status != .running {
            return nil
        }
        let to = files.checkpointPath(trialId: trial.id)
        let temporary = to + ".merge-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: files.checkpointFolder, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
            try FileManager.default.moveItem(atPath: temporary, toPath: to)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw StoreError.database(operation: "copy checkpoint \(from) to \(to)", path: path, message: "\(error)")
        }
        return (to, sha, Int64(data.count))
    }
}

/// Everything a merge reads from its source, in one read transaction.
private struct MergeSnapshot {
    var studies: [StudyRecord]
    var environments: [EnvironmentRecord]
    var datasets: [DatasetRecord]
    var datasetFiles: [DatasetFileRecord]
    var trials: [TrialRecord]
    var epochs: [String: [EpochRecord]]
    var artifacts: [String: [ArtifactRecord]]
    var studyTrials: [String: [StudyTrialRecord]]
    var params: [String: [TrialParamRecord]]

    init(_ db: Database) throws {
        studies = try StudyRecord.order(Column("name")).fetchAll(db)
        environments = try EnvironmentRecord.order(Column("id")).fetchAll(db)
        datasets = try DatasetRecord.fetchAll(db)
        datasetFiles = try DatasetFileRecord.fetchAll(db)
        trials = try TrialRecord.fetchAll(db, sql: "SELECT * FROM trials ORDER BY rowid")
        epochs = Dictionary(grouping: try EpochRecord.order(Column("trial_id"), Column("epoch")).fetchAll(db), by: \.trialId)
        artifacts = Dictionary(grouping: try ArtifactRecord.order(Column("id")).fetchAll(db), by: \.trialId)
        studyTrials = Dictionary(grouping: try StudyTrialRecord.fetchAll(db), by: \.trialId)
        params = Dictionary(grouping: try TrialParamRecord.fetchAll(db), by: \.trialId)
    }
}
