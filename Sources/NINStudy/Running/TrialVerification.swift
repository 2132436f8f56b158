import Foundation
import NINStore

/// What `nin-study verify` found: a recorded trial re-run from its stored configuration, compared
/// epoch by epoch and by its checkpoint's SHA-256 with the record (``TrialVerifier``).
///
/// Metrics are compared exactly (the same bits): a trial trained again with the same
/// configuration, seed, thread count and kernels gives bit-identical numbers, so any difference,
/// in the last digit too, is a difference. Wall time and throughput are not compared.
public struct TrialVerification: Equatable, Sendable {
    /// The trial verified (64 hex digits).
    public var trialId: String
    /// Epochs the record holds.
    public var recordedEpochs: Int
    /// Epochs asked to be compared (`--epochs K`, at most `recordedEpochs`).
    public var epochsToCompare: Int
    /// Epochs the re-run recorded (it stops at the first epoch that differs).
    public var rerunEpochs: Int
    /// The first epoch whose metrics differ, with every metric of that epoch; nil when all compared epochs agree.
    public var firstDifference: EpochComparison?
    /// The final checkpoint's comparison.
    public var checkpoint: CheckpointComparison
    /// The environment fields of the re-run that differ from the recorded run's.
    public var environmentDifferences: [EnvironmentDifference]
    /// How the re-run ended, when not as the record did (e.g. it failed where the record finished).
    public var outcomeDifference: String?

    /// Whether the re-run reproduced the record: every compared epoch equal and the checkpoint
    /// equal or not comparable (``CheckpointComparison/notCompared(reason:)``).
    public var identical: Bool {
        if firstDifference != nil || outcomeDifference != nil { return false }
        if case .differs = checkpoint { return false }
        return rerunEpochs >= epochsToCompare
    }

    /// The first line: "identical (N epochs, checkpoint bytes equal)", or "differs from epoch K".
    public var headline: String {
        if identical {
            let count = epochsToCompare == recordedEpochs ? "\(recordedEpochs) epoch\(recordedEpochs == 1 ? "" : "s")"
                : "\(epochsToCompare) of \(recordedEpochs) epochs"
            switch checkpoint {
            case .equal: return "identical (\(count), checkpoint bytes equal)"
            case .notCompared(let reason): return "identical (\(count); checkpoint not compared: \(reason))"
            case .differs: return "differs" // not reached: a differing checkpoint is not identical
            }
        }
        if let d = firstDifference { return "differs from epoch \(d.epoch)" }
        if rerunEpochs < epochsToCompare { return "differs from epoch \(rerunEpochs + 1)" }
        return "differs from epoch \(epochsToCompare)"
    }

