import XCTest
import ArgumentParser
@testable import NINStudy
@testable import nin_study

/// The user documentation against the code: README.md, docs/*.md and every results/**/README.md.
/// A link to a missing file or heading, a documented command line that the command tree no longer
/// accepts, a study example the parser refuses, or a guarantee naming a test that does not exist
/// fails here.
final class DocumentationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL

    /// README.md, docs/*.md, results/**/README.md.
    static func documents() throws -> [MarkdownDocument] {
        let fm = FileManager.default
        var urls = [root.appendingPathComponent("README.md")]
        let docs = root.appendingPathComponent("docs")
        urls += try fm.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
            .map { docs.appendingPathComponent($0) }
        let results = root.appendingPathComponent("results")
        let walker = try XCTUnwrap(fm.enumerator(atPath: results.path))
        for case let path as String in walker where (path as NSString).lastPathComponent == "README.md" {
            urls.append(results.appendingPathComponent(path))
        }
        return try urls.map(MarkdownDocument.init(url:))
    }

    func testTheDocumentsAreFound() throws {
        let names = Set(try Self.documents().map { $0.url.path.replacingOccurrences(of: Self.root.path + "/", with: "") })
        for expected in ["README.md", "docs/study-format.md", "docs/running-and-resume.md", "docs/cluster.md",
                         "docs/report-and-maps.md", "docs/benchmark.md", "docs/results-schema.md", "docs/paper.md",
                         "results/README.md", "results/reference/README.md"] {
            XCTAssertTrue(names.contains(expected), "\(expected) is not among the checked documents: \(names.sorted())")
        }
    }

    /// The README is a front door, not the manual.
    func testTheREADMEIsAtMost12KB() throws {
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: Self.root.appendingPathComponent("README.md").path)[.size] as? Int)
        XCTAssertLessThanOrEqual(size, 12 * 1024, "README.md is \(size) bytes; move detail into docs/")
    }

    /// Every relative link resolves to a file of the repository, and every `#anchor` to a heading
    /// of its target (GitHub's slug rule); nothing points outside the repository.
    func testEveryRelativeLinkResolves() throws {
        var checked = 0
        for doc in try Self.documents() {
            let name = doc.url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for link in doc.links {
                if link.target.contains("://") || link.target.hasPrefix("mailto:") { continue }
                checked += 1
                let parts = link.target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0].removingPercentEncoding ?? parts[0]
                let target = path.isEmpty ? doc.url : doc.url.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
                guard target.path.hasPrefix(Self.root.path + "/") || target.path == Self.root.path else {
                    XCTFail("\(name):\(link.line): \(link.target) points outside the repository"); continue
                }
                guard FileManager.default.fileExists(atPath: target.path) else {
                    XCTFail("\(name):\(link.line): \(link.target): no file \(target.path.replacingOccurrences(of: Self.root.path + "/", with: ""))"); continue
                }
                guard parts.count == 2 else { continue }
                guard target.pathExtension == "md" else {
                    XCTFail("\(name):\(link.line): \(link.target): an anchor into a file that is not Markdown"); continue
                }
                let anchors = try MarkdownDocument(url: target).anchors
                XCTAssertTrue(anchors.contains(parts[1]),
                              "\(name):\(link.line): \(link.target): no heading with anchor #\(parts[1]) (anchors: \(anchors.sorted().joined(separator: ", ")))")
            }
        }
        XCTAssertGreaterThan(checked, 60, "the link extraction found too few links to be working")
    }

    /// The documents are self-contained: no path into the development machines' shared folder
    /// beside the checkout (a link or a command there would not work in a clone).
    func testNothingPointsOutsideTheRepository() throws {
        for doc in try Self.documents() {
            let text = try String(contentsOf: doc.url, encoding: .utf8)
            XCTAssertFalse(text.contains("../shared"), "\(doc.url.lastPathComponent) points outside the repository (../shared)")
        }
    }

    /// GitHub's slug rule on the headings this repository uses.
    func testHeadingSlugs() {
        XCTAssertEqual(MarkdownDocument.slug("Table 5 on 2 cores"), "table-5-on-2-cores")
        XCTAssertEqual(MarkdownDocument.slug("The CIFAR-10 network (Caffe model zoo)"), "the-cifar-10-network-caffe-model-zoo")
        XCTAssertEqual(MarkdownDocument.slug("`trial_summary`"), "trial_summary")
        XCTAssertEqual(MarkdownDocument.slug("Quick start: MNIST"), "quick-start-mnist")
        XCTAssertEqual(MarkdownDocument.slug("Running a study, stopping it, resuming it"), "running-a-study-stopping-it-resuming-it")
    }

    /// Every `nin-study …` command line of a code block, and every `nin-study …` code span of the
    /// text, parses with the real command tree: a renamed or removed option or subcommand fails.
    /// Synopses are expanded (`[--db PATH]` is given, each `a|b|c` alternative is tried) and
    /// placeholders get values of their type. A span in running text may leave out a required
    /// argument (`nin-study maps` in a sentence); a code block may not.
    func testEveryDocumentedCommandLineParses() throws {
        let dataDir = FileManager.default.temporaryDirectory.path
        var checked = 0
        for doc in try Self.documents() {
            let name = doc.url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            var candidates: [(line: Int, text: String, partialAllowed: Bool)] = []
            for block in doc.codeBlocks where ["", "sh", "bash", "console", "shell"].contains(block.language) {
                for (offset, text) in DocumentedCommandLine.logicalLines(block.lines) {
                    candidates.append((block.firstLine + offset, text, false))
                }
            }
            for span in doc.codeSpans where span.text.hasPrefix("nin-study ") {
                candidates.append((span.line, span.text.replacingOccurrences(of: "\\|", with: "|"), true))
            }
            for candidate in candidates {
                guard let arguments = DocumentedCommandLine.arguments(of: candidate.text) else { continue }
                for variant in DocumentedCommandLine.variants(arguments, dataDir: dataDir) {
                    checked += 1
                    do {
                        _ = try NINStudyCommand.parseAsRoot(variant)
                    } catch {
                        let message = NINStudyCommand.message(for: error)
                        if candidate.partialAllowed && message.hasPrefix("Missing expected argument") { continue }
                        XCTFail("\(name):\(candidate.line): `nin-study \(variant.joined(separator: " "))` does not parse: \(message)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 40, "the command extraction found too few command lines to be working")
    }

    /// The command-line extraction itself: a removed option must not slip through as a placeholder.
    func testTheCommandLineCheckCanFail() throws {
        let dataDir = FileManager.default.temporaryDirectory.path
        let good = try XCTUnwrap(DocumentedCommandLine.arguments(of: ".build/release/nin-study run STUDY.json [--db PATH] [--threads N]  # comment"))
        XCTAssertEqual(good, ["run", "STUDY.json", "[--db", "PATH]", "[--threads", "N]"])
        for variant in DocumentedCommandLine.variants(good, dataDir: dataDir) { XCTAssertNoThrow(try NINStudyCommand.parseAsRoot(variant)) }
        let removed = try XCTUnwrap(DocumentedCommandLine.arguments(of: "nin-study run STUDY.json [--no-such-option]"))
        for variant in DocumentedCommandLine.variants(removed, dataDir: dataDir) { XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(variant)) }
        let badValue = try XCTUnwrap(DocumentedCommandLine.arguments(of: "nin-study bench [--model cifar10|svhn]"))
        let variants = DocumentedCommandLine.variants(badValue, dataDir: dataDir)
        XCTAssertEqual(variants.count, 2, "each alternative is tried")
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(variants[1]), "svhn is not a --model value")
        XCTAssertNil(DocumentedCommandLine.arguments(of: "sqlite3 results/results.sqlite \"select 1\""))
        XCTAssertEqual(DocumentedCommandLine.arguments(of: "swift run -c release nin-study report --format text | head"), ["report", "--format", "text"])
    }

    /// Every study in a ```json block of the documents (an object with `name` and `dataset`)
    /// is a valid study for the real parser.
    func testEveryDocumentedStudyExampleIsValid() throws {
        var checked = 0
        for doc in try Self.documents() {
            let name = doc.url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for block in doc.codeBlocks where block.language == "json" {
                let data = Data(block.lines.joined(separator: "\n").utf8)
                guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      object["name"] != nil, object["dataset"] != nil else { continue }
                checked += 1
                XCTAssertNoThrow(try StudyDefinition(data: data, file: "\(name):\(block.firstLine)"), "\(name):\(block.firstLine)")
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 2, "README and docs/study-format.md each show a study")
    }

    /// Every test a document names as the check of a guarantee (`testSomething`, or
    /// `SomeTests.testSomething`) exists in Tests/.
    func testEveryNamedTestExists() throws {
        let tests = Self.root.appendingPathComponent("Tests")
        var source = ""
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: tests.path))
        for case let path as String in walker where path.hasSuffix(".swift") {
            source += try String(contentsOf: tests.appendingPathComponent(path), encoding: .utf8)
        }
        let regex = try NSRegularExpression(pattern: #"^(?:([A-Z]\w*Tests)\.)?(test[A-Z]\w*)$"#)
        var checked = 0
        for doc in try Self.documents() {
            let name = doc.url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for span in doc.codeSpans {
                guard let match = regex.firstMatch(in: span.text, range: NSRange(span.text.startIndex..., in: span.text)),
                      let r = Range(match.range(at: 2), in: span.text) else { continue }
                checked += 1
                XCTAssertTrue(source.contains("func \(span.text[r])("), "\(name):\(span.line): no test named \(span.text[r]) in Tests/")
                if let c = Range(match.range(at: 1), in: span.text) {
                    XCTAssertTrue(source.contains("class \(span.text[c])"), "\(name):\(span.line): no test class \(span.text[c]) in Tests/")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 10, "docs/running-and-resume.md names the tests of its guarantees")
    }
}

/// A `nin-study …` command line as the documents write it, turned into argument arrays.
enum DocumentedCommandLine {
    /// The lines of a code block with `\` continuations joined, each with its offset in the block.
    static func logicalLines(_ lines: [String]) -> [(Int, String)] {
        var result: [(Int, String)] = [], pending = "", start = 0
        for (offset, line) in lines.enumerated() {
            if pending.isEmpty { start = offset }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast() + " "
            } else {
                result.append((start, pending + trimmed))
                pending = ""
            }
        }
        if !pending.isEmpty { result.append((start, pending)) }
        return result
    }

    /// The arguments after the `nin-study` word (as `nin-study`, `.build/release/nin-study` or
    /// `swift run … nin-study`), up to a comment, a pipe, `&&`, `;` or a redirection; nil when the
    /// line does not run nin-study. Words are split as the shell does for quotes.
    static func arguments(of line: String) -> [String]? {
        let words = shellWords(line)
        guard let start = words.firstIndex(where: { ($0 as NSString).lastPathComponent == "nin-study" }) else { return nil }
        var out: [String] = []
        for word in words[(start + 1)...] {
            if ["|", "||", "&&", ";", ">", ">>", "2>", "&"].contains(word) || word.hasPrefix("#") { break }
            out.append(word)
        }
        return out
    }

    /// Example values for the documents' placeholders, by the placeholder's name.
    static let placeholders: [String: String] = [
        "TRIAL": "0123abcd", "N": "2", "K/N": "1/2", "C": "2", "HH:MM:SS": "01:00:00", "M": "4G",
        "P": "short", "DATASET": "mnist", "URL": "file:///tmp/mirror", "NAME": "some-study",
        "STUDY": "some-study", "PATH": "/tmp/nin-doc-check.sqlite", "FILE": "/tmp/nin-doc-check.out", "DIR": "/tmp/nin-doc-check",
        "FILTER": "model.head=gap", "OUT.sqlite": "/tmp/nin-doc-check.sqlite", "DB.sqlite": "/tmp/a.sqlite",
    ]

    /// The argument arrays a documented line stands for: brackets removed (optional parts given),
    /// `…` dropped, placeholders replaced, every `a|b|c` alternative tried once, and any
    /// `--data-dir` value replaced by `dataDir` (that option requires an existing folder).
    static func variants(_ arguments: [String], dataDir: String) -> [[String]] {
        let cleaned = arguments.compactMap { word -> String? in
            var w = word.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
            w = w.replacingOccurrences(of: "…", with: "").replacingOccurrences(of: "...", with: "")
            if w.hasPrefix("<"), w.hasSuffix(">") { w = "0123abcd" }
            return w.isEmpty ? nil : (placeholders[w] ?? w)
        }
        func fixed(_ words: [String]) -> [String] {
            var out = words
            for i in out.indices.dropLast() where out[i] == "--data-dir" { out[i + 1] = dataDir }
            return out
        }
        let base = cleaned.map { String($0.split(separator: "|", omittingEmptySubsequences: false)[0]) }
        var result = [fixed(base)]
        for (i, word) in cleaned.enumerated() where word.contains("|") {
            for alternative in word.split(separator: "|").dropFirst() {
                var v = base
                v[i] = String(alternative)
                result.append(fixed(v))
            }
        }
        return result
    }

    /// Splits a line into words the way a POSIX shell does for single and double quotes
    /// (no expansions).
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = [], current = "", quote: Character?, inWord = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch; inWord = true
            } else if ch == " " || ch == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
