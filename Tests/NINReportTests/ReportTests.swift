import Foundation
import XCTest
@testable import NINRender
@testable import NINStore
@testable import NINStudy
@testable import NINReport
@testable import nin_study

/// `nin-study report` on a fixture database: the answer tables' numbers, the HTML page in a real
/// browser (headless Chromium, network off), and the figures as PNG and PDF.
final class ReportTests: XCTestCase {
    var folder: URL!
    var db: String!

    override func setUpWithError() throws {
        folder = try ReportFixture.temporaryFolder(self)
        db = folder.appendingPathComponent("results.sqlite").path
        try ReportFixture.build(at: db)
    }

    func analysis() throws -> StudyAnalysis {
        try StudyAnalysis.load(store: try ResultsStore.openExisting(path: db), study: ReportFixture.study, databasePath: db)
    }

    func testAnswerTableNumbersAndVerdict() throws {
        let a = try analysis()
        XCTAssertEqual(a.axes.map(\.key), ["model.head"], "seed is not an axis")
        let context = try XCTUnwrap(a.axes.first?.contexts.first)
        XCTAssertEqual(context.levels.map(\.value), ["gap", "fc", "fc-dropout"])
        let gap = context.levels[0], fc = context.levels[1], fcd = context.levels[2]
        XCTAssertEqual(gap.summary.count, 3)
        XCTAssertEqual(gap.summary.mean!, 31.1667, accuracy: 1e-4)
        XCTAssertEqual(gap.summary.standardDeviation!, 1.2583, accuracy: 1e-4)
        XCTAssertEqual(gap.summary.interval!.lower, 28.0409, accuracy: 1e-4)
        XCTAssertEqual(gap.summary.interval!.upper, 34.2925, accuracy: 1e-4)
        XCTAssertEqual(fc.summary.mean!, 33.8333, accuracy: 1e-4)
        XCTAssertEqual(fcd.summary.count, 2, "the failed seed is not averaged in")
        XCTAssertEqual(fcd.summary.mean!, 31.7, accuracy: 1e-9)
        XCTAssertTrue(gap.isBest && !fc.isBest && !fcd.isBest)
        // fc − gap, paired by seed: differences 3.0, 2.5, 2.5.
        let fcGap = try XCTUnwrap(context.differences.first { $0.a == "gap" && $0.b == "fc" })
        XCTAssertEqual(fcGap.difference.method, .paired)
        XCTAssertEqual(fcGap.difference.estimate, -2.6667, accuracy: 1e-4)
        XCTAssertEqual(fcGap.difference.interval!.lower, -3.3838, accuracy: 1e-4)
        XCTAssertEqual(fcGap.difference.interval!.upper, -1.9496, accuracy: 1e-4)
        XCTAssertEqual(fcGap.exceedsNoise, true)
        // gap − fc-dropout: 2 common seeds, the interval includes 0.
        let gapFcd = try XCTUnwrap(context.differences.first { $0.a == "gap" && $0.b == "fc-dropout" })
        XCTAssertEqual(gapFcd.difference.count, 2)
        XCTAssertEqual(gapFcd.exceedsNoise, false)
        XCTAssertTrue(context.verdict.contains("within the seed noise"), context.verdict)
        XCTAssertTrue(context.verdict.hasPrefix("model.head = gap has the lowest mean test error (31.17 %)"), context.verdict)
        XCTAssertTrue(context.notConverged)
        XCTAssertTrue(context.convergence.hasPrefix("Not converged: 8 of 8"), context.convergence)
        // Failed trial listed with its reason; budget beside the paper.
        XCTAssertEqual(a.unfinished.map(\.reason), [ReportFixture.failureReason])
        let gapTrial = try XCTUnwrap(a.trials.first { $0.record.head == "gap" })
        XCTAssertEqual(gapTrial.imagesSeen, 4 * 50_000)
        let paper = try XCTUnwrap(gapTrial.paper)
        XCTAssertEqual(paper.result.testError, 10.41)
        XCTAssertEqual(paper.result.source, "Table 5")
        XCTAssertEqual(paper.multiplyAddRatio!, 55_625_000 / 222_486_528, accuracy: 1e-9)
        XCTAssertEqual(paper.epochRatio!, 4 / 307.2, accuracy: 1e-9)
        XCTAssertEqual(fcd.paper?.testError, 10.88)
    }

