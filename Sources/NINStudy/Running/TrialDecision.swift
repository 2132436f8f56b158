import NINStore

/// What a run does with a selected trial, from its stored record.
enum TrialDecision: Equatable {
    /// Train it (pending, interrupted, or failed and retried).
    case train
    /// Finished earlier.
    case skipFinished
    /// Failed earlier (failures are deterministic; `--retry-failed` trains it again).
    case skipFailed(reason: String)
    /// Running in another live process (abandoned ones were marked interrupted before).
    case runningElsewhere(pid: String, host: String)

    init(stored: TrialRecord, retryFailed: Bool) {
        switch stored.status {
        case .finished: self = .skipFinished
        case .failed where !retryFailed: self = .skipFailed(reason: stored.failureReason ?? "no reason recorded")
        case .running: self = .runningElsewhere(pid: stored.pid.map(String.init) ?? "?", host: stored.host ?? "?")
        case .pending, .interrupted, .failed: self = .train
        }
    }
}
