import Foundation
import NINData
import NINEngine
import NINStore

/// A stored trial read back for use outside training (`maps`, `export`): its configuration and
/// its checkpoint, the checkpoint's SHA-256 checked against the one the database recorded.
public struct RecordedTrial {
    /// The trial's record.
    public var record: TrialRecord
    /// The trial's resolved configuration, decoded from the record.
    public var config: TrialConfig
    /// The checkpoint read from the trial's checkpoint file.
    public var saved: TrialCheckpoint
    /// That file's path.
    public var checkpointPath: String

    /// Reads the trial's configuration and checkpoint (the checkpoint folder beside
    /// `databasePath`, as `run` writes it).
    /// - Throws: `MapsError.badConfig`, `.noCheckpoint`, `.checkpointMismatch` (a checkpoint
    ///   whose SHA-256 differs from the recorded one; a running trial's, rewritten every epoch, is
    ///   not checked), `CheckpointError`, `StoreError`.
    public static func load(record: TrialRecord, store: ResultsStore, databasePath: String) throws -> RecordedTrial {
        let config = try Self.config(of: record)
        var options = RunOptions()
        options.databasePath = databasePath
        let checkpoints = options.checkpoints
        let path = checkpoints.url(trialId: record.id).path
        guard let saved = try checkpoints.load(trialId: record.id) else {
            throw MapsError.noCheckpoint(trial: record.id, path: path)
        }
        if record.status != .running, let recorded = try store.checkpointArtifact(trialId: record.id, at: path),
           case .differs(let found) = store.fileState(of: recorded) {
            throw MapsError.checkpointMismatch(trial: record.id, path: path, recorded: recorded.sha256, found: found)
        }
        return RecordedTrial(record: record, config: config, saved: saved, checkpointPath: path)
    }

    /// A trial's resolved configuration, decoded from its record (`verify` needs no checkpoint file).
    /// - Throws: `MapsError.badConfig`.
    public static func config(of record: TrialRecord) throws -> TrialConfig {
        do { return try JSONDecoder().decode(TrialConfig.self, from: Data(record.configJSON.utf8)) } catch {
            throw MapsError.badConfig(trial: record.id, reason: "\(error)")
        }
    }

    /// The engine's model description of the trial (named by the trial id).
    public var modelDescription: ModelDescription {
        config.model.engineDescription(dataset: config.dataset, name: record.id)
    }

    /// Refuses dataset files other than the ones the trial recorded (by their combined SHA-256).
    /// - Throws: `MapsError.datasetMismatch` listing the files that differ.
    func checkDataset(_ identity: DatasetIdentity, store: ResultsStore) throws {
        guard let recorded = record.datasetIdentity, recorded != identity.combined else { return }
        let differences = DatasetFileDifferences.list(recorded: try store.datasetFiles(identity: recorded), found: identity)
        throw MapsError.datasetMismatch(trial: record.id, differences: differences)
    }

    /// The trial's preprocessing fitted on its training split as in training (GCN + ZCA read from
    /// the run's cache when present), and the dataset's class names. The dataset is read (and
    /// checked against the recorded files) for every preprocessing, `none` included.
    /// - Throws: `MapsError.datasetMismatch`, `DatasetError` (dataset not found: pass `--data-dir`).
    public func fittedPreprocessing(store: ResultsStore, dataDir: String?) throws -> (FittedPreprocessing, classNames: [String]) {
        let d = config.dataset
        let splits = try DatasetSplits(d, dataDir: dataDir, fetchMissing: false, log: { _ in })
        try checkDataset(splits.identity, store: store)
        return (try splits.fitPreprocessing(d, cacheDirectory: RunOptions().cache), splits.classNames)
    }
}
