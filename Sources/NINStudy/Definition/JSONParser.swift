import Foundation

/// A JSON parser (RFC 8259) for study files that says where text goes wrong, as line and column,
/// for every kind of syntax error (an unexpected end of file, `NaN`, a trailing comma, a number
/// out of range), and lists every key given more than once in one object by its key path.
///
/// Foundation's parsers take the first or the last of two equal keys without a word and give no
/// position for some errors; a study file's meaning must not depend on which parser reads it.
struct JSONParser {
    /// A syntax error at a 1-based line and column (columns count characters, not bytes).
    struct SyntaxError: Error, Equatable {
        var line: Int
        var column: Int
        var reason: String
        var description: String { "line \(line), column \(column): \(reason)" }
    }

    /// Objects and arrays nested deeper than this are refused (no study file needs more; a
    /// recursive parser must not run out of stack).
    static let maxDepth = 256

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0
    /// Key paths of keys given more than once in one object, in the order met.
    private(set) var duplicates: [String] = []

    /// Parses a whole document (any JSON value at the top; a UTF-8 byte order mark is skipped).
    /// - Returns: the value and the key paths of duplicate keys.
    /// - Throws: `SyntaxError`.
    static func parse(_ data: Data) throws -> (value: JSONValue, duplicates: [String]) {
        var parser = JSONParser(bytes: [UInt8](data))
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.i = 3 }
        parser.skipWhitespace()
        let value = try parser.value(path: "")
        parser.skipWhitespace()
        if parser.i < parser.bytes.count { throw parser.error("unexpected text after the end of the JSON value") }
        return (value, parser.duplicates)
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ reason: String, at offset: Int? = nil) -> SyntaxError {
        let end = min(offset ?? i, bytes.count)
        var line = 1, column = 1
        for b in bytes[0..<end] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return SyntaxError(line: line, column: column, reason: reason)
    }

    private var atEnd: Bool { i >= bytes.count }

    private mutating func skipWhitespace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    /// What the character at `i` is, for messages.
    private var found: String {
        guard !atEnd else { return "the end of the file" }
        var end = i + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[i..<end], as: UTF8.self)
        return "'\(text)'"
    }

    private mutating func value(path: String) throws -> JSONValue {
        guard !atEnd else { throw error("unexpected end of file (expected a value)") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(path: path)
        case UInt8(ascii: "["): return try array(path: path)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("\(word()) is not a JSON number (numbers must be finite, written with digits)")
        case UInt8(ascii: "'"): throw error("strings are written in double quotes, found '")
        default: throw error("expected a value, found \(found)")
        }
    }

    /// The letters from `i` on (for a message about `NaN`, `Infinity`, `True`).
    private func word() -> String {
        var end = i
        while end < bytes.count, end - i < 20, (bytes[end] >= 0x41 && bytes[end] <= 0x5A) || (bytes[end] >= 0x61 && bytes[end] <= 0x7A) { end += 1 }
        return String(decoding: bytes[i..<max(end, i + 1)], as: UTF8.self)
    }

    private mutating func literal(_ text: String) throws {
        let expected = Array(text.utf8)
        guard bytes.count - i >= expected.count, Array(bytes[i..<(i + expected.count)]) == expected else {
            throw error("expected \(text), found \(word())")
        }
        i += expected.count
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("objects and arrays nested more than \(Self.maxDepth) deep") }
    }

    private mutating func object(path: String) throws -> JSONValue {
        let open = i
        try enter()
        defer { depth -= 1 }
        i += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if !atEnd, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard !atEnd else { throw unclosed("object", open) }
            guard bytes[i] == UInt8(ascii: "\"") else {
                if bytes[i] == UInt8(ascii: "}") { throw error("a comma before '}' (trailing commas are not JSON)") }
                throw error("expected a key in double quotes, found \(found)")
            }
            let key = try string()
            let keyPath = JSONValue.keyPath(path, key)
            skipWhitespace()
            guard !atEnd else { throw unclosed("object", open) }
            guard bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \(JSONValue.quote(key)), found \(found)") }
            i += 1
            skipWhitespace()
            let v = try value(path: keyPath)
            if members[key] != nil { duplicates.append(keyPath) }
            members[key] = v
            skipWhitespace()
            guard !atEnd else { throw unclosed("object", open) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw error("expected ',' or '}' after the value of \(JSONValue.quote(key)), found \(found)")
        }
    }

    private mutating func array(path: String) throws -> JSONValue {
        let open = i
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if !atEnd, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            guard !atEnd else { throw unclosed("array", open) }
            if bytes[i] == UInt8(ascii: "]") { throw error("a comma before ']' (trailing commas are not JSON)") }
            items.append(try value(path: "\(path)[\(items.count)]"))
            skipWhitespace()
            guard !atEnd else { throw unclosed("array", open) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("expected ',' or ']' in the array, found \(found)")
        }
    }

    private func unclosed(_ kind: String, _ open: Int) -> SyntaxError {
        let start = error("", at: open)
        return error("unexpected end of file: the \(kind) opened at line \(start.line), column \(start.column) is not closed")
    }

    private mutating func string() throws -> String {
        let open = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw error("unexpected end of file: the string opened at line \(error("", at: open).line), column \(error("", at: open).column) is not closed") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("a control character (code \(b)) inside a string: write it as an escape such as \\n") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard !atEnd else { continue }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a lone UTF-16 surrogate", at: i - 6)
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("a \\u escape of a lone UTF-16 surrogate", at: i - 12) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("a \\u escape of a lone UTF-16 surrogate", at: i - 6)
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw error("an unknown escape \\\(String(decoding: [e], as: UTF8.self)) in a string", at: i - 2)
            }
        }
        guard let text = String(bytes: out, encoding: .utf8) else { throw error("the string is not valid UTF-8", at: open) }
        return text
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - i >= 4, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16),
              bytes[i..<(i + 4)].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else {
            throw error("expected four hexadecimal digits after \\u")
        }
        i += 4
        return v
    }

    private mutating func number() throws -> Double {
        let start = i
        func digits() -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard !atEnd, bytes[i] >= 0x30, bytes[i] <= 0x39 else {
            if !atEnd, bytes[i] == UInt8(ascii: "I") { throw error("\(word()) is not a JSON number (numbers must be finite, written with digits)") }
            throw error("expected a digit after '-', found \(found)")
        }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if !atEnd, bytes[i] >= 0x30, bytes[i] <= 0x39 { throw error("a number with a leading zero is not JSON", at: start) }
        } else {
            _ = digits()
        }
        if !atEnd, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw error("expected a digit after the decimal point, found \(found)") }
        }
        if !atEnd, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if !atEnd, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent, found \(found)") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw error("the number \(text) is beyond the range of numbers (about ±1.8e308)", at: start) }
        return d
    }
}
