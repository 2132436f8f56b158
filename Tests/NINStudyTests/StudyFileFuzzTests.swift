import XCTest
import NINEngine
@testable import NINStudy

/// A fuzz test of the study-file parser and validator (issue 13): the study files in `Studies/`,
/// mutated by a seeded generator (bytes cut, tokens and extreme numbers inserted, slices copied
/// and swapped, names replaced; or values and keys changed in the parsed tree), for a few seconds. Every input must end in a study or in a
/// `StudyError` naming the file and, for each problem, a key path (syntax errors: a line and a
/// column); never a crash, a hang or another error.
final class StudyFileFuzzTests: XCTestCase {
    /// The generator's seed; `NIN_FUZZ_SEED` overrides it (a longer hunt: also `NIN_FUZZ_SECONDS`).
    static let seed = ProcessInfo.processInfo.environment["NIN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20261201
    /// Wall-clock budget of the whole test (seconds), and of one input.
    static let budget = ProcessInfo.processInfo.environment["NIN_FUZZ_SECONDS"].flatMap { Double($0) } ?? 4.0
    static let perInput = 2.0

    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "NaN", "Infinity", "1e400", "-0", "1e300", "1e-300", "1e12", "1e15",
                         "0", "-1", "65536", "0.5", "null", "true", "false", "\"\"", "\"x\"", "{}", "[]", "\u{0}", "é", "\u{FEFF}",
                         "\"model.depth\"", "\"seed\"", "\"sweep\"", "\"extraTrials\"", "\"dataset.preprocessing.gcnScale\"",
                         "\"training.schedule.kind\"", "\"gap\"", "\"fc\"", "\"custom\"", "\"gcn-zca\"", "\"step\"", "\"plateau\"",
                         "\"cifar10\"", "\"blocks\"", "\"widths\"", "\"pool\"", "\"\\ud800\"", "\n", " "]

