import NINStore

/// Forwards the re-run's progress and stops it at the first epoch that differs from the record, or
/// after the epochs to compare.
final class VerificationReporter: RunReporter {
    let next: RunReporter
    let recorded: [Int: EpochRecord]
    let epochsToCompare: Int
    let stop: StopFlag
    /// Whether this reporter asked the run to stop (not a signal).
    private(set) var stoppedByVerifier = false

    init(forwardingTo next: RunReporter, recorded: [EpochRecord], epochsToCompare: Int, stop: StopFlag) {
        self.next = next
        self.recorded = Dictionary(recorded.map { ($0.epoch, $0) }, uniquingKeysWith: { a, _ in a })
        self.epochsToCompare = epochsToCompare
        self.stop = stop
    }

    func message(_ text: String) { next.message(text) }
    /// Announces the epochs the re-run will train, the ones to compare (`--epochs`), not the trial's.
    func trialStarted(index: Int, count: Int, trial: Trial, resumedFromEpoch: Int, epochs: Int) {
        next.trialStarted(index: index, count: count, trial: trial, resumedFromEpoch: resumedFromEpoch,
                          epochs: min(epochs, epochsToCompare))
    }
    func batch(_ progress: BatchProgress, trialETA: Double, studyETA: Double) {
        next.batch(progress, trialETA: trialETA, studyETA: studyETA)
    }
    func epochFinished(_ metrics: EpochMetrics, trial: Trial) {
        next.epochFinished(metrics, trial: trial)
        let differs = recorded[metrics.epoch].map { EpochComparison.compare(recorded: $0, rerun: metrics.record(trialId: trial.id)) != nil } ?? true
        if differs || metrics.epoch >= epochsToCompare {
            stoppedByVerifier = true
            stop.set()
        }
    }
    func trialEnded(_ trial: Trial, outcome: TrialOutcome) {
        // The verifier's own stop is not an interruption the user needs to hear about.
        if case .interrupted = outcome, stoppedByVerifier { return }
        next.trialEnded(trial, outcome: outcome)
    }
}
