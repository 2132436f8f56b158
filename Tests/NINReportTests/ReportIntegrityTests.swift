import Foundation
import XCTest
@testable import NINRender
@testable import NINStore
@testable import NINReport
@testable import nin_study

/// What the report must not leave unsaid (issue 21): which statistic a difference is, environments
/// that differ between compared trials, a missing figure font, links outside the report's folder.
final class ReportIntegrityTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try ReportFixture.temporaryFolder(self)
    }

    func database(mixedEnvironments: Bool = false) throws -> String {
        let db = folder.appendingPathComponent(mixedEnvironments ? "mixed.sqlite" : "results.sqlite").path
        try ReportFixture.build(at: db, mixedEnvironments: mixedEnvironments)
        return db
    }

    func analysis(_ db: String) throws -> StudyAnalysis {
        try StudyAnalysis.load(store: try ResultsStore.openExisting(path: db), study: ReportFixture.study, databasePath: db)
    }

    /// fc-dropout's seed 3 failed: its differences are Welch over all finished seeds (no seed dropped
    /// to make pairs), so every estimate is the difference of the two means in the answer table, and
    /// the verdict's "lead" says it is that difference.
    func testDifferencesAreTheDifferenceOfTheMeansAndSayHow() throws {
        let a = try analysis(try database())
        let context = try XCTUnwrap(a.axes.first?.contexts.first)
        let mean = Dictionary(uniqueKeysWithValues: context.levels.map { ($0.value, $0.summary.mean!) })
        for d in context.differences {
            XCTAssertEqual(d.difference.estimate, mean[d.a]! - mean[d.b]!, accuracy: 1e-9, "\(d.a) − \(d.b)")
        }
        let gapFc = try XCTUnwrap(context.differences.first { $0.a == "gap" && $0.b == "fc" })
        XCTAssertEqual(gapFc.difference.method, .paired)
        XCTAssertEqual(gapFc.method, "paired by seed (n = 3 seeds)")
        let gapFcd = try XCTUnwrap(context.differences.first { $0.a == "gap" && $0.b == "fc-dropout" })
        XCTAssertEqual(gapFcd.difference.method, .welch)
        XCTAssertEqual(gapFcd.method, "Welch, unpaired (finished seeds differ: 1, 2, 3 and 1, 2)")
        // Welch–Satterthwaite on (30, 31, 32.5) and (31, 32.4): estimate −0.5333.
        XCTAssertEqual(gapFcd.difference.estimate, -0.5333, accuracy: 1e-4)
        XCTAssertTrue(context.verdict.contains("its lead of 0.53 points over model.head = fc-dropout (the difference of their mean test errors, 31.70 % − 31.17 %)"),
                      context.verdict)
        XCTAssertTrue(context.verdict.contains("Welch, unpaired (finished seeds differ: 1, 2 and 1, 2, 3)"), context.verdict)
        let markdown = try String(contentsOfFile: try StudyReport(analysis: a, databasePath: "db", generatorVersion: "test")
            .write(format: .markdown, to: folder.appendingPathComponent("md")), encoding: .utf8)
        XCTAssertTrue(markdown.contains("| gap − fc-dropout | -0.53 |"), markdown)
        XCTAssertTrue(markdown.contains("Welch's unpaired interval otherwise (a seed missing or failed on one side); no seed is dropped to make pairs."), markdown)
        XCTAssertFalse(markdown.contains("paired by seed (n = 2"), markdown)
    }

    /// Seed 3 of gap and fc ran with 1 thread and AVX2: the answer says the comparison mixes
    /// environments and how, Provenance lists each environment's trials, and the reproduce command
    /// names the thread counts.
    func testMixedEnvironmentsAreSaidPlainly() throws {
        let db = try database(mixedEnvironments: true)
        let a = try analysis(db)
        XCTAssertEqual(a.environments.count, 2)
        let context = try XCTUnwrap(a.axes.first?.contexts.first)
        XCTAssertTrue(context.environments.mixesResults)
        XCTAssertEqual(context.environments.differences.map(\.property), ["threads", "BLAS", "host"])
        let words = try XCTUnwrap(context.environments.words)
        XCTAssertTrue(words.hasPrefix("This comparison mixes environments. threads 2 (gap seeds 1, 2; fc seeds 1, 2; fc-dropout seeds 1, 2) and 1 (gap seed 3; fc seed 3). BLAS oneDNN 2.6.3 ISA avx512_core_bf16, OpenMP threads 2 (gap seeds 1, 2; fc seeds 1, 2; fc-dropout seeds 1, 2) and oneDNN 2.6.3 ISA avx2, OpenMP threads 1 (gap seed 3; fc seed 3)."), words)
        let markdown = try String(contentsOfFile: try StudyReport(analysis: a, databasePath: db, generatorVersion: "test")
            .write(format: .markdown, to: folder.appendingPathComponent("mixed")), encoding: .utf8)
        XCTAssertTrue(markdown.contains("**" + words + "**"), "a warning under the answer")
        XCTAssertTrue(markdown.contains("The trials of this study ran in 2 environments that differ in threads, BLAS"), markdown)
        XCTAssertTrue(markdown.contains("| 7: 11aaaaaaaa, 12aaaaaaaa, 21aaaaaaaa, 22aaaaaaaa, 31aaaaaaaa, 32aaaaaaaa, 33aaaaaaaa | fixture-host |"), markdown)
        XCTAssertTrue(markdown.contains("| 2: 13aaaaaaaa, 23aaaaaaaa | fixture-node-2 |"), markdown)
        XCTAssertTrue(markdown.contains("# the trials ran with 1 thread (2 trials) and 2 threads (7 trials): a trial is bit-identical only at its own count"), markdown)
        XCTAssertTrue(markdown.contains("--db reproduced/results.sqlite --threads 2 --data-dir DATA_DIR"), markdown)

        // One environment: nothing said, --threads carried.
        let same = try analysis(try database())
        XCTAssertNil(try XCTUnwrap(same.axes.first?.contexts.first).environments.words)
        let plain = try String(contentsOfFile: try StudyReport(analysis: same, databasePath: db, generatorVersion: "test")
            .write(format: .markdown, to: folder.appendingPathComponent("same")), encoding: .utf8)
        XCTAssertFalse(plain.contains("mixes environments"))
        XCTAssertTrue(plain.contains("--threads 2 --data-dir DATA_DIR"), plain)
    }

    /// With an empty fontconfig (no font at all), the check says DejaVu Sans is missing; `report`
    /// run that way warns on standard error and on the page, and still writes the report.
    func testMissingFigureFontIsSaid() throws {
        XCTAssertNil(FigureFont.problem(), "DejaVu Sans (fonts-dejavu-core) is installed on the test machine")
        let empty = folder.appendingPathComponent("empty-fonts.conf")
        try Data(#"<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>"#.utf8).write(to: empty)
        let problem = try XCTUnwrap(FigureFont.problem(configFile: empty.path))
        XCTAssertTrue(problem.hasPrefix("the figures' font DejaVu Sans is not found (fontconfig finds no font at all"), problem)
        XCTAssertTrue(problem.contains("fonts-dejavu-core"), problem)

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle (swift build first)")
        let db = try database()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["report", "--db", db, "--out", folder.appendingPathComponent("reports").path]
        var environment = ProcessInfo.processInfo.environment
        environment["FONTCONFIG_FILE"] = empty.path
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("warning: the figures' font DejaVu Sans is not found (fontconfig finds no font at all, with FONTCONFIG_FILE=\(empty.path))"), stderr)
        let html = try String(contentsOf: folder.appendingPathComponent("reports/heads/index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("The figures below were drawn without their font"), "said on the page too")
    }

    /// `--self-contained` copies the sheets (PNG and PDF) beside the page: every link of the page
    /// resolves inside its folder, so the folder moved on its own still shows them. Without it the
    /// sheets are linked beside the database, and the page says so.
    func testSelfContainedReportLinksNothingOutsideItsFolder() throws {
        let db = try database()
        let store = try ResultsStore(path: db)
        for head in ["gap", "fc"] {
            let id = ReportFixture.id(head, 1)
            let sheet = folder.appendingPathComponent("maps/results/heads/\(id)/confidence-maps.png")
            try FileManager.default.createDirectory(at: sheet.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PNG.write(RGBAImage(width: 4, height: 4), to: sheet)
            try Data("%PDF-1.5".utf8).write(to: sheet.deletingPathExtension().appendingPathExtension("pdf"))
            try store.addArtifact(trialId: id, kind: .confidenceMap, path: sheet.path, sha256: String(repeating: "0", count: 64), bytes: 1)
        }
        func links(_ page: URL) throws -> [String] {
            let html = try String(contentsOf: page, encoding: .utf8)
            let regex = try NSRegularExpression(pattern: #"(?:src|href)="([^"]*)""#)
            return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { String(html[Range($0.range(at: 1), in: html)!]) }
        }
        var linked = try NINStudyCommand.parseAsRoot(["report", "--db", db, "--out", folder.appendingPathComponent("linked").path])
        try linked.run()
        let linkedPage = folder.appendingPathComponent("linked/heads/index.html")
        XCTAssertTrue(try links(linkedPage).contains { $0.hasPrefix("../../maps/") }, "the default links the sheets beside the database")
        XCTAssertTrue(try String(contentsOf: linkedPage, encoding: .utf8).contains("or write it with `nin-study report --self-contained`"))

        var command = try NINStudyCommand.parseAsRoot(["report", "--db", db, "--out", folder.appendingPathComponent("alone").path, "--self-contained"])
        try command.run()
        // Moved away from the database and its maps folder.
        let moved = folder.appendingPathComponent("elsewhere/heads")
        try FileManager.default.createDirectory(at: moved.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: folder.appendingPathComponent("alone/heads"), to: moved)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("maps"))
        let page = moved.appendingPathComponent("index.html")
        let all = try links(page)
        XCTAssertEqual(all.filter { $0.hasPrefix("sheets/") }.count, 4, "2 sheets, each an <a href> and an <img src>: \(all)")
        for link in all {
            XCTAssertFalse(link.hasPrefix("/") || link.contains("..") || link.contains(":"), "leaves the folder: \(link)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: moved.appendingPathComponent(link).path), "missing: \(link)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: moved.appendingPathComponent("sheets/\(ReportFixture.id("fc", 1))/confidence-maps.pdf").path))
        XCTAssertTrue(try String(contentsOf: page, encoding: .utf8).contains("The sheets are copied into sheets/ beside this page"))
    }

    /// A database written before the divergence rule holds a "finished" trial whose loss exploded
    /// to 6.3 × 10³⁵ nats: the page warns that it diverged by today's rule, and its learning-curve
    /// figure keeps its tick labels inside their panel (log loss axis).
    func testFinishedTrialThatDivergedIsNamedAndDrawnReadably() throws {
        let db = try database()
        let store = try ResultsStore(path: db)
        try store.upsertStudy(name: "lr", description: "", definitionJSON: "{}", definitionSHA256: String(repeating: "0", count: 64))
        for (i, (lr, seed)) in [(0.05, 1), (0.05, 2), (0.3, 1), (0.3, 2)].enumerated() {
            let id = "8\(i)" + String(repeating: "c", count: 62)
            try store.upsertTrial(TrialRecord(id: id, configJSON: try ReportFixture.config(head: "gap", seed: Int64(seed)), sweptJSON: "{}",
                                              dataset: "cifar10", head: "gap", seed: Int64(seed), epochsPlanned: 3),
                                  params: ["training.learningRate": "\(lr)", "seed": "\(seed)"], study: "lr")
            _ = try store.claimTrial(id, owner: ClaimOwner(host: "h", pid: 1, bootId: nil, processStartTicks: nil),
                environmentId: nil, datasetIdentity: nil, retryFailed: false)
            let losses = lr == 0.3 && seed == 2 ? [2.2, 4e18, 6.3e35] : [1.9, 1.2, 0.8 + 0.1 * Double(seed)]
            for (e, loss) in losses.enumerated() {
                try store.recordEpoch(EpochRecord(trialId: id, epoch: e + 1, trainLoss: loss, trainAccuracy: 50, testLoss: 1,
                                                  testAccuracy: lr == 0.3 && seed == 2 ? 10 : 60 + Double(e), learningRate: lr))
            }
            try store.markFinished(trialId: id)
        }
        let analysis = try StudyAnalysis.load(store: store, study: "lr", databasePath: db)
        XCTAssertEqual(analysis.trials.compactMap(\.divergence),
                       ["training loss 4e+18 at epoch 2 is above 10 × ln 10 = 23.03 (learning rate 0.3): the run diverged; lower training.learningRate"])
        let out = folder.appendingPathComponent("lr")
        let page = try String(contentsOfFile: try StudyReport(analysis: analysis, databasePath: db, generatorVersion: "test")
            .write(format: .markdown, to: out), encoding: .utf8)
        XCTAssertTrue(page.contains("**1 trial is recorded as finished although its training loss diverged (above 10 × ln C for a whole epoch"), page)
        XCTAssertTrue(page.contains("- 83cccccccc seed=2, training.learningRate=0.3: training loss 4e+18 at epoch 2"), page)
        let image = try PNG.read(from: out.appendingPathComponent("learning-curves-training-learningRate.png"))
        let plot = LearningCurvePlot(series: [], title: "")
        let left = plot.plotArea(panel: 0)
        XCTAssertEqual(image.countPixels(x: left.x + left.width + 2, y: left.y - 4, width: 30, height: left.height + 30) { $0 != .white }, 0,
                       "the loss panel's tick labels reach into the test-error panel")
    }
}
