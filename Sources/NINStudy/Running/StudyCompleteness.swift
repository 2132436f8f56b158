import Foundation
import NINStore

/// Which trials of a study a results database lacks or holds unfinished, judged against the
/// study's full trial set: its definition, which every database that ran the study records
/// (`studies.definition_json`, also every shard's), and not the trials the database happens to hold.
///
/// `merge` prints it for every study and exits 1 unless each is complete; `report` counts "N of M
/// trials of the study" with it.
public struct StudyCompleteness: Equatable, Sendable {
    /// A trial of the definition that is not finished or failed in the database.
    public struct Gap: Equatable, Sendable {
        public let id: String
        /// The trial's swept values (``Trial/label``).
        public let label: String
        /// Its status in the database; nil when the database does not hold it at all.
        public let status: TrialStatus?
    }

    /// The study's name.
    public let study: String
    /// M: the trials of the study's definition.
    public let total: Int
    /// Trials of the definition the database holds finished, failed.
    public let finished: Int, failed: Int
    /// Trials of the definition missing from the database or held unfinished (pending,
    /// running, interrupted), in the definition's order.
    public let gaps: [Gap]

    /// Whether every trial of the study ended (finished or failed) in this database.
    public var isComplete: Bool { gaps.isEmpty }

    /// Checks study `name` in `store` against its recorded definition.
    /// - Throws: ``StudyCompletenessError/noStudy(name:)``, ``StudyCompletenessError/unreadableDefinition(study:reason:)``
    ///   for a definition this version cannot expand, or a database error.
    public static func check(store: ResultsStore, study name: String) throws -> StudyCompleteness {
        guard let record = try store.study(named: name) else { throw StudyCompletenessError.noStudy(name: name) }
        let definition: StudyDefinition
        do {
            definition = try StudyDefinition(data: Data(record.definitionJSON.utf8), file: "the definition of study \(name) recorded in \(store.path)")
        } catch {
            throw StudyCompletenessError.unreadableDefinition(study: name, reason: "\(error)")
        }
        let held = Dictionary(try store.trials(study: name).map { ($0.id, $0.status) }, uniquingKeysWith: { a, _ in a })
        var finished = 0, failed = 0
        var gaps: [Gap] = []
        for trial in definition.trials {
            switch held[trial.id] {
            case .finished: finished += 1
            case .failed: failed += 1
            case let status: gaps.append(Gap(id: trial.id, label: trial.label, status: status))
            }
        }
        return StudyCompleteness(study: name, total: definition.trials.count, finished: finished, failed: failed, gaps: gaps)
    }

    /// "N of M trials of the study" with what the rest are.
    public var summary: String {
        let missing = gaps.filter { $0.status == nil }.count
        var parts = ["\(finished) finished", "\(failed) failed"]
        if gaps.count > missing { parts.append("\(gaps.count - missing) unfinished") }
        if missing > 0 { parts.append("\(missing) missing") }
        return "study \(study): \(finished + failed) of \(total) trials of the study ended (" + parts.joined(separator: ", ") + ")"
    }

    /// One line per gap, grouped by the shard that runs it when the study was split into
    /// `shards` (``Shard/assignment(trialId:count:)``): `shard 2/4: 3f2a9c01de seed=3: missing (in no database)`.
    public func gapLines(shards: Int?) -> [String] {
        let sorted = gaps.map { gap in (shard: shards.map { Shard.assignment(trialId: gap.id, count: $0) }, gap: gap) }
            .sorted { ($0.shard ?? 0) < ($1.shard ?? 0) }
        return sorted.map { s in
            let place = s.shard.map { "shard \($0)/\(shards!): " } ?? ""
            let state = s.gap.status.map { "\($0.rawValue) (`run` on the merged database resumes it)" } ?? "missing (in no database: its shard never recorded it)"
            return "  \(place)\(s.gap.id.prefix(10)) \(s.gap.label): \(state)"
        }
    }
}

/// Errors of ``StudyCompleteness/check(store:study:)``.
public enum StudyCompletenessError: Error, Equatable, CustomStringConvertible {
    case noStudy(name: String)
    case unreadableDefinition(study: String, reason: String)

    public var description: String {
        switch self {
        case let .noStudy(name): return "no study named \(name)"
        case let .unreadableDefinition(study, reason): return "the recorded definition of study \(study) cannot be expanded: \(reason)"
        }
    }
}
