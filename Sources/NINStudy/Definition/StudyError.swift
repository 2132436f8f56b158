/// Errors in a study file, reported to the user as one message.
enum StudyError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not JSON.
    case malformedJSON(file: String, detail: String)
    /// The file is JSON but breaks the study format; every problem, each naming its key path.
    case invalid(file: String, problems: [String])

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "cannot read study file \(file): \(reason)"
        case .malformedJSON(let file, let detail): return "\(file) is not valid JSON: \(detail)"
        case .invalid(let file, let problems):
            return "\(file) has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// The individual problems (empty unless `.invalid`).
    public var problems: [String] {
        if case .invalid(_, let p) = self { return p }
        return []
    }
}
