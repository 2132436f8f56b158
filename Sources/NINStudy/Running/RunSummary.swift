import NINStore

/// How a run ended.
public struct RunSummary: Sendable {
    public var finished: [String] = []
    public var skipped: [String] = []
    public var failed: [(id: String, label: String, reason: String)] = []
    public var interrupted = false
    /// Trials not run because of an interruption.
    public var notRun: [String] = []
    /// Trials another live process was running when this run reached them (claimed elsewhere),
    /// and still running when this run ended.
    public var runningElsewhere: [String] = []
    /// Trials that another process finished while this run was going (lost races included).
    public var finishedElsewhere: [String] = []
    /// Finished trials not skipped as current because the dataset files found now differ from
    /// those they recorded (one line per differing file); neither skipped silently nor trained again.
    public var datasetChanged: [(id: String, label: String, differences: [String])] = []
    public var succeeded: Bool { failed.isEmpty && !interrupted && notRun.isEmpty && datasetChanged.isEmpty && runningElsewhere.isEmpty }
    /// Nothing failed or was interrupted here, but other live processes still run some selected trials.
    public var leftToOtherProcesses: Bool {
        failed.isEmpty && !interrupted && notRun.isEmpty && datasetChanged.isEmpty && !runningElsewhere.isEmpty
    }
}

extension RunSummary {
    /// Files a trial that this run could not claim under what another process made of it.
    mutating func noteTakenElsewhere(_ current: TrialRecord, label: String) {
        switch current.status {
        case .finished: finishedElsewhere.append(current.id)
        case .failed: failed.append((current.id, label, current.failureReason ?? "failed in another process"))
        case .running, .pending, .interrupted: runningElsewhere.append(current.id)
        }
    }

    /// At the end of a run: trials that were running elsewhere and have finished since count as finished elsewhere.
    mutating func settleRunningElsewhere(_ store: ResultsStore) throws {
        let still = try runningElsewhere.filter { try store.trial(id: $0)?.status != .finished }
        finishedElsewhere += runningElsewhere.filter { !still.contains($0) }
        runningElsewhere = still
    }
}