    /// The HTML page in headless Chromium from disk with the network off: the rendered DOM holds the
    /// answer table's numbers, and a screenshot is not blank and shows the figures.
    func testHTMLReportInHeadlessChromium() throws {
        let chromium = "/usr/bin/chromium"
        guard FileManager.default.isExecutableFile(atPath: chromium) else {
            throw XCTSkip("Debian's chromium is not installed (.ci/run installs it): the browser test did not run")
        }
        var command = try NINStudyCommand.parseAsRoot(["report", ReportFixture.study, "--db", db, "--out", folder.appendingPathComponent("reports").path])
        try command.run()
        let page = folder.appendingPathComponent("reports/heads/index.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertFalse(html.contains("<script"), "no JavaScript")
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "no network resource")

        let profile = folder.appendingPathComponent("chromium-profile").path
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                      "--user-data-dir=\(profile)", "--no-first-run", "--hide-scrollbars"]
        let dump = try runProcess(chromium, common + ["--dump-dom", page.absoluteString])
        XCTAssertEqual(dump.status, 0, dump.err)
        let dom = dump.out
        func cell(level: String, column: String) -> String? {
            guard let row = dom.range(of: "data-level=\"\(level)\"") else { return nil }
            let rest = dom[row.upperBound...]
            guard let start = rest.range(of: "<td class=\"\(column)\">"), let end = rest[start.upperBound...].range(of: "</td>") else { return nil }
            return String(rest[start.upperBound..<end.lowerBound])
        }
        XCTAssertEqual(cell(level: "gap", column: "mean"), "31.17")
        XCTAssertEqual(cell(level: "gap", column: "sd"), "1.26")
        XCTAssertEqual(cell(level: "gap", column: "ci"), "28.04 to 34.29")
        XCTAssertEqual(cell(level: "gap", column: "n"), "3")
        XCTAssertEqual(cell(level: "gap", column: "paper"), "10.41 (Table 5)")
        XCTAssertEqual(cell(level: "fc-dropout", column: "n"), "2")
        XCTAssertEqual(cell(level: "fc-dropout", column: "mean"), "31.70")
        XCTAssertEqual(cell(level: "fc", column: "mean"), "33.83")
        XCTAssertTrue(dom.contains("<tr class=\"best\" data-axis=\"model.head\" data-level=\"gap\">"), "best level marked")
        XCTAssertTrue(dom.contains("within the seed noise"))
        XCTAssertTrue(dom.contains("<h1>Study \(ReportFixture.study)</h1>"), "the page names its study")
        XCTAssertTrue(dom.contains(ReportFixture.failureReason))
        XCTAssertTrue(dom.contains("Not a reproduction"))
        XCTAssertTrue(dom.contains("git checkout 1f726b2"), "reproduce command")
        XCTAssertTrue(dom.contains(String(repeating: "c1", count: 32)), "dataset file SHA-256")
        XCTAssertTrue(dom.contains("src=\"test-error-model-head.png\""))

