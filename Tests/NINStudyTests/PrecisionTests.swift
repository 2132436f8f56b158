import XCTest
import NINEngine
import NINStore
@testable import NINStudy
@testable import nin_study

/// `training.precision` end to end: the study key, the trial id, a sweep, the record in
/// `trials` and `environments`, `show`, and the refusal where bf16 cannot run.
final class PrecisionTests: XCTestCase {
    static let base = """
    {"name": "p", "dataset": {"name": "mnist", "subset": {"train": 600}},
     "model": {"preset": "nin-mnist", "widthMultiplier": 0.5, "finalReLU": false},
     "training": {"epochs": 1, "learningRate": 0.02
    """

    func study(training extra: String, _ rest: String = "") throws -> StudyDefinition {
        try StudyDefinition(data: Data((Self.base + extra + "}" + rest + "}").utf8), file: "p.json")
    }

    /// An absent key and "fp32" are the same trial, with the id it had before the key existed
    /// (the canonical JSON does not mention precision); "bf16" is another trial that says so.
    func testAbsentKeyIsFP32AndKeepsTheTrialId() throws {
        let absent = try study(training: "").trials[0], fp32 = try study(training: #", "precision": "fp32""#).trials[0]
        let bf16 = try study(training: #", "precision": "bf16""#).trials[0]
        XCTAssertEqual(absent.id, fp32.id)
        XCTAssertFalse(absent.config.canonicalJSON.contains("precision"), absent.config.canonicalJSON)
        XCTAssertNil(absent.config.training.precision)
        XCTAssertEqual(absent.config.training.gemmPrecision, .fp32)
        XCTAssertEqual(bf16.config.training.gemmPrecision, .bf16)
        XCTAssertTrue(bf16.config.canonicalJSON.contains(#""precision":"bf16""#), bf16.config.canonicalJSON)
        XCTAssertNotEqual(bf16.id, absent.id)
        // The stored configuration decodes back to the same trial.
        let decoded = try JSONDecoder().decode(TrialConfig.self, from: Data(bf16.config.canonicalJSON.utf8))
        XCTAssertEqual(decoded, bf16.config)
        XCTAssertEqual(decoded.id, bf16.id)
    }

    /// It can be swept like any other key, and the store record carries it.
    func testPrecisionCanBeSweptAndIsRecorded() throws {
        let s = try study(training: "", #", "sweep": {"training.precision": ["fp32", "bf16"]}, "seeds": [1, 2]"#)
        XCTAssertEqual(s.trials.map(\.label), ["training.precision=fp32 seed=1", "training.precision=fp32 seed=2",
                                               "training.precision=bf16 seed=1", "training.precision=bf16 seed=2"])
        XCTAssertEqual(s.trials.map(\.config.training.gemmPrecision), [.fp32, .fp32, .bf16, .bf16])
        XCTAssertEqual(Set(s.trials.map(\.id)).count, 4)
        XCTAssertEqual(s.trials.map { StudyRunner.record(for: $0, epochs: 1).0.precision }, ["fp32", "fp32", "bf16", "bf16"])
    }

    /// A value that is not a precision is refused at its key path, naming the choices.
    func testUnknownPrecisionNamesTheKeyPath() {
        XCTAssertThrowsError(try study(training: #", "precision": "fp16""#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("training.precision") && text.contains("fp32") && text.contains("bf16") && text.contains("fp16"), text)
        }
        XCTAssertThrowsError(try study(training: "", #", "sweep": {"training.precision": ["fp32", "half"]}"#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(#"sweep["training.precision"][1]"#), text)
        }
    }

    /// The synthetic digits in a new folder and a 1-epoch study sweeping fp32 and bf16 beside
    /// them: the folder, the study file and a database path in it.
    func sweptStudy() throws -> (root: URL, file: URL, db: String) {
        let root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
        let file = root.appendingPathComponent("p.json")
        try SyntheticDigits.study(epochs: 1, extra: #""sweep": {"training.precision": ["fp32", "bf16"]}"#).write(to: file)
        return (root, file, root.appendingPathComponent("r.sqlite").path)
    }

    /// A swept fp32/bf16 study through the CLI: both trials finish, `trials.precision` and
    /// `environments.gemm` record it, `show` prints it, and the bf16 network ran bf16 GEMMs.
    func testRunRecordsAndShowsPrecision() throws {
        try XCTSkipIf(ComputeBackend.bf16Unsupported() != nil, "bf16 cannot run here: \(ComputeBackend.bf16Unsupported() ?? "")")
        let (root, file, db) = try sweptStudy()
        defer { try? FileManager.default.removeItem(at: root) }
        var run = try NINStudyCommand.parseAsRoot(["run", file.path, "--db", db, "--data-dir", root.path, "--threads", "2",
                                                   "--no-fetch", "--no-maps"])
        XCTAssertNoThrow(try run.run())
        let store = try ResultsStore(path: db)
        let trials = try store.trialSummaries(study: "tiny").map { try XCTUnwrap(try store.trial(id: $0.trialId)) }
        XCTAssertEqual(trials.map(\.status), [.finished, .finished])
        XCTAssertEqual(Set(trials.map(\.precision)), ["fp32", "bf16"])
        let environment = try XCTUnwrap(try store.environment(id: XCTUnwrap(trials[0].environmentId)))
        let gemm = try XCTUnwrap(environment.gemm)
        XCTAssertTrue(gemm.contains("fp32") && gemm.contains("bf16 matmul brg:"), gemm)
        XCTAssertTrue(environment.fingerprint.contains("gemm=\(gemm)"), environment.fingerprint)
        let bf16 = try XCTUnwrap(trials.first { $0.precision == "bf16" })
        let show = try XCTUnwrap(NINStudyCommand.parseAsRoot(["show", String(bf16.id.prefix(12)), "--db", db]) as? NINStudyCommand.Show)
        let text = try show.text(store: store)
        XCTAssertTrue(text.contains("precision: bf16 GEMM inputs"), text)
        XCTAssertTrue(text.contains("GEMM kernels: \(gemm)"), text)
        // The two trials differ (bf16 rounding changed the training), and both learned something finite.
        let losses = try trials.map { try XCTUnwrap(store.epochs(trialId: $0.id).first?.trainLoss) }
        XCTAssertNotEqual(losses[0], losses[1])
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
    }

    /// Where oneDNN has no bf16 matmul (`ONEDNN_MAX_CPU_ISA=AVX2`), `run` refuses the bf16 trial
    /// with a message naming the ISA, exit status 2, before training or registering any trial.
    func testBinaryRefusesBF16WhereTheISAHasNoBF16Kernel() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nin-study")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no nin-study binary beside the test bundle")
        #if !os(Linux)
        throw XCTSkip("ONEDNN_MAX_CPU_ISA is oneDNN's (Linux)")
        #endif
        let (root, file, db) = try sweptStudy()
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try runProcess(binary, ["run", file.path, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps"],
                                              environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"], timeout: 120)
        XCTAssertEqual(status, 2, output)
        XCTAssertTrue(output.contains(#"training.precision "bf16" cannot run here"#) && output.contains("avx2"), output)
        XCTAssertTrue(output.contains("training.precision=bf16"), "names the trial: \(output)")
        if FileManager.default.fileExists(atPath: db) {
            XCTAssertEqual((try? ResultsStore(path: db).trialSummaries(study: "tiny"))?.count ?? 0, 0, "nothing registered")
        }
    }
}
