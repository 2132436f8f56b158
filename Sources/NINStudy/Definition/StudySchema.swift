import NINData
import NINEngine

/// The shape of a study file, key by key: what each key accepts, so that validation can name the
/// key path of every problem (`training.learningRate: expected a number > 0, found -1`).
///
/// The JSON Schema users can validate against (`Studies/study.schema.json`) describes the same
/// keys; `StudySchemaTests` checks that the two agree.
indirect enum FieldSpec {
    case integer(min: Int?, max: Int?)
    case number(min: Double?, max: Double?, minExclusive: Bool, maxExclusive: Bool)
    case string(oneOf: [String]?)
    case boolean
    case array(of: FieldSpec, minCount: Int)
    case object([String: FieldSpec], required: Set<String>)
    /// Either a plain string from `oneOf` or an object (`"preprocessing": "scale"` or `{...}`).
    case stringOrObject(oneOf: [String], object: FieldSpec)

    /// What the key expects, in words ("an integer ≥ 0").
    var expectation: String {
        switch self {
        case .integer(let lo, let hi):
            switch (lo, hi) {
            case let (l?, h?): return "an integer in \(l)…\(h)"
            case let (l?, nil): return "an integer ≥ \(l)"
            case let (nil, h?): return "an integer ≤ \(h)"
            default: return "an integer"
            }
        case .number(let lo, let hi, let lx, let hx):
            var parts: [String] = []
            if let lo { parts.append((lx ? "> " : "≥ ") + JSONValue.format(lo)) }
            if let hi { parts.append((hx ? "< " : "≤ ") + JSONValue.format(hi)) }
            return parts.isEmpty ? "a number" : "a number " + parts.joined(separator: " and ")
        case .string(let oneOf):
            if let oneOf { return "one of " + oneOf.map { "\"\($0)\"" }.joined(separator: ", ") }
            return "a string"
        case .boolean: return "true or false"
        case .array(let of, let minCount):
            return (minCount > 0 ? "a non-empty array of " : "an array of ") + of.plural
        case .object: return "an object"
        case .stringOrObject(let oneOf, _): return "one of " + oneOf.map { "\"\($0)\"" }.joined(separator: ", ") + " or an object"
        }
    }

    var plural: String {
        switch self {
        case .integer(let lo, _): return lo.map { "integers ≥ \($0)" } ?? "integers"
        case .number: return "numbers"
        case .string: return "strings"
        case .boolean: return "booleans"
        case .array: return "arrays"
        case .object, .stringOrObject: return "objects"
        }
    }

    /// Checks `value` against this spec; returns one message per problem, each starting with `path`.
    /// `alsoKnown` names keys of this object that the caller checks itself (listed as known keys in
    /// an unknown-key message, but not checked here).
    func problems(_ value: JSONValue, at path: String, alsoKnown: [String] = []) -> [String] {
        let found = value.shortDescription
        func bad() -> [String] { ["\(path): expected \(expectation), found \(found)"] }
        switch self {
        case .integer(let lo, let hi):
            guard case .number(let d) = value, d == d.rounded(), abs(d) < 9e15 else { return bad() }
            if let lo, Int(d) < lo { return bad() }
            if let hi, Int(d) > hi { return bad() }
            return []
        case .number(let lo, let hi, let lx, let hx):
            guard case .number(let d) = value, d.isFinite else { return bad() }
            if let lo, lx ? !(d > lo) : !(d >= lo) { return bad() }
            if let hi, hx ? !(d < hi) : !(d <= hi) { return bad() }
            // The engine computes in 32-bit floats: a value they cannot hold is refused here,
            // not trained as infinity or zero.
            if !Float(d).isFinite || (d != 0 && Float(d) == 0) {
                return ["\(path): expected \(expectation) that a 32-bit float holds (magnitude at most 3.4e38, and 0 or not so small that it rounds to 0), found \(found)"]
            }
            return []
        case .string(let oneOf):
            guard case .string(let s) = value else { return bad() }
            if let oneOf, !oneOf.contains(s) { return bad() }
            return []
        case .boolean:
            guard case .bool = value else { return bad() }
            return []
        case .array(let of, let minCount):
            guard case .array(let items) = value, items.count >= minCount else { return bad() }
            return items.enumerated().flatMap { of.problems($0.element, at: "\(path)[\($0.offset)]") }
        case .object(let fields, let required):
            guard case .object(let o) = value else { return bad() }
            var out: [String] = []
            for key in o.keys.sorted() {
                let sub = JSONValue.keyPath(path, key)
                if let spec = fields[key] {
                    out += spec.problems(o[key]!, at: sub)
                } else {
                    let known = (Array(fields.keys) + alsoKnown).sorted()
                    out.append("\(sub): unknown key (known keys here: \(known.joined(separator: ", ")))")
                }
            }
            for key in required.sorted() where o[key] == nil {
                out.append("\(JSONValue.keyPath(path, key)): required key is missing")
            }
            return out
        case .stringOrObject(let oneOf, let object):
            if case .string(let s) = value { return oneOf.contains(s) ? [] : bad() }
            if case .object = value { return object.problems(value, at: path) }
            return bad()
        }
    }

    /// The spec of the key at a dotted path below this one, if any.
    func spec(at dottedPath: String) -> FieldSpec? {
        var cur: FieldSpec? = self
        for part in dottedPath.split(separator: ".") {
            switch cur {
            case .object(let fields, _): cur = fields[String(part)]
            case .stringOrObject(_, let obj):
                if case .object(let fields, _) = obj { cur = fields[String(part)] } else { return nil }
            default: return nil
            }
        }
        return cur
    }
}