    /// The whole verdict as the command prints it: the headline, the differing epoch's metrics side
    /// by side, the checkpoint and the environment fields that differ.
    public var text: String {
        var lines = ["trial \(trialId.prefix(10)): \(headline)"]
        if let d = firstDifference {
            if d.epoch > 1 { lines.append("epochs 1–\(d.epoch - 1) are identical; epoch \(d.epoch) (≠ marks the values that differ):") }
            else { lines.append("epoch 1 (≠ marks the values that differ):") }
            lines += d.table
        } else if rerunEpochs < epochsToCompare {
            lines.append("the re-run recorded \(rerunEpochs) epoch\(rerunEpochs == 1 ? "" : "s"), the record \(recordedEpochs)")
        }
        if let outcomeDifference { lines.append(outcomeDifference) }
        switch checkpoint {
        case .equal where !identical:
            lines.append("checkpoint after epoch \(epochsToCompare): bytes equal")
        case .differs(let epoch, let recorded, let rerun):
            lines.append("checkpoint after epoch \(epoch): SHA-256 recorded \(recorded), re-run \(rerun)")
        case .notCompared(let reason) where !identical:
            lines.append("checkpoint not compared: \(reason)")
        default: break
        }
        if environmentDifferences.isEmpty {
            lines.append("environment: the recorded run's (host, CPU, threads, library and ISA, commit)")
        } else {
            lines.append("environment differences (recorded → this run):")
            lines += environmentDifferences.map { "  \($0.field): \($0.recorded) → \($0.current)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// One epoch's metrics, recorded and re-run, side by side.
public struct EpochComparison: Equatable, Sendable {
    /// The epoch (1-based).
    public var epoch: Int
    /// Every compared metric of the epoch: name, recorded value, re-run value (nil: not recorded).
    public var metrics: [MetricPair]

    /// The metrics whose values differ.
    public var differing: [MetricPair] { metrics.filter { !$0.equal } }

    /// Compares a recorded epoch with the re-run's; nil when every metric has the same bits.
    public static func compare(recorded r: EpochRecord, rerun n: EpochRecord) -> EpochComparison? {
        let pairs = [
            MetricPair(name: "train loss", recorded: r.trainLoss, rerun: n.trainLoss),
            MetricPair(name: "train accuracy %", recorded: r.trainAccuracy, rerun: n.trainAccuracy),
            MetricPair(name: "validation loss", recorded: r.valLoss, rerun: n.valLoss),
            MetricPair(name: "validation accuracy %", recorded: r.valAccuracy, rerun: n.valAccuracy),
            MetricPair(name: "test loss", recorded: r.testLoss, rerun: n.testLoss),
            MetricPair(name: "test accuracy %", recorded: r.testAccuracy, rerun: n.testAccuracy),
            MetricPair(name: "learning rate", recorded: r.learningRate, rerun: n.learningRate),
        ].filter { $0.recorded != nil || $0.rerun != nil }
        let comparison = EpochComparison(epoch: r.epoch, metrics: pairs)
        return comparison.differing.isEmpty ? nil : comparison
    }

    /// The metrics as aligned text rows (a header, then one row per metric; `≠` on differing rows).
    public var table: [String] {
        let rows = [("", "recorded", "re-run")] + metrics.map { ($0.name, $0.recordedText, $0.rerunText) }
        let w0 = rows.map(\.0.count).max() ?? 0, w1 = rows.map(\.1.count).max() ?? 0
        return zip(rows.indices, rows).map { i, row in
            let mark = i == 0 ? " " : (metrics[i - 1].equal ? " " : "≠")
            return "  \(mark) " + row.0.padding(toLength: w0, withPad: " ", startingAt: 0) + "  "
                + row.1.padding(toLength: w1, withPad: " ", startingAt: 0) + "  " + row.2
        }
    }
}

/// One metric of one epoch, recorded and re-run.
public struct MetricPair: Equatable, Sendable {
    public var name: String
    public var recorded: Double?
    public var rerun: Double?
    /// The same bits (two missing values are equal).
    public var equal: Bool { recorded?.bitPattern == rerun?.bitPattern }
    /// The shortest text that reads back as the same Double ("—" when not recorded).
    public var recordedText: String { recorded.map { "\($0)" } ?? "—" }
    public var rerunText: String { rerun.map { "\($0)" } ?? "—" }
}

/// The final checkpoint's SHA-256, recorded and re-run.
public enum CheckpointComparison: Equatable, Sendable {
    /// The same bytes.
    case equal
    /// Other bytes: the checkpoint after `epoch`, recorded and re-run SHA-256 (lowercase hex).
    case differs(epoch: Int, recorded: String, rerun: String)
    /// Nothing to compare with, and why (the record keeps only the last epoch's checkpoint).
    case notCompared(reason: String)
}

/// One environment field that differs between the recorded run and this one.
public struct EnvironmentDifference: Equatable, Sendable {
    /// The field: `host`, `CPU`, `cores`, `threads`, `OS`, `Swift`, `library` (GEMM library,
    /// its version, ISA and threading), `nin-study` (version) or `commit`.
    public var field: String
    public var recorded: String
    public var current: String

    /// The fields of `current` that differ from `recorded`. The library line (`blas`, e.g.
    /// "oneDNN 2.6.3 ISA avx512_core_bf16, OpenMP threads 2, …") is compared part by part, so
    /// only the parts that differ are named (an ISA, a thread count).
    public static func list(recorded r: EnvironmentRecord?, current c: EnvironmentRecord) -> [EnvironmentDifference] {
        guard let r else { return [EnvironmentDifference(field: "environment", recorded: "not recorded", current: c.fingerprint)] }
        var out: [EnvironmentDifference] = []
        func add(_ field: String, _ a: String, _ b: String) {
            if a != b { out.append(EnvironmentDifference(field: field, recorded: a, current: b)) }
        }
        add("host", r.host, c.host)
        add("CPU", r.cpuModel, c.cpuModel)
        add("cores", "\(r.cores)", "\(c.cores)")
        add("threads", "\(r.threads)", "\(c.threads)")
        add("OS", r.os, c.os)
        add("Swift", r.swiftVersion, c.swiftVersion)
        let partsA = libraryParts(r.blas), partsB = libraryParts(c.blas)
        if partsA.count == partsB.count {
            for (a, b) in zip(partsA, partsB) { add("library", a, b) }
        } else {
            add("library", r.blas, c.blas)
        }
        add("nin-study", r.ninStudyVersion, c.ninStudyVersion)
        add("commit", r.gitCommit ?? "unknown", c.gitCommit ?? "unknown")
        return out
    }

    /// The library line split at its `, ` and `; ` separators.
    static func libraryParts(_ text: String) -> [String] {
        text.components(separatedBy: "; ").flatMap { $0.components(separatedBy: ", ") }
    }
}
