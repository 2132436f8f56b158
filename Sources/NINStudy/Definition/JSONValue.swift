import Foundation

/// A parsed JSON value, kept as a tree so that a study file can be checked key by key and every
/// problem reported with its key path (`training.learningRate`, `sweep["model.depth"][2]`).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses UTF-8 JSON text (`JSONParser`).
    /// - Throws: `StudyError.malformedJSON` naming the line and column of a syntax error;
    ///   `StudyError.invalid` naming the key path of every key given twice in one object.
    static func parse(_ data: Data, file: String) throws -> JSONValue {
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            throw StudyError.malformedJSON(file: file, detail: "the file is empty")
        }
        let parsed: (value: JSONValue, duplicates: [String])
        do { parsed = try JSONParser.parse(data) } catch let error as JSONParser.SyntaxError {
            throw StudyError.malformedJSON(file: file, detail: error.description)
        }
        guard parsed.duplicates.isEmpty else {
            throw StudyError.invalid(file: file, problems: parsed.duplicates.map {
                "\($0): the key is given more than once in the same object (JSON readers disagree on which one counts: keep one)"
            })
        }
        return parsed.value
    }

    /// The key path of `key` inside the object at `parent`: `parent.key` for a plain name,
    /// `parent["key"]` for any other key (a dotted sweep path, an empty key), so that every
    /// path printed is readable.
    static func keyPath(_ parent: String, _ key: String) -> String {
        let plain = key.first.map { $0.isLetter || $0 == "_" || $0 == "$" } == true
            && key.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") && $0.isASCII }
        if plain { return parent.isEmpty ? key : "\(parent).\(key)" }
        return "\(parent)[\(quote(key))]"
    }

    /// A short rendering for error messages: strings quoted, numbers plain, containers summarised.
    var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return JSONValue.format(d)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return a.count <= 6 ? "[" + a.map(\.shortDescription).joined(separator: ", ") + "]" : "an array of \(a.count) items"
        case .object: return "an object"
        }
    }

    /// Canonical JSON text: keys sorted, no whitespace, integers without a fraction.
    var canonicalText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return JSONValue.format(d)
        case .string(let s): return JSONValue.quote(s)
        case .array(let a): return "[" + a.map(\.canonicalText).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { JSONValue.quote($0) + ":" + o[$0]!.canonicalText }.joined(separator: ",") + "}"
        }
    }

    static func format(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { return String(Int64(d)) }
        return "\(d)" // Swift's shortest round-tripping representation
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Reads the value at a dotted key path (`model.depth`; numeric parts index arrays: `model.blocks.0`).
    public func value(at path: String) -> JSONValue? {
        var cur: JSONValue? = self
        for part in path.split(separator: ".") {
            if case .array(let a)? = cur, let i = Int(part) { cur = i < a.count ? a[i] : nil } else { cur = cur?[String(part)] }
        }
        return cur
    }

    /// Returns a copy with the value at a dotted key path replaced (intermediate objects created).
    ///
    /// With `shorthandKey`, a string met on the way stands for an object holding it under that
    /// key (`"preprocessing": "gcn-zca"` is `{"kind": "gcn-zca"}`), so setting a key below a
    /// shorthand keeps the shorthand's meaning instead of discarding it.
    public func setting(_ path: String, to newValue: JSONValue, shorthandKey: String? = nil) -> JSONValue {
        let parts = path.split(separator: ".").map(String.init)
        func set(_ node: JSONValue, _ i: Int) -> JSONValue {
            var obj: [String: JSONValue] = [:]
            if case .object(let o) = node { obj = o }
            if case .string = node, let shorthandKey { obj = [shorthandKey: node] }
            if i == parts.count - 1 { obj[parts[i]] = newValue } else { obj[parts[i]] = set(obj[parts[i]] ?? .object([:]), i + 1) }
            return .object(obj)
        }
        return set(self, 0)
    }
}
