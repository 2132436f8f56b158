// What a study's trials say: per swept axis, the test error of each level over seeds with its
// uncertainty, the differences between levels, convergence, budget, and the paper beside it.

import Foundation
import NINData
import NINEngine
import NINStore
import NINStudy

/// An error of `nin-study report`.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// No study of that name in the database.
    case studyNotFound(name: String, database: String, available: [String])
    /// The database holds no study at all.
    case noStudies(database: String)

    public var description: String {
        switch self {
        case let .studyNotFound(name, database, available):
            return "no study named \(name) in \(database)"
                + (available.isEmpty ? "" : " (studies there: \(available.joined(separator: ", ")))")
        case let .noStudies(database):
            return "no studies in \(database) (run a study first, or pass --db)"
        }
    }
}

/// Whether a trial's test error had stopped falling by its last epoch.
public enum Convergence: Equatable, Sendable {
    /// Fewer than 2 epochs recorded: no trend to read.
    case tooFewEpochs
    /// The least-squares slope of test error over the last (up to 3) epochs fell by more than
    /// `Convergence.threshold` of the last test error per epoch: more training would likely help.
    case stillFalling(slopePerEpoch: Double)
    /// The slope is within the threshold either way: the curve has levelled off.
    case levelled(slopePerEpoch: Double)
    /// Test error rose by more than the threshold per epoch: training is unstable or overfitting.
    case rising(slopePerEpoch: Double)

    /// Relative fall per epoch that counts as "still falling": 1 % of the last test error.
    public static let threshold = 0.01
    /// The number of last epochs the slope is fitted over.
    public static let window = 3

    /// Reads the trend of `testErrors` (one per epoch, percent, in order; nil entries skipped).
    public init(testErrors: [Double?]) {
        let points = testErrors.enumerated().compactMap { e in e.element.map { (x: Double(e.offset), y: $0) } }.suffix(Self.window)
        guard points.count >= 2, let last = points.last?.y else { self = .tooFewEpochs; return }
        let mx = points.map(\.x).reduce(0, +) / Double(points.count)
        let my = points.map(\.y).reduce(0, +) / Double(points.count)
        let sxy = points.reduce(0) { $0 + ($1.x - mx) * ($1.y - my) }
        let sxx = points.reduce(0) { $0 + ($1.x - mx) * ($1.x - mx) }
        let slope = sxy / sxx
        let limit = Self.threshold * max(last, 1e-9)
        self = slope < -limit ? .stillFalling(slopePerEpoch: slope)
            : slope > limit ? .rising(slopePerEpoch: slope) : .levelled(slopePerEpoch: slope)
    }

    /// Plain words for a table cell.
    public var words: String {
        switch self {
        case .tooFewEpochs: return "too few epochs to tell"
        case let .stillFalling(s): return String(format: "still falling (%.2f points/epoch)", s)
        case let .levelled(s): return String(format: "levelled (%+.2f points/epoch)", s)
        case let .rising(s): return String(format: "rising (%+.2f points/epoch)", s)
        }
    }
}

/// The budget of a trial beside the paper's: network size, epochs, preprocessing.
public struct PaperComparison: Sendable {
    /// The paper's matching number.
    public let result: PaperResult
    /// The trial's multiply-adds per image over the paper network's; nil when either is unknown.
    let multiplyAddRatio: Double?
    /// The trial's epochs done over the paper's; nil where the paper does not say.
    let epochRatio: Double?
    /// Preprocessing of the trial and of the paper (nil: not stated / unknown).
    public let preprocessing: (trial: Preprocessing?, paper: Preprocessing?)
    /// Dropout between blocks in the trial (probability).
    let trialDropout: Double?
    /// The paper's recipe the ratios are taken against.
    public let recipe: PaperRecipe
}

