// `nin-study report`: turns a StudyAnalysis into a document and figures and writes them.

import Foundation
import NINData
import NINEngine
import NINRender
import NINStore

/// Writes one study's report.
///
/// Files (HTML): `<folder>/index.html`, `<folder>/study.json` (the study definition, for the
/// reproduce command), and per swept axis (and context) `test-error-<axis>.png|.pdf` and
/// `learning-curves-<axis>.png|.pdf`. Markdown: `report.md` in place of `index.html`, same figures.
/// Self-contained: the confidence-map sheets (PNG and the PDF beside it) copied into
/// `<folder>/sheets/<trial id>/`, so the page links nothing outside its folder.
public struct StudyReport {
    public let analysis: StudyAnalysis
    /// Where the database is (for the reproduce command).
    public let databasePath: String
    /// The nin-study version that writes the report.
    public let generatorVersion: String
    /// Whether the sheets are copied beside the page instead of linked where `run` wrote them.
    public let selfContained: Bool
    /// Why the figures' font is missing (`FigureFont.problem()`), said on the page; nil: found.
    public let figureFontProblem: String?

    /// The folder of copied sheets inside the report's folder.
    static let sheetsFolder = "sheets"

    public init(analysis: StudyAnalysis, databasePath: String, generatorVersion: String, selfContained: Bool = false,
                figureFontProblem: String? = nil) {
        self.analysis = analysis; self.databasePath = databasePath; self.generatorVersion = generatorVersion
        self.selfContained = selfContained; self.figureFontProblem = figureFontProblem
    }

    /// Writes the report in `format` to `folder` (created if needed); for `.text` returns the text
    /// and writes nothing.
    /// - Returns: the main file's path (HTML, Markdown) or the text.
    /// - Throws: `OutputFolderError` when `folder` (or a parent) is a file, `RenderError` (figures), file-system errors.
    public func write(format: ReportFormat, to folder: URL) throws -> String {
        if format == .text { return document(figures: [:], folder: folder, sheetLinks: [:]).text() }
        try OutputFolder.create(folder)
        let sheetLinks = selfContained ? try copySheets(into: folder) : [:]
        var figures: [String: [ReportFigure]] = [:]
        for (a, axis) in analysis.axes.enumerated() {
            for (c, context) in axis.contexts.enumerated() {
                let stem = Self.slug(axis.key) + (axis.contexts.count > 1 ? "-\(c + 1)" : "")
                figures["\(a)/\(c)"] = try writeFigures(axis: axis, context: context, stem: stem, folder: folder)
            }
        }
        let document = document(figures: figures, folder: folder, sheetLinks: sheetLinks)
        try Data(analysis.study.definitionJSON.utf8).write(to: folder.appendingPathComponent("study.json"), options: .atomic)
        let name = format == .html ? "index.html" : "report.md"
        let url = folder.appendingPathComponent(name)
        try Data((format == .html ? document.html() : document.markdown()).utf8).write(to: url, options: .atomic)
        return url.path
    }

    /// Copies every recorded sheet that exists (its PNG, and the PDF of the same name beside it)
    /// to `<folder>/sheets/<trial id>/`, replacing an earlier copy.
    /// - Returns: stored PNG path → link relative to `folder`.
    /// - Throws: file-system errors.
    private func copySheets(into folder: URL) throws -> [String: String] {
        let fm = FileManager.default
        let root = folder.appendingPathComponent(Self.sheetsFolder)
        if fm.fileExists(atPath: root.path) { try fm.removeItem(at: root) }
        var links: [String: String] = [:]
        for t in analysis.trials {
            for (_, path) in analysis.sheets[t.record.id] ?? [] where path.hasSuffix(".png") && fm.fileExists(atPath: path) {
                let target = root.appendingPathComponent(t.record.id)
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                let png = URL(fileURLWithPath: path)
                let pdf = png.deletingPathExtension().appendingPathExtension("pdf")
                for file in [png, pdf] where fm.fileExists(atPath: file.path) {
                    try fm.copyItem(at: file, to: target.appendingPathComponent(file.lastPathComponent))
                }
                links[path] = "\(Self.sheetsFolder)/\(t.record.id)/\(png.lastPathComponent)"
            }
        }
        return links
    }

