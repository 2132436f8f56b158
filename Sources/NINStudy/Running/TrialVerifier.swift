import Foundation
import NINData
import NINStore

/// `nin-study verify`: re-runs a recorded trial from its stored configuration into a scratch
/// database and compares every epoch's metrics and the final checkpoint's SHA-256 with the record.
///
/// The re-run is an ordinary `run` of a one-trial study (``StudyRunner`` and ``TrialTrainer``, the
/// code that made the record), into `<scratch>/results.sqlite` with its checkpoints beside it and
/// no maps. The user's database is only read. The dataset files are checked against the SHA-256
/// the trial recorded before anything is trained. Training stops at the first epoch that differs
/// (later ones cannot agree) and after `epochs` epochs.
///
/// The record keeps one checkpoint per trial, the one written after its last recorded epoch, so
/// the checkpoint is compared only when every recorded epoch is re-run (no `epochs` below the
/// recorded count).
public struct TrialVerifier {
    /// The results database holding the trial (opened read-only).
    public var databasePath: String
    /// `--data-dir`; see ``DataLocator`` for the lookup order.
    public var dataDir: String?
    /// Threads for the re-run; nil: the thread count the trial was recorded with (results are
    /// bit-identical only at the same count).
    public var threads: Int?
    /// Compare only the first `epochs` epochs (nil: all recorded ones).
    public var epochs: Int?
    /// Download a dataset found nowhere (as `run` does).
    public var fetchMissing = true
    /// Cache for fitted preprocessing (nil: the per-user cache, as `run`).
    public var cacheDirectory: String?

    public init(databasePath: String) { self.databasePath = databasePath }

    /// Verifies the trial whose id starts with `trialPrefix`, re-running it in `scratch` (which the
    /// caller removes; see ``ScratchFolder``).
    /// - Parameters:
    ///   - reporter: receives the re-run's progress, as `run`'s does.
    ///   - stop: a stop request (a signal) ends the re-run after its mini-batch; then
    ///     ``VerifyError/interrupted`` is thrown.
    /// - Throws: `MapsError.badConfig` (a configuration this build cannot decode), ``VerifyError`` (trial running or never trained, configuration this build resolves
    ///   to another id, dataset files other than the recorded ones, interrupted), `StoreError`
    ///   (unreadable database, unknown or ambiguous trial), `DatasetError`, `CheckpointError`.
    public func verify(trial trialPrefix: String, in scratch: ScratchFolder, reporter: RunReporter,
                       stop: StopFlag) throws -> TrialVerification {
        let store = try ResultsStore.openReadOnly(path: databasePath)
        let record = try store.trial(idPrefix: trialPrefix)
        if record.status == .running {
            throw VerifyError.running(trial: record.id, pid: record.pid, host: record.host)
        }
        let recorded = try store.epochs(trialId: record.id).sorted { $0.epoch < $1.epoch }
        guard !recorded.isEmpty else { throw VerifyError.nothingRecorded(trial: record.id, status: record.status) }
        let config = try RecordedTrial.config(of: record)
        guard config.id == record.id else { throw VerifyError.configurationChanged(trial: record.id, resolvedId: config.id) }
        let toCompare = min(epochs ?? recorded.count, recorded.count)
        let recordedEnvironment = try record.environmentId.flatMap { try store.environment(id: $0) }

        let watcher = VerificationReporter(forwardingTo: reporter, recorded: recorded, epochsToCompare: toCompare, stop: stop)
        let runner = try scratchRunner(record: record, config: config, store: store, scratch: scratch,
                                       threads: threads ?? recordedEnvironment?.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                       reporter: watcher)
        // The dataset first: other files than the recorded ones are not worth training on.
        let data = try runner.prepare(config.dataset)
        if let identity = record.datasetIdentity, identity != data.identity.combined {
            throw VerifyError.datasetFilesDiffer(trial: record.id,
                                                 differences: DatasetFileDifferences.list(recorded: try store.datasetFiles(identity: identity), found: data.identity))
        }
        let summary = try runner.run(stop: stop)
        if summary.interrupted && !watcher.stoppedByVerifier { throw VerifyError.interrupted(trial: record.id) }

        let scratchStore = try ResultsStore.openReadOnly(path: runner.options.databasePath)
        let rerun = try scratchStore.epochs(trialId: record.id).sorted { $0.epoch < $1.epoch }
        let rerunRecord = try scratchStore.trial(id: record.id)
        let currentEnvironment = try rerunRecord?.environmentId.flatMap { try scratchStore.environment(id: $0) }
            ?? EnvironmentProbe.current(threads: runner.options.threads)
        var firstDifference: EpochComparison?
        for (r, n) in zip(recorded.prefix(toCompare), rerun) {
            if let d = EpochComparison.compare(recorded: r, rerun: n) { firstDifference = d; break }
        }
        var verification = TrialVerification(
            trialId: record.id, recordedEpochs: recorded.count, epochsToCompare: toCompare, rerunEpochs: rerun.count,
            firstDifference: firstDifference, checkpoint: .notCompared(reason: "the re-run stopped at the first epoch that differs"),
            environmentDifferences: EnvironmentDifference.list(recorded: recordedEnvironment, current: currentEnvironment),
            outcomeDifference: nil)
        guard firstDifference == nil, rerun.count >= toCompare else { return verification }
        verification.checkpoint = try checkpointComparison(record: record, store: store, recordedEpochs: recorded.count,
                                                           compared: toCompare, rerunCheckpoint: runner.options.checkpoints.url(trialId: record.id).path)
        if toCompare == recorded.count, let rerunRecord, [.finished, .failed].contains(record.status), rerunRecord.status != record.status {
            verification.outcomeDifference = "recorded \(Self.outcomeText(record)); re-run \(Self.outcomeText(rerunRecord))"
        }
        return verification
    }