/// The study file's keys (see docs/study-format.md).
enum StudySchema {
    /// The names of a typed value's cases, in declaration order (one owner: the enum).
    static func names<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> [String] where T.RawValue == String {
        T.allCases.map(\.rawValue)
    }
    static let datasetNames = names(DatasetName.self)
    static let preprocessingKinds = names(Preprocessing.Kind.self)
    static let heads = names(HeadKind.self)
    static let presets = names(ModelPreset.self)

    static let probability = FieldSpec.number(min: 0, max: 1, minExclusive: false, maxExclusive: true)
    static let positive = FieldSpec.number(min: 0, max: nil, minExclusive: true, maxExclusive: false)
    static let nonNegative = FieldSpec.number(min: 0, max: nil, minExclusive: false, maxExclusive: false)

    static let pool = FieldSpec.object([
        "kind": .string(oneOf: names(PoolKind.self)),
        "size": .integer(min: 1, max: nil),
        "stride": .integer(min: 1, max: nil),
        "pad": .integer(min: 0, max: nil),
    ], required: ["kind", "size", "stride"])

    static let block = FieldSpec.object([
        "channels": .integer(min: 1, max: nil),
        "kernel": .integer(min: 1, max: nil),
        "stride": .integer(min: 1, max: nil),
        "pad": .integer(min: 0, max: nil),
        "widths": .array(of: .integer(min: 1, max: nil), minCount: 0),
        "pool": pool,
        "dropout": probability,
    ], required: ["channels", "kernel"])

    static let dataset = FieldSpec.object([
        "name": .string(oneOf: datasetNames),
        "preprocessing": .stringOrObject(oneOf: preprocessingKinds, object: .object([
            "kind": .string(oneOf: preprocessingKinds),
            "gcnScale": positive,
            "zcaFilterBias": positive,
        ], required: ["kind"])),
        "augmentation": .object([
            "translate": .integer(min: 0, max: 16),
            "horizontalFlip": .boolean,
            "allowFlipOnDigits": .boolean,
        ], required: []),
        "subset": .object([
            "train": .integer(min: 1, max: nil),
            "trainPerClass": .integer(min: 1, max: nil),
            "test": .integer(min: 1, max: nil),
        ], required: []),
        "validation": .integer(min: 0, max: nil),
    ], required: ["name"])

    static let model = FieldSpec.object([
        "preset": .string(oneOf: presets),
        "blocks": .array(of: block, minCount: 1),
        "depth": .integer(min: 0, max: 16),
        "widths": .array(of: .array(of: .integer(min: 1, max: nil), minCount: 0), minCount: 1),
        "widthMultiplier": .number(min: 0, max: 16, minExclusive: true, maxExclusive: false),
        "head": .string(oneOf: heads),
        "finalReLU": .boolean,
        "dropout": probability,
        "fcHidden": .array(of: .integer(min: 1, max: nil), minCount: 0),
        "fcDropout": probability,
    ], required: [])

    static let training = FieldSpec.object([
        "epochs": .integer(min: 1, max: 100_000),
        "iterations": .integer(min: 1, max: nil),
        "batchSize": .integer(min: 1, max: 65_536),
        "learningRate": positive,
        "momentum": probability,
        "weightDecay": nonNegative,
        "multipliers": .object([
            "weight": nonNegative, "bias": nonNegative,
            "weightDecay": nonNegative, "biasDecay": nonNegative,
            "lastLayer": nonNegative,
            "last": .object([
                "weight": nonNegative, "bias": nonNegative,
                "weightDecay": nonNegative, "biasDecay": nonNegative,
            ], required: []),
        ], required: []),
        "schedule": .stringOrObject(oneOf: [ScheduleKind.constant.rawValue], object: .object([
            "kind": .string(oneOf: names(ScheduleKind.self)),
            "stepEpochs": .integer(min: 1, max: nil),
            "milestones": .array(of: .integer(min: 1, max: nil), minCount: 1),
            "gamma": .number(min: 0, max: 1, minExclusive: true, maxExclusive: true),
            "patience": .integer(min: 1, max: nil),
            "minDelta": nonNegative,
            "maxReductions": .integer(min: 0, max: nil),
        ], required: ["kind"])),
        "initializer": .stringOrObject(oneOf: [InitializerKind.he.rawValue], object: .object([
            "kind": .string(oneOf: names(InitializerKind.self)),
            "std": positive,
            "bias": .number(min: nil, max: nil, minExclusive: false, maxExclusive: false),
        ], required: ["kind"])),
        "failAtChanceAfterEpoch": .integer(min: 0, max: nil),
        "precision": .string(oneOf: names(GEMMPrecision.self)),
    ], required: ["learningRate"])

    /// Keys of a resolved trial configuration: the base keys plus `seed`.
    static let trial = FieldSpec.object([
        "dataset": dataset, "model": model, "training": training,
        "seed": .integer(min: 0, max: Int(UInt32.max)),
    ], required: ["dataset", "model", "training", "seed"])

    static let study = FieldSpec.object([
        "name": .string(oneOf: nil),
        "description": .string(oneOf: nil),
        "dataset": dataset, "model": model, "training": training,
        "seeds": .array(of: .integer(min: 0, max: Int(UInt32.max)), minCount: 1),
    ], required: ["name", "dataset", "training"])  // no "model": the dataset's preset network
    // `sweep` and `extraTrials` are checked by `StudyDefinition` against the trial keys above.
}
