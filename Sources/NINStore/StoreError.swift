import Foundation

/// An error thrown by ``ResultsStore``, carrying the context needed to act on it.
///
/// Every case names what was being done (file path, trial id, epoch, …) and, where it applies,
/// what was expected and what was found. `description` is a one-line message fit for a user.
public enum StoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The folder that should hold the database file could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// SQLite failed while doing `operation` on the database at `path`.
    case database(operation: String, path: String, message: String)
    /// No study with this name; `upsertStudy` must come first.
    case studyNotFound(name: String)
    /// No trial whose id starts with `prefix`.
    case trialNotFound(prefix: String)
    /// More than one trial id starts with `prefix`; `candidates` lists some of them.
    case ambiguousTrialPrefix(prefix: String, candidates: [String])
    /// A trial id or id prefix that is not 1–64 hexadecimal digits.
    case invalidTrialPrefix(prefix: String)
    /// The trial is in a state that does not allow this transition.
    case invalidTransition(trialId: String, action: String, from: TrialStatus, allowed: [TrialStatus])
    /// `id` does not name a registered environment.
    case environmentNotFound(id: Int64)
    /// `identity` does not name a registered dataset.
    case datasetNotFound(identity: String)
    /// A dataset identity was registered before with different files.
    case datasetMismatch(identity: String, file: String, expected: String, found: String)
    /// An epoch was recorded out of order (epochs are numbered 1, 2, … with no gaps).
    case epochOutOfOrder(trialId: String, epoch: Int, epochsDone: Int)
    /// The file is not a nin-study results database (not SQLite, or another program's tables);
    /// it was left untouched.
    case notAResultsDatabase(path: String)
    /// The database was written by a newer nin-study: it has migrations this binary does not know.
    case newerSchema(path: String, unknownMigrations: [String])
    /// A read-only store (``ResultsStore/openReadOnly(path:busyTimeout:)``) was asked to write.
    case readOnly(path: String, operation: String)
    /// A value failed validation (`what` names the field, e.g. `trial_params["model.depth"]`).
    case invalidValue(what: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            return "cannot create the folder for the results database at \(path): \(reason)"
        case let .database(operation, path, message):
            return "results database \(path): \(operation) failed: \(message)"
        case let .studyNotFound(name):
            return "no study named \"\(name)\" in the results database (register it with upsertStudy first)"
        case let .trialNotFound(prefix):
            return "no trial id starts with \"\(prefix)\""
        case let .ambiguousTrialPrefix(prefix, candidates):
            return "trial id prefix \"\(prefix)\" is ambiguous; candidates: \(candidates.joined(separator: ", "))"
        case let .invalidTrialPrefix(prefix):
            return "invalid trial id \"\(prefix)\": expected 1-64 hexadecimal digits"
        case let .invalidTransition(trialId, action, from, allowed):
            let allowedList = allowed.map(\.rawValue).joined(separator: " or ")
            return "cannot \(action) trial \(trialId.prefix(10)): its status is \(from.rawValue), expected \(allowedList)"
        case let .environmentNotFound(id):
            return "no environment with id \(id) in the results database (register it with registerEnvironment first)"
        case let .datasetNotFound(identity):
            return "no dataset with identity \(identity) in the results database (register it with registerDataset first)"
        case let .datasetMismatch(identity, file, expected, found):
            return "dataset \(identity.prefix(10)): file \(file): expected \(expected), found \(found)"
        case let .epochOutOfOrder(trialId, epoch, epochsDone):
            return "trial \(trialId.prefix(10)): cannot record epoch \(epoch) after \(epochsDone) recorded epoch(s); "
                + "expected an epoch in 1...\(epochsDone + 1)"
        case let .notAResultsDatabase(path):
            return "\(path) is not a nin-study results database"
        case let .newerSchema(path, unknown):
            return "\(path) was written by a newer nin-study (schema migrations \(unknown.joined(separator: ", ")) are unknown to this version \(Schema.migrationNames.last ?? "")); open it with that version or a newer one"
        case let .readOnly(path, operation):
            return "results database \(path) is open read-only: cannot \(operation)"
        case let .invalidValue(what, expected, found):
            return "\(what): expected \(expected), found \(found)"
        }
    }

    public var errorDescription: String? { description }
}