/// One trial as the report sees it.
public struct TrialView: Sendable {
    public let record: TrialRecord
    /// Swept key → value as display text (`gap`, `2`, `[192,160]`), seed included.
    public let swept: [String: String]
    public let epochs: [EpochRecord]
    /// Final test error, percent; nil unless the trial finished.
    public var testError: Double? {
        guard record.status == .finished, let a = record.finalTestAccuracy else { return nil }
        return 100 - a
    }
    public let convergence: Convergence
    /// Images the trial trained on so far (epochs done × images per epoch, at most the planned
    /// iterations × batch size); nil when its configuration cannot be read.
    let imagesSeen: Int?
    /// The paper's matching number and the budget ratio; nil when the paper has none.
    public let paper: PaperComparison?
    /// Why the configuration could not be read, if it could not.
    let setupProblem: String?
    /// For a finished trial, the first epoch whose mean training loss breaks `LossDivergence`'s
    /// rule, in words: a trial recorded as finished before the rule existed; nil otherwise.
    let divergence: String?

    /// The trial's seed, as display text ("-" when unknown).
    public var seed: String { swept["seed"] ?? record.seed.map(String.init) ?? "-" }
    public var finished: Bool { record.status == .finished && testError != nil }
}

/// One level of an axis within one context: its trials and their test error over seeds.
public struct LevelSummary: Sendable {
    /// The level's value as display text.
    public let value: String
    public let trials: [TrialView]
    /// Test error (%) over the finished seeds.
    public let summary: SampleSummary
    /// The lowest mean test error of its context.
    let isBest: Bool
    /// The paper's number for this level's setting (all its trials share it), if any.
    public var paper: PaperResult? {
        let results = trials.compactMap { $0.paper?.result }
        guard let first = results.first, results.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
    /// Finished trials, in trial order.
    var finishedTrials: [TrialView] { trials.filter(\.finished) }
}

/// The difference between two levels' test errors, `a − b` in points.
public struct LevelDifference: Sendable {
    public let a: String, b: String
    public let difference: MeanDifference
    /// How it was computed, in words (`StudyAnalysis.methodWords`).
    public let method: String
    /// Whether the interval excludes 0 (nil: no interval).
    var exceedsNoise: Bool? { difference.interval.map { !$0.contains(0) } }
}

/// An axis's answer within one context (fixed values of the other swept axes).
public struct ContextAnswer: Sendable {
    /// The other axes' values that hold here (empty when the study sweeps one axis).
    public let context: [(key: String, value: String)]
    let levels: [LevelSummary]
    public let differences: [LevelDifference]
    /// The plain-words answer: which level is best and whether that exceeds the seed noise.
    public let verdict: String
    /// The plain-words convergence statement.
    public let convergence: String
    /// Whether some finished trial here was still improving.
    let notConverged: Bool
    /// The environments of the finished trials compared here.
    public let environments: EnvironmentMix

    /// "model.depth = 2, …" or "" for no context.
    var contextLabel: String { context.map { "\($0.key) = \($0.value)" }.joined(separator: ", ") }
}

/// The answer for one swept axis.
public struct AxisAnswer: Sendable {
    /// The dotted key path (`model.head`), or "configuration" for a study without a swept axis.
    public let key: String
    let contexts: [ContextAnswer]
}

/// Everything the report says about one study.
public struct StudyAnalysis: Sendable {
    public let study: StudyRecord
    public let trials: [TrialView]
    public let axes: [AxisAnswer]
    public let environments: [EnvironmentRecord]
    public let datasets: [(dataset: DatasetRecord, files: [DatasetFileRecord])]
    /// Confidence-map sheets per trial id (stored path, resolved against the database's folder).
    public let sheets: [String: [(kind: ArtifactKind, path: String)]]
    /// M, the trial count of the study's definition, when the caller checked it (`report` does):
    /// the page then says "N of M trials of the study".
    public var definedTrials: Int?
    /// Trials of the definition the database does not hold at all (id prefix and swept values).
    public var missingTrials: [(id: String, label: String)] = []

    /// Trials that did not finish, with the reason in words.
    public var unfinished: [(trial: TrialView, reason: String)] {
        trials.filter { !$0.finished }.map { t in
            let reason: String
            switch t.record.status {
            case .failed: reason = t.record.failureReason ?? "failed (no reason recorded)"
            case .pending: reason = "not started"
            case .running: reason = "running now"
            case .interrupted: reason = "interrupted after epoch \(t.record.epochsDone); `run` resumes it"
            case .finished: reason = "finished without a test accuracy"
            }
            return (t, reason)
        }
    }

