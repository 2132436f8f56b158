import ArgumentParser
import Foundation
import NINRender
import NINReport
import NINStore
import NINStudy

extension ReportFormat: ExpressibleByArgument {}

extension NINStudyCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a study's question with uncertainty: per-level test error over seeds, differences, convergence, budget beside the paper, figures, provenance.",
            discussion: "html (default) writes <out>/<study>/index.html with its figures (PNG and PDF) beside it; it opens offline. markdown writes report.md there instead; text prints the answer tables. The confidence-map sheets are linked where run wrote them (beside the database) unless --self-contained copies them into the report folder. A warning says when the figures' font, DejaVu Sans, is not found.")

        @Argument(help: "Studies to report (default: every study in the database).") var studies: [String] = []
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Parent folder of the reports (default: reports/NAME/ beside the database NAME.sqlite): one folder per study.") var out: String?
        @Option(help: "html, markdown or text.") var format: ReportFormat = .html
        @Flag(help: "Copy the confidence-map sheets into each report folder (sheets/TRIAL/), so the folder links nothing outside itself and can be moved or sent alone.")
        var selfContained = false

        func run() throws {
            try reportingErrors {
                let store = try openExisting(database.databasePath)
                let names = studies.isEmpty ? try store.studies().map(\.name) : studies
                if names.isEmpty { throw ReportError.noStudies(database: database.databasePath) }
                let parent = out.map { URL(fileURLWithPath: $0) }
                    ?? URL(fileURLWithPath: store.files.reportsFolder)
                // Every study is read before any report is written: an unknown name writes nothing.
                let analyses = try names.map { name in
                    var analysis = try StudyAnalysis.load(store: store, study: name, databasePath: database.databasePath)
                    // The study's full trial set, from its recorded definition (a merged database
                    // may lack a failed shard's trials).
                    do {
                        let completeness = try StudyCompleteness.check(store: store, study: name)
                        analysis.definedTrials = completeness.total
                        analysis.missingTrials = completeness.gaps.filter { $0.status == nil }.map { (id: $0.id, label: $0.label) }
                    } catch {
                        FileHandle.standardError.write(Data("warning: \(error); the report counts only the trials the database holds\n".utf8))
                    }
                    return analysis
                }
                let fontProblem = format == .text ? nil : FigureFont.problem()
                if let fontProblem { FileHandle.standardError.write(Data("warning: \(fontProblem)\n".utf8)) }
                for (name, analysis) in zip(names, analyses) {
                    let report = StudyReport(analysis: analysis, databasePath: database.databasePath, generatorVersion: ninStudyVersion,
                                             selfContained: selfContained, figureFontProblem: fontProblem)
                    print(try report.write(format: format, to: parent.appendingPathComponent(name)))
                }
            }
        }
    }
}
