import Foundation
import NINEngine

/// `run --dry-run`: the selected trials with ids, sizes and an estimated time from a throughput
/// measured on each distinct network and precision (2 timed training steps on random data after
/// 1 warm-up).
public enum DryRun {
    /// The table, one row per trial, and a closing line with the total estimate.
    public static func table(trials: [Trial], threads: Int) -> String {
        var rows: [[String]] = [["trial", "swept values", "params", "MACs/img", "epochs", "est. time"]]
        var measured: [String: Double] = [:]
        var referenceRate: Double?
        var fromRate = false
        var total = 0.0
        for t in trials {
            let description = t.config.model.engineDescription(dataset: t.config.dataset)
            let params = (try? description.parameterCount) ?? 0
            let work = TrialWork(t.config)
            let precision = t.config.training.gemmPrecision
            let key = t.config.model.engineDescription(dataset: t.config.dataset, name: "m").debugKey
                + "|\(t.config.training.batchSize)|\(precision.rawValue)"
            let batch = t.config.training.batchSize
            let ips: Double
            if let known = measured[key] {
                ips = known
            } else if 3 * 3 * Double(work.multiplyAddsPerImage) * Double(batch) <= measurementBudget {
                ips = measure(description, batch: batch, threads: threads, precision: precision)
            } else {
                // Too large to measure promptly: the machine's rate on a reference network.
                referenceRate = referenceRate ?? multiplyAddRate(threads: threads)
                ips = referenceRate! / (3 * Double(max(work.multiplyAddsPerImage, 1)))
                fromRate = true
            }
            measured[key] = ips
            let seconds = work.seconds(imagesPerSecond: ips)
            total += seconds
            rows.append([String(t.id.prefix(10)), t.label, format(params), format(work.multiplyAddsPerImage),
                         String(format: work.epochs == work.epochs.rounded() ? "%.0f" : "%.1f", work.epochs),
                         durationText(seconds)])
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
        var out = rows.map { r in r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        out.insert(String(repeating: "-", count: out[0].count), at: 1)
        out.append("\(trials.count) trial\(trials.count == 1 ? "" : "s"), estimated \(durationText(total)) with \(threads) thread\(threads == 1 ? "" : "s") (throughput measured on 2 training steps per distinct network and precision\(fromRate ? "; networks too large to measure promptly: from their multiply-adds at the rate measured on the MNIST NIN" : ""))")
        return out.joined(separator: "\n")
    }

    static func format(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 1000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
    }

    /// Multiply-adds the throughput measurement of one network may spend (3 training steps of
    /// about 3 forward passes each): well under a second here. Larger networks are estimated
    /// from their multiply-adds instead of being built and run (a `widthMultiplier` 16 network
    /// took minutes to measure).
    static let measurementBudget = 2e11

    /// Training multiply-adds per second (a training image counted as 3 forward passes) of the
    /// MNIST NIN at batch 16, the reference for networks too large to measure.
    static func multiplyAddRate(threads: Int) -> Double {
        let reference = ModelDescription.ninMNIST
        let macs = Double((try? reference.multiplyAddsPerImage) ?? 1)
        return measure(reference, batch: 16, threads: threads) * 3 * macs
    }

    /// Training images per second of a network in `precision` over 2 timed steps (after 1
    /// warm-up) on random data; NaN when it cannot be built or run here.
    static func measure(_ description: ModelDescription, batch: Int, threads: Int, precision: GEMMPrecision = .fp32) -> Double {
        var g = SeededGenerator(seed: 0)
        guard let net = try? Network(description: description, initializer: .he, maxBatch: batch, threads: threads, generator: &g),
              (try? net.setPrecision(precision)) != nil else { return .nan }
        let x = (0..<(batch * description.input.count)).map { _ in g.nextFloat() }
        let y = (0..<batch).map { _ in Int32(g.nextInt(below: description.classes)) }
        var sgd = SGD()
        var seconds = 0.0
        do {
            try x.withUnsafeBufferPointer { xp in
                try net.trainStep(input: xp, labels: y, batch: batch, learningRate: 0.001, optimizer: &sgd, generator: &g)
                let start = Date()
                for _ in 0..<2 { try net.trainStep(input: xp, labels: y, batch: batch, learningRate: 0.001, optimizer: &sgd, generator: &g) }
                seconds = Date().timeIntervalSince(start)
            }
        } catch { return .nan }
        return Double(2 * batch) / max(seconds, 1e-9)
    }
}

extension ModelDescription {
    /// Text that is equal for equal networks (names aside): one throughput measurement each.
    var debugKey: String { String(describing: blocks) + String(describing: head) + "\(input)" }
}

/// A duration for people: `1h02m`, `3m20s`, `45s`; `?` for a negative or non-finite value.
public func durationText(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}