        let shot = folder.appendingPathComponent("page.png")
        let screenshot = try runProcess(chromium, common + ["--window-size=1280,2600", "--screenshot=\(shot.path)", page.absoluteString])
        XCTAssertEqual(screenshot.status, 0, screenshot.err)
        let image = try PNG.read(from: shot)
        XCTAssertEqual(image.width, 1280)
        let inked = image.countPixels { $0 != .white }
        XCTAssertGreaterThan(inked, image.width * image.height / 50, "not blank")
        // The error-bar figure (best level in tab10 blue, #1F77B4) was loaded from disk and painted.
        XCTAssertGreaterThan(image.countPixels { abs(Int($0.r) - 0x1F) < 12 && abs(Int($0.g) - 0x77) < 12 && abs(Int($0.b) - 0xB4) < 12 }, 500)
        if let keep = ProcessInfo.processInfo.environment["NINREPORT_SAMPLE_DIR"] {
            try? FileManager.default.removeItem(atPath: keep + "/page.png")
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep + "/page.png"))
            for f in ["test-error-model-head.png", "learning-curves-model-head.png", "test-error-model-head.pdf"] {
                try? FileManager.default.removeItem(atPath: keep + "/" + f)
                try FileManager.default.copyItem(at: folder.appendingPathComponent("reports/heads/" + f), to: URL(fileURLWithPath: keep + "/" + f))
            }
        }
    }

    /// Every figure is written as PNG and PDF; both decode (pdftoppm renders the PDF) at the
    /// figure's size.
    func testFiguresDecodeAsPNGAndPDF() throws {
        let out = folder.appendingPathComponent("md")
        let report = StudyReport(analysis: try analysis(), databasePath: db, generatorVersion: "test")
        let path = try report.write(format: .markdown, to: out)
        let markdown = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(markdown.contains("| **gap (best)** | **3** | **31.17** | **1.26** | **28.04 to 34.29** | **10.41 (Table 5)** |"), markdown)
        XCTAssertTrue(markdown.contains("![Final test error per level"))
        for stem in ["test-error-model-head", "learning-curves-model-head"] {
            let png = try PNG.read(from: out.appendingPathComponent(stem + ".png"))
            XCTAssertGreaterThan(png.countPixels { $0 != .white }, png.width * png.height / 50, stem)
            let info = try runProcess("/usr/bin/pdfinfo", [out.appendingPathComponent(stem + ".pdf").path])
            guard info.status == 0 else {
                if !FileManager.default.isExecutableFile(atPath: "/usr/bin/pdfinfo") { throw XCTSkip("poppler-utils not installed") }
                return XCTFail(info.err)
            }
            XCTAssertTrue(info.out.contains("Page size:       \(png.width) x \(png.height) pts"), info.out)
            let rendered = folder.appendingPathComponent(stem + "-pdf")
            let r = try runProcess("/usr/bin/pdftoppm", ["-r", "72", "-png", "-singlefile", out.appendingPathComponent(stem + ".pdf").path, rendered.path])
            XCTAssertEqual(r.status, 0, r.err)
            let fromPDF = try PNG.read(from: rendered.appendingPathExtension("png"))
            XCTAssertEqual(fromPDF.width, png.width)
            XCTAssertEqual(fromPDF.height, png.height)
            // The same drawing: most pixels agree between the raster and the rendered PDF.
            var same = 0
            for y in stride(from: 0, to: png.height, by: 3) {
                for x in stride(from: 0, to: png.width, by: 3) where near(png.pixel(x: x, y: y), fromPDF.pixel(x: x, y: y)) { same += 1 }
            }
            XCTAssertGreaterThan(Double(same) / Double(((png.height + 2) / 3) * ((png.width + 2) / 3)), 0.95, stem)
        }
    }

    func testTextFormatAndBadInput() throws {
        let text = try StudyReport(analysis: try analysis(), databasePath: db, generatorVersion: "test")
            .write(format: .text, to: folder.appendingPathComponent("unused"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("unused").path), "text writes no file")
        XCTAssertTrue(text.contains("gap (best)  3"), text)
        XCTAssertTrue(text.contains("31.17"))
        XCTAssertTrue(text.contains(ReportFixture.failureReason))
        XCTAssertThrowsError(try StudyAnalysis.load(store: try ResultsStore.openExisting(path: db), study: "nope", databasePath: db)) {
            XCTAssertEqual($0 as? ReportError, .studyNotFound(name: "nope", database: db, available: ["heads"]))
        }
        XCTAssertThrowsError(try NINStudyCommand.parseAsRoot(["report", "--format", "pdf"]), "unknown format")
        let parsed = try XCTUnwrap(NINStudyCommand.parseAsRoot(["report", "a", "b", "--format", "markdown", "--out", "o"]) as? NINStudyCommand.Report)
        XCTAssertEqual(parsed.studies, ["a", "b"])
        XCTAssertEqual(parsed.format, .markdown)
        var missing = try NINStudyCommand.parseAsRoot(["report", "--db", folder.appendingPathComponent("none.sqlite").path])
        XCTAssertThrowsError(try missing.run())
    }
}