    /// Reads study `name` from `store` and computes its answers.
    /// - Throws: `ReportError.studyNotFound`, a database error.
    public static func load(store: ResultsStore, study name: String, databasePath: String) throws -> StudyAnalysis {
        guard let study = try store.study(named: name) else {
            throw ReportError.studyNotFound(name: name, database: databasePath, available: try store.studies().map(\.name))
        }
        var views: [TrialView] = []
        var sheets: [String: [(ArtifactKind, String)]] = [:]
        for record in try store.trials(study: name) {
            let params = try store.params(trialId: record.id)
            let epochs = try store.epochs(trialId: record.id)
            views.append(makeView(record: record, params: params, epochs: epochs))
            sheets[record.id] = try store.artifacts(trialId: record.id)
                .filter { $0.kind == .confidenceMap || $0.kind == .confidenceMapTop }
                .map { ($0.kind, store.resolvedArtifactPath($0.path)) }
        }
        let environments = try Set(views.compactMap(\.record.environmentId)).sorted().compactMap { try store.environment(id: $0) }
        let datasets = try Set(views.compactMap(\.record.datasetIdentity)).sorted().compactMap { identity in
            try store.dataset(identity: identity).map { ($0, try store.datasetFiles(identity: identity)) }
        }
        let byId = Dictionary(environments.compactMap { e in e.id.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
        return StudyAnalysis(study: study, trials: views, axes: answers(views, environments: byId), environments: environments,
                             datasets: datasets, sheets: sheets)
    }

    static func makeView(record: TrialRecord, params: [String: String], epochs: [EpochRecord]) -> TrialView {
        let swept = params.mapValues(displayValue)
        // The stored configuration is read with the type that wrote it (NINStudy's TrialConfig).
        var setup: TrialConfig?, problem: String?
        do { setup = try JSONDecoder().decode(TrialConfig.self, from: Data(record.configJSON.utf8)) } catch {
            problem = "its stored configuration cannot be read: \(error)"
        }
        var imagesSeen: Int?
        if let setup {
            imagesSeen = record.epochsDone * TrialWork(setup).trainImagesPerEpoch
            if let iterations = setup.training.iterations { imagesSeen = min(imagesSeen!, iterations * setup.training.batchSize) }
        }
        var paper: PaperComparison?
        if let setup, let recipe = Paper.recipe(for: setup.dataset.name),
           let result = Paper.result(dataset: setup.dataset.name, head: setup.model.head, depth: record.depth,
                                     augmented: setup.dataset.translate > 0 || setup.dataset.horizontalFlip) {
            let paperMACs = try? recipe.network.multiplyAddsPerImage
            paper = PaperComparison(result: result,
                                    multiplyAddRatio: both(record.multiplyAdds, paperMACs).map { Double($0) / Double($1) },
                                    epochRatio: recipe.epochs.map { Double(record.epochsDone) / $0 },
                                    preprocessing: (setup.dataset.preprocessingMethod, recipe.preprocessing),
                                    trialDropout: record.dropout, recipe: recipe)
        }
        var divergence: String?
        if record.status == .finished, let setup {
            divergence = epochs.lazy.compactMap { e in
                e.trainLoss.flatMap { LossDivergence.failure(epoch: e.epoch, trainLoss: $0, classes: setup.dataset.name.classCount,
                                                             learningRate: e.learningRate ?? .nan) }
            }.first
        }
        return TrialView(record: record, swept: swept, epochs: epochs,
                         convergence: Convergence(testErrors: epochs.map { $0.testAccuracy.map { 100 - $0 } }),
                         imagesSeen: imagesSeen, paper: paper, setupProblem: problem, divergence: divergence)
    }

    /// A stored JSON value as display text: strings without quotes, everything else as stored.
    static func displayValue(_ json: String) -> String {
        if let data = json.data(using: .utf8), let s = try? JSONDecoder().decode(String.self, from: data) { return s }
        return json
    }

    /// The answers for every swept axis (seed excluded): keys with more than one value.
    static func answers(_ trials: [TrialView], environments: [Int64: EnvironmentRecord]) -> [AxisAnswer] {
        var keys: [String] = []
        for t in trials { for k in t.swept.keys.sorted() where k != "seed" && !keys.contains(k) { keys.append(k) } }
        let axes = keys.filter { k in Set(trials.map { $0.swept[k] ?? "-" }).count > 1 }
        guard !axes.isEmpty else {
            return [AxisAnswer(key: "configuration", contexts: [context(trials, axis: nil, context: [], environments: environments)])]
        }
        return axes.map { axis in
            let others = axes.filter { $0 != axis }
            var groups: [[String]: [TrialView]] = [:], order: [[String]] = []
            for t in trials {
                let key = others.map { t.swept[$0] ?? "-" }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(t)
            }
            return AxisAnswer(key: axis, contexts: order.map { key in
                context(groups[key]!, axis: axis, context: Array(zip(others, key)).map { (key: $0.0, value: $0.1) }, environments: environments)
            })
        }
    }

    static func context(_ trials: [TrialView], axis: String?, context: [(key: String, value: String)],
                        environments: [Int64: EnvironmentRecord]) -> ContextAnswer {
        func level(_ t: TrialView) -> String {
            guard let axis else { return "all" }
            return t.swept[axis] ?? "-"
        }
        var values: [String] = []
        for t in trials where !values.contains(level(t)) { values.append(level(t)) }
        let members: [[TrialView]] = values.map { v in trials.filter { level($0) == v } }
        let summaries = members.map { SampleSummary($0.compactMap(\.testError)) }
        let best = summaries.enumerated().filter { $0.element.mean != nil }.min { $0.element.mean! < $1.element.mean! }?.offset
        let levels = values.indices.map { LevelSummary(value: values[$0], trials: members[$0], summary: summaries[$0], isBest: $0 == best) }

        var differences: [LevelDifference] = []
        for i in levels.indices {
            for j in levels.indices where j > i {
                if let d = difference(levels[i], levels[j]) {
                    differences.append(LevelDifference(a: levels[i].value, b: levels[j].value, difference: d,
                                                       method: methodWords(d, levels[i], levels[j])))
                }
            }
        }
        let verdict = Self.verdict(levels: levels, axis: axis)
        let finished = trials.filter(\.finished)
        let falling = finished.filter { if case .stillFalling = $0.convergence { return true }; return false }
        let short = finished.filter { t in t.record.epochsPlanned.map { t.record.epochsDone < $0 } ?? false }
        let rising = finished.filter { if case .rising = $0.convergence { return true }; return false }
        let unknown = finished.filter { $0.convergence == .tooFewEpochs }
        var convergence: String
        if finished.isEmpty {
            convergence = "No trial finished, so nothing can be said about convergence."
        } else if falling.isEmpty && rising.isEmpty && unknown.isEmpty {
            convergence = "Converged at this budget: every finished trial's test error levelled off over its last epochs (it moved by less than 1 % of its value per epoch)."
        } else {
            var parts: [String] = []
            if !falling.isEmpty { parts.append("\(falling.count) of \(finished.count) finished trials' test error was still falling over their last epochs (up to \(Convergence.window); by more than 1 % of its value per epoch)") }
            if !rising.isEmpty { parts.append("\(rising.count) of \(finished.count) finished trials' test error rose over their last epochs (unstable training or overfitting)") }
            if !unknown.isEmpty { parts.append("\(unknown.count) trained too few epochs to tell") }
            convergence = "Not converged: " + parts.joined(separator: "; ") + "; more training may change this comparison."
        }
        if !short.isEmpty { convergence += " \(short.count) trial(s) stopped before their planned epochs." }
        let mix = EnvironmentMix(trials: finished.map { (group: level($0), trial: $0) }, environments: environments)
        return ContextAnswer(context: context, levels: levels, differences: differences, verdict: verdict,
                             convergence: convergence, notConverged: !falling.isEmpty || !rising.isEmpty || !unknown.isEmpty,
                             environments: mix)
    }

    /// `a − b` over every finished seed of each level: paired by seed when both levels finished
    /// exactly the same seeds (each seed once), Welch's unpaired interval otherwise. Either way the
    /// estimate is the difference of the two levels' means, the numbers in the answer table.
    static func difference(_ a: LevelSummary, _ b: LevelSummary) -> MeanDifference? {
        let fa = a.finishedTrials, fb = b.finishedTrials
        guard !fa.isEmpty, !fb.isEmpty else { return nil }
        let seedsA = fa.map(\.seed), seedsB = fb.map(\.seed)
        if Set(seedsA) == Set(seedsB), Set(seedsA).count == seedsA.count, Set(seedsB).count == seedsB.count {
            let bySeed = Dictionary(uniqueKeysWithValues: fb.map { ($0.seed, $0.testError!) })
            return .paired(fa.map { (a: $0.testError!, b: bySeed[$0.seed]!) })
        }
        return .welch(fa.compactMap(\.testError), fb.compactMap(\.testError))
    }

    /// How a difference was computed, in words for the page: "paired by seed (n = 3 seeds)", or
    /// "Welch, unpaired (the levels finished different seeds: 1, 2, 3 and 1, 2)".
    static func methodWords(_ d: MeanDifference, _ a: LevelSummary, _ b: LevelSummary) -> String {
        switch d.method {
        case .paired: return "paired by seed (n = \(d.count) seed\(d.count == 1 ? "" : "s"))"
        case .welch:
            func seeds(_ l: LevelSummary) -> String { l.finishedTrials.map(\.seed).joined(separator: ", ") }
            return "Welch, unpaired (finished seeds differ: \(seeds(a)) and \(seeds(b)))"
        }
    }

    static func verdict(levels: [LevelSummary], axis: String?) -> String {
        let ranked = levels.filter { $0.summary.mean != nil }.sorted { $0.summary.mean! < $1.summary.mean! }
        func name(_ level: LevelSummary) -> String { axis.map { "\($0) = \(level.value)" } ?? level.value }
        guard let best = ranked.first else { return "No trial finished: there is no answer yet." }
        let bestText = String(format: "%.2f %%", best.summary.mean!)
        guard axis != nil else {
            let ci = best.summary.interval.map { String(format: " (95 %% CI %.2f to %.2f)", $0.lower, $0.upper) } ?? ""
            return "Mean test error \(bestText) over \(best.summary.count) seed(s)\(ci)."
        }
        guard ranked.count >= 2 else {
            return "Only \(name(best)) has finished trials (mean test error \(bestText)); there is nothing to compare it with yet."
        }
        let second = ranked[1]
        let lead = second.summary.mean! - best.summary.mean!
        guard let d = difference(second, best), let ci = d.interval else {
            let seeds = best.summary.count == second.summary.count
                ? "\(best.summary.count) finished seed\(best.summary.count == 1 ? "" : "s") each"
                : "\(best.summary.count) and \(second.summary.count) finished seeds"
            return String(format: "%@ has the lowest mean test error (%@), %.2f points below %@, but with %@ the seed noise cannot be estimated: the difference may be noise. Run at least 3 seeds per level.",
                          name(best), bestText, lead, name(second), seeds)
        }
        let how = methodWords(d, second, best)
        // `d.estimate` is `lead`, the difference of the two means (see `difference`).
        if ci.contains(0) {
            return String(format: "%@ has the lowest mean test error (%@), but its lead of %.2f points over %@ (the difference of their mean test errors, %.2f %% − %.2f %%) is within the seed noise (95 %% CI of the lead %+.2f to %+.2f, %@, includes 0): these trials do not tell %@ and %@ apart.",
                          name(best), bestText, d.estimate, name(second), second.summary.mean!, best.summary.mean!, ci.lower, ci.upper, how, name(best), name(second))
        }
        return String(format: "%@ has the lowest mean test error (%@): %.2f points below %@ (the difference of their mean test errors, %.2f %% − %.2f %%; 95 %% CI of the lead %+.2f to %+.2f, %@), more than the seed noise.",
                      name(best), bestText, d.estimate, name(second), second.summary.mean!, best.summary.mean!, ci.lower, ci.upper, how)
    }
}

private func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
