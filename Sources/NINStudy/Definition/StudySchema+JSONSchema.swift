/// The study format as a JSON Schema (draft 2020-12) document, generated from `StudySchema` so
/// the two cannot drift apart. `Studies/study.schema.json` is this output, committed; a test
/// checks that the committed file is current.
public enum StudyJSONSchema {
    /// The schema document as pretty-printed JSON text (keys sorted, two-space indent).
    public static var text: String {
        var root = json(StudySchema.study)
        if case .object(var o) = root, case .object(var props)? = o["properties"] {
            props["sweep"] = .object([
                "type": .string("object"),
                "description": .string("Axes over dotted key paths, expanded as a grid product; each value is a non-empty array of values for that key."),
                "propertyNames": .object(["pattern": .string(#"^(seed|(dataset|model|training)\..+)$"#)]),
                "additionalProperties": .object(["type": .string("array"), "minItems": .number(1)]),
            ])
            props["extraTrials"] = .object([
                "type": .string("array"),
                "description": .string("Non-grid trials: each object maps dotted key paths to values."),
                "items": .object([
                    "type": .string("object"),
                    "propertyNames": .object(["pattern": .string(#"^(seed|(dataset|model|training)\..+)$"#)]),
                ]),
            ])
            o["properties"] = .object(props)
            o["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
            o["title"] = .string("nin-study study definition")
            root = .object(o)
        }
        return pretty(root, indent: "") + "\n"
    }

    static func json(_ spec: FieldSpec) -> JSONValue {
        switch spec {
        case .integer(let lo, let hi):
            var o: [String: JSONValue] = ["type": .string("integer")]
            if let lo { o["minimum"] = .number(Double(lo)) }
            if let hi { o["maximum"] = .number(Double(hi)) }
            return .object(o)
        case .number(let lo, let hi, let lx, let hx):
            var o: [String: JSONValue] = ["type": .string("number")]
            if let lo { o[lx ? "exclusiveMinimum" : "minimum"] = .number(lo) }
            if let hi { o[hx ? "exclusiveMaximum" : "maximum"] = .number(hi) }
            return .object(o)
        case .string(let oneOf):
            var o: [String: JSONValue] = ["type": .string("string")]
            if let oneOf { o["enum"] = .array(oneOf.map(JSONValue.string)) }
            return .object(o)
        case .boolean:
            return .object(["type": .string("boolean")])
        case .array(let of, let minCount):
            var o: [String: JSONValue] = ["type": .string("array"), "items": json(of)]
            if minCount > 0 { o["minItems"] = .number(Double(minCount)) }
            return .object(o)
        case .object(let fields, let required):
            var o: [String: JSONValue] = [
                "type": .string("object"),
                "additionalProperties": .bool(false),
                "properties": .object(fields.mapValues(json)),
            ]
            if !required.isEmpty { o["required"] = .array(required.sorted().map(JSONValue.string)) }
            return .object(o)
        case .stringOrObject(let oneOf, let object):
            return .object(["oneOf": .array([
                .object(["type": .string("string"), "enum": .array(oneOf.map(JSONValue.string))]),
                json(object),
            ])])
        }
    }

    static func pretty(_ v: JSONValue, indent: String) -> String {
        let inner = indent + "  "
        switch v {
        case .array(let a) where !a.isEmpty:
            if a.allSatisfy({ if case .string = $0 { return true }; if case .number = $0 { return true }; return false }) {
                return "[" + a.map(\.canonicalText).joined(separator: ", ") + "]"
            }
            return "[\n" + a.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let o) where !o.isEmpty:
            return "{\n" + o.keys.sorted().map { inner + JSONValue.quote($0) + ": " + pretty(o[$0]!, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return v.canonicalText
        }
    }
}
