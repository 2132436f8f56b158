import NINStore

/// Why `nin-study verify` could not compare a trial with its record.
public enum VerifyError: Error, Equatable, CustomStringConvertible {
    /// The trial is being trained now (its epochs and checkpoint still change).
    case running(trial: String, pid: Int32?, host: String?)
    /// The trial has no recorded epoch to compare with.
    case nothingRecorded(trial: String, status: TrialStatus)
    /// This build resolves the stored configuration to another trial id (the configuration format
    /// changed since the record was made), so it would not train the recorded trial.
    case configurationChanged(trial: String, resolvedId: String)
    /// The dataset files found differ from those the trial recorded; one line per differing file.
    case datasetFilesDiffer(trial: String, differences: [String])
    /// A signal stopped the re-run before the comparison was complete.
    case interrupted(trial: String)

    public var description: String {
        switch self {
        case let .running(t, pid, host):
            return "trial \(t.prefix(10)) is running (process \(pid.map(String.init) ?? "?") on \(host ?? "?")); verify it when it has finished or was stopped"
        case let .nothingRecorded(t, status):
            return "trial \(t.prefix(10)) is \(status.rawValue) with no recorded epoch: there is nothing to compare with (run its study first)"
        case let .configurationChanged(t, id):
            return "trial \(t.prefix(10)): this build resolves its stored configuration to trial id \(id.prefix(10)) (the configuration format changed since it was recorded), so it cannot re-run it; check out the commit it was recorded with"
        case let .datasetFilesDiffer(t, d):
            return "trial \(t.prefix(10)) was trained on other dataset files than the ones found (SHA-256): "
                + d.joined(separator: "; ") + ". Pass the --data-dir holding the files it recorded."
        case let .interrupted(t):
            return "trial \(t.prefix(10)): the re-run was stopped before the comparison was complete; nothing was concluded"
        }
    }
}
