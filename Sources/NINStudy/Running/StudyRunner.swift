import Foundation
import NINEngine
import NINData
import NINStore

/// Runs a study: registers it and its trials in the results store, then trains each trial that is
/// not finished, resuming interrupted ones from their last end-of-epoch checkpoint.
public final class StudyRunner {
    public let study: StudyDefinition
    public let options: RunOptions
    public let reporter: RunReporter
    private var prepared: PreparedData?
    /// The identity of each dataset's files as found now (nil inside: found nowhere), read once per run.
    private var currentIdentities: [DatasetName: DatasetIdentity?] = [:]

    public init(study: StudyDefinition, options: RunOptions, reporter: RunReporter) {
        self.study = study
        self.options = options
        self.reporter = reporter
    }

    /// The trials selected by `--only` (all when nil) and `--shard`.
    /// - Throws: `RunError` for a filter that is malformed or matches nothing.
    public func selectedTrials() throws -> [Trial] {
        try onlyFiltered().filter { options.shard?.contains(trialId: $0.id) ?? true }
    }

    /// The study's trials that `--shard` gives to this run (all without `--shard`).
    var shardTrials: [Trial] { study.trials.filter { options.shard?.contains(trialId: $0.id) ?? true } }

    /// The trials selected by `--only` (all when nil).
    /// - Throws: `RunError` for a filter that is malformed or matches nothing.
    func onlyFiltered() throws -> [Trial] {
        guard let only = options.only, !only.isEmpty else { return study.trials }
        let picked: [Trial]
        if !only.contains("="), only.allSatisfy(\.isHexDigit) {
            picked = study.trials.filter { $0.id.hasPrefix(only.lowercased()) }
        } else {
            var filters: [(String, String)] = []
            for part in only.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[0].isEmpty else { throw RunError.badFilter(only) }
                filters.append((kv[0], kv[1]))
            }
            picked = study.trials.filter { t in
                filters.allSatisfy { f in
                    t.swept.contains { $0.path == f.0 && $0.value.shortDescription.replacingOccurrences(of: "\"", with: "") == f.1 }
                }
            }
        }
        if picked.isEmpty { throw RunError.noTrialMatches(filter: only, labels: study.trials.map { "\($0.id.prefix(10)) \($0.label)" }) }
        return picked
    }

    /// The store record of a trial (configuration, swept columns, counts).
    static func record(for trial: Trial, epochs: Int?) -> (TrialRecord, [String: String]) {
        let c = trial.config
        let description = c.model.engineDescription(dataset: c.dataset)
        let swept = "{" + trial.swept.map { JSONValue.quote($0.path) + ":" + $0.value.canonicalText }.joined(separator: ",") + "}"
        // Between mlpconv blocks only (`trials.dropout`); the head's rate is in the configuration.
        let dropout = c.model.blocks.compactMap(\.dropout).first
        var r = TrialRecord(id: trial.id, configJSON: c.canonicalJSON, sweptJSON: swept, dataset: c.dataset.name.rawValue,
                            head: c.model.head.rawValue, depth: c.model.uniformDepth, widths: c.model.widthsText,
                            widthMultiplier: trial.widthMultiplier, dropout: dropout ?? 0, seed: Int64(c.seed),
                            epochsPlanned: epochs, precision: c.training.gemmPrecision.rawValue)
        r.parameterCount = (try? description.parameterCount).map(Int64.init)
        r.multiplyAdds = (try? description.multiplyAddsPerImage).map(Int64.init)
        let params = Dictionary(trial.swept.map { ($0.path, $0.value.canonicalText) }, uniquingKeysWith: { a, _ in a })
        return (r, params)
    }

    /// Runs the selected trials.
    /// - Throws: `StoreError` (the database cannot be opened or written), `RunError`, and
    ///   `DatasetError` when a dataset cannot be read.
    public func run(stop: StopFlag) throws -> RunSummary {
        let selected = try selectedTrials()
        // Read (or fetch) the data of the first trial to run before registering anything, so a
        // missing or corrupt dataset leaves no study with pending trials behind; and before a new
        // database (with its folders) is created at all, when every selected trial is to run.
        let newDatabase = !FileManager.default.fileExists(atPath: options.databasePath)
        if newDatabase, let first = selected.first { _ = try prepare(first.config.dataset) }
        let store = try openStore()
        let toTrain = try selected.filter { trial in
            guard let stored = try store.trial(id: trial.id) else { return true }
            return TrialDecision(stored: stored, retryFailed: options.retryFailed) == .train
        }
        if !newDatabase, let toRun = toTrain.first { _ = try prepare(toRun.config.dataset) }
        if let bf16 = toTrain.first(where: { $0.config.training.gemmPrecision == .bf16 }), let reason = ComputeBackend.bf16Unsupported() {
            throw RunError.precisionUnsupported(trial: "\(bf16.id.prefix(10)) \(bf16.label)", reason: reason)
        }
        let environmentId = try register(in: store)

        var summary = RunSummary()
        let work = selected.map { TrialWork($0.config) }
        for (index, trial) in selected.enumerated() {
            let position = "[\(index + 1)/\(selected.count)] \(trial.id.prefix(10))"
            guard let stored = try store.trial(id: trial.id),
                  try isToTrain(trial, stored: stored, position: position, store: store, summary: &summary) else { continue }
            // A stop requested before this trial began (also while the data was being read) is
            // an interruption, not a trial running elsewhere.
            if stop.isSet {
                summary.interrupted = true
                summary.notRun.append(trial.id)
                continue
            }
            try claimAndTrain(trial, position: position, index: index, count: selected.count, work: work,
                              store: store, environmentId: environmentId, stop: stop, summary: &summary)
        }
        if options.renderMaps { renderLearningCurves(store) }
        try summary.settleRunningElsewhere(store)
        return summary
    }

    /// Opens the run's database and tidies what killed runs left: temporary checkpoint files and
    /// trials still marked running by a process that is gone (at once with `--exclusive`).
    /// - Throws: `StoreError`.
    func openStore() throws -> ResultsStore {
        // Processes of several machines sharing a database on a network filesystem can corrupt
        // it (WAL); an --exclusive run is the database's only writer (a Slurm shard task).
        if !options.exclusive, let network = options.networkFilesystem(options.databasePath) {
            reporter.message(network.warning(database: options.databasePath))
        }
        let store = try ResultsStore(path: options.databasePath)
        let host = ProcessInfo.processInfo.hostName
        let abandoned = options.checkpoints.removeAbandonedTemporaryFiles(trial: { try? store.trial(id: $0) }, currentHost: host)
        if !abandoned.isEmpty {
            reporter.message("deleted \(abandoned.count) temporary checkpoint file\(abandoned.count == 1 ? "" : "s") of killed runs: \(abandoned.joined(separator: ", "))")
        }
        let recovered = options.exclusive
            ? try store.recoverAbandonedTrials(currentHost: host, staleAfter: -1, probe: .noneAlive)
            : try store.recoverAbandonedTrials(currentHost: host, isAlive: ResultsStore.processIsAlive)
        if !recovered.isEmpty {
            reporter.message("marked \(recovered.count) abandoned trial\(recovered.count == 1 ? "" : "s") (process gone) as interrupted: \(recovered.map { String($0.prefix(10)) }.joined(separator: ", "))")
        }
        return store
    }

    /// Whether a trial is to be trained now (``TrialDecision``); a trial that is not is noted in
    /// `summary` and reported (finished, also on other dataset files; failed; running elsewhere).
    /// - Throws: `StoreError`, `DatasetError` when the current dataset files cannot be read.
    func isToTrain(_ trial: Trial, stored: TrialRecord, position: String, store: ResultsStore,
                   summary: inout RunSummary) throws -> Bool {
        switch TrialDecision(stored: stored, retryFailed: options.retryFailed) {
        case .skipFinished:
            if let differences = try datasetChanges(trial, stored: stored, store: store) {
                summary.datasetChanged.append((trial.id, trial.label, differences))
                reporter.message("\(position) \(trial.label): finished earlier on other \(trial.config.dataset.name.rawValue) files than the ones found now (\(differences.joined(separator: "; "))). "
                                 + Self.datasetChangedAdvice)
                return false
            }
            summary.skipped.append(trial.id)
            reporter.message("\(position) \(trial.label): finished earlier, skipped")
        case .skipFailed(let reason):
            summary.skipped.append(trial.id)
            summary.failed.append((trial.id, trial.label, reason))
            reporter.message("\(position) \(trial.label): failed earlier (\(reason)), skipped; --retry-failed runs it again")
        case .runningElsewhere(let pid, let host):
            summary.noteTakenElsewhere(stored, label: trial.label)
            reporter.message("\(position) \(trial.label): running in process \(pid) on \(host), skipped")
        case .train:
            return true
        }
        return false
    }

    /// Claims a trial (one transaction decides who runs it, before its checkpoint is read or
    /// removed: a process that loses the race moves on and never touches the winner's files),
    /// trains it, and notes its outcome in `summary`.
    /// - Throws: `StoreError` (but a lost claim, which is noted), `CheckpointError`, `DatasetError`.
    func claimAndTrain(_ trial: Trial, position: String, index: Int, count: Int, work: [TrialWork], store: ResultsStore,
                       environmentId: Int64, stop: StopFlag, summary: inout RunSummary) throws {
        let data = try prepare(trial.config.dataset)
        try store.registerDataset(identity: data.identity.combined, name: data.name.rawValue, classNames: data.classNames,
                                  files: data.identity.files.map { DatasetFileRecord(file: $0.name, bytes: Int64($0.bytes), sha256: $0.sha256) })
        let claimed: TrialRecord
        switch try TrialRecorder(store: store, trialId: trial.id).claim(environmentId: environmentId, datasetIdentity: data.identity.combined,
                                                                       retryFailed: options.retryFailed) {
        case .claimed(let previous):
            claimed = previous
        case .notClaimable(let current):
            summary.noteTakenElsewhere(current, label: trial.label)
            reporter.message("\(position) \(trial.label): \(current.status == .running ? "running in process \(current.pid.map(String.init) ?? "?") on \(current.host ?? "?")" : "\(current.status.rawValue) by another process"), skipped")
            return
        }
        let remainingMultiplyAdds = work[(index + 1)...].reduce(0) { $0 + $1.multiplyAdds }
        let outcome: TrialOutcome
        do {
            outcome = try train(trial, claimed: claimed, data: data, position: position, index: index, count: count,
                                store: store,
                                multiplyAddsPerImage: Double(work[index].multiplyAddsPerImage),
                                remainingMultiplyAdds: remainingMultiplyAdds, stop: stop)
        } catch let error as StoreError {
            guard case .claimLost = error else { throw error }
            // Another process took the trial over: it is theirs now; nothing more is written.
            reporter.message("\(position) \(trial.label): \(error); its results and files are the other process's")
            if let current = try store.trial(id: trial.id) { summary.noteTakenElsewhere(current, label: trial.label) }
            return
        }
        switch outcome {
        case .finished: summary.finished.append(trial.id)
        case .failed(let reason): summary.failed.append((trial.id, trial.label, reason))
        case .interrupted:
            summary.interrupted = true
            summary.notRun.append(trial.id)
        }
    }

    /// Registers the study, the environment and every trial of the study; reports trials a
    /// changed definition no longer contains.
    /// - Returns: the environment's id. - Throws: `StoreError`.
    func register(in store: ResultsStore) throws -> Int64 {
        let sha = sha256Hex(Data(study.sourceText.utf8))
        try store.upsertStudy(name: study.name, description: study.description, definitionJSON: study.sourceText, definitionSHA256: sha)
        let environmentId = try store.registerEnvironment(EnvironmentProbe.current(threads: options.threads))
        for trial in shardTrials {
            let (record, params) = Self.record(for: trial, epochs: trial.config.training.epochs)
            try store.upsertTrial(record, params: params, study: study.name)
        }
        let detached = try store.detachTrials(study: study.name, keeping: Set(study.trials.map(\.id)))
        if !detached.isEmpty {
            reporter.message("the definition of study \(study.name) changed since its last run: \(detached.count) trial\(detached.count == 1 ? " is" : "s are") no longer part of it (their results stay in the trials table)")
            let files = DetachedTrialFiles(store: store, databasePath: options.databasePath,
                                           checkpoints: options.checkpoints, mapsFolder: options.maps)
            let cleaned = try files.remove(trialIds: detached)
            if !cleaned.removedFiles.isEmpty {
                reporter.message("deleted \(cleaned.removedFiles.count) checkpoint and map file\(cleaned.removedFiles.count == 1 ? "" : "s") of trials no study contains any more")
            }
        }
        return environmentId
    }

    /// Trains one trial this process has claimed: decides between resuming and starting again,
    /// trains with live progress and recording, and records its outcome and artifacts.
    /// - Parameter claimed: the trial's record as it was before this process claimed it.
    /// - Throws: `StoreError`, `CheckpointError`; the trial is marked interrupted when training throws.
    func train(_ trial: Trial, claimed: TrialRecord, data: PreparedData, position: String, index: Int, count: Int,
               store: ResultsStore, multiplyAddsPerImage: Double, remainingMultiplyAdds: Double,
               stop: StopFlag) throws -> TrialOutcome {
        let checkpoints = options.checkpoints
        var resume = try checkpoints.load(trialId: trial.id)
        if let reason = Self.restartReason(stored: claimed, checkpointEpoch: resume?.epoch ?? 0,
                                           checkpointPath: checkpoints.url(trialId: trial.id).path,
                                           datasetIdentity: data.identity.combined, retryFailed: options.retryFailed) {
            // Epoch 1 is recorded again, which replaces every epoch row of the earlier attempt.
            reporter.message("\(position): starting again from epoch 1: \(reason)")
            checkpoints.remove(trialId: trial.id)
            resume = nil
        }
        let trainer = try TrialTrainer(trial: trial, data: data, threads: options.threads, resume: resume, checkpoints: checkpoints)
        let recorder = TrialRecorder(store: store, trialId: trial.id, warn: reporter.message)
        trainer.guardCheckpointWrite = { write in try recorder.whileOwningClaim("write the checkpoint of", write) }
        reporter.trialStarted(index: index + 1, count: count, trial: trial,
                              resumedFromEpoch: trainer.resumedFromEpoch, epochs: trainer.plannedEpochs)
        let batchSize = Double(trial.config.training.batchSize)
        let outcome: TrialOutcome
        do {
            outcome = try trainer.run(stop: stop, progress: { p in
                let remainingImages = Double(p.batches - p.batch) * batchSize + Double(p.epochs - p.epoch) * Double(p.batches) * batchSize
                let trialETA = remainingImages / max(p.imagesPerSecond, 1e-9)
                let studyETA = trialETA + remainingMultiplyAdds / max(p.imagesPerSecond * multiplyAddsPerImage, 1e-9)
                self.reporter.batch(p, trialETA: trialETA, studyETA: studyETA)
                try recorder.heartbeatIfDue()
            }, epochFinished: { m in
                try recorder.record(m)
                self.reporter.epochFinished(m, trial: trial)
            })
        } catch {
            // Only while this process owns the claim (a lost claim is the new owner's to record).
            try? recorder.record(TrialOutcome.interrupted)
            throw error
        }
        // The claim is checked again before any file of the trial is recorded or rendered.
        try recorder.heartbeat()
        // Every outcome keeps the checkpoint of its last finished epoch, recorded with its SHA-256:
        // an interrupted trial resumes from it (also after `merge`), and `nin-study maps` can show
        // what a failed network learned (--retry-failed starts the trial again from scratch).
        if checkpoints.exists(trialId: trial.id) {
            try recorder.recordArtifact(.checkpoint, path: checkpoints.url(trialId: trial.id).path)
        }
        if case .finished = outcome, options.renderMaps {
            do {
                for (kind, path) in try MapRenderer.renderTrial(network: trainer.network, trial: trial, images: data.mapImages(),
                                                                study: study.name, folder: options.maps) {
                    try recorder.recordArtifact(kind, path: path)
                }
            } catch {
                reporter.message("\(trial.id.prefix(10)): could not render confidence maps: \(error)")
            }
        }
        try recorder.record(outcome)
        reporter.trialEnded(trial, outcome: outcome)
        return outcome
    }

    /// Renders the study's learning curves and records them with every trial that has an epoch.
    func renderLearningCurves(_ store: ResultsStore) {
        do {
            if let path = try MapRenderer.renderLearningCurves(store: store, study: study.name, folder: options.maps) {
                for t in try store.trialSummaries(study: study.name) where t.epochsDone > 0 {
                    try TrialRecorder.recordArtifact(.learningCurve, path: path, trialId: t.trialId, store: store, owner: nil)
                }
                reporter.message("learning curves: \(path)")
            }
        } catch {
            reporter.message("could not render the learning curves: \(error)")
        }
    }

    /// What a user can do about a finished trial whose dataset files changed.
    public static let datasetChangedAdvice = "Its recorded results stay as they are, for the files it read; it is not trained again in this database. To train it on the files found now, run with another --db; to go on with this database, pass the --data-dir holding the files it read."

    /// The files that differ between those a finished trial recorded and those found now, or nil
    /// when they agree, the trial recorded none, or the dataset is found nowhere (nothing to compare).
    /// - Throws: `DatasetError` for dataset files that cannot be read, `StoreError`.
    func datasetChanges(_ trial: Trial, stored: TrialRecord, store: ResultsStore) throws -> [String]? {
        guard let recorded = stored.datasetIdentity else { return nil }
        let name = trial.config.dataset.name
        if currentIdentities[name] == nil {
            if let p = prepared, p.name == name {
                currentIdentities[name] = .some(p.identity)
            } else {
                do { currentIdentities[name] = .some(try DataLocator().load(name, dataDir: options.dataDir).identity) }
                catch DatasetError.datasetNotFound { currentIdentities[name] = .some(nil) }
            }
        }
        guard let found = currentIdentities[name]!, found.combined != recorded else { return nil }
        return DatasetFileDifferences.list(recorded: try store.datasetFiles(identity: recorded), found: found)
    }

    /// Why a trial must start again from epoch 1 instead of resuming from its checkpoint, or nil.
    ///
    /// A checkpoint is resumed only when it belongs to this database's record of the trial: it
    /// is not past the epochs the database recorded (a checkpoint beside another database in the
    /// same folder would otherwise stand in for training that was never recorded here), and the
    /// recorded epochs read the same dataset files. A failed trial run again with `--retry-failed`
    /// starts from scratch, so it is trained again, not declared finished from its last checkpoint.
    /// Recorded epochs without a checkpoint at `checkpointPath` (checkpoints are not committed,
    /// so a database copied or cloned elsewhere has none) are trained again, and said so.
    static func restartReason(stored: TrialRecord, checkpointEpoch: Int, checkpointPath: String,
                              datasetIdentity: String, retryFailed: Bool) -> String? {
        guard checkpointEpoch > 0 || stored.epochsDone > 0 else { return nil }
        if stored.status == .failed && retryFailed { return "retrying a failed trial" }
        if checkpointEpoch == 0 {
            return "its \(stored.epochsDone) recorded epoch\(stored.epochsDone == 1 ? " has" : "s have") no checkpoint here (\(checkpointPath)); they are trained again"
        }
        if checkpointEpoch > stored.epochsDone {
            return "its checkpoint (after epoch \(checkpointEpoch)) is not from this database, which recorded \(stored.epochsDone) epoch\(stored.epochsDone == 1 ? "" : "s")"
        }
        if let recorded = stored.datasetIdentity, recorded != datasetIdentity {
            return "its recorded epochs read other dataset files (SHA-256 identity \(recorded.prefix(12))…, now \(datasetIdentity.prefix(12))…)"
        }
        return nil
    }

    /// The prepared dataset for a trial, reusing the previous one when the settings agree
    /// (only one dataset is kept in memory).
    func prepare(_ d: ResolvedDataset) throws -> PreparedData {
        if let p = prepared, p.key == PreparedData.key(for: d) { return p }
        prepared = nil
        let p: PreparedData
        do {
            p = try PreparedData(d, dataDir: options.dataDir, cacheDirectory: options.cache,
                                 fetchMissing: options.fetchMissing, log: reporter.message)
        } catch let e as DatasetKeyError {
            throw RunError.datasetKey(file: study.file, key: e.key, detail: "\(e.error)")
        }
        prepared = p
        return p
    }
}
