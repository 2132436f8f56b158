import ArgumentParser
import Foundation
import NINStore
import NINStudy

/// Formats rows as an aligned text table.
func textTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let widths = header.indices.map { c in rows.map { $0.count > c ? $0[c].count : 0 }.max()! }
    var out = rows.map { r in r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) }
    out.insert(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)), at: 1)
    return out.joined(separator: "\n")
}

func fmt(_ v: Double?, _ f: String = "%.2f") -> String { v.map { String(format: f, $0) } ?? "-" }

/// Opens an existing results database read-only (``ResultsStore/openReadOnly(path:busyTimeout:)``):
/// a missing file is an error, not a new empty database; a file without nin-study's schema is
/// refused untouched; trials left `running` by a process that is gone show as `interrupted`.
func openExisting(_ path: String, hint: String = "run a study first, or pass --db") throws -> ResultsStore {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("no results database at \(path) (\(hint))")
    }
    return try ResultsStore.openReadOnly(path: path)
}

extension NINStudyCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List studies and their trials with status and key metrics.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this study.") var study: String?

        func run() throws {
            try reportingErrors { print(try text(store: openExisting(database.databasePath)), terminator: "") }
        }

        /// The listing: per study, a header line, a table of its trials and their failure reasons.
        /// - Throws: `ValidationError` for an unknown `--study`, `StoreError`.
        func text(store: ResultsStore) throws -> String {
            let studies = try store.studies().filter { study == nil || $0.name == study }
            if studies.isEmpty {
                if let study { throw ValidationError("no study named \(study) in \(database.databasePath)") }
                return "no studies in \(database.databasePath)\n"
            }
            var out = ""
            for s in studies {
                let rows = try store.trialSummaries(study: s.name)
                out += "\(s.name): \(rows.count) trials" + (s.description.isEmpty ? "" : " — \(s.description)") + "\n"
                var table = [["trial", "status", "head", "depth", "widths", "seed", "epochs", "test err %", "best err %", "train loss", "wall s", "img/s"]]
                for r in rows {
                    table.append([r.shortId, r.status.rawValue, r.head ?? "-", r.depth.map(String.init) ?? "-", r.widths ?? "-",
                                  r.seed.map(String.init) ?? "-", "\(r.epochsDone)/\(r.epochsPlanned.map(String.init) ?? "?")",
                                  fmt(r.testError), fmt(r.bestTestError), fmt(r.finalTrainLoss, "%.4f"), fmt(r.wallSeconds, "%.0f"),
                                  fmt(r.imagesPerSecond, "%.1f")])
                }
                out += textTable(table) + "\n"
                for r in rows where r.status == .failed { out += "  \(r.shortId) failed: \(r.failureReason ?? "")\n" }
                out += "\n"
            }
            return out
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one trial: configuration, epoch table, artifacts, environment and dataset.")

        @Argument(help: "A trial id or a unique prefix of one (like a git commit id).") var trial: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            try reportingErrors {
                var refused: [String] = []
                print(try text(store: openExisting(database.databasePath), refused: &refused), terminator: "")
                if !refused.isEmpty {
                    throw ValidationError("trial \(trial): \(refused.count == 1 ? "its checkpoint is" : "checkpoints are") not the one this database recorded: \(refused.joined(separator: ", "))")
                }
            }
        }

        /// The trial's description: status, environment, dataset files, configuration, epoch
        /// table and artifacts (missing files marked; a checkpoint whose SHA-256 is not the recorded
        /// one is marked REFUSED and its path added to `refused`, unless the trial is running and
        /// rewrites it every epoch). - Throws: `StoreError`.
        func text(store: ResultsStore, refused: inout [String]) throws -> String {
            var out = ""
            func line(_ s: String) { out += s + "\n" }
            let t = try store.trial(idPrefix: trial)
            line("trial \(t.id)")
            line("studies: \(try store.studies(containingTrial: t.id).joined(separator: ", "))")
            line("status: \(t.status.rawValue)" + (t.failureReason.map { " — \($0)" } ?? ""))
            line("swept: \(t.sweptJSON)")
            line("precision: \(t.precision) GEMM inputs (accumulation, weights and update in fp32)")
            line("parameters: \(t.parameterCount.map(String.init) ?? "-"), multiply-adds per image: \(t.multiplyAdds.map(String.init) ?? "-")")
            if let s = t.startedAt { line("started: \(Timestamp.string(from: s))" + (t.finishedAt.map { ", finished: \(Timestamp.string(from: $0))" } ?? "")) }
            if let w = t.wallSeconds { line(String(format: "wall time: %.1f s", w)) }
            if let id = t.environmentId, let e = try store.environment(id: id) {
                line("environment: \(e.host), \(e.cpuModel), \(e.cores) cores, \(e.threads) threads, \(e.os), \(e.swiftVersion), \(e.blas), nin-study \(e.ninStudyVersion) \(e.gitCommit ?? "")"
                     + (e.gemm.map { "; GEMM kernels: \($0)" } ?? ""))
            }
            if let ident = t.datasetIdentity {
                line("dataset \(t.dataset) identity \(ident):")
                for f in try store.datasetFiles(identity: ident) { line("  \(f.sha256)  \(f.file) (\(f.bytes) bytes)") }
            }
            line("\nconfiguration:")
            if let data = t.configJSON.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data),
               let pretty = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]) {
                line(String(decoding: pretty, as: UTF8.self))
            } else { line(t.configJSON) }
            let epochs = try store.epochs(trialId: t.id)
            line("\nepochs:")
            var table = [["epoch", "lr", "train loss", "train acc %", "val acc %", "test loss", "test acc %", "wall s", "img/s"]]
            for e in epochs {
                table.append(["\(e.epoch)", fmt(e.learningRate, "%g"), fmt(e.trainLoss, "%.4f"), fmt(e.trainAccuracy), fmt(e.valAccuracy),
                              fmt(e.testLoss, "%.4f"), fmt(e.testAccuracy), fmt(e.wallSeconds, "%.1f"), fmt(e.imagesPerSecond, "%.1f")])
            }
            line(epochs.isEmpty ? "  (none yet)" : textTable(table))
            let artifacts = try store.artifacts(trialId: t.id)
            line("\nartifacts:")
            if artifacts.isEmpty { line("  (none)") }
            for a in artifacts {
                let state: String
                switch store.fileState(of: a) {
                case .matches: state = ""
                case .missing: state = " — missing"
                case .differs(let found):
                    // A running trial rewrites its checkpoint every epoch; any other's is the one recorded last.
                    let refuse = a.kind == .checkpoint && t.status != .running
                    state = " — \(refuse ? "REFUSED: " : "")the file's SHA-256 is \(found.prefix(16))…, not the recorded one (written again since)"
                    if refuse { refused.append(a.path) }
                }
                line("  \(a.kind.rawValue): \(store.resolvedArtifactPath(a.path)) (\(a.bytes) bytes, sha256 \(a.sha256.prefix(16))…)\(state)")
            }
            return out
        }

        /// The trial's description (``text(store:refused:)``), for tests.
        func text(store: ResultsStore) throws -> String {
            var refused: [String] = []
            return try text(store: store, refused: &refused)
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of study files (the same as Studies/study.schema.json).")
        func run() throws { print(StudyJSONSchema.text, terminator: "") }
    }
}
