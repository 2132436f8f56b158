import Foundation

/// A trial of a study: its resolved configuration, id, and the values the study swept to reach it.
public struct Trial: Equatable, Sendable {
    public var config: TrialConfig
    /// The swept key paths and their values for this trial, in axis order (`seed` last).
    public var swept: [(path: String, value: JSONValue)]
    /// SHA-256 of the configuration's canonical JSON.
    public let id: String
    /// The `model.widthMultiplier` the trial's widths were derived with (1 when none), recorded
    /// for queries; the resolved widths themselves are in `config`.
    public var widthMultiplier: Double

    public init(config: TrialConfig, swept: [(path: String, value: JSONValue)], widthMultiplier: Double = 1) {
        self.config = config
        self.swept = swept
        self.id = config.id
        self.widthMultiplier = widthMultiplier
    }

    /// A short human label, e.g. `model.head=gap model.depth=2 seed=1`.
    public var label: String {
        swept.map { "\($0.path)=\($0.value.shortDescription.replacingOccurrences(of: "\"", with: ""))" }.joined(separator: " ")
    }

    public static func == (a: Trial, b: Trial) -> Bool { a.id == b.id && a.label == b.label }
}

/// A study: a base configuration, sweep axes expanded as a grid product, extra trials and seeds.
///
/// File format: README "Study format" and `Studies/study.schema.json`. Construction validates the
/// whole file before any training starts and reports every problem at once, each naming its key
/// path (`sweep["model.depth"][2]: expected an integer ≥ 0, found "two"`).
public struct StudyDefinition: Sendable {
    public var name: String
    public var description: String
    /// The study file exactly as read (recorded in the results store).
    public var sourceText: String
    /// Every trial, in expansion order: grid (axes sorted by key path, last axis fastest) × seeds,
    /// then `extraTrials`. Duplicates (same id) are kept once.
    public var trials: [Trial]
    /// The swept key paths, in axis order.
    public var axes: [String]

