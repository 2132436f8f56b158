import XCTest
import NINEngine
@testable import NINStudy
import NINEngine

/// Study parsing, validation messages (with key paths), sweep expansion and canonical trial ids.
final class StudyDefinitionTests: XCTestCase {
    static let base = """
    {"name": "t", "dataset": {"name": "mnist", "subset": {"train": 600}},
     "model": {"preset": "nin-mnist", "widthMultiplier": 0.5, "finalReLU": false},
     "training": {"epochs": 1, "learningRate": 0.02}
    """

    func study(_ extra: String) throws -> StudyDefinition {
        try StudyDefinition(data: Data((Self.base + (extra.isEmpty ? "" : ", " + extra) + "}").utf8), file: "t.json")
    }

    func problems(_ json: String) -> [String] {
        do {
            _ = try StudyDefinition(data: Data(json.utf8), file: "bad.json")
            XCTFail("expected a validation error for \(json)")
            return []
        } catch let e as StudyError {
            return e.problems.isEmpty ? [e.description] : e.problems
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    func testGridExpansionIsProductTimesSeeds() throws {
        let s = try study(#""sweep": {"model.depth": [1, 2], "model.head": ["gap", "fc", "fc-dropout"]}, "seeds": [1, 2]"#)
        XCTAssertEqual(s.trials.count, 12)
        XCTAssertEqual(s.axes, ["model.depth", "model.head", "seed"])
        XCTAssertEqual(Set(s.trials.map(\.id)).count, 12)
        // Last axis fastest.
        XCTAssertEqual(s.trials[0].label, "model.depth=1 model.head=gap seed=1")
        XCTAssertEqual(s.trials[1].label, "model.depth=1 model.head=gap seed=2")
        let fcDrop = s.trials.first { $0.config.model.head == .fcDropout }!
        XCTAssertEqual(fcDrop.config.model.fcDropout, 0.5)
    }

    func testExtraTrialsAndSeedAxis() throws {
        let s = try study(#""sweep": {"seed": [7, 8]}, "extraTrials": [{"model.depth": 0}, {"model.depth": 3, "seed": 9}]"#)
        XCTAssertEqual(s.trials.map(\.config.seed), [7, 8, 1, 9])
        XCTAssertEqual(s.trials[2].config.model.uniformDepth, 0)
        XCTAssertEqual(s.trials[3].config.model.uniformDepth, 3)
    }

    func testDepthShorthandAndWidthMultiplier() throws {
        let s = try study(#""sweep": {"model.depth": [0, 1, 3]}"#)
        let byDepth = Dictionary(uniqueKeysWithValues: s.trials.map { ($0.config.model.uniformDepth!, $0.config.model) })
        // nin-mnist widths [64,48]/[96,48]/[96,10] halved, class layer stays 10.
        XCTAssertEqual(byDepth[3]!.blocks.map(\.widths), [[32, 24, 24], [48, 24, 24], [48, 48, 10]])
        XCTAssertEqual(byDepth[1]!.blocks.map(\.widths), [[32], [48], [10]])
        XCTAssertEqual(byDepth[0]!.blocks.map(\.widths), [[], [], []])
        XCTAssertEqual(byDepth[0]!.blocks.last!.channels, 10, "depth 0: the k×k conv of the last block emits the class maps")
        XCTAssertEqual(byDepth[1]!.widthsText, "32/48/10")
        // The multiplier set in the base (not swept) is still recorded with every trial.
        XCTAssertEqual(s.trials.map(\.widthMultiplier), [0.5, 0.5, 0.5])
        let (record, params) = StudyRunner.record(for: s.trials[2], epochs: 1)
        XCTAssertEqual(record.widthMultiplier, 0.5)
        XCTAssertEqual(record.depth, 3)
        XCTAssertEqual(record.widths, "32-24-24/48-24-24/48-48-10")
        XCTAssertEqual(params, ["model.depth": "3", "seed": "1"])
    }

    /// `trials.dropout` records the dropout between mlpconv blocks, never the FC head's own rate.
    func testRecordedDropoutIsTheOneBetweenBlocks() throws {
        let s = try study(#""sweep": {"model.head": ["fc-dropout", "gap"], "model.dropout": [0, 0.5]}"#)
        let recorded = s.trials.map { ($0.config.model.head.rawValue, StudyRunner.record(for: $0, epochs: 1).0.dropout) }
        XCTAssertEqual(recorded.map(\.0), ["fc-dropout", "gap", "fc-dropout", "gap"])
        XCTAssertEqual(recorded.map(\.1), [0, 0, 0.5, 0.5])
        XCTAssertEqual(s.trials[0].config.model.fcDropout, 0.5, "the head's rate stays in the configuration")
    }

    /// Without explicit multipliers a trial trains with the zoo's (NIN.md): the last layer's
    /// weights lr 0.1 with decay 1, its bias lr 0.1 with no decay; `lastLayer` keeps the earlier
    /// scaled recipe reachable, with the canonical JSON it always had (ids of studies that give it
    /// do not change); `last` sets the last layer's own multipliers; both at once is refused.
    func testMultipliersDefaultToTheZooRecipeExactly() throws {
        func groups(_ s: StudyDefinition) throws -> [String: [Float]] {
            let t = s.trials[0].config
            var g = SeededGenerator(seed: 1)
            let net = try Network(description: t.model.engineDescription(dataset: t.dataset), initializer: .he,
                                  multipliers: t.training.engineMultipliers, maxBatch: 1, threads: 1, generator: &g)
            return Dictionary(uniqueKeysWithValues: net.groups.map { ($0.name, [$0.learningRateMultiplier, $0.decayMultiplier]) })
        }
        let zoo = try groups(try study(""))
        XCTAssertEqual(zoo["block3.cccp2.weight"], [0.1, 1])
        XCTAssertEqual(zoo["block3.cccp2.bias"], [0.1, 0])
        XCTAssertEqual(zoo["block1.conv.bias"], [2, 0])
        let scaledStudy = try StudyDefinition(data: Data((Self.base.replacingOccurrences(of: #""learningRate": 0.02"#,
            with: #""learningRate": 0.02, "multipliers": {"lastLayer": 0.1}"#) + "}").utf8), file: "t.json")
        XCTAssertFalse(scaledStudy.trials[0].config.canonicalJSON.contains(#""last":"#))
        XCTAssertTrue(scaledStudy.trials[0].config.canonicalJSON.contains(#""lastLayer":0.1"#))
        let scaled = try groups(scaledStudy)
        XCTAssertEqual(scaled["block3.cccp2.weight"], [Float(1) * 0.1, Float(1) * 0.1])
        XCTAssertEqual(scaled["block3.cccp2.bias"], [Float(2) * 0.1, 0])
        let own = try groups(try StudyDefinition(data: Data((Self.base.replacingOccurrences(of: #""learningRate": 0.02"#,
            with: #""learningRate": 0.02, "multipliers": {"last": {"weight": 0.5, "biasDecay": 1}}"#) + "}").utf8), file: "t.json"))
        XCTAssertEqual(own["block3.cccp2.weight"], [0.5, 1])
        XCTAssertEqual(own["block3.cccp2.bias"], [0.1, 1])
        let both = problems(Self.base.replacingOccurrences(of: #""learningRate": 0.02"#,
            with: #""learningRate": 0.02, "multipliers": {"lastLayer": 1, "last": {"weight": 1}}"#) + "}")
        XCTAssertTrue(both.contains { $0.contains("training.multipliers.lastLayer") && $0.contains("not both") }, "\(both)")
    }

    /// The quick-start studies' trial ids are the ones the reference results name: CIFAR-10's kept
    /// across the multiplier change (it names the earlier recipe with `lastLayer`), MNIST's those of
    /// the 3-epoch recipe of issue 19 (block 1 thinned, lr 0.03).
    func testQuickstartTrialIdsAreTheReferenceOnes() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Studies")
        let mnist = try StudyDefinition.load(path: studies.appendingPathComponent("quickstart-mnist.json").path)
        XCTAssertEqual(Set(mnist.trials.map { String($0.id.prefix(10)) }), ["7732e992f6", "b4dcb23b0b", "1a1fd74071", "4ddd528948"])
        let cifar = try StudyDefinition.load(path: studies.appendingPathComponent("quickstart-cifar10.json").path)
        XCTAssertEqual(Set(cifar.trials.map { String($0.id.prefix(10)) }), ["a62cb8d09a", "52e10d4c5a"])
    }

    /// Pooling with a stride larger than its window: the study's shape walk and the engine use
    /// the same output size (no window starting past the input), so the trial builds and a
    /// forward pass gives finite logits.
    func testPoolingStrideLargerThanSizeBuildsAndRunsFinite() throws {
        let s = try StudyDefinition(data: Data(#"""
            {"name": "p", "dataset": {"name": "mnist"}, "model": {"preset": "custom", "blocks": [
              {"channels": 4, "kernel": 3, "widths": [4], "pool": {"kind": "max", "size": 3, "stride": 4}},
              {"channels": 4, "kernel": 1, "widths": [10], "pool": {"kind": "avg", "size": 1, "stride": 5}}]},
             "training": {"epochs": 1, "learningRate": 0.02}}
            """#.utf8), file: "p.json")
        let t = s.trials[0].config
        let description = t.model.engineDescription(dataset: t.dataset)
        let shapes = try description.layerShapes()
        // 28 → conv 3×3: 26 → max 3/4: ⌈23/4⌉+1 = 7, last start 24 < 26 → 7; avg 1/5 on 7: ⌈6/5⌉+1 = 3, start 10 ≥ 7 → 2.
        XCTAssertEqual(shapes.first { $0.name == "block1.pool" }?.output.height, 7)
        XCTAssertEqual(shapes.first { $0.name == "block2.pool" }?.output.height, 2)
        var g = SeededGenerator(seed: 3)
        let net = try Network(description: description, initializer: .he, maxBatch: 2, threads: 1, generator: &g)
        let x = (0..<(2 * 28 * 28)).map { Float($0 % 255) / 255 }
        let logits = try x.withUnsafeBufferPointer { try net.logits(input: $0, batch: 2) }
        XCTAssertTrue(logits.data.allSatisfy(\.isFinite))
    }

    func testPresetIsThePaperNetwork() throws {
        let s = try StudyDefinition(data: Data(#"{"name":"c","dataset":{"name":"cifar10"},"model":{},"training":{"epochs":1,"learningRate":0.1}}"#.utf8), file: "c")
        let m = s.trials[0].config.model
        XCTAssertEqual(m.blocks.map(\.widths), [[160, 96], [192, 192], [192, 10]])
        XCTAssertEqual(m.blocks.map(\.channels), [192, 192, 192])
        XCTAssertEqual(m.blocks.map(\.kernel), [5, 5, 3])
        XCTAssertEqual(m.blocks.map { $0.pool?.kind }, [.max, .avg, nil])
        XCTAssertEqual(m.head, .gap)
        XCTAssertTrue(m.finalReLU)
    }

    func testCanonicalJSONAndIdAreStable() throws {
        let a = try study("").trials[0]
        // Same configuration written differently (key order, whitespace, explicit defaults) → same id.
        let b = try StudyDefinition(data: Data(#"""
        {"training": {"learningRate": 0.02, "epochs": 1, "batchSize": 128, "momentum": 0.9},
         "model": {"finalReLU": false, "widthMultiplier": 0.5, "preset": "nin-mnist", "head": "gap"},
         "dataset": {"subset": {"train": 600}, "name": "mnist", "preprocessing": "scale"}, "name": "other", "seeds": [1]}
        """#.utf8), file: "b").trials[0]
        XCTAssertEqual(a.id, b.id)
        XCTAssertEqual(a.config.canonicalJSON, b.config.canonicalJSON)
        XCTAssertFalse(a.config.canonicalJSON.contains(" "))
        XCTAssertEqual(a.id.count, 64)
        // Keys are sorted at every level (every object of the text, not only the first).
        let objects = try Self.objectKeys(a.config.canonicalJSON)
        XCTAssertGreaterThanOrEqual(objects.count, 8, "dataset, model, its blocks, training and their parts")
        for keys in objects { XCTAssertEqual(keys, keys.sorted(), a.config.canonicalJSON) }
        XCTAssertTrue(a.config.canonicalJSON.hasPrefix(#"{"dataset":{"channels":1,"classes":10,"height":28,"horizontalFlip":false,"name":"mnist""#), a.config.canonicalJSON)
        // Any change of configuration changes the id.
        let c = try study(#""seeds": [2]"#).trials[0]
        XCTAssertNotEqual(a.id, c.id)
        // Pinned: the id of this configuration must not drift between versions (changing it
        // orphans every stored result; bump TrialConfig.formatVersion deliberately instead).
        XCTAssertEqual(a.id, "ad3ba277986cd44e4a7c96c7f0405d0470292b35fcdebffb5f9ac97f647a3054")
        XCTAssertEqual(a.config.canonicalJSON.count, a.config.canonicalJSON.utf8.count, "canonical JSON is ASCII")
    }

    /// The keys of every JSON object in `text`, in the order written (a small scanner: strings,
    /// escapes, nesting; the text is known to be valid JSON).
    static func objectKeys(_ text: String) throws -> [[String]] {
        var finished: [[String]] = [], open: [[String]?] = []  // nil: an array
        var chars = Array(text.unicodeScalars)[...]
        var expectingKey = false
        while let c = chars.popFirst() {
            switch c {
            case "{": open.append([]); expectingKey = true
            case "[": open.append(nil); expectingKey = false
            case "}": finished.append(try XCTUnwrap(open.popLast() ?? nil, "unbalanced } in \(text)")); expectingKey = false
            case "]": _ = open.popLast(); expectingKey = false
            case ",": expectingKey = open.last.map { $0 != nil } ?? false
            case "\"":
                var string = ""
                while let d = chars.popFirst(), d != "\"" {
                    if d == "\\", let e = chars.popFirst() { string.unicodeScalars.append(e) } else { string.unicodeScalars.append(d) }
                }
                if expectingKey { open[open.count - 1]!.append(string) }  // set only inside an object
                expectingKey = false
            default: break
            }
        }
        return finished
    }

    func testTheKeyOrderScannerSeesNestedObjects() throws {
        XCTAssertEqual(try Self.objectKeys(#"{"b":{"d":[{"f":1,"e":"x,\"y"}],"c":2},"a":[1,{"g":3}]}"#),
                       [["f", "e"], ["d", "c"], ["g"], ["b", "a"]])
    }

    /// Every validation path, each asserting the key path its message names.
    func testValidationErrorsNameKeyPaths() {
        let cases: [(String, String)] = [
            (Self.base + #", "sweep": {"model.depth": [1, 2, "two"]}}"#, #"sweep["model.depth"][2]: expected an integer in 0…16, found "two""#),
            (Self.base + #", "sweep": {"model.dept": [1]}}"#, #"sweep["model.dept"]: unknown key path"#),
            (Self.base + #", "sweep": {"model.depth": []}}"#, #"sweep["model.depth"]: expected a non-empty array"#),
            (Self.base + #", "sweep": {"model.head": ["gap", "mlp"]}}"#, #"sweep["model.head"][1]: expected one of "gap", "fc", "fc-dropout", found "mlp""#),
            (Self.base + #", "sweep": {"model.widthMultiplier": [0]}}"#, #"sweep["model.widthMultiplier"][0]: expected a number > 0"#),
            (Self.base + #", "extraTrials": [{"model.depth": -1}]}"#, #"extraTrials[0]["model.depth"]: expected an integer in 0…16, found -1"#),
            (Self.base + #", "colour": "red"}"#, "colour: unknown key"),
            (#"{"name": "..", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": 0.1}}"#, #"name: expected a name with a letter, digit, '-' or '_' (".." would name the folder itself or its parent), found "..""#),
            (Self.base + #", "seeds": [1.5]}"#, "seeds[0]: expected an integer in 0…4294967295, found 1.5"),
            (#"{"name": "t", "dataset": {"name": "svhn"}, "model": {}, "training": {"epochs": 1, "learningRate": 0.1}}"#, #"dataset.name: expected one of "mnist", "fashion-mnist", "cifar10", found "svhn""#),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1}}"#, "training.learningRate: required key is missing"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": -1}}"#, "training.learningRate: expected a number > 0, found -1"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"learningRate": 1}}"#, "training: give exactly one of epochs or iterations"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": 1, "momentum": 1}}"#, "training.momentum: expected a number ≥ 0 and < 1, found 1"),
            (#"{"name": "t", "dataset": {"name": "mnist", "augmentation": {"horizontalFlip": true}}, "model": {}, "training": {"epochs": 1, "learningRate": 1}}"#, "dataset.augmentation.horizontalFlip: horizontal flip changes the meaning of mnist"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"depth": 2, "widths": [[1],[2],[3]]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.widths: conflicts with model.depth"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"widths": [[1],[2]]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.widths: expected one list of 1×1 widths per block (3), found 2"),
            (#"{"name": "t", "dataset": {"name": "mnist", "validation": 60000}, "model": {}, "training": {"epochs": 1, "learningRate": 1}}"#, "dataset.validation: holding out 60000 leaves no training images"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"preset": "custom"}, "training": {"epochs": 1, "learningRate": 1}}"#, #"model.blocks: required when model.preset is "custom""#),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"blocks": [{"channels": 8, "kernel": 5, "stride": 4}, {"channels": 8, "kernel": 9}]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.blocks[1].kernel: the 9×9 convolution is larger than its 6×6 input map"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"blocks": [{"channels": 0, "kernel": 5}]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.blocks[0].channels: expected an integer ≥ 1, found 0"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": 1, "schedule": {"kind": "step"}}}"#, "training.schedule.stepEpochs: required for a \"step\" schedule"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": 1, "initializer": {"kind": "gaussian"}}}"#, "training.initializer.std: required"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 1, "learningRate": 1}, "sweep": {"seed": [1]}, "seeds": [2]}"#, "seeds: give either seeds or a sweep"),
            (#"[1, 2]"#, "(top level): expected an object"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "training": {"epochs": 2, "learningRate": 1, "schedule": {"kind": "multistep", "milestones": [1, 5]}}}"#, "training.schedule.milestones: milestone epoch 5 is after the last epoch (2)"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"widths": [[8], [8], [8, 7]]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.widths[2][1]: the final layer emits one map per class, so it must be 10 wide for mnist, found 7"),
            (#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"blocks": [{"channels": 8, "kernel": 3}]}, "training": {"epochs": 1, "learningRate": 1}}"#, "model.blocks[0].channels: the final layer emits one map per class, so it must be 10 wide"),
            (#"{"name": "t", "#, "is not valid JSON"),
            ("{\n  \"name\": \"t\",\n  \"dataset\": {\"name\": \"mnist\",, }\n}", "is not valid JSON: line 3, column "),
            ("  \n", "is not valid JSON: the file is empty"),
        ]
        for (json, expected) in cases {
            let found = problems(json)
            XCTAssertTrue(found.contains { $0.contains(expected) }, "expected a problem containing\n  \(expected)\nfound\n  \(found.joined(separator: "\n  "))")
        }
    }

    func testAllProblemsReportedAtOnce() {
        let found = problems(#"{"name": "bad name!", "dataset": {"name": "svhn"}, "model": {"depth": -1}, "training": {"epochs": 0, "learningRate": 0}, "sweep": {"model.head": ["x"]}}"#)
        XCTAssertEqual(found.count, 6, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("name: expected letters, digits") }, "\(found)")
    }

    /// Without `model`, a study trains the dataset's preset network (docs/study-format.md).
    func testModelDefaultsToTheDatasetPreset() throws {
        let s = try StudyDefinition(data: Data(#"{"name": "t", "dataset": {"name": "mnist"}, "training": {"epochs": 1, "learningRate": 0.1}}"#.utf8), file: "t.json")
        let withPreset = try StudyDefinition(data: Data(#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"preset": "nin-mnist"}, "training": {"epochs": 1, "learningRate": 0.1}}"#.utf8), file: "t.json")
        XCTAssertEqual(s.trials.map(\.config.model), withPreset.trials.map(\.config.model))
    }

    /// Keys the definition checks itself (`sweep`, `extraTrials`) are listed as known next to a typo.
    func testUnknownTopLevelKeyListsEveryKnownKey() {
        let found = problems(#"{"name": "t", "dataset": {"name": "mnist"}, "model": {}, "trainng": {}, "training": {"epochs": 1, "learningRate": 1}, "sweep": {"model.head": ["gap"]}}"#)
        XCTAssertEqual(found, ["trainng: unknown key (known keys here: dataset, description, extraTrials, model, name, seeds, sweep, training)"])
    }

    func testSweepDependentShapeProblemNamesTheTrial() {
        let found = problems(#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"blocks": [{"channels": 10, "kernel": 3, "pool": {"kind": "max", "size": 3, "stride": 2}}]}, "training": {"epochs": 1, "learningRate": 1}, "sweep": {"model.blocks": [[{"channels": 10, "kernel": 3}], [{"channels": 10, "kernel": 40}]]}}"#)
        // Reported at the sweep value that causes it (issue 13, item 11).
        XCTAssertEqual(found, [#"sweep["model.blocks"][1]: model.blocks[0].kernel: the 40×40 convolution is larger than its 28×28 input map"#])
        // The same bad value in several trials (here × 3 seeds) is one line.
        let seeded = problems(#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"blocks": [{"channels": 10, "kernel": 3}]}, "training": {"epochs": 1, "learningRate": 1}, "seeds": [1, 2, 3], "sweep": {"model.blocks": [[{"channels": 10, "kernel": 3}], [{"channels": 10, "kernel": 40}]]}}"#)
        XCTAssertEqual(seeded, found)
        // Values that cause a problem only together name the first trial with it and how many more.
        let together = problems(#"{"name": "t", "dataset": {"name": "mnist"}, "model": {"head": "fc"}, "training": {"epochs": 1, "learningRate": 1}, "seeds": [1, 2], "sweep": {"model.head": ["gap", "fc"], "model.fcHidden": [[], [4]]}}"#)
        XCTAssertEqual(together, [#"trial {model.fcHidden=[4], model.head="gap", seed=1} (and 1 more trial): model.fcHidden: applies to "fc" and "fc-dropout" heads, found head "gap""#])
    }

    /// A key swept below a string shorthand keeps the shorthand's meaning (`"gcn-zca"` is
    /// `{"kind": "gcn-zca"}`); without a kind anywhere it is a problem naming the key, not a crash.
    func testSweepBelowAShorthandKeepsItsKind() throws {
        let s = try StudyDefinition(data: Data(#"{"name": "z", "dataset": {"name": "cifar10", "preprocessing": "gcn-zca"}, "training": {"epochs": 1, "learningRate": 0.1}, "sweep": {"dataset.preprocessing.zcaFilterBias": [0.01, 0.1]}}"#.utf8), file: "z.json")
        XCTAssertEqual(s.trials.map(\.config.dataset.preprocessing), [.gcnZCA, .gcnZCA])
        XCTAssertEqual(s.trials.map(\.config.dataset.zcaFilterBias), [0.01, 0.1])
        XCTAssertEqual(s.trials.map(\.config.dataset.gcnScale), [55, 55])
        // The second trial is the study's default written out: the same trial id.
        let plain = try StudyDefinition(data: Data(#"{"name": "z", "dataset": {"name": "cifar10", "preprocessing": "gcn-zca"}, "training": {"epochs": 1, "learningRate": 0.1}}"#.utf8), file: "z.json")
        XCTAssertEqual(s.trials[1].id, plain.trials[0].id)
        let found = problems(#"{"name": "z", "dataset": {"name": "cifar10"}, "training": {"epochs": 1, "learningRate": 0.1}, "sweep": {"dataset.preprocessing.zcaFilterBias": [0.01]}}"#)
        XCTAssertEqual(found.first, #"sweep["dataset.preprocessing.zcaFilterBias"][0]: dataset.preprocessing.kind: required key is missing"#, "\(found)")
    }

    /// The study's names of typed values are the enums' raw values (one owner), and the presets
    /// are the engine's networks.
    func testStudyNamesComeFromTheTypes() throws {
        XCTAssertEqual(StudySchema.datasetNames, ["mnist", "fashion-mnist", "cifar10"])
        XCTAssertEqual(StudySchema.preprocessingKinds, ["none", "scale", "meanstd", "gcn-zca"])
        XCTAssertEqual(StudySchema.heads, ["gap", "fc", "fc-dropout"])
        XCTAssertEqual(StudySchema.presets, ["nin-cifar10", "nin-mnist", "custom"])
        let s = try StudyDefinition(data: Data(#"{"name":"m","dataset":{"name":"fashion-mnist"},"training":{"epochs":1,"learningRate":0.1}}"#.utf8), file: "m")
        let description = s.trials[0].config.model.engineDescription(dataset: s.trials[0].config.dataset)
        XCTAssertEqual(description.blocks, ModelDescription.ninMNIST.blocks)
        XCTAssertEqual(description.head, ModelDescription.ninMNIST.head)
        XCTAssertEqual(description.input, ModelDescription.ninMNIST.input)
    }
}
