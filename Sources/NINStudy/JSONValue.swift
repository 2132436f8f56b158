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

    /// Parses UTF-8 JSON text.
    /// - Throws: `StudyError.malformedJSON` with the parser's description of where it failed.
    public static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw StudyError.malformedJSON(file: file, detail: syntaxErrorDetail(data))
        }
    }

    /// Where and why JSON text fails to parse, as "line L, column C: reason" when the parser
    /// reports a character offset.
    static func syntaxErrorDetail(_ data: Data) -> String {
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return "the file is empty" }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "the JSON parser rejected it"
        } catch {
            let reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            guard let range = reason.range(of: #"character \d+"#, options: .regularExpression),
                  let offset = Int(reason[range].dropFirst("character ".count)) else { return reason }
            let prefix = data.prefix(offset)
            let line = prefix.filter { $0 == 0x0A }.count + 1
            let column = offset - (prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            return "line \(line), column \(column): \(reason.replacingOccurrences(of: #" around character \d+"#, with: "", options: .regularExpression))"
        }
    }

    /// A short rendering for error messages: strings quoted, numbers plain, containers summarised.
    public var shortDescription: String {
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
    public var canonicalText: String {
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

extension JSONValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