extension ReportTests {
    /// A study none of whose trials finished (one pending, one failed at epoch 1 with no epoch
    /// recorded): the report is written, says there is no answer yet, and lists both trials.
    func testStudyWithoutFinishedTrials() throws {
        let store = try ResultsStore(path: db)
        try store.upsertStudy(name: "nothing-yet", description: "", definitionJSON: "{}", definitionSHA256: String(repeating: "0", count: 64))
        for (i, head) in ["gap", "fc"].enumerated() {
            let id = "9\(i)" + String(repeating: "b", count: 62)
            try store.upsertTrial(TrialRecord(id: id, configJSON: "{not json", sweptJSON: "{}", dataset: "cifar10", head: head, seed: 1),
                                  params: ["model.head": "\"\(head)\"", "seed": "1"], study: "nothing-yet")
            if i == 1 {
                _ = try store.claimTrial(id, owner: ClaimOwner(host: "h", pid: 1, bootId: nil, processStartTicks: nil),
                    environmentId: nil, datasetIdentity: nil, retryFailed: false)
                try store.markFailed(trialId: id, reason: "accuracy at chance after epoch 1")
            }
        }
        let analysis = try StudyAnalysis.load(store: store, study: "nothing-yet", databasePath: db)
        XCTAssertEqual(analysis.axes.first?.contexts.first?.verdict, "No trial finished: there is no answer yet.")
        XCTAssertEqual(analysis.unfinished.map(\.reason), ["not started", "accuracy at chance after epoch 1"])
        XCTAssertTrue(analysis.trials[0].setupProblem?.contains("cannot be read") ?? false)
        let path = try StudyReport(analysis: analysis, databasePath: db, generatorVersion: "test")
            .write(format: .html, to: folder.appendingPathComponent("nothing"))
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(html.contains("accuracy at chance after epoch 1"))
        XCTAssertNoThrow(try PNG.read(from: folder.appendingPathComponent("nothing/learning-curves-model-head.png")))
    }
}

/// Whether two colours differ by at most `tolerance` in every channel.
func near(_ a: RGBA, _ b: RGBA, tolerance: Int = 40) -> Bool {
    abs(Int(a.r) - Int(b.r)) <= tolerance && abs(Int(a.g) - Int(b.g)) <= tolerance && abs(Int(a.b) - Int(b.b)) <= tolerance
}

