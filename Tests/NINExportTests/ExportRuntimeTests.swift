import Foundation
import XCTest
import NINData
import NINEngine
@testable import NINExport
import NINStore
import NINStudy
@testable import nin_study

/// `nin-study export` checked by runtimes nobody here wrote: a tiny trial of each network kind
/// is trained on real data, exported in both formats, and `scripts/export/check.py` (in the
/// virtual environment of `scripts/export/python-env`) runs `onnx.checker`, ONNX Runtime, the
/// `safetensors` package and a float64 numpy forward pass of the safetensors network with
/// PyTorch's semantics (PyTorch itself where installed) on the first 200 test images, against the
/// engine's logits: within 1e-4 relative (per image, of its largest logit), the same classes.
final class ExportRuntimeTests: XCTestCase {
    static let tolerance = 1e-4
    static let imageCount = 200

    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nin-export-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// mlpconv blocks with max pooling, a GAP head; MNIST 28 → 14 → 7 rounds up (⌈12.5⌉ + 1).
    func testGAPHead() throws {
        try check(dataset: "mnist", preprocessing: "scale", model: #"""
            {"preset": "custom", "head": "gap", "blocks": [
              {"channels": 8, "kernel": 5, "pad": 2, "widths": [8, 6], "pool": {"kind": "max", "size": 3, "stride": 2}},
              {"channels": 8, "kernel": 3, "pad": 1, "widths": [8, 10]}]}
            """#)
    }

    /// An FC head with hidden layers and dropout (absent from the graph) after a 7×7×10 map, so
    /// the first Linear's NHWC → NCHW feature order matters; per-channel mean/std.
    func testFCHeadWithHiddenLayers() throws {
        try check(dataset: "mnist", preprocessing: "meanstd", learningRate: 0.005, model: #"""
            {"preset": "custom", "head": "fc-dropout", "fcHidden": [24, 16], "fcDropout": 0.5, "dropout": 0.25, "finalReLU": false, "blocks": [
              {"channels": 8, "kernel": 5, "pad": 2, "widths": [8], "pool": {"kind": "max", "size": 3, "stride": 2}},
              {"channels": 8, "kernel": 3, "pad": 1, "widths": [10], "pool": {"kind": "max", "size": 3, "stride": 2}}]}
            """#)
    }

    /// A depth-0 network (no 1×1 layers: a conventional CNN) on raw 0–255 pixels (`none`), with
    /// padded average pooling (28 → 15, the last window clipped to the padded map) and a pooling
    /// whose stride exceeds its size (15 → 4, where opset 13's ceil_mode would keep a fifth window).
    func testDepthZero() throws {
        try check(dataset: "mnist", preprocessing: "none", learningRate: 0.0002, model: #"""
            {"preset": "custom", "depth": 0, "blocks": [
              {"channels": 8, "kernel": 5, "pad": 2, "widths": [4], "pool": {"kind": "avg", "size": 3, "stride": 2, "pad": 1}},
              {"channels": 8, "kernel": 3, "pad": 1, "widths": [4], "pool": {"kind": "max", "size": 2, "stride": 4}},
              {"channels": 10, "kernel": 3, "pad": 1, "widths": [10]}]}
            """#)
    }

    /// GCN + ZCA computed in the graph (the fitted 784×784 matrix an initializer).
    func testGCNZCA() throws {
        try check(dataset: "mnist", preprocessing: "gcn-zca", learningRate: 0.01, model: #"""
            {"preset": "custom", "blocks": [
              {"channels": 8, "kernel": 5, "pad": 2, "widths": [8], "pool": {"kind": "max", "size": 3, "stride": 2}},
              {"channels": 8, "kernel": 3, "pad": 1, "widths": [10]}]}
            """#)
    }

    /// Odd map sizes where ceil pooling matters: 28 → 23 (6×6 convolution), average 3/2 pad 1 →
    /// 12 (the last window half padding), 3×3 → 10, max 3/2 → 5 (floor: 4), an FC head on 5×5.
    func testOddSizesWithCeilPooling() throws {
        try check(dataset: "mnist", preprocessing: "scale", model: #"""
            {"preset": "custom", "head": "fc", "blocks": [
              {"channels": 8, "kernel": 6, "widths": [8], "pool": {"kind": "avg", "size": 3, "stride": 2, "pad": 1}},
              {"channels": 8, "kernel": 3, "widths": [10], "pool": {"kind": "max", "size": 3, "stride": 2}}]}
            """#)
    }

    /// Three colour channels (NCHW vs NHWC, per-channel mean/std), a stride-2 convolution.
    func testCIFAR10ColourChannels() throws {
        try check(dataset: "cifar10", preprocessing: "meanstd", model: #"""
            {"preset": "custom", "blocks": [
              {"channels": 8, "kernel": 5, "stride": 2, "pad": 2, "widths": [8], "pool": {"kind": "max", "size": 3, "stride": 2}},
              {"channels": 8, "kernel": 3, "pad": 1, "widths": [8, 10]}]}
            """#)
    }

    /// The quick-start studies' networks (Studies/quickstart-*.json: GAP and FC heads at depth 1
    /// and 2 on MNIST, GAP and FC + dropout on CIFAR-10 with mean/std), each trained for one
    /// epoch on 200 (MNIST) or 100 (CIFAR-10) images, export in both formats and pass the check.
    func testQuickStartTrialsExport() throws {
        for (name, train) in [("quickstart-mnist", 200), ("quickstart-cifar10", 100)] {
            let url = ExportFixture.packageRoot.appendingPathComponent("Studies/\(name).json")
            var study = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            var dataset = try XCTUnwrap(study["dataset"] as? [String: Any])
            dataset["subset"] = ["train": train, "test": Self.imageCount]
            var training = try XCTUnwrap(study["training"] as? [String: Any])
            (training["epochs"], training["batchSize"], training["schedule"], training["failAtChanceAfterEpoch"]) = (1, 20, "constant", 0)
            (study["dataset"], study["training"]) = (dataset, training)
            let (store, db, records) = try runStudy(String(decoding: try JSONSerialization.data(withJSONObject: study), as: UTF8.self))
            XCTAssertEqual(records.count, name == "quickstart-mnist" ? 4 : 2, name)
            for record in records { try verify(record, store: store, db: db) }
            try FileManager.default.removeItem(at: root)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        }
    }

    /// docs/export.md's Python snippets, as written, on an exported MNIST trial named
    /// `trial.onnx` / `trial.safetensors` in the folder they run in. The PyTorch one needs torch
    /// (`NIN_EXPORT_TORCH=1`): without it, it is skipped saying so and the others still run.
    func testDocumentedSnippetsRunAsWritten() throws {
        let snippets = try Self.pythonBlocks(of: ExportFixture.packageRoot.appendingPathComponent("docs/export.md"))
        XCTAssertEqual(snippets.count, 3, "docs/export.md shows the ONNX Runtime, PyTorch and numpy snippets")
        try check(dataset: "mnist", preprocessing: "scale", model: #"""
            {"preset": "custom", "head": "fc", "blocks": [
              {"channels": 8, "kernel": 5, "pad": 2, "widths": [10], "pool": {"kind": "max", "size": 3, "stride": 2}}]}
            """#)
        let python = try ExportFixture.python()
        let hasTorch = ExportFixture.run(python, ["-c", "import torch"]).status == 0
        var ran = 0
        for (index, snippet) in snippets.enumerated() {
            if snippet.contains("import torch"), !hasTorch {
                print("SKIPPED docs/export.md snippet \(index + 1): torch is not installed (NIN_EXPORT_TORCH=1 installs it)")
                continue
            }
            let file = root.appendingPathComponent("snippet\(index + 1).py")
            try Data(snippet.utf8).write(to: file)
            let r = ExportFixture.run(python, [file.path], in: root)
            XCTAssertEqual(r.status, 0, "docs/export.md snippet \(index + 1):\n\(snippet)\n\(r.stderr)")
            XCTAssertFalse(r.stdout.isEmpty, "snippet \(index + 1) prints its result")
            ran += 1
        }
        // The ONNX Runtime snippet names four digit classes.
        let first = ExportFixture.run(python, [root.appendingPathComponent("snippet1.py").path], in: root).stdout
        XCTAssertEqual(first.filter { $0 == "'" }.count, 8, first)
        XCTAssertGreaterThanOrEqual(ran, 2)
    }

    /// The bodies of the ```python fenced blocks of a Markdown file.
    static func pythonBlocks(of url: URL) throws -> [String] {
        var blocks: [String] = [], current: [String]?
        for line in try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```python" {
                current = []
            } else if let body = current, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(body.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    // MARK: - The check

    /// Trains the one-trial study, exports it in both formats through the command line and runs
    /// the check script on the engine's logits of the first `imageCount` test images.
    func check(dataset: String, preprocessing: String, learningRate: Double = 0.05, model: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (store, db, records) = try runStudy(#"""
            {"name": "export-check", "dataset": {"name": "\#(dataset)", "preprocessing": "\#(preprocessing)", "subset": {"train": 1500, "test": 200}},
             "model": \#(model),
             "training": {"epochs": 1, "batchSize": 25, "learningRate": \#(learningRate), "failAtChanceAfterEpoch": 0}, "seeds": [1]}
            """#)
        XCTAssertEqual(records.count, 1, file: file, line: line)
        try verify(records[0], store: store, db: db, file: file, line: line)
    }

    /// Runs a study into a new database in `root`; its trials.
    func runStudy(_ json: String) throws -> (ResultsStore, String, [TrialRecord]) {
        let shared = try ExportFixture.sharedData()
        _ = try ExportFixture.python()
        let study = root.appendingPathComponent("study.json")
        try Data(json.utf8).write(to: study)
        let db = root.appendingPathComponent("results.sqlite").path
        var run = try NINStudyCommand.parseAsRoot(["run", study.path, "--db", db, "--data-dir", shared, "--threads", "2", "--no-fetch", "--no-maps"])
        try run.run()
        let store = try ResultsStore.openExisting(path: db)
        return (store, db, try store.trialSummaries().map { try XCTUnwrap(try store.trial(id: $0.trialId)) })
    }

    /// Exports one trial in both formats (`root/trial.onnx`, `root/trial.safetensors`) and checks
    /// them with check.py against the engine's logits; check.py's measurements.
    @discardableResult
    func verify(_ record: TrialRecord, store: ResultsStore, db: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let shared = try ExportFixture.sharedData()
        let python = try ExportFixture.python()
        XCTAssertEqual(record.status, .finished, file: file, line: line)
        var outputs: [ExportFormat: String] = [:]
        for format in ExportFormat.allCases {
            let out = root.appendingPathComponent("trial.\(format.fileExtension)").path
            var export = try NINStudyCommand.parseAsRoot(["export", String(record.id.prefix(8)), "--format", format.rawValue,
                                                         "--db", db, "--data-dir", shared, "--out", out])
            try export.run()
            outputs[format] = out
        }

        // The engine's logits, as `maps` and the runner compute them.
        let recorded = try RecordedTrial.load(record: record, store: store, databasePath: db)
        let (fitted, _) = try recorded.fittedPreprocessing(store: store, dataDir: shared)
        let test = try DataLocator(environment: [:], systemDirectory: nil).load(recorded.config.dataset.name, dataDir: shared).test
        let (h, w, c) = (test.images.shape[1], test.images.shape[2], test.images.shape[3])
        let n = Self.imageCount
        let pixels = Array(test.images.data[0..<(n * h * w * c)])
        var input = Tensor(shape: [n, h, w, c], data: pixels)
        try fitted.apply(to: &input)
        var generator = SeededGenerator(seed: 0)
        var optimizer = SGD()
        let network = try Network(description: recorded.modelDescription, initializer: .he, maxBatch: n, threads: 2, generator: &generator)
        try network.restore(from: recorded.saved.checkpoint, optimizer: &optimizer, generator: &generator)
        let logits = try input.data.withUnsafeBufferPointer { try network.logits(input: $0, batch: n) }

        // The ONNX model's input: NCHW, pixels / 255.
        var nchw = [Float](repeating: 0, count: pixels.count)
        for i in 0..<n { for y in 0..<h { for x in 0..<w { for ch in 0..<c {
            nchw[((i * c + ch) * h + y) * w + x] = pixels[((i * h + y) * w + x) * c + ch] / 255
        } } } }
        let images = root.appendingPathComponent("images.f32"), logitsFile = root.appendingPathComponent("logits.f32")
        try ExportFixture.writeFloats(nchw, to: images)
        try ExportFixture.writeFloats(logits.data, to: logitsFile)
        let r = ExportFixture.run(python, [ExportFixture.packageRoot.appendingPathComponent("scripts/export/check.py").path,
                                           "--onnx", outputs[.onnx]!, "--safetensors", outputs[.safetensors]!,
                                           "--images", images.path, "--shape", "\(n),\(c),\(h),\(w)", "--logits", logitsFile.path,
                                           "--tolerance", "\(Self.tolerance)"])
        XCTAssertEqual(r.status, 0, "check.py: \(r.stderr)", file: file, line: line)
        print("export check (\(record.dataset), trial \(record.id.prefix(10))): \(r.stdout)")
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], file: file, line: line)
        XCTAssertLessThanOrEqual(try XCTUnwrap(summary["ort_relative_error"] as? Double), Self.tolerance, file: file, line: line)
        XCTAssertLessThanOrEqual(try XCTUnwrap(summary["numpy_relative_error"] as? Double), Self.tolerance, file: file, line: line)
        XCTAssertEqual(summary["images"] as? Int, n, file: file, line: line)
        // Not a constant network: the logits vary between images.
        XCTAssertGreaterThan(try XCTUnwrap(summary["logit_spread"] as? Double), 1e-3, file: file, line: line)
        return summary
    }
}
