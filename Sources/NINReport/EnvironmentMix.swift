// Whether the trials of one comparison ran in the same environment, and where they differ.

import Foundation
import NINStore

/// The environments (`environments` rows) of a group of trials, property by property: which
/// values occur and on which trials.
///
/// Properties that can change a trial's numbers (`affectsResults`): the thread count, the BLAS /
/// oneDNN description (library version, ISA, OpenMP threads, GEMM threading, convolution kind),
/// the nin-study version and commit, and the Swift compiler. The host and CPU model are listed but
/// do not by themselves make a mix: the same ISA, threads and build give the same bytes on any host.
public struct EnvironmentMix: Sendable {
    /// One property that takes more than one value in the group.
    public struct Difference: Sendable {
        /// The property's name ("threads", "BLAS", "commit", …).
        public let property: String
        /// Whether this property can change a trial's numbers.
        let affectsResults: Bool
        /// Each value (for BLAS: only the parts of its description that differ) with the trials
        /// that had it, as display text ("gap seeds 1, 2").
        public let values: [(value: String, trials: String)]
    }

    /// The properties that differ, in a fixed order.
    public let differences: [Difference]
    /// Trials of the group with no recorded environment (never started).
    public let unknown: Int

    /// Whether the group mixes environments in a way that can change its numbers.
    var mixesResults: Bool { differences.contains(where: \.affectsResults) }

    /// Compares the environments of `trials` (each with the group label it is shown under, e.g.
    /// its level); `environments` by row id.
    public init(trials: [(group: String, trial: TrialView)], environments: [Int64: EnvironmentRecord]) {
        let known = trials.compactMap { t in t.trial.record.environmentId.flatMap { environments[$0] }.map { (t.group, t.trial, $0) } }
        unknown = trials.count - known.count
        let blasParts = known.map { Self.parts($0.2.blas) }
        let common = blasParts.dropFirst().reduce(Set(blasParts.first ?? [])) { $0.intersection($1) }
        let properties: [(String, Bool, (Int) -> String)] = [
            ("threads", true, { "\(known[$0].2.threads)" }),
            ("BLAS", true, { i in blasParts[i].filter { !common.contains($0) }.joined(separator: ", ") }),
            ("nin-study", true, { known[$0].2.ninStudyVersion }),
            ("commit", true, { known[$0].2.gitCommit ?? "unknown" }),
            ("Swift", true, { known[$0].2.swiftVersion }),
            ("host", false, { known[$0].2.host }),
            ("CPU", false, { known[$0].2.cpuModel }),
        ]
        differences = properties.compactMap { name, affects, value in
            var order: [String] = [], members: [String: [(group: String, seed: String)]] = [:]
            for i in known.indices {
                let v = value(i)
                if members[v] == nil { order.append(v) }
                members[v, default: []].append((known[i].0, known[i].1.seed))
            }
            guard order.count > 1 else { return nil }
            return Difference(property: name, affectsResults: affects, values: order.map { ($0, Self.describe(members[$0]!)) })
        }
    }

    /// The parts of a BLAS description ("oneDNN 2.6.3 ISA avx2, OpenMP threads 2; LAPACK: … (threads 2)"),
    /// split at ";", "," and a parenthesis, so that only what differs is shown.
    static func parts(_ blas: String) -> [String] {
        blas.split(whereSeparator: { ";,()".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// "gap seeds 1, 2; fc seed 3": trials grouped by their label, in order.
    static func describe(_ trials: [(group: String, seed: String)]) -> String {
        var order: [String] = [], seeds: [String: [String]] = [:]
        for t in trials {
            if seeds[t.group] == nil { order.append(t.group) }
            seeds[t.group, default: []].append(t.seed)
        }
        return order.map { g in "\(g) seed\(seeds[g]!.count == 1 ? "" : "s") \(seeds[g]!.joined(separator: ", "))" }.joined(separator: "; ")
    }

    /// The mix in words: each differing property with its values and trials; nil when every
    /// trial ran in the same environment.
    public var words: String? {
        guard !differences.isEmpty else { return nil }
        let parts = differences.map { d in
            "\(d.property) " + d.values.map { "\($0.value.isEmpty ? "(none)" : $0.value) (\($0.trials))" }.joined(separator: " and ")
        }
        if mixesResults {
            return "This comparison mixes environments. " + parts.joined(separator: ". ")
                + ". A trial's numbers are bit-identical only with the same thread count, kernels (ISA) and build, so part of a difference between levels may come from the environment."
        }
        return "These trials ran on different machines with the same threads, libraries and build: " + parts.joined(separator: ". ") + "."
    }
}