    /// Reads and validates a study file.
    /// - Throws: `StudyError.unreadable`, `.malformedJSON` or `.invalid` (with every problem).
    public static func load(path: String) throws -> StudyDefinition {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StudyError.unreadable(file: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw StudyError.unreadable(file: path, reason: "it is a folder, not a study file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StudyError.unreadable(file: path, reason: "permission denied or unreadable (\(error.localizedDescription))")
        }
        return try StudyDefinition(data: data, file: path)
    }

    /// Parses and validates study JSON; `file` names the source in error messages.
    /// - Throws: `StudyError.malformedJSON` or `.invalid` (with every problem).
    public init(data: Data, file: String) throws {
        let root = try JSONValue.parse(data, file: file)
        guard case .object(var top) = root else {
            throw StudyError.invalid(file: file, problems: ["(top level): expected an object, found \(root.shortDescription)"])
        }
        if top["$schema"] != nil, top["properties"] != nil {
            throw StudyError.invalid(file: file, problems: ["(top level): this is the JSON Schema of study files, not a study (see the other files in Studies/)"])
        }
        var problems: [String] = []
        if top["model"] == nil { top["model"] = .object([:]) }  // the dataset's preset network
        let sweep = top.removeValue(forKey: "sweep")
        let extras = top.removeValue(forKey: "extraTrials")
        problems += StudySchema.study.problems(.object(top), at: "", alsoKnown: ["extraTrials", "sweep"])
        if case .string(let name)? = top["name"],
           name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            problems.append("name: expected letters, digits, '-', '_' or '.', found \"\(name)\"")
        }

        // Sweep axes: dotted key paths of the trial keys, or `seed`.
        var axes: [(path: String, values: [JSONValue])] = []
        if let sweep {
            if case .object(let o) = sweep {
                for key in o.keys.sorted() {
                    let where_ = "sweep[\"\(key)\"]"
                    guard let spec = StudyDefinition.sweepableSpec(key) else {
                        problems.append("\(where_): unknown key path (sweepable: seed, or any dataset.*, model.*, training.* key, e.g. model.depth, model.widths, model.widthMultiplier, model.head)")
                        continue
                    }
                    guard case .array(let values) = o[key]!, !values.isEmpty else {
                        problems.append("\(where_): expected a non-empty array of values, found \(o[key]!.shortDescription)")
                        continue
                    }
                    for (i, v) in values.enumerated() { problems += spec.problems(v, at: "\(where_)[\(i)]") }
                    axes.append((key, values))
                }
                if o["seed"] != nil, top["seeds"] != nil {
                    problems.append("seeds: give either seeds or a sweep over \"seed\", not both")
                }
            } else {
                problems.append("sweep: expected an object mapping key paths to arrays of values, found \(sweep.shortDescription)")
            }
        }
        var extraTrials: [[String: JSONValue]] = []
        if let extras {
            if case .array(let items) = extras {
                for (i, item) in items.enumerated() {
                    guard case .object(let o) = item else {
                        problems.append("extraTrials[\(i)]: expected an object mapping key paths to values, found \(item.shortDescription)")
                        continue
                    }
                    for key in o.keys.sorted() {
                        if let spec = StudyDefinition.sweepableSpec(key) {
                            problems += spec.problems(o[key]!, at: "extraTrials[\(i)][\"\(key)\"]")
                        } else {
                            problems.append("extraTrials[\(i)][\"\(key)\"]: unknown key path")
                        }
                    }
                    extraTrials.append(o)
                }
            } else {
                problems.append("extraTrials: expected an array of objects, found \(extras.shortDescription)")
            }
        }
        guard problems.isEmpty else { throw StudyError.invalid(file: file, problems: problems) }

        name = top["name"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
        description = top["description"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
        sourceText = String(decoding: data, as: UTF8.self)

        // Base trial JSON and seeds.
        var base = top
        for k in ["name", "description", "seeds"] { base.removeValue(forKey: k) }
        let seedAxis = axes.contains { $0.path == "seed" }
        var seeds: [JSONValue] = [.number(1)]
        if case .array(let s)? = top["seeds"] { seeds = s }
        if !seedAxis { axes.append(("seed", seeds)) }
        self.axes = axes.map(\.path)

        // Grid product (last axis fastest), then the extra trials (each with every seed unless it sets one).
        var points: [[(String, JSONValue)]] = [[]]
        for axis in axes {
            points = points.flatMap { p in axis.values.map { p + [(axis.path, $0)] } }
        }
        for e in extraTrials {
            let assignments = e.keys.sorted().map { ($0, e[$0]!) }
            if e["seed"] != nil { points.append(assignments) } else {
                for s in seeds { points.append(assignments + [("seed", s)]) }
            }
        }

        var trials: [Trial] = []
        var seen = Set<String>()
        var failures: [(label: String, problems: [String])] = []
        for point in points {
            var json = JSONValue.object(base)
            for (path, value) in point { json = json.setting(path, to: value, shorthandKey: "kind") }
            do {
                let config = try TrialResolver.resolve(json)
                var multiplier = 1.0
                if case .number(let m)? = json.value(at: "model.widthMultiplier") { multiplier = m }
                let trial = Trial(config: config, swept: point.map { (path: $0.0, value: $0.1) }, widthMultiplier: multiplier)
                if seen.insert(trial.id).inserted { trials.append(trial) }
            } catch let failure as TrialResolver.Problems {
                let label = point.map { "\($0.0)=\($0.1.shortDescription)" }.joined(separator: ", ")
                failures.append((label, failure.list))
            } catch {
                problems.append("\(error)")
            }
        }
        // A problem every trial shares does not depend on the sweep: report it once, plainly.
        // Others name the first trial whose swept values cause them and how many more share it.
        var order: [String] = []
        var trialsWith: [String: [String]] = [:]
        for f in failures {
            for p in f.problems {
                if trialsWith[p] == nil { order.append(p) }
                trialsWith[p, default: []].append(f.label)
            }
        }
        for p in order {
            let labels = trialsWith[p]!
            if labels.count == points.count {
                problems.append(p)
            } else {
                let more = labels.count > 1 ? " (and \(labels.count - 1) more trial\(labels.count == 2 ? "" : "s"))" : ""
                problems.append("trial {\(labels[0])}\(more): \(p)")
            }
        }
        guard problems.isEmpty else { throw StudyError.invalid(file: file, problems: problems) }
        self.trials = trials
    }

    /// The spec of a sweepable dotted key path, or nil when the path is not a key of a trial.
    static func sweepableSpec(_ path: String) -> FieldSpec? {
        if path == "seed" { return StudySchema.trial.spec(at: "seed") }
        guard ["dataset.", "model.", "training."].contains(where: { path.hasPrefix($0) }) else { return nil }
        return StudySchema.trial.spec(at: path)
    }
}
