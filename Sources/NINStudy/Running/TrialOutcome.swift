/// What happened to a trial.
public enum TrialOutcome: Equatable, Sendable {
    case finished
    /// Failed with a plain reason (NaN/Inf loss, accuracy stuck at chance).
    case failed(String)
    /// Stopped on request; the last end-of-epoch checkpoint is kept for resuming.
    case interrupted
}