    func testMutatedStudyFilesEndInAStudyOrATypedError() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Studies")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") && $0 != "study.schema.json" }.sorted()
            .map { try Data(contentsOf: folder.appendingPathComponent($0)) }
        XCTAssertFalse(seeds.isEmpty)
        var g = SeededGenerator(seed: Self.seed)
        let start = Date()
        var inputs = 0, studies = 0, invalid = 0, malformed = 0
        while Date().timeIntervalSince(start) < Self.budget {
            var bytes = [UInt8](seeds[g.nextInt(below: seeds.count)])
            if g.nextInt(below: 2) == 0, let tree = try? JSONValue.parse(Data(bytes), file: "seed") {
                // Valid JSON, wrong study: values and keys changed in the parsed tree.
                var t = tree
                for _ in 0...g.nextInt(below: 3) { t = mutateTree(t, &g) }
                bytes = Array(t.canonicalText.utf8)
            } else {
                for _ in 0...g.nextInt(below: 3) { mutate(&bytes, &g) }
            }
            let data = Data(bytes)
            let t0 = Date()
            do {
                _ = try StudyDefinition(data: data, file: "fuzz.json")
                studies += 1
            } catch let e as StudyError {
                XCTAssertTrue(e.description.hasPrefix("fuzz.json"), "\(e) for input:\n\(String(decoding: data, as: UTF8.self))")
                switch e {
                case .malformedJSON(_, let detail):
                    malformed += 1
                    XCTAssertTrue(detail == "the file is empty" || detail.range(of: #"^line \d+, column \d+: "#, options: .regularExpression) != nil,
                                  "no line and column: \(detail)")
                case .invalid(_, let problems):
                    invalid += 1
                    XCTAssertFalse(problems.isEmpty)
                    for p in problems {
                        XCTAssertTrue(Self.startsWithAKeyPath(p), "no key path of the study file in \(p)")
                    }
                case .unreadable: XCTFail("unreadable for data in memory: \(e)")
                }
            } catch {
                XCTFail("not a StudyError: \(error) for input:\n\(String(decoding: data, as: UTF8.self))")
            }
            let seconds = Date().timeIntervalSince(t0)
            XCTAssertLessThan(seconds, Self.perInput, "one input took \(seconds) s:\n\(String(decoding: data, as: UTF8.self))")
            inputs += 1
        }
        XCTAssertGreaterThan(inputs, 50, "too few inputs in the budget")
        XCTAssertGreaterThan(invalid, 0)
        XCTAssertGreaterThan(malformed, 0)
        print("fuzz (seed \(Self.seed)): \(inputs) mutated study files: \(studies) studies, \(invalid) invalid, \(malformed) not JSON")
    }

    /// The keys a study file's top level has (`StudySchema.study`, plus `sweep` and `extraTrials`).
    static let topLevelKeys: Set<String> = ["name", "description", "dataset", "model", "training", "seeds", "sweep", "extraTrials"]

    /// `(top level)`, a trial's values (`trial {model.head=gap, seed=1} (and 2 more trials)`), or a
    /// key path in the study's grammar (`training.momentum`, `model.blocks[0].pool.kind`,
    /// `sweep["model.depth"][2]`, `extraTrials[0]["model.head"]`, `sweep["a b"]`), then `: `.
    static let located = try! NSRegularExpression(pattern: #"""
        ^(?:\(top level\)|trial \{.*?\}(?: \(and \d+ more trials?\))?|(?<root>[A-Za-z_$][A-Za-z0-9_$]*|\["(?:[^"\\]|\\.)*"\])(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*): (?<rest>.)
        """#, options: [.dotMatchesLineSeparators])

    /// Whether a problem opens with where it is: a key path whose first key is one of the study's
    /// top-level keys (any other key only in an "unknown key" problem), `(top level)`, or a trial's
    /// values followed by the key path of the trial's own problem.
    static func startsWithAKeyPath(_ problem: String) -> Bool {
        let whole = NSRange(problem.startIndex..., in: problem)
        guard let match = located.firstMatch(in: problem, range: whole),
              let restStart = Range(match.range(withName: "rest"), in: problem)?.lowerBound else { return false }
        let rest = String(problem[restStart...])
        if problem.hasPrefix("trial {") { return startsWithAKeyPath(rest) }
        guard let rootRange = Range(match.range(withName: "root"), in: problem) else { return true }  // (top level)
        return topLevelKeys.contains(String(problem[rootRange])) || rest.hasPrefix("unknown key")
    }

    /// The key-path check itself: it accepts the forms the validator writes and refuses others.
    func testTheKeyPathCheckRefusesMessagesWithoutAKeyPath() {
        for good in [#"training.momentum: expected a number ≥ 0 and < 1, found 1.5"#,
                     #"sweep["model.depth"][2]: expected an integer in 0…16, found "two""#,
                     #"model.blocks[0].pool.kind: expected one of "max", "avg", found "min""#,
                     #"extraTrials[1]["model.head"]: unknown key path"#,
                     #"(top level): expected an object, found an array"#,
                     #"foo: unknown key (known keys here: dataset, model)"#,
                     #"[""]: unknown key (known keys here: dataset, model)"#,
                     #"trial {model.head="fc", seed=1} (and 2 more trials): model.fcHidden: applies to "fc" heads"#] {
            XCTAssertTrue(Self.startsWithAKeyPath(good), good)
        }
        for bad in ["expected a number ≥ 0 and < 1, found 1.5", "value: expected a number", "1.5: expected a number",
                    "\"two\": expected an integer", "foo: expected an object", "training momentum: expected a number",
                    "trial {seed=1}: expected a number", "training.: expected", ": expected a number"] {
            XCTAssertFalse(Self.startsWithAKeyPath(bad), bad)
        }
    }

    static let keys = ["sweep", "extraTrials", "seeds", "seed", "model", "blocks", "widths", "depth", "widthMultiplier", "head", "preset",
                       "pool", "kind", "size", "stride", "pad", "channels", "kernel", "dropout", "fcHidden", "fcDropout", "finalReLU",
                       "preprocessing", "gcnScale", "zcaFilterBias", "subset", "train", "trainPerClass", "test", "validation",
                       "augmentation", "translate", "horizontalFlip", "epochs", "iterations", "batchSize", "learningRate", "momentum",
                       "weightDecay", "multipliers", "schedule", "milestones", "stepEpochs", "gamma", "patience", "initializer", "std",
                       "failAtChanceAfterEpoch", "model.depth", "model.blocks", "model.head", "training.schedule.kind",
                       "dataset.preprocessing.gcnScale", "dataset.name", "model.widths", "training.batchSize", ""]

    /// A random JSON value: extreme and ordinary numbers, names the format knows, containers.
    func randomValue(_ g: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        let numbers: [Double] = [0, -1, 1, 2, 3, 0.5, 1e-300, 1e300, 1e12, 1e15, 65536, 4294967296, 29, 100000, 0.1, 1e-1, 9007199254740993]
        switch g.nextInt(below: depth > 2 ? 4 : 7) {
        case 0: return .number(numbers[g.nextInt(below: numbers.count)])
        case 1: return .string(["gap", "fc", "fc-dropout", "custom", "gcn-zca", "step", "multistep", "plateau", "cifar10", "mnist", "max", "avg", "gaussian", "he", ""][g.nextInt(below: 15)])
        case 2: return [.null, .bool(true), .bool(false)][g.nextInt(below: 3)]
        case 3: return .number(Double(g.nextInt(below: 40)))
        case 4: return .array((0..<g.nextInt(below: 4)).map { _ in randomValue(&g, depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<g.nextInt(below: 4) { o[Self.keys[g.nextInt(below: Self.keys.count)]] = randomValue(&g, depth: depth + 1) }
            return .object(o)
        }
    }

    /// The tree with one value replaced, one key added or one key removed, somewhere.
    func mutateTree(_ v: JSONValue, _ g: inout SeededGenerator) -> JSONValue {
        switch v {
        case .object(var o) where !o.isEmpty && g.nextInt(below: 4) != 0:
            let keys = o.keys.sorted()
            let k = keys[g.nextInt(below: keys.count)]
            switch g.nextInt(below: 6) {
            case 0: o[Self.keys[g.nextInt(below: Self.keys.count)]] = randomValue(&g)
            case 1: o.removeValue(forKey: k)
            default: o[k] = mutateTree(o[k]!, &g)
            }
            return .object(o)
        case .array(var a) where !a.isEmpty && g.nextInt(below: 4) != 0:
            let i = g.nextInt(below: a.count)
            switch g.nextInt(below: 5) {
            case 0: a.append(a[i])
            case 1: a.remove(at: i)
            default: a[i] = mutateTree(a[i], &g)
            }
            return .array(a)
        default:
            return randomValue(&g)
        }
    }

    func mutate(_ bytes: inout [UInt8], _ g: inout SeededGenerator) {
        func position() -> Int { bytes.isEmpty ? 0 : g.nextInt(below: bytes.count + 1) }
        switch g.nextInt(below: 6) {
        case 0: // cut a few bytes
            guard !bytes.isEmpty else { return }
            let at = g.nextInt(below: bytes.count)
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + g.nextInt(below: 5)))
        case 1: // insert a token
            bytes.insert(contentsOf: Array(Self.tokens[g.nextInt(below: Self.tokens.count)].utf8), at: position())
        case 2: // replace a number with an extreme or odd one
            let numbers = ["1e300", "1e12", "1e15", "0", "-1", "65536", "1e-300", "4294967296", "0.1", "29", "100000", "9007199254740993"]
            guard let at = bytes.indices.filter({ (0x30...0x39).contains(bytes[$0]) }).randomElement(using: &g) else { return }
            var end = at
            while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E { end += 1 }
            bytes.replaceSubrange(at..<end, with: Array(numbers[g.nextInt(below: numbers.count)].utf8))
        case 3: // copy a slice elsewhere (duplicate keys, repeated values, deep nesting)
            guard bytes.count > 2 else { return }
            let a = g.nextInt(below: bytes.count), n = 1 + g.nextInt(below: min(80, bytes.count - a))
            bytes.insert(contentsOf: Array(bytes[a..<(a + n)]), at: position())
        case 4: // swap two slices
            guard bytes.count > 8 else { return }
            let a = g.nextInt(below: bytes.count / 2), b = bytes.count / 2 + g.nextInt(below: bytes.count / 2)
            let n = 1 + g.nextInt(below: min(20, b - a, bytes.count - b))
            let first = Array(bytes[a..<(a + n)]), second = Array(bytes[b..<(b + n)])
            bytes.replaceSubrange(b..<(b + n), with: first)
            bytes.replaceSubrange(a..<(a + n), with: second)
        default: // replace a string with a name the format knows
            let names = ["\"gap\"", "\"fc-dropout\"", "\"custom\"", "\"gcn-zca\"", "\"step\"", "\"multistep\"", "\"plateau\"", "\"cifar10\"",
                         "\"fashion-mnist\"", "\"gaussian\"", "\"model.widthMultiplier\"", "\"training.schedule\"", "\"\""]
            let quotes = bytes.indices.filter { bytes[$0] == 0x22 }
            guard quotes.count >= 2 else { return }
            let i = g.nextInt(below: quotes.count - 1)
            bytes.replaceSubrange(quotes[i]...quotes[i + 1], with: Array(names[g.nextInt(below: names.count)].utf8))
        }
    }
}