    /// A runner of the one-trial study that re-runs the record into `scratch`.
    func scratchRunner(record: TrialRecord, config: TrialConfig, store: ResultsStore, scratch: ScratchFolder,
                       threads: Int, reporter: RunReporter) throws -> StudyRunner {
        let params = try store.params(trialId: record.id)
        let swept = params.keys.sorted().compactMap { k in (try? JSONValue.parse(Data(params[k]!.utf8), file: k)).map { (path: k, value: $0) } }
        let trial = Trial(config: config, swept: swept, widthMultiplier: record.widthMultiplier ?? 1)
        let studyName = try store.studies(containingTrial: record.id).first
        let source = try studyName.flatMap { try store.study(named: $0) }
        let study = StudyDefinition(name: studyName ?? "verify", description: source?.description ?? "",
                                    sourceText: source?.definitionJSON ?? config.canonicalJSON, trials: [trial],
                                    axes: swept.map(\.path), file: "\(databasePath), trial \(record.shortId)")
        var options = RunOptions()
        options.databasePath = (scratch.path as NSString).appendingPathComponent("results.sqlite")
        options.dataDir = dataDir
        options.threads = threads
        options.renderMaps = false
        options.fetchMissing = fetchMissing
        options.cacheDirectory = cacheDirectory
        options.exclusive = true
        return StudyRunner(study: study, options: options, reporter: reporter)
    }

    /// The re-run's final checkpoint against the one recorded after the last recorded epoch.
    func checkpointComparison(record: TrialRecord, store: ResultsStore, recordedEpochs: Int, compared: Int,
                              rerunCheckpoint: String) throws -> CheckpointComparison {
        guard compared == recordedEpochs else {
            return .notCompared(reason: "the record keeps only the checkpoint after epoch \(recordedEpochs)")
        }
        guard let artifact = try store.artifacts(trialId: record.id).last(where: { $0.kind == .checkpoint }) else {
            return .notCompared(reason: "the record has no checkpoint")
        }
        // A finished or failed trial's checkpoint was recorded after its last epoch; an interrupted
        // one's may be older (a kill between an epoch's record and its checkpoint), so it is
        // compared only when its file is there, is the recorded one, and says which epoch it is.
        if record.status == .interrupted {
            let file = CheckpointStore(databasePath: databasePath)
            guard store.fileState(of: artifact) == .matches, let saved = try? file.load(trialId: record.id), saved.epoch == compared else {
                return .notCompared(reason: "the trial was interrupted and its recorded checkpoint's epoch is not known here")
            }
        }
        guard let rerun = ResultsStore.sha256(ofFile: rerunCheckpoint) else {
            return .notCompared(reason: "the re-run wrote no checkpoint")
        }
        return rerun == artifact.sha256 ? .equal : .differs(epoch: compared, recorded: artifact.sha256, rerun: rerun)
    }

    static func outcomeText(_ r: TrialRecord) -> String {
        r.status == .failed ? "failed (\(r.failureReason ?? "no reason recorded"))" : r.status.rawValue
    }
}

extension StudyDefinition {
    /// A study of given trials, not read from a file (`verify`'s one-trial study).
    init(name: String, description: String, sourceText: String, trials: [Trial], axes: [String], file: String) {
        self.name = name
        self.description = description
        self.sourceText = sourceText
        self.trials = trials
        self.axes = axes
        self.file = file
    }
}
