/// Errors of a run that are not the study file's or a dataset's.
enum RunError: Error, CustomStringConvertible {
    case noTrialMatches(filter: String, labels: [String])
    case badFilter(String)
    /// A dataset key of the study file (`dataset.subset.test`, …) that the dataset files found
    /// cannot satisfy (fewer images than the key asks for).
    case datasetKey(file: String, key: String, detail: String)
    /// A trial to train asks for `training.precision` "bf16" where it cannot run (`reason` names
    /// the ISA); refused before anything is registered or trained.
    case precisionUnsupported(trial: String, reason: String)

    public var description: String {
        switch self {
        case .noTrialMatches(let f, let labels):
            return "--only \(f) matches no trial; the study's trials are:\n" + labels.map { "  \($0)" }.joined(separator: "\n")
        case .badFilter(let f):
            return "--only \(f): expected a trial-id prefix or comma-separated key=value filters (e.g. model.head=gap,seed=1)"
        case let .datasetKey(file, key, detail):
            return "\(file): \(key): the dataset files found cannot give it: \(detail)"
        case let .precisionUnsupported(trial, reason):
            return "trial \(trial): training.precision \"bf16\" cannot run here: \(reason). Run the bf16 trials on a processor with AVX-512 (avx512_core or newer), or leave them out with --only"
        }
    }
}
