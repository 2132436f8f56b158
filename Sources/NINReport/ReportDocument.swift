// The report as a format-neutral document, and its three renderings: static HTML (no JavaScript,
// no network), Markdown and plain text.

import Foundation

/// The output format of `nin-study report`.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// `index.html` with its figures beside it; opens offline from disk.
    case html
    /// `report.md` with its figures beside it.
    case markdown
    /// The answer tables on standard output (no figures).
    case text
}

/// A table: named columns, rows of cells keyed by column; each cell becomes `<td class="key">` in
/// HTML, so a reader (or a test) finds a value by row and column.
public struct ReportTable: Sendable {
    public var id: String
    public var columns: [(key: String, title: String)]
    public var rows: [Row]

    public struct Row: Sendable {
        public var cells: [String: String]
        /// `data-*` attributes of the row in HTML (e.g. `level` → `gap`).
        public var data: [String: String] = [:]
        /// Shown in bold (the best level).
        var strong = false
    }
}

/// A figure: files beside the report (PNG shown, PDF linked) and a caption.
public struct ReportFigure: Sendable {
    /// File names relative to the report's folder.
    public var png: String
    public var pdf: String?
    public var caption: String
}

/// One block of the document.
public indirect enum ReportBlock: Sendable {
    case heading(level: Int, text: String, id: String?)
    case paragraph(String)
    /// A paragraph that states an answer (bold in HTML and Markdown).
    case finding(String, kind: FindingKind)
    case table(ReportTable)
    case figure(ReportFigure)
    /// A row of images (confidence-map sheets): (relative path, caption).
    case images([(path: String, caption: String)])
    case code(String)
    case list([String])
    /// Collapsed in HTML; summary only in text.
    case details(summary: String, blocks: [ReportBlock])
}

/// What a finding says, shown by its colour in HTML (its raw value is the CSS class).
public enum FindingKind: String, Sendable {
    /// A difference beyond the seed noise, or a converged comparison.
    case answer
    /// A difference within the seed noise, or one that cannot be told from it.
    case noise
    /// A caveat that changes how to read the numbers (not converged, not a reproduction).
    case warning
}

/// A whole report.
struct ReportDocument: Sendable {
    public var title: String
    public var blocks: [ReportBlock]

    // MARK: - HTML