    // MARK: - Figures

    private func writeFigures(axis: AxisAnswer, context: ContextAnswer, stem: String, folder: URL) throws -> [ReportFigure] {
        let where_ = context.contextLabel.isEmpty ? "" : " (\(context.contextLabel))"
        let bars = ErrorBarPlot(
            entries: context.levels.map { level in
                ErrorBarPlot.Entry(label: level.value, mean: level.summary.mean,
                                   interval: level.summary.interval.map { ($0.lower, $0.upper) },
                                   points: level.finishedTrials.compactMap(\.testError),
                                   reference: level.paper?.testError, highlighted: level.isBest)
            },
            title: "\(analysis.study.name): final test error by \(axis.key)\(where_)",
            yTitle: "test error (%)",
            caption: "Bar: mean over finished seeds; whisker: 95 % confidence interval (Student t, n − 1 degrees of freedom), cut without a cap at 0 and 100 %; dots: single seeds; dashed red line: the paper's number for that setting (at the paper's full budget).",
            domain: LearningCurvePlot.testErrorDomain)
        let barFiles = try bars.write(stem: folder.appendingPathComponent("test-error-\(stem)"), formats: [.png, .pdf])
        var series: [LearningCurvePlot.Series] = []
        for level in context.levels {
            let trials = level.finishedTrials
            guard !trials.isEmpty else { continue }
            let epochs = Array(Set(trials.flatMap { $0.epochs.map(\.epoch) })).sorted()
            func stats(_ value: (EpochRecord) -> Double?) -> (mean: [Double?], spread: [Double?]) {
                let summaries = epochs.map { e in SampleSummary(trials.compactMap { t in t.epochs.first { $0.epoch == e }.flatMap(value) }.filter(\.isFinite)) }
                return (summaries.map(\.mean), summaries.map(\.standardDeviation))
            }
            let error = stats { $0.testAccuracy.map { 100 - $0 } }, loss = stats(\.trainLoss)
            series.append(try LearningCurvePlot.Series(
                label: "\(level.value) (n = \(trials.count))", epochs: epochs, testError: error.mean,
                trainLoss: loss.mean.map { $0 ?? .nan }, testErrorSpread: error.spread, trainLossSpread: loss.spread))
        }
        let curves = LearningCurvePlot(series: series, title: "\(analysis.study.name): learning curves by \(axis.key)\(where_)")
        let curveFiles = try curves.write(stem: folder.appendingPathComponent("learning-curves-\(stem)"), formats: [.png, .pdf])
        return [
            ReportFigure(png: barFiles[0].lastPathComponent, pdf: barFiles[1].lastPathComponent,
                         caption: "Final test error per level, with its 95 % confidence interval and the paper's number."),
            ReportFigure(png: curveFiles[0].lastPathComponent, pdf: curveFiles[1].lastPathComponent,
                         caption: "Mean over finished seeds per epoch; band: ± one sample standard deviation over seeds (none for a single seed)."),
        ]
    }

    // MARK: - Document

