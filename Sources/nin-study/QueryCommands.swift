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

/// Opens an existing results database (a missing file is an error, not a new empty database) and,
/// as `run` does first, marks trials left `running` by a process that is gone as `interrupted`, so a
/// listing never shows a killed run as still running. Where the database is read-only, that step
/// is skipped and the stored state is shown as it is.
func openExisting(_ path: String) throws -> ResultsStore {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("no results database at \(path) (run a study first, or pass --db)")
    }
    let store = try ResultsStore.openExisting(path: path)
    _ = try? store.recoverAbandonedTrials(currentHost: ProcessInfo.processInfo.hostName)
    return store
}

extension NINStudyCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List studies and their trials with status and key metrics.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this study.") var study: String?

        func run() throws {
            try reportingErrors {
                let store = try openExisting(database.databasePath)
                let studies = try store.studies().filter { study == nil || $0.name == study }
                if studies.isEmpty {
                    if let study { throw ValidationError("no study named \(study) in \(database.databasePath)") }
                    print("no studies in \(database.databasePath)")
                    return
                }
                for s in studies {
                    let rows = try store.trialSummaries(study: s.name)
                    print("\(s.name): \(rows.count) trials" + (s.description.isEmpty ? "" : " — \(s.description)"))
                    var table = [["trial", "status", "head", "depth", "widths", "seed", "epochs", "test err %", "best err %", "train loss", "wall s", "img/s"]]
                    for r in rows {
                        table.append([r.shortId, r.status.rawValue, r.head ?? "-", r.depth.map(String.init) ?? "-", r.widths ?? "-",
                                      r.seed.map(String.init) ?? "-", "\(r.epochsDone)/\(r.epochsPlanned.map(String.init) ?? "?")",
                                      fmt(r.testError), fmt(r.bestTestError), fmt(r.finalTrainLoss, "%.4f"), fmt(r.wallSeconds, "%.0f"),
                                      fmt(r.imagesPerSecond, "%.1f")])
                    }
                    print(textTable(table))
                    for r in rows where r.status == .failed { print("  \(r.shortId) failed: \(r.failureReason ?? "")") }
                    print("")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one trial: configuration, epoch table, artifacts, environment and dataset.")

        @Argument(help: "A trial id or a unique prefix of one (like a git commit id).") var trial: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            try reportingErrors {
                let store = try openExisting(database.databasePath)
                let t = try store.trial(idPrefix: trial)
                print("trial \(t.id)")
                print("studies: \(try store.studies(containingTrial: t.id).joined(separator: ", "))")
                print("status: \(t.status.rawValue)" + (t.failureReason.map { " — \($0)" } ?? ""))
                print("swept: \(t.sweptJSON)")
                print("parameters: \(t.parameterCount.map(String.init) ?? "-"), multiply-adds per image: \(t.multiplyAdds.map(String.init) ?? "-")")
                if let s = t.startedAt { print("started: \(Timestamp.string(from: s))" + (t.finishedAt.map { ", finished: \(Timestamp.string(from: $0))" } ?? "")) }
                if let w = t.wallSeconds { print(String(format: "wall time: %.1f s", w)) }
                if let id = t.environmentId, let e = try store.environment(id: id) {
                    print("environment: \(e.host), \(e.cpuModel), \(e.cores) cores, \(e.threads) threads, \(e.os), \(e.swiftVersion), \(e.blas), nin-study \(e.ninStudyVersion) \(e.gitCommit ?? "")")
                }
                if let ident = t.datasetIdentity {
                    print("dataset \(t.dataset) identity \(ident):")
                    for f in try store.datasetFiles(identity: ident) { print("  \(f.sha256)  \(f.file) (\(f.bytes) bytes)") }
                }
                print("\nconfiguration:")
                if let data = t.configJSON.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data),
                   let pretty = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]) {
                    print(String(decoding: pretty, as: UTF8.self))
                } else { print(t.configJSON) }
                let epochs = try store.epochs(trialId: t.id)
                print("\nepochs:")
                var table = [["epoch", "lr", "train loss", "train acc %", "val acc %", "test loss", "test acc %", "wall s", "img/s"]]
                for e in epochs {
                    table.append(["\(e.epoch)", fmt(e.learningRate, "%g"), fmt(e.trainLoss, "%.4f"), fmt(e.trainAccuracy), fmt(e.valAccuracy),
                                  fmt(e.testLoss, "%.4f"), fmt(e.testAccuracy), fmt(e.wallSeconds, "%.1f"), fmt(e.imagesPerSecond, "%.1f")])
                }
                print(epochs.isEmpty ? "  (none yet)" : textTable(table))
                let artifacts = try store.artifacts(trialId: t.id)
                print("\nartifacts:")
                if artifacts.isEmpty { print("  (none)") }
                var refused: [String] = []
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
                    print("  \(a.kind.rawValue): \(store.resolvedArtifactPath(a.path)) (\(a.bytes) bytes, sha256 \(a.sha256.prefix(16))…)\(state)")
                }
                if !refused.isEmpty {
                    throw ValidationError("trial \(t.shortId): \(refused.count == 1 ? "its checkpoint is" : "checkpoints are") not the one this database recorded: \(refused.joined(separator: ", "))")
                }
            }
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of study files (the same as Studies/study.schema.json).")
        func run() throws { print(StudyJSONSchema.text, terminator: "") }
    }
}