    /// A self-contained page: inline CSS, no script, no external resource except the figure and
    /// sheet files referenced by relative path.
    public func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1180px; margin: 24px auto; padding: 0 16px; color: #202020; line-height: 1.45; }
            h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            h3 { font-size: 16px; margin-top: 24px; }
            table { border-collapse: collapse; margin: 10px 0 14px; font-size: 14px; }
            th, td { border: 1px solid #d0d0d0; padding: 4px 9px; text-align: left; vertical-align: top; }
            th { background: #f2f2f2; } tr.best td { font-weight: bold; background: #eef5ee; }
            p.finding { font-weight: bold; padding: 8px 12px; border-left: 4px solid #1f77b4; background: #f4f8fc; }
            p.finding.noise { border-left-color: #ff7f0e; background: #fff7ef; }
            p.finding.warning { border-left-color: #d62728; background: #fdf2f2; }
            figure { margin: 12px 0 20px; } figure img { max-width: 100%; border: 1px solid #e0e0e0; }
            figcaption { font-size: 13px; color: #505050; }
            pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
            details { margin: 6px 0; } summary { cursor: pointer; }
            .sheets img { max-width: 100%; border: 1px solid #e0e0e0; margin-bottom: 4px; }
            </style>
            </head>
            <body>
            <h1>\(escape(title))</h1>

            """
        for block in blocks { out += html(block) }
        out += "</body>\n</html>\n"
        return out
    }

    private func html(_ block: ReportBlock) -> String {
        switch block {
        case let .heading(level, text, id):
            return "<h\(level)\(id.map { " id=\"\(escape($0))\"" } ?? "")>\(escape(text))</h\(level)>\n"
        case let .paragraph(text):
            return "<p>\(escape(text))</p>\n"
        case let .finding(text, kind):
            return "<p class=\"finding \(kind.rawValue)\">\(escape(text))</p>\n"
        case let .table(table):
            var out = "<table id=\"\(escape(table.id))\">\n<thead><tr>"
            out += table.columns.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in table.rows {
                let data = row.data.sorted { $0.key < $1.key }.map { " data-\($0.key)=\"\(escape($0.value))\"" }.joined()
                out += "<tr\(row.strong ? " class=\"best\"" : "")\(data)>"
                out += table.columns.map { "<td class=\"\(escape($0.key))\">\(escape(row.cells[$0.key] ?? ""))</td>" }.joined()
                out += "</tr>\n"
            }
            return out + "</tbody>\n</table>\n"
        case let .figure(figure):
            let pdf = figure.pdf.map { " <a href=\"\(escape($0))\">PDF</a>" } ?? ""
            return "<figure><img src=\"\(escape(figure.png))\" alt=\"\(escape(figure.caption))\">"
                + "<figcaption>\(escape(figure.caption))\(pdf)</figcaption></figure>\n"
        case let .images(images):
            return "<div class=\"sheets\">\n" + images.map {
                "<figure><a href=\"\(escape($0.path))\"><img src=\"\(escape($0.path))\" alt=\"\(escape($0.caption))\" loading=\"lazy\"></a><figcaption>\(escape($0.caption))</figcaption></figure>\n"
            }.joined() + "</div>\n"
        case let .code(text):
            return "<pre>\(escape(text))</pre>\n"
        case let .list(items):
            return "<ul>\n" + items.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        case let .details(summary, blocks):
            return "<details><summary>\(escape(summary))</summary>\n" + blocks.map(html).joined() + "</details>\n"
        }
    }

    private func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    // MARK: - Markdown

    /// GitHub-flavoured Markdown: pipe tables, figures as image links.
    public func markdown() -> String {
        "# \(title)\n\n" + blocks.map(markdown).joined()
    }

    private func markdown(_ block: ReportBlock) -> String {
        switch block {
        case let .heading(level, text, _):
            return String(repeating: "#", count: level) + " " + text + "\n\n"
        case let .paragraph(text):
            return text + "\n\n"
        case let .finding(text, _):
            return "**\(text)**\n\n"
        case let .table(table):
            func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
            var out = "| " + table.columns.map { cell($0.title) }.joined(separator: " | ") + " |\n"
            out += "|" + String(repeating: "---|", count: table.columns.count) + "\n"
            for row in table.rows {
                out += "| " + table.columns.map { c -> String in
                    let v = cell(row.cells[c.key] ?? "")
                    return row.strong && !v.isEmpty ? "**\(v)**" : v
                }.joined(separator: " | ") + " |\n"
            }
            return out + "\n"
        case let .figure(figure):
            return "![\(figure.caption)](\(figure.png))\n\n" + (figure.pdf.map { "(PDF: [\($0)](\($0)))\n\n" } ?? "")
        case let .images(images):
            return images.map { "[\($0.caption)](\($0.path))" }.joined(separator: " · ") + "\n\n"
        case let .code(text):
            return "```\n\(text)\n```\n\n"
        case let .list(items):
            return items.map { "- \($0)\n" }.joined() + "\n"
        case let .details(summary, blocks):
            return "<details><summary>\(summary)</summary>\n\n" + blocks.map(markdown).joined() + "</details>\n\n"
        }
    }

    // MARK: - Text

    /// Plain text for a terminal: aligned tables; figures, images and collapsed details are left
    /// out (they are in the HTML and Markdown reports).
    public func text() -> String {
        title + "\n" + String(repeating: "=", count: title.count) + "\n\n" + blocks.map(text).joined()
    }

    private func text(_ block: ReportBlock) -> String {
        switch block {
        case let .heading(level, heading, _):
            return heading + "\n" + String(repeating: level <= 2 ? "=" : "-", count: heading.count) + "\n\n"
        case let .paragraph(s), let .finding(s, _):
            return s + "\n\n"
        case let .table(table):
            let rows = [table.columns.map(\.title)] + table.rows.map { row in table.columns.map { row.cells[$0.key] ?? "" } }
            let widths = table.columns.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
            var lines = rows.map { r in
                r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces)
            }
            lines.insert(String(repeating: "-", count: widths.reduce(0, +) + 2 * max(0, widths.count - 1)), at: 1)
            return lines.joined(separator: "\n") + "\n\n"
        case .figure, .images:
            return ""
        case let .code(s):
            return s.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n\n"
        case let .list(items):
            return items.map { "- \($0)\n" }.joined() + "\n"
        case let .details(summary, _):
            return "\(summary) (in the HTML report)\n\n"
        }
    }
}