    func document(figures: [String: [ReportFigure]], folder: URL, sheetLinks: [String: String]) -> ReportDocument {
        let a = analysis
        var blocks: [ReportBlock] = []
        if !a.study.description.isEmpty { blocks.append(.paragraph(a.study.description)) }
        let counts = Dictionary(grouping: a.trials, by: \.record.status).mapValues(\.count)
        let held = a.definedTrials.map { "\(a.trials.count) of \($0) trials of the study" } ?? "\(a.trials.count) trials"
        let missing = a.missingTrials.isEmpty ? [] : ["\(a.missingTrials.count) missing"]
        blocks.append(.paragraph("\(held): " + (TrialStatus.allCases.compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } } + missing).joined(separator: ", ")
            + ". Test error is the final epoch's, in percent; only finished trials are averaged."))
        if !a.missingTrials.isEmpty {
            blocks.append(.finding("\(a.missingTrials.count) trial\(a.missingTrials.count == 1 ? "" : "s") of the study \(a.missingTrials.count == 1 ? "is" : "are") in no database merged here (a shard that failed, or was never merged); the answers below lack \(a.missingTrials.count == 1 ? "it" : "them"):", kind: .warning))
            blocks.append(.list(a.missingTrials.map { "\($0.id.prefix(10)) \($0.label)" }))
        }

        blocks.append(.heading(level: 2, text: "The answer", id: "answer"))
        if let figureFontProblem {
            blocks.append(.finding("The figures below were drawn without their font: \(figureFontProblem).", kind: .warning))
        }
        for (i, axis) in a.axes.enumerated() {
            for (c, context) in axis.contexts.enumerated() {
                let heading = axis.key == "configuration" ? "All trials (no swept value besides the seed)"
                    : "By \(axis.key)" + (context.contextLabel.isEmpty ? "" : " at \(context.contextLabel)")
                blocks.append(.heading(level: 3, text: heading, id: nil))
                blocks += answerBlocks(axis: axis, context: context, index: "\(i + 1)-\(c + 1)")
                for figure in figures["\(i)/\(c)"] ?? [] { blocks.append(.figure(figure)) }
            }
        }

        blocks.append(.heading(level: 2, text: "Failed and unfinished trials", id: "unfinished"))
        let unfinished = a.unfinished
        if unfinished.isEmpty {
            blocks.append(.paragraph("None: every trial finished."))
        } else {
            blocks.append(.paragraph("These trials are not in the averages above."))
            blocks.append(.table(ReportTable(id: "unfinished-trials",
                columns: [("trial", "trial"), ("values", "swept values"), ("status", "status"), ("epochs", "epochs"), ("reason", "reason")],
                rows: unfinished.map { u in
                    .init(cells: ["trial": u.trial.record.shortId, "values": sweptText(u.trial), "status": u.trial.record.status.rawValue,
                                  "epochs": epochsText(u.trial), "reason": u.reason], data: ["trial": u.trial.record.id])
                })))
        }

        let diverged = a.trials.filter { $0.divergence != nil }
        if !diverged.isEmpty {
            blocks.append(.finding("\(diverged.count) trial\(diverged.count == 1 ? " is" : "s are") recorded as finished although \(diverged.count == 1 ? "its" : "their") training loss diverged (above \(String(format: "%g", LossDivergence.factor)) × ln C for a whole epoch; recorded by a version of nin-study without that rule). \(diverged.count == 1 ? "It is" : "They are") averaged above as recorded; delete \(diverged.count == 1 ? "it" : "them") from the database or rerun the study into a new one:",
                                   kind: .warning))
            blocks.append(.list(diverged.map { "\($0.record.shortId) \(sweptText($0)): \($0.divergence!)" }))
        }

        blocks.append(.heading(level: 2, text: "Convergence and budget", id: "budget"))
        blocks.append(.paragraph("Trend: the least-squares slope of test error over the last (up to \(Convergence.window)) epochs; \"still falling\" when it drops by more than 1 % of the last test error per epoch, \"rising\" when it climbs by more, \"levelled\" otherwise. Multiply-adds are one image's forward pass; images seen are epochs done × training images per epoch; precision is the number format of the GEMM inputs (`training.precision`; accumulation, weights and updates are fp32 in both)."))
        blocks.append(.table(ReportTable(id: "budget-table",
            columns: [("trial", "trial"), ("values", "swept values"), ("status", "status"), ("epochs", "epochs done / planned"),
                      ("error", "test error %"), ("trend", "test error trend"), ("macs", "multiply-adds / image"),
                      ("images", "images seen"), ("precision", "precision"), ("wall", "wall time")],
            rows: a.trials.map { t in
                .init(cells: ["trial": t.record.shortId, "values": sweptText(t), "status": t.record.status.rawValue,
                              "epochs": epochsText(t), "error": t.testError.map { String(format: "%.2f", $0) } ?? "-",
                              "trend": t.convergence.words, "macs": t.record.multiplyAdds.map { Self.mega($0) } ?? "-",
                              "images": t.imagesSeen.map { Self.grouped($0) } ?? "-",
                              "precision": t.record.precision,
                              "wall": t.record.wallSeconds.map { Self.duration($0) } ?? "-"],
                      data: ["trial": t.record.id])
            })))

        blocks.append(.heading(level: 2, text: "Beside the paper", id: "paper"))
        blocks += paperBlocks()

        blocks.append(.heading(level: 2, text: "Confidence maps", id: "maps"))
        blocks += sheetBlocks(folder: folder, links: sheetLinks)

        blocks.append(.heading(level: 2, text: "Provenance", id: "provenance"))
        blocks += provenanceBlocks()
        return ReportDocument(title: "Study \(a.study.name)", blocks: blocks)
    }

    private func answerBlocks(axis: AxisAnswer, context: ContextAnswer, index: String) -> [ReportBlock] {
        var blocks: [ReportBlock] = []
        let levelTitle = axis.key == "configuration" ? "configuration" : axis.key
        blocks.append(.table(ReportTable(id: "answer-\(index)",
            columns: [("level", levelTitle), ("n", "finished seeds"), ("mean", "mean test error %"), ("sd", "sample std"),
                      ("ci", "95 % CI of the mean"), ("paper", "paper (full budget)"), ("other", "not finished")],
            rows: context.levels.map { level in
                let s = level.summary
                let notFinished = level.trials.count - level.finishedTrials.count
                return .init(cells: ["level": level.value + (level.isBest ? " (best)" : ""), "n": "\(s.count)",
                                     "mean": s.mean.map { String(format: "%.2f", $0) } ?? "-",
                                     "sd": s.standardDeviation.map { String(format: "%.2f", $0) } ?? "-",
                                     "ci": s.interval.map { String(format: "%.2f to %.2f", $0.lower, $0.upper) } ?? "- (n < 2)",
                                     "paper": level.paper.map { String(format: "%.2f (%@)", $0.testError, $0.source) } ?? "-",
                                     "other": notFinished == 0 ? "0" : "\(notFinished) (see below)"],
                             data: ["level": level.value, "axis": axis.key], strong: level.isBest)
            })))
        if !context.differences.isEmpty {
            blocks.append(.paragraph("Differences are a − b of the mean test errors above, over every finished seed of each level. The 95 % interval is paired by seed when both levels finished exactly the same seeds (the trials of a seed then differ only in this value, so seed-to-seed variation cancels), and Welch's unpaired interval otherwise (a seed missing or failed on one side); no seed is dropped to make pairs."))
            blocks.append(.table(ReportTable(id: "differences-\(index)",
                columns: [("pair", "difference"), ("estimate", "points"), ("ci", "95 % CI"), ("method", "how"), ("noise", "beyond seed noise?")],
                rows: context.differences.map { d in
                    .init(cells: ["pair": "\(d.a) − \(d.b)", "estimate": String(format: "%+.2f", d.difference.estimate),
                                  "ci": d.difference.interval.map { String(format: "%+.2f to %+.2f", $0.lower, $0.upper) } ?? "-",
                                  "method": d.method,
                                  "noise": d.exceedsNoise.map { $0 ? "yes" : "no (CI includes 0)" } ?? "cannot tell (too few seeds)"],
                          data: ["a": d.a, "b": d.b])
                })))
        }
        let noise = context.differences.contains { $0.exceedsNoise != true }
        blocks.append(.finding(context.verdict, kind: noise ? .noise : .answer))
        blocks.append(.finding(context.convergence, kind: context.notConverged ? .warning : .answer))
        if let words = context.environments.words {
            blocks.append(context.environments.mixesResults ? .finding(words, kind: .warning) : .paragraph(words))
        }
        return blocks
    }

    private func paperBlocks() -> [ReportBlock] {
        let matched = analysis.trials.filter { $0.paper != nil }
        guard !matched.isEmpty else {
            return [.paragraph("The paper reports no number for these settings (this report knows CIFAR-10 Table 5, Table 1 and §4.6, and MNIST Table 4).")]
        }
        var blocks: [ReportBlock] = [.table(ReportTable(id: "paper-table",
            columns: [("trial", "trial"), ("values", "swept values"), ("error", "test error %"), ("paper", "paper %"),
                      ("source", "paper's setting"), ("macs", "network size vs paper's"), ("epochs", "epochs vs paper's"),
                      ("preprocessing", "preprocessing (trial / paper)"), ("dropout", "dropout between blocks")],
            rows: matched.map { t in
                let p = t.paper!
                return .init(cells: ["trial": t.record.shortId, "values": sweptText(t),
                                     "error": t.testError.map { String(format: "%.2f", $0) } ?? t.record.status.rawValue,
                                     "paper": String(format: "%.2f", p.result.testError), "source": "\(p.result.source): \(p.result.setting)",
                                     "macs": p.multiplyAddRatio.map { String(format: "%.2f×", $0) } ?? "-",
                                     "epochs": p.epochRatio.map { String(format: "%.3f× (%d of %.0f)", $0, t.record.epochsDone, p.recipe.epochs!) }
                                        ?? "\(t.record.epochsDone) (paper: \(p.recipe.epochsSource))",
                                     "preprocessing": "\(p.preprocessing.trial?.key ?? "?") / \(p.preprocessing.paper?.key ?? "not stated")",
                                     "dropout": t.record.dropout.map { $0 > 0 ? String(format: "%g (paper 0.5)", $0) : "none (paper 0.5)" } ?? "-"],
                             data: ["trial": t.record.id])
            }))]
        let macs = matched.compactMap { $0.paper?.multiplyAddRatio }, epochs = matched.compactMap { $0.paper?.epochRatio }
        let small = (macs.max().map { $0 < 0.95 } ?? false) || (epochs.max().map { $0 < 0.95 } ?? false)
        if small {
            var parts: [String] = []
            if let m = macs.max() { parts.append(String(format: "at most %.2f× the paper network's multiply-adds", m)) }
            if let e = epochs.max() { parts.append(String(format: "at most %.3f× its epochs", e)) }
            blocks.append(.finding("Not a reproduction: these trials have \(parts.joined(separator: " and ")). Their test errors say how this budget behaves, not whether the paper's numbers hold.",
                                   kind: .warning))
        } else {
            blocks.append(.paragraph("The budget matches the paper's in network size and epochs; differences in preprocessing or dropout are listed per trial."))
        }
        return blocks
    }

    private func sheetBlocks(folder: URL, links: [String: String]) -> [ReportBlock] {
        var images: [(path: String, caption: String)] = []
        var missing: [String] = []
        for t in analysis.trials {
            for (kind, path) in analysis.sheets[t.record.id] ?? [] where path.hasSuffix(".png") {
                let variant = kind == .confidenceMapTop ? "top activations only" : "all activations"
                let caption = "\(t.record.shortId) \(sweptText(t)): \(variant)"
                if FileManager.default.fileExists(atPath: path) {
                    images.append((links[path] ?? Self.relativePath(from: folder, to: path), caption))
                } else {
                    missing.append("\(caption): \(path)")
                }
            }
        }
        guard !images.isEmpty || !missing.isEmpty else {
            return [.paragraph("No confidence-map sheets are recorded for these trials (run without --no-maps, or `nin-study maps TRIAL`).")]
        }
        var blocks: [ReportBlock] = [.paragraph("Category confidence maps of the last mlpconv layer (paper §4.7): one row per test image, one colour scale per row, the true class outlined in red, the predicted class marked with an orange corner; the second sheet of each trial keeps only the top 10 % of each row's activations. Each sheet is also a PDF of the same name beside its PNG.")]
        if !images.isEmpty {
            blocks.append(.paragraph(selfContained
                ? "The sheets are copied into \(Self.sheetsFolder)/ beside this page: the report folder can be moved or sent on its own."
                : "The sheets are linked where `run` wrote them, beside the database, outside this folder (e.g. \(images[0].path)): copy this report with its results folder, or write it with `nin-study report --self-contained` to copy them beside the page."))
            blocks.append(.images(images))
        }
        if !missing.isEmpty {
            blocks.append(.finding("\(missing.count) recorded sheet\(missing.count == 1 ? " is" : "s are") missing beside the database (copied without its maps folder?); `nin-study maps TRIAL --db …` draws them again from the trial's checkpoint:",
                                   kind: .warning))
            blocks.append(.list(missing))
        }
        return blocks
    }

    private func provenanceBlocks() -> [ReportBlock] {
        let a = analysis
        var blocks: [ReportBlock] = []
        blocks.append(.paragraph("Report written by nin-study \(generatorVersion) from \(databasePath)."))
        let studyMix = EnvironmentMix(trials: a.trials.map { (group: sweptLevels($0), trial: $0) },
                                      environments: Dictionary(a.environments.compactMap { e in e.id.map { ($0, e) } }, uniquingKeysWith: { x, _ in x }))
        if a.environments.count > 1 {
            blocks.append(studyMix.mixesResults
                ? .finding("The trials of this study ran in \(a.environments.count) environments that differ in "
                           + studyMix.differences.filter(\.affectsResults).map(\.property).joined(separator: ", ")
                           + ": a comparison that mixes them says so under its answer.", kind: .warning)
                : .paragraph("The trials ran in \(a.environments.count) environments that differ only in host or CPU model (same threads, libraries and build)."))
        }
        blocks.append(.table(ReportTable(id: "environments",
            columns: [("trials", "trials"), ("host", "host"), ("cpu", "CPU"), ("cores", "cores / threads"), ("os", "OS"), ("swift", "Swift"),
                      ("blas", "BLAS"), ("gemm", "GEMM kernels"), ("version", "nin-study"), ("commit", "commit")],
            rows: a.environments.map { e in
                let trials = a.trials.filter { $0.record.environmentId == e.id }
                return .init(cells: ["trials": "\(trials.count): " + trials.map(\.record.shortId).joined(separator: ", "),
                                     "host": e.host, "cpu": e.cpuModel, "cores": "\(e.cores) / \(e.threads)", "os": e.os, "swift": e.swiftVersion,
                                     "blas": e.blas, "gemm": e.gemm ?? "-", "version": e.ninStudyVersion, "commit": e.gitCommit ?? "unknown"],
                             data: ["environment": e.id.map(String.init) ?? ""])
            })))
        for (dataset, files) in a.datasets {
            blocks.append(.paragraph("Dataset \(dataset.name), identity \(dataset.identity) (SHA-256 over its files):"))
            blocks.append(.table(ReportTable(id: "dataset-\(dataset.identity.prefix(10))",
                columns: [("file", "file"), ("bytes", "bytes"), ("sha256", "SHA-256")],
                rows: files.map { .init(cells: ["file": $0.file, "bytes": "\($0.bytes)", "sha256": $0.sha256]) })))
        }
        let commits = Set(a.environments.compactMap(\.gitCommit))
        // The thread count most trials ran with (ties: the smaller); the others are named.
        let threadCounts = Dictionary(grouping: a.trials.compactMap { t in a.environments.first { $0.id == t.record.environmentId }?.threads }, by: { $0 })
            .mapValues(\.count)
        let threads = threadCounts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
        var command = ""
        if commits.count == 1, let commit = commits.first {
            // A build from a tree with uncommitted changes records "<commit>-dirty": the commit is the
            // nearest reproducible state, and the page says the build differed from it.
            let clean = commit.hasSuffix("-dirty") ? String(commit.dropLast(6)) : commit
            command += "git checkout \(clean)" + (clean == commit ? "" : "   # the build had uncommitted changes on top of this commit") + "\n"
        }
        if threadCounts.count > 1 {
            command += "# the trials ran with " + threadCounts.keys.sorted().map { "\($0) thread\($0 == 1 ? "" : "s") (\(threadCounts[$0]!) trials)" }.joined(separator: " and ")
                + ": a trial is bit-identical only at its own count (Provenance lists each trial's environment)\n"
        }
        command += "swift run -c release nin-study run REPORT_DIR/study.json --db reproduced/results.sqlite"
            + (threads.map { " --threads \($0)" } ?? "") + " --data-dir DATA_DIR"
        blocks.append(.paragraph("To reproduce the study, from a checkout of nin-study (REPORT_DIR is this report's folder, which holds study.json, the definition below; DATA_DIR holds the dataset files listed above; a new database, because the one reported here, \(databasePath), would skip every finished trial; the same thread count and BLAS kernels give bit-identical results):"))
        blocks.append(.code(command))
        // One trial checked against this record: `verify` trains it again into a scratch database.
        let example = a.trials.first { $0.record.status == .finished }?.record.shortId ?? "TRIAL"
        blocks.append(.paragraph("To check one trial against this record instead, without a new database (it trains the trial again into a scratch database and compares every epoch's metrics and the final checkpoint's SHA-256; exit status 0 when identical, 1 when not, and it names the environment fields that differ):"))
        blocks.append(.code("swift run -c release nin-study verify \(example) --db \(databasePath) --data-dir DATA_DIR"))
        blocks.append(.details(summary: "Study definition (study.json, SHA-256 \(a.study.definitionSHA256))", blocks: [.code(Self.pretty(a.study.definitionJSON))]))
        blocks.append(.details(summary: "Each trial's id and configuration", blocks: a.trials.flatMap { t -> [ReportBlock] in
            [.paragraph("\(t.record.id) (\(sweptText(t)), \(t.record.status.rawValue))" + (t.setupProblem.map { ": \($0)" } ?? "")),
             .code(Self.pretty(t.record.configJSON))]
        }))
        return blocks
    }

    // MARK: - Formatting

    private func sweptText(_ t: TrialView) -> String {
        t.swept.keys.sorted().map { "\($0)=\(t.swept[$0]!)" }.joined(separator: ", ")
    }

    /// The trial's swept values without the seed ("model.head=gap"), or "all" without any.
    private func sweptLevels(_ t: TrialView) -> String {
        let text = t.swept.keys.sorted().filter { $0 != "seed" }.map { "\($0)=\(t.swept[$0]!)" }.joined(separator: ", ")
        return text.isEmpty ? "all" : text
    }

    private func epochsText(_ t: TrialView) -> String {
        "\(t.record.epochsDone)/\(t.record.epochsPlanned.map(String.init) ?? "?")"
    }

    static func slug(_ key: String) -> String {
        String(key.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    static func mega(_ v: Int64) -> String { String(format: "%.1f M", Double(v) / 1e6) }

    static func grouped(_ v: Int) -> String {
        let digits = String(v)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? String(format: "%.0f s", seconds) : seconds < 7200 ? String(format: "%.1f min", seconds / 60)
            : String(format: "%.1f h", seconds / 3600)
    }

    static func pretty(_ json: String) -> String {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: out, as: UTF8.self)
    }

    /// `target` relative to `folder` (both made absolute), e.g. `../../maps/s/t/confidence-maps.png`.
    static func relativePath(from folder: URL, to target: String) -> String {
        let base = folder.standardizedFileURL.pathComponents
        let path = URL(fileURLWithPath: target).standardizedFileURL.pathComponents
        var common = 0
        while common < min(base.count, path.count) && base[common] == path[common] { common += 1 }
        return (Array(repeating: "..", count: base.count - common) + path[common...]).joined(separator: "/")
    }
}
