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
