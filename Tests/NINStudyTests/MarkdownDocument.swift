import Foundation

/// A Markdown file of the repository, read the way GitHub renders it, for the documentation
/// tests: its links, its headings' anchors, its fenced code blocks and its inline code spans.
///
/// Only what the repository's documents use is understood: ATX headings (`## …`), fenced code
/// blocks (```` ``` ````), inline links and images `[text](target)`, HTML `href="…"` / `src="…"`
/// attributes, and single-backtick code spans. Links and spans inside code blocks are not links.
struct MarkdownDocument {
    /// A fenced code block: its info string (`sh`, `json`, or empty) and its lines.
    struct CodeBlock {
        let language: String
        /// 1-based line number of the first line inside the fence.
        let firstLine: Int
        let lines: [String]
    }

    /// A link target as written (`docs/cluster.md#shards`, `#report`, `https://…`), with its line.
    struct Link {
        let target: String
        let line: Int
    }

    /// An inline code span and its line, e.g. `nin-study list` on line 12.
    struct CodeSpan {
        let text: String
        let line: Int
    }

    let url: URL
    private(set) var headings: [String] = []
    private(set) var codeBlocks: [CodeBlock] = []
    private(set) var links: [Link] = []
    private(set) var codeSpans: [CodeSpan] = []

    /// - Throws: the file's read error.
    init(url: URL) throws {
        self.url = url
        let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        var fence: (language: String, firstLine: Int, lines: [String])?
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                if let open = fence {
                    codeBlocks.append(CodeBlock(language: open.language, firstLine: open.firstLine, lines: open.lines))
                    fence = nil
                } else {
                    fence = (String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces), number + 1, [])
                }
                continue
            }
            if fence != nil { fence!.lines.append(line); continue }
            if let heading = Self.headingText(line) { headings.append(heading) }
            let (spans, prose) = Self.splitCodeSpans(line)
            codeSpans += spans.map { CodeSpan(text: $0, line: number) }
            links += Self.linkTargets(prose).map { Link(target: $0, line: number) }
        }
    }

    /// The anchors GitHub gives this document's headings, in order (duplicates get `-1`, `-2`, …).
    var anchors: Set<String> {
        var seen: [String: Int] = [:]
        var result = Set<String>()
        for heading in headings {
            let slug = Self.slug(heading)
            let count = seen[slug, default: 0]
            result.insert(count == 0 ? slug : "\(slug)-\(count)")
            seen[slug] = count + 1
        }
        return result
    }

    /// GitHub's heading anchor: the text lower-cased, every character that is not a letter, a
    /// mark, a digit, `_`, `-` or a space removed, then each space turned into `-`.
    static func slug(_ heading: String) -> String {
        var out = ""
        for scalar in heading.lowercased().unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic || p.generalCategory == .decimalNumber || p.generalCategory == .nonspacingMark
                || scalar == "_" || scalar == "-" {
                out.unicodeScalars.append(scalar)
            } else if scalar == " " {
                out.append("-")
            }
        }
        return out
    }

    /// The text of an ATX heading line (`## Report` → `Report`), nil for any other line. Link
    /// syntax keeps only its text (`[a](b)` → `a`).
    static func headingText(_ line: String) -> String? {
        guard line.hasPrefix("#") else { return nil }
        let hashes = line.prefix { $0 == "#" }
        guard hashes.count <= 6, line.dropFirst(hashes.count).first == " " else { return nil }
        var text = String(line.dropFirst(hashes.count)).trimmingCharacters(in: .whitespaces)
        text = text.replacingOccurrences(of: #"\[([^\]]*)\]\([^)]*\)"#, with: "$1", options: .regularExpression)
        return text
    }

    /// Splits a line into its single-backtick code spans and the prose outside them.
    static func splitCodeSpans(_ line: String) -> (spans: [String], prose: String) {
        var spans: [String] = [], prose = "", current = "", inSpan = false
        for ch in line {
            if ch == "`" {
                if inSpan { spans.append(current); current = "" } else { prose.append(" ") }
                inSpan.toggle()
            } else if inSpan {
                current.append(ch)
            } else {
                prose.append(ch)
            }
        }
        if inSpan { prose += "`" + current }  // an unmatched backtick is text
        return (spans, prose)
    }

    /// The targets of `[text](target)`, `![alt](target)`, `href="target"` and `src="target"`.
    static func linkTargets(_ prose: String) -> [String] {
        let patterns = [#"\]\(([^)\s]+)\)"#, #"(?:href|src)="([^"]+)""#]
        var targets: [String] = []
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            let range = NSRange(prose.startIndex..., in: prose)
            for match in regex.matches(in: prose, range: range) {
                if let r = Range(match.range(at: 1), in: prose) { targets.append(String(prose[r])) }
            }
        }
        return targets
    }
}