extension ReportTests {
    /// Sheets recorded for a trial but absent beside the database (a database copied without its
    /// maps folder) are listed as missing with a warning, not linked as broken images; the
    /// sheets that are there are linked.
    func testMissingConfidenceMapSheetsAreNamedNotLinked() throws {
        let store = try ResultsStore(path: db)
        let present = folder.appendingPathComponent("maps/results/heads/present.png")
        try FileManager.default.createDirectory(at: present.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("png".utf8).write(to: present)
        let id = ReportFixture.id("gap", 1)
        try store.addArtifact(trialId: id, kind: .confidenceMap, path: present.path, sha256: String(repeating: "0", count: 64), bytes: 3)
        try store.addArtifact(trialId: id, kind: .confidenceMapTop, path: folder.appendingPathComponent("maps/results/heads/gone-top10.png").path,
                              sha256: String(repeating: "1", count: 64), bytes: 3)
        let path = try StudyReport(analysis: try StudyAnalysis.load(store: store, study: ReportFixture.study, databasePath: db),
                                   databasePath: db, generatorVersion: "test")
            .write(format: .markdown, to: folder.appendingPathComponent("reports/heads"))
        let markdown = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(markdown.contains("](../../maps/results/heads/present.png)"), markdown)
        XCTAssertFalse(markdown.contains("](../../maps/results/heads/gone-top10.png)"), markdown)
        XCTAssertTrue(markdown.contains("1 recorded sheet is missing beside the database"), markdown)
        XCTAssertTrue(markdown.contains("- \(id.prefix(10))"), markdown)
        XCTAssertTrue(markdown.contains("gone-top10.png"), markdown)
        // The reproduction writes a new database: the reported one would skip every finished trial.
        XCTAssertTrue(markdown.contains("git checkout 1f726b2\nswift run -c release nin-study run REPORT_DIR/study.json --db reproduced/results.sqlite --threads 2 --data-dir DATA_DIR"), markdown)
        // One trial is checked against the record with `verify`, named by a finished trial's short id.
        let finished = Set(try store.trials(study: ReportFixture.study).filter { $0.status == .finished }.map(\.shortId))
        let verify = try XCTUnwrap(markdown.range(of: "swift run -c release nin-study verify "), markdown)
        XCTAssertTrue(finished.contains(String(markdown[verify.upperBound...].prefix(10))), markdown)
        XCTAssertTrue(markdown[verify.upperBound...].dropFirst(10).hasPrefix(" --db \(try XCTUnwrap(db)) --data-dir DATA_DIR"), markdown)
    }
}

extension ReportTests {
    /// The paper's numbers sit only beside trials of the paper's setting: its micro-network depth
    /// (2, read from its network) for NIN, depth 0 for §4.6's conventional CNN; not beside the
    /// other depths of a depth sweep.
    func testPaperNumbersMatchOnlyThePapersDepth() {
        XCTAssertEqual(Paper.microNetworkDepth(for: .mnist), 2)
        XCTAssertEqual(Paper.microNetworkDepth(for: .cifar10), 2)
        XCTAssertNil(Paper.microNetworkDepth(for: .fashionMNIST))
        XCTAssertEqual(Paper.result(dataset: .mnist, head: .gap, depth: 2, augmented: false)?.testError, 0.47)
        for depth in [1, 3, nil] as [Int?] {
            XCTAssertNil(Paper.result(dataset: .mnist, head: .gap, depth: depth, augmented: false), "\(String(describing: depth))")
        }
        XCTAssertEqual(Paper.result(dataset: .cifar10, head: .fc, depth: 0, augmented: false)?.testError, 17.56)
        XCTAssertEqual(Paper.result(dataset: .cifar10, head: .fc, depth: 2, augmented: false)?.testError, 11.59)
        XCTAssertEqual(Paper.result(dataset: .cifar10, head: .gap, depth: 2, augmented: true)?.testError, 8.81)
        XCTAssertNil(Paper.result(dataset: .mnist, head: .fc, depth: 2, augmented: false))
    }
}

extension ReportTests {
    /// The report reads a stored configuration with NINStudy's own `TrialConfig`: every trial of
    /// the committed reference databases (copies; opening may migrate) decodes, hashes back to
    /// its trial id (nothing the report reads is lost or renamed), and its view has no problem,
    /// the training images it saw counted from the configuration's subset and epochs.
    func testReferenceDatabasesDecodeWithTheStudysOwnConfiguration() throws {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let reference = checkout.appendingPathComponent("results/reference")
        let studies = try FileManager.default.contentsOfDirectory(atPath: reference.path).sorted()
            .filter { FileManager.default.fileExists(atPath: reference.appendingPathComponent("\($0)/results.sqlite").path) }
        XCTAssertGreaterThanOrEqual(studies.count, 3)
        for study in studies {
            let copy = folder.appendingPathComponent("\(study).sqlite")
            try FileManager.default.copyItem(at: reference.appendingPathComponent("\(study)/results.sqlite"), to: copy)
            let store = try ResultsStore.openExisting(path: copy.path)
            let trials = try store.trials()
            XCTAssertFalse(trials.isEmpty, study)
            for record in trials {
                let config = try JSONDecoder().decode(TrialConfig.self, from: Data(record.configJSON.utf8))
                XCTAssertEqual(config.id, record.id, "\(study): \(record.shortId)")
                let view = StudyAnalysis.makeView(record: record, params: [:], epochs: try store.epochs(trialId: record.id))
                XCTAssertNil(view.setupProblem, "\(study): \(record.shortId)")
                XCTAssertEqual(view.imagesSeen, record.epochsDone * TrialWork(config).trainImagesPerEpoch)
            }
        }
    }
}
