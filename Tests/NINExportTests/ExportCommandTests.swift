import Foundation
import XCTest
import NINStore
@testable import nin_study

/// `nin-study export` through the binary: bad input gets one clear message (exit 2; an unknown
/// format is an option error, 64) and leaves no file behind; the default output name; the
/// database is opened read-only.
final class ExportCommandTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nin-export-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("out"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func testBadInputIsRefusedClearlyAndLeavesNothingBehind() throws {
        let shared = try ExportFixture.sharedData()
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no nin-study binary beside the test bundle")
        let study = root.appendingPathComponent("tiny.json")
        try Data(#"""
            {"name": "tiny", "dataset": {"name": "mnist", "subset": {"train": 200, "test": 50}},
             "model": {"preset": "custom", "blocks": [{"channels": 4, "kernel": 5, "pad": 2, "widths": [10], "pool": {"kind": "max", "size": 3, "stride": 2}}]},
             "training": {"epochs": 1, "batchSize": 50, "learningRate": 0.01, "failAtChanceAfterEpoch": 0}}
            """#.utf8).write(to: study)
        let db = root.appendingPathComponent("results.sqlite").path
        var run = try NINStudyCommand.parseAsRoot(["run", study.path, "--db", db, "--data-dir", shared, "--no-fetch", "--no-maps"])
        try run.run()
        let store = try ResultsStore.openExisting(path: db)
        let id = try XCTUnwrap(try store.trialSummaries(study: "tiny").first?.trialId)
        let out = root.appendingPathComponent("out")
        func export(_ extra: [String], format: String = "onnx") -> (status: Int32, stdout: String, stderr: String) {
            ExportFixture.run(binary, ["export", String(id.prefix(8)), "--format", format, "--db", db, "--data-dir", shared] + extra, in: out)
        }

        // An unknown format is an option error.
        var r = export([], format: "tflite")
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("tflite") && r.stderr.contains("onnx") && r.stderr.contains("safetensors"), r.stderr)
        // The output's folder must exist; a folder where the file should go is refused.
        r = export(["--out", root.appendingPathComponent("missing/x.onnx").path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("the folder \(root.appendingPathComponent("missing").path) does not exist"), r.stderr)
        try FileManager.default.createDirectory(at: out.appendingPathComponent("x.onnx"), withIntermediateDirectories: false)
        r = export(["--out", out.appendingPathComponent("x.onnx").path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("x.onnx: a folder or other non-regular file is in the way"), r.stderr)

        // The default: the trial id's first 10 digits, in the current folder; written again, replaced.
        // The database is only read (its bytes stay as they were).
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for format in ["onnx", "safetensors", "onnx"] {
            r = export([], format: format)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "\(id.prefix(10)).\(format)\n")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out.path)),
                       ["x.onnx", "\(id.prefix(10)).onnx", "\(id.prefix(10)).safetensors"], "no temporary file is left")
        let onnx = try Data(contentsOf: out.appendingPathComponent("\(id.prefix(10)).onnx"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: db)), before, "export opens the database read-only")

        // A trial that did not finish: which state it is in, and how to get a trained one.
        try store.dbWriter.write { try $0.execute(sql: "UPDATE trials SET status = 'interrupted' WHERE id = ?", arguments: [id]) }
        r = export(["--out", out.appendingPathComponent("\(id.prefix(10)).onnx").path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("trial \(id.prefix(10)) is interrupted, not finished: its checkpoint (epoch 1 of 1) is not the trained network"), r.stderr)
        XCTAssertTrue(r.stderr.contains("nin-study run STUDY --db YOUR.sqlite"), r.stderr)
        // A finished trial whose checkpoint is gone.
        try store.dbWriter.write { try $0.execute(sql: "UPDATE trials SET status = 'finished' WHERE id = ?", arguments: [id]) }
        let checkpoint = root.appendingPathComponent("checkpoints/results/\(id).ckpt")
        try FileManager.default.removeItem(at: checkpoint)
        r = export(["--out", out.appendingPathComponent("new.safetensors").path], format: "safetensors")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("is finished but has no checkpoint at \(checkpoint.path)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("run its study again into your own database"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        // The refused exports left the earlier file as it was and wrote nothing else.
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("\(id.prefix(10)).onnx")), onnx)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out.path)),
                       ["x.onnx", "\(id.prefix(10)).onnx", "\(id.prefix(10)).safetensors"])
    }
}
