import Foundation
import NINStore

/// Errors of `nin-study maps`.
public enum MapsError: Error, CustomStringConvertible {
    case noCheckpoint(trial: String, path: String)
    /// The checkpoint file's SHA-256 differs from the one this database recorded for it.
    case checkpointMismatch(trial: String, path: String, recorded: String, found: String)
    case badConfig(trial: String, reason: String)
    case imageIndexOutOfRange(index: Int, count: Int)
    /// The dataset files found differ from those the trial trained on; one line per differing file.
    case datasetMismatch(trial: String, differences: [String])

    public var description: String {
        switch self {
        case .noCheckpoint(let t, let p):
            return "trial \(t.prefix(10)) has no checkpoint at \(p) (checkpoints are written at the end of every epoch; run the trial first, with the same --db)"
        case .checkpointMismatch(let t, let p, let recorded, let found):
            return "trial \(t.prefix(10)): the checkpoint \(p) has SHA-256 \(found.prefix(16))…, not the \(recorded.prefix(16))… this database recorded; it is not this database's checkpoint of the trial (run the study again with this --db to resume or retrain it)"
        case .badConfig(let t, let r): return "trial \(t.prefix(10)): its stored configuration cannot be read: \(r)"
        case .imageIndexOutOfRange(let i, let n): return "--images: test image \(i) does not exist (the test set has \(n) images, 0…\(n - 1))"
        case .datasetMismatch(let t, let d):
            return "trial \(t.prefix(10)) was trained on other dataset files than the ones found (SHA-256): "
                + d.joined(separator: "; ") + ". Pass the --data-dir given to `run`."
        }
    }
}

/// `nin-study maps`: renders a stored trial's confidence maps from its checkpoint.
public enum TrialMaps {
    /// Renders the sheets and records them as artifacts.
    /// - Returns: the paths written.
    /// - Throws: `MapsError` (no checkpoint, a checkpoint whose SHA-256 differs from the recorded one, unreadable configuration, an image index out of range,
    ///   dataset files whose SHA-256 differ from those the trial recorded), `DatasetError`,
    ///   `CheckpointError`, `RenderError`, `StoreError`.
    public static func render(record: TrialRecord, store: ResultsStore, databasePath: String, dataDir: String?,
                              indices: [Int]?, topPercent: Double, output: String?, threads: Int) throws -> [String] {
        let config: TrialConfig
        do { config = try JSONDecoder().decode(TrialConfig.self, from: Data(record.configJSON.utf8)) } catch {
            throw MapsError.badConfig(trial: record.id, reason: "\(error)")
        }
        var options = RunOptions()
        options.databasePath = databasePath
        let checkpoint = URL(fileURLWithPath: store.files.checkpointPath(trialId: record.id))
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw MapsError.noCheckpoint(trial: record.id, path: checkpoint.path)
        }
        // A running trial rewrites its checkpoint every epoch; any other's is the one recorded last.
        if record.status != .running, let recorded = try store.checkpointArtifact(trialId: record.id, at: checkpoint.path),
           case .differs(let found) = store.fileState(of: recorded) {
            throw MapsError.checkpointMismatch(trial: record.id, path: checkpoint.path, recorded: recorded.sha256, found: found)
        }
        let params = try store.params(trialId: record.id)
        let swept = params.keys.sorted().compactMap { k in (try? JSONValue.parse(Data(params[k]!.utf8), file: k)).map { (path: k, value: $0) } }
        let trial = Trial(config: config, swept: swept)
        let data = try PreparedData(config.dataset, dataDir: dataDir, cacheDirectory: options.cache)
        if let recorded = record.datasetIdentity, recorded != data.identity.combined {
            let expected = Dictionary(uniqueKeysWithValues: try store.datasetFiles(identity: recorded).map { ($0.file, $0.sha256) })
            let found = Dictionary(uniqueKeysWithValues: data.identity.files.map { ($0.name, $0.sha256) })
            let differences = Set(expected.keys).union(found.keys).sorted().compactMap { name -> String? in
                switch (expected[name], found[name]) {
                case let (e?, f?) where e != f: return "\(name): recorded \(e.prefix(12))…, found \(f.prefix(12))…"
                case (_?, nil): return "\(name): recorded, not read now"
                case (nil, _?): return "\(name): read now, not recorded"
                default: return nil
                }
            }
            throw MapsError.datasetMismatch(trial: record.id, differences: differences)
        }
        if let bad = indices?.first(where: { $0 >= data.test.count }) {
            throw MapsError.imageIndexOutOfRange(index: bad, count: data.test.count)
        }
        let trainer = try TrialTrainer(trial: trial, data: data, threads: threads, checkpointURL: checkpoint)
        let study = try store.studies(containingTrial: record.id).first ?? "trials"
        var paths: [String] = []
        for (kind, path) in try MapRenderer.renderTrial(network: trainer.network, trial: trial, data: data, study: study,
                                                       folder: output ?? options.maps, testIndices: indices, topPercent: topPercent) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try store.addArtifact(trialId: record.id, kind: kind, path: path, sha256: sha256Hex(bytes), bytes: Int64(bytes.count))
            paths.append(path)
        }
        return paths
    }
}
