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
/// File format: docs/study-format.md and `Studies/study.schema.json`. Construction validates the
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
    /// The study file's name as given (in messages).
    public var file: String
    /// What deserves a word but is not an error (a sweep value given twice), each naming its key path.
    public var warnings: [String] = []

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
    ///
    /// In named steps: the top-level keys against the schema, the sweep axes and extra trials,
    /// the seeds, the size of the expansion, the expansion, and each trial resolved.
    /// - Throws: `StudyError.malformedJSON` or `.invalid` (with every problem).
    public init(data: Data, file: String) throws {
        self.file = file
        let root = try JSONValue.parse(data, file: file)
        guard case .object(var top) = root else {
            throw StudyError.invalid(file: file, problems: ["(top level): expected an object, found \(root.shortDescription)"])
        }
        if top["$schema"] != nil, top["properties"] != nil {
            throw StudyError.invalid(file: file, problems: ["(top level): this is the JSON Schema of study files, not a study (see the other files in Studies/)"])
        }
        if top["model"] == nil { top["model"] = .object([:]) }  // the dataset's preset network
        let sweep = top.removeValue(forKey: "sweep")
        let extras = top.removeValue(forKey: "extraTrials")
        var problems = StudySchema.study.problems(.object(top), at: "", alsoKnown: ["extraTrials", "sweep"])
        problems += Self.nameProblems(top["name"])
        var found: [String] = []
        var axes: [(path: String, values: [JSONValue])] = []
        if let sweep { axes = Self.sweepAxes(sweep, top: top, problems: &problems, warnings: &found) }
        warnings = found
        var extraTrials: [[String: JSONValue]] = []
        if let extras { extraTrials = Self.extraTrials(extras, problems: &problems) }
        guard problems.isEmpty else { throw StudyError.invalid(file: file, problems: problems) }

        name = top["name"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
        description = top["description"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
        sourceText = String(decoding: data, as: UTF8.self)

        // Base trial JSON and seeds.
        var base = top
        for k in ["name", "description", "seeds"] { base.removeValue(forKey: k) }
        var seeds: [JSONValue] = [.number(1)]
        if case .array(let s)? = top["seeds"] { seeds = s; warnings += Self.repeatedValues(s, at: "seeds") }
        if !axes.contains(where: { $0.path == "seed" }) { axes.append(("seed", seeds)) }
        self.axes = axes.map(\.path)

        try Self.checkExpansionSize(axes: axes, extraTrials: extraTrials, seeds: seeds, swept: sweep != nil, file: file)
        let (points, origins) = Self.expand(axes: axes, extraTrials: extraTrials, seeds: seeds)
        var failures: [(label: String, origin: PointOrigin, problems: [String])] = []
        trials = Self.resolveTrials(points, origins: origins, base: base, failures: &failures, problems: &problems)
        problems += Self.locate(failures, pointCount: points.count, base: base, axes: axes, extraTrials: extraTrials)
        guard problems.isEmpty else { throw StudyError.invalid(file: file, problems: problems) }
    }

    /// The problems of a study's `name`, which names folders (maps/NAME/<study>/,
    /// reports/NAME/<study>/, slurm/<study>/).
    static func nameProblems(_ value: JSONValue?) -> [String] {
        guard case .string(let name)? = value else { return [] }
        if name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            return ["name: expected letters, digits, '-', '_' or '.', found \"\(name)\""]
        }
        if name.allSatisfy({ $0 == "." }) {
            return ["name: expected a name with a letter, digit, '-' or '_' (\"\(name)\" would name the folder itself or its parent), found \"\(name)\""]
        }
        return []
    }

    /// The sweep axes, sorted by key path: dotted key paths of the trial keys, or `seed`, each
    /// with a non-empty array of values valid at that key.
    static func sweepAxes(_ sweep: JSONValue, top: [String: JSONValue], problems: inout [String],
                          warnings: inout [String]) -> [(path: String, values: [JSONValue])] {
        guard case .object(let o) = sweep else {
            problems.append("sweep: expected an object mapping key paths to arrays of values, found \(sweep.shortDescription)")
            return []
        }
        var axes: [(path: String, values: [JSONValue])] = []
        for key in o.keys.sorted() {
            let where_ = "sweep[\(JSONValue.quote(key))]"
            guard let spec = StudyDefinition.sweepableSpec(key) else {
                problems.append("\(where_): unknown key path (sweepable: seed, or any dataset.*, model.*, training.* key, e.g. model.depth, model.widths, model.widthMultiplier, model.head)")
                continue
            }
            guard case .array(let values) = o[key]!, !values.isEmpty else {
                problems.append("\(where_): expected a non-empty array of values, found \(o[key]!.shortDescription)")
                continue
            }
            for (i, v) in values.enumerated() { problems += spec.problems(v, at: "\(where_)[\(i)]") }
            warnings += Self.repeatedValues(values, at: where_)
            axes.append((key, values))
        }
        if o["seed"] != nil, top["seeds"] != nil {
            problems.append("seeds: give either seeds or a sweep over \"seed\", not both")
        }
        return axes
    }

    /// `extraTrials`: objects mapping sweepable key paths to values valid there.
    static func extraTrials(_ extras: JSONValue, problems: inout [String]) -> [[String: JSONValue]] {
        guard case .array(let items) = extras else {
            problems.append("extraTrials: expected an array of objects, found \(extras.shortDescription)")
            return []
        }
        var extraTrials: [[String: JSONValue]] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else {
                problems.append("extraTrials[\(i)]: expected an object mapping key paths to values, found \(item.shortDescription)")
                continue
            }
            for key in o.keys.sorted() {
                if let spec = StudyDefinition.sweepableSpec(key) {
                    problems += spec.problems(o[key]!, at: "extraTrials[\(i)][\(JSONValue.quote(key))]")
                } else {
                    problems.append("extraTrials[\(i)][\(JSONValue.quote(key))]: unknown key path")
                }
            }
            extraTrials.append(o)
        }
        return extraTrials
    }

    /// The size of the expansion, before expanding it: a sweep of a million trials is refused at
    /// once, not resolved one by one for minutes.
    /// - Throws: `StudyError.invalid` naming the factors when it exceeds ``maxTrials``.
    static func checkExpansionSize(axes: [(path: String, values: [JSONValue])], extraTrials: [[String: JSONValue]],
                                   seeds: [JSONValue], swept: Bool, file: String) throws {
        let gridCount = axes.reduce(1.0) { $0 * Double($1.values.count) }
        let extraCount = extraTrials.reduce(0.0) { $0 + ($1["seed"] != nil ? 1 : Double(seeds.count)) }
        guard gridCount + extraCount > Double(Self.maxTrials) else { return }
        let factors = axes.map { "\($0.values.count) \($0.path == "seed" ? "seeds" : "values of \($0.path)")" }.joined(separator: " × ")
        throw StudyError.invalid(file: file, problems: [
            "\(swept ? "sweep" : "seeds"): expands to \(JSONValue.format(gridCount + extraCount)) trials (\(factors)\(extraCount > 0 ? " + \(JSONValue.format(extraCount)) extra" : "")); a study holds at most \(Self.maxTrials): split it into several studies or sweep fewer values"])
    }

    /// The grid product (last axis fastest), then the extra trials (each with every seed unless
    /// it sets one). Each point remembers where it came from: the value index on each axis, or
    /// its extra trial.
    static func expand(axes: [(path: String, values: [JSONValue])], extraTrials: [[String: JSONValue]],
                       seeds: [JSONValue]) -> (points: [[(String, JSONValue)]], origins: [PointOrigin]) {
        var points: [[(String, JSONValue)]] = [[]]
        var origins: [PointOrigin] = [.grid([])]
        for axis in axes {
            var nextPoints: [[(String, JSONValue)]] = [], nextOrigins: [PointOrigin] = []
            for (p, origin) in zip(points, origins) {
                guard case .grid(let indices) = origin else { continue }
                for (v, value) in axis.values.enumerated() {
                    nextPoints.append(p + [(axis.path, value)])
                    nextOrigins.append(.grid(indices + [v]))
                }
            }
            points = nextPoints
            origins = nextOrigins
        }
        for (i, e) in extraTrials.enumerated() {
            let assignments = e.keys.sorted().map { ($0, e[$0]!) }
            if e["seed"] != nil { points.append(assignments); origins.append(.extra(i)) } else {
                for s in seeds { points.append(assignments + [("seed", s)]); origins.append(.extra(i)) }
            }
        }
        return (points, origins)
    }

    /// Each point set on the base keys and resolved (``TrialResolver``); a trial reached twice
    /// (same id) is kept once. The points that do not resolve go to `failures`, for ``locate``.
    static func resolveTrials(_ points: [[(String, JSONValue)]], origins: [PointOrigin], base: [String: JSONValue],
                              failures: inout [(label: String, origin: PointOrigin, problems: [String])],
                              problems: inout [String]) -> [Trial] {
        var trials: [Trial] = []
        var seen = Set<String>()
        for (point, origin) in zip(points, origins) {
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
                failures.append((label, origin, failure.list))
            } catch {
                problems.append("\(error)")
            }
        }
        return trials
    }

    /// The most trials one study expands to (a study of more is refused before it is expanded).
    static let maxTrials = 10_000

    /// Where an expanded point came from.
    enum PointOrigin {
        /// The grid: the index of its value on each axis, in axis order.
        case grid([Int])
        /// `extraTrials[i]`.
        case extra(Int)
    }

    /// "A value given twice" warnings for a list of sweep values or seeds (its trials run once).
    static func repeatedValues(_ values: [JSONValue], at path: String) -> [String] {
        values.indices.compactMap { i in
            values[..<i].firstIndex(of: values[i]).map {
                "\(path)[\(i)]: the same value as [\($0)] (\(values[i].shortDescription)); its trials run once"
            }
        }
    }

    /// The problems of the trials that failed to resolve, each reported where the file causes it:
    /// - plainly at its key, when the base keys alone (without the sweep) have it and every trial
    ///   shares it;
    /// - at the sweep value that alone, set on the base keys, causes it
    ///   (`sweep["training.schedule.kind"][1]: training.schedule.stepEpochs: required …`), or at
    ///   the extra trial (`extraTrials[0]: …`);
    /// - otherwise (values that cause it only together) at the first trial with it, naming its
    ///   swept values and how many more trials share it.
    static func locate(_ failures: [(label: String, origin: PointOrigin, problems: [String])], pointCount: Int,
                       base: [String: JSONValue], axes: [(path: String, values: [JSONValue])],
                       extraTrials: [[String: JSONValue]]) -> [String] {
        guard !failures.isEmpty else { return [] }
        func problems(of json: JSONValue) -> Set<String> {
            do { _ = try TrialResolver.resolve(json); return [] } catch let p as TrialResolver.Problems { return Set(p.list) } catch { return ["\(error)"] }
        }
        let baseProblems = problems(of: .object(base))
        var single: [String: Set<String>] = [:]  // "axis|index" → problems of the base with that one value set
        func singleValueProblems(_ a: Int, _ v: Int) -> Set<String> {
            let key = "\(a)|\(v)"
            if let cached = single[key] { return cached }
            let found = problems(of: JSONValue.object(base).setting(axes[a].path, to: axes[a].values[v], shorthandKey: "kind"))
            single[key] = found
            return found
        }
        var order: [String] = []
        var having: [String: [Int]] = [:]
        for (f, failure) in failures.enumerated() {
            for p in failure.problems {
                if having[p] == nil { order.append(p) }
                having[p, default: []].append(f)
            }
        }
        var out: [String] = []
        for p in order {
            let which = having[p]!.map { failures[$0] }
            if which.count == pointCount, baseProblems.contains(p) { out.append(p); continue }
            var located: [String] = []
            var unexplained = false
            var extras = Set<Int>()
            var blamed = Set<[Int]>()
            for failure in which {
                switch failure.origin {
                case .extra(let i):
                    if !baseProblems.contains(p) { extras.insert(i) } else { unexplained = true }
                case .grid(let indices):
                    let causes = indices.enumerated().filter { singleValueProblems($0.offset, $0.element).contains(p) && !baseProblems.contains(p) }
                    if causes.isEmpty { unexplained = true }
                    for c in causes { blamed.insert([c.offset, c.element]) }
                }
            }
            if !unexplained {
                for pair in blamed.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    located.append("sweep[\(JSONValue.quote(axes[pair[0]].path))][\(pair[1])]: \(p)")
                }
                for i in extras.sorted() { located.append("extraTrials[\(i)]: \(p)") }
                out += located
            } else if which.count == pointCount {
                out.append(p)
            } else {
                let more = which.count > 1 ? " (and \(which.count - 1) more trial\(which.count == 2 ? "" : "s"))" : ""
                out.append("trial {\(which[0].label)}\(more): \(p)")
            }
        }
        return out
    }

    /// The spec of a sweepable dotted key path, or nil when the path is not a key of a trial.
    static func sweepableSpec(_ path: String) -> FieldSpec? {
        if path == "seed" { return StudySchema.trial.spec(at: "seed") }
        guard ["dataset.", "model.", "training."].contains(where: { path.hasPrefix($0) }) else { return nil }
        return StudySchema.trial.spec(at: path)
    }
}
