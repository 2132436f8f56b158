import XCTest
@testable import NINStudy

/// Study files a new user or a hostile tester writes (issue 13, items 7, 8, 10, 11, 12): each
/// ends in a study or in problems that name the key path the file must change.
final class StudyFileFaultTests: XCTestCase {
    static let base = #""name": "t", "dataset": {"name": "mnist"}, "training": {"epochs": 1, "learningRate": 0.02"#

    /// A study file: `dataset`, `model` and `training` objects given whole, plus more top-level keys.
    func json(dataset: String = #"{"name": "mnist"}"#, model: String = "{}", training: String = #""epochs": 1, "learningRate": 0.02"#,
              _ more: String = "") -> String {
        #"{"name": "t", "dataset": \#(dataset), "model": \#(model), "training": {\#(training)}\#(more.isEmpty ? "" : ", " + more)}"#
    }

    func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try StudyDefinition(data: Data(text.utf8), file: "bad.json")
            XCTFail("expected problems for \(text)", file: file, line: line)
        } catch let e as StudyError {
            XCTAssertTrue(e.description.hasPrefix("bad.json"), e.description, file: file, line: line)
            return e.problems.isEmpty ? [e.description] : e.problems
        } catch {
            XCTFail("not a StudyError: \(error)", file: file, line: line)
        }
        return []
    }

    /// Item 10: a key given twice is an error at its key path (first or last would be a guess);
    /// a sweep value given twice is a warning, and its trials run once.
    func testDuplicateKeysAndRepeatedSweepValues() throws {
        XCTAssertEqual(problems(json(training: #""epochs": 1, "learningRate": 0.02, "epochs": 3"#)),
                       ["training.epochs: the key is given more than once in the same object (JSON readers disagree on which one counts: keep one)"])
        XCTAssertEqual(problems(json(#""sweep": {"model.depth": [1], "model.depth": [2]}"#)).first?.hasPrefix(#"sweep["model.depth"]: the key is given more than once"#), true)
        let s = try StudyDefinition(data: Data(json(#""sweep": {"training.learningRate": [0.1, 1e-1, 0.01]}, "seeds": [1, 1]"#).utf8), file: "t.json")
        XCTAssertEqual(s.trials.count, 2)
        XCTAssertEqual(s.warnings, [#"sweep["training.learningRate"][1]: the same value as [0] (0.1); its trials run once"#,
                                    "seeds[1]: the same value as [0] (1); its trials run once"])
    }

    /// Item 11: a problem a sweep value causes is reported at that value, not at a key absent
    /// from the file; one an extra trial causes, at that extra trial.
    func testSweepCausedProblemsAreReportedAtTheSweep() {
        let step = #"training.schedule.stepEpochs: required for a "step" schedule"#
        XCTAssertEqual(problems(json(#""sweep": {"training.schedule.kind": ["constant", "step"]}, "seeds": [1, 2]"#)),
                       [#"sweep["training.schedule.kind"][1]: "# + step])
        XCTAssertEqual(problems(json(#""sweep": {"training.schedule.kind": ["step"], "model.depth": [1, 2]}"#)),
                       [#"sweep["training.schedule.kind"][0]: "# + step])
        XCTAssertEqual(problems(json(#""extraTrials": [{"model.depth": 1}, {"training.schedule.kind": "step"}]"#)),
                       ["extraTrials[1]: " + step])
        // A problem of the base keys stays at its key.
        XCTAssertEqual(problems(json(training: #""epochs": 1, "learningRate": 0.02, "schedule": {"kind": "step"}"#, #""sweep": {"model.depth": [1, 2]}"#)),
                       [step])
    }

    /// Item 11: a kernel larger than block 0's input is reported at block 0 (not as a later
    /// block's pooling that no longer fits); an empty key prints a readable path.
    func testShapeAndKeyProblemsAtTheirPlace() {
        let blocks = #"{"preset": "custom", "blocks": [{"channels": 16, "kernel": 29, "pad": 2, "pool": {"kind": "max", "size": 3, "stride": 2}}, {"channels": 10, "kernel": 3, "pad": 1, "pool": {"kind": "max", "size": 3, "stride": 2}}]}"#
        XCTAssertEqual(problems(json(model: blocks)), ["model.blocks[0].kernel: the 29×29 convolution is larger than its 28×28 input map"])
        // A "same" convolution over a map smaller than its kernel is fine.
        let same = #"{"preset": "custom", "blocks": [{"channels": 8, "kernel": 5, "stride": 14, "widths": [8]}, {"channels": 8, "kernel": 3, "pad": 1, "widths": [10]}]}"#
        XCTAssertNoThrow(try StudyDefinition(data: Data(json(model: same).utf8), file: "same.json"))
        let empty = problems(json(#""": 1"#))
        XCTAssertEqual(empty.count, 1)
        XCTAssertTrue(empty[0].hasPrefix(#"[""]: unknown key (known keys here: "#), empty[0])
        XCTAssertTrue(problems(json(model: #"{"": {"x": 1}}"#))[0].hasPrefix(#"model[""]: unknown key"#))
        XCTAssertEqual(problems(json(#""sweep": {"": [1], "a\"b": [2]}"#)).map { String($0.prefix { $0 != ":" }) }, [#"sweep[""]"#, #"sweep["a\"b"]"#])
    }

    /// Item 11: every JSON syntax error gives a line and a column.
    func testSyntaxErrorsGiveLineAndColumn() {
        let cases: [(String, String)] = [
            ("{\"name\": \"t\",\n  \"dataset\": {", "line 2, column 15: unexpected end of file: the object opened at line 2, column 14 is not closed"),
            ("{\"a\": NaN}", "line 1, column 7: NaN is not a JSON number"),
            ("{\"a\": -Infinity}", "line 1, column 8: Infinity is not a JSON number"),
            ("{\"a\": [1, 2,]}", "line 1, column 13: a comma before ']'"),
            ("{\"a\": 1,}", "line 1, column 9: a comma before '}'"),
            ("{\"a\": 1e400}", "line 1, column 7: the number 1e400 is beyond the range"),
            ("{\"a\": 01}", "line 1, column 7: a number with a leading zero"),
            ("{\"a\": 'x'}", "line 1, column 7: strings are written in double quotes"),
            ("{\"a\": \"x\n\"}", "line 1, column 9: a control character"),
            ("{\"a\": \"\\ud800\"}", "line 1, column 8: a \\u escape of a lone UTF-16 surrogate"),
            ("{\"a\": 1} x", "line 1, column 10: unexpected text after the end"),
            ("{\"a\" 1}", "line 1, column 6: expected ':'"),
            ("{\"é\": tru}", "line 1, column 7: expected true, found tru"),
            (String(repeating: "[", count: 100_000), "line 1, column 257: objects and arrays nested more than 256 deep"),
        ]
        for (text, expected) in cases {
            let found = problems(text)
            XCTAssertTrue(found.count == 1 && found[0].contains("bad.json is not valid JSON: " + expected),
                          "expected …\(expected)…, found \(found)")
        }
    }

    /// Item 12: values a 32-bit float cannot hold are refused with their key, not trained as
    /// infinity (and every trial told to lower the learning rate).
    func testValuesBeyondFloat32AreRefused() {
        let found = problems(json(training: #""epochs": 1, "learningRate": 1e300, "weightDecay": 1e300, "initializer": {"kind": "gaussian", "std": 1e300}"#))
        XCTAssertEqual(found.map { String($0.prefix { $0 != ":" }) }, ["training.initializer.std", "training.learningRate", "training.weightDecay"])
        XCTAssertTrue(found[1].contains("that a 32-bit float holds"), found[1])
        XCTAssertTrue(problems(json(training: #""epochs": 1, "learningRate": 1e-300"#))[0].hasPrefix("training.learningRate: "))
    }

    /// Item 12: a sweep of a million trials is refused at once, before it is expanded.
    func testAHugeSweepIsRefusedPromptly() {
        let values = "[" + (1...100).map(String.init).joined(separator: ",") + "]"
        let start = Date()
        let found = problems(json(#""sweep": {"training.epochs": \#(values), "training.batchSize": \#(values), "seed": \#(values)}"#))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].hasPrefix("sweep: expands to 1000000 trials (100 seeds × 100 values of training.batchSize × 100 values of training.epochs); a study holds at most 10000"), found[0])
    }

    /// Item 8: schema-valid but absurd sizes are refused before anything is allocated or counted
    /// in integers, naming the key, with the memory they would need.
    func testAbsurdSizesAreRefusedWithTheirKey() {
        let channels = problems(json(model: #"{"preset": "custom", "blocks": [{"channels": 1000000000000, "kernel": 5, "widths": [10]}]}"#))
        XCTAssertEqual(channels.count, 1)
        XCTAssertTrue(channels[0].hasPrefix("model.blocks[0]: the network needs about ") && channels[0].contains("this machine has"), channels[0])
        let pad = problems(json(model: #"{"preset": "custom", "blocks": [{"channels": 8, "kernel": 5, "pad": 1000000000000000, "widths": [10]}]}"#))
        XCTAssertEqual(pad.count, 1)
        XCTAssertTrue(pad[0].hasPrefix("model.blocks[0]: the network needs "), pad[0])
        let batch = problems(json(dataset: #"{"name": "cifar10"}"#, training: #""epochs": 1, "learningRate": 0.02, "batchSize": 65536"#))
        XCTAssertEqual(batch.count, 1)
        XCTAssertTrue(batch[0].hasPrefix("training.batchSize: 65536 images per mini-batch need about "), batch[0])
        XCTAssertTrue(batch[0].contains("enough for about"), batch[0])
    }

    /// Item 12: a wide network gets a prompt dry-run estimate (from its multiply-adds), not
    /// minutes of measuring.
    func testAWideNetworkGetsAPromptEstimate() throws {
        let s = try StudyDefinition(data: Data(json(model: #"{"widthMultiplier": 16}"#).utf8), file: "w.json")
        let start = Date()
        let table = DryRun.table(trials: s.trials, threads: 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, table)
        XCTAssertTrue(table.contains("too large to measure promptly"), table)
    }

    /// Item 7: gcnScale and zcaFilterBias swept (or set by an extra trial) over a base with the
    /// "gcn-zca" shorthand keep the kind, and the dry run lists them.
    func testGCNZCAParametersSweptBelowTheShorthand() throws {
        let s = try StudyDefinition(data: Data(json(dataset: #"{"name": "cifar10", "preprocessing": "gcn-zca"}"#, model: #"{"widthMultiplier": 0.25}"#,
                                                    #""sweep": {"dataset.preprocessing.gcnScale": [55, 10]}, "extraTrials": [{"dataset.preprocessing.zcaFilterBias": 0.01}]"#).utf8),
                                    file: "z.json")
        XCTAssertEqual(s.trials.map(\.config.dataset.preprocessing), [.gcnZCA, .gcnZCA, .gcnZCA])
        XCTAssertEqual(s.trials.map(\.config.dataset.gcnScale), [55, 10, 55])
        XCTAssertEqual(s.trials.map(\.config.dataset.zcaFilterBias), [0.1, 0.1, 0.01])
        for t in s.trials { XCTAssertNotNil(StudyRunner.record(for: t, epochs: 1).0.parameterCount) }
    }
}
