import ArgumentParser
import Foundation
import NINStore
import NINStudy

extension NINStudyCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a study: train every trial that is not finished yet, recording results in the database.",
            discussion: """
            Finished trials are skipped; interrupted ones resume from their last finished epoch with \
            bit-identical results (same thread count). Ctrl-C, SIGTERM (Slurm's preemption and time limit) and SIGHUP stop cleanly after the current \
            mini-batch; run again to resume. Any number of runs may share one database: each claims a \
            trial atomically before training it, so no trial is trained twice. \
            Exit status: 0 when every selected trial is finished; 1 when some failed, the run was \
            interrupted, or finished ones read other dataset files; 3 when nothing was left for this run but other live processes still run some \
            selected trials (0 instead inside a Slurm array task, where SLURM_ARRAY_TASK_ID is set, so a \
            pool of array workers sharing one database does not end as FAILED tasks); 2 for bad input (study file, dataset, results database, an --only filter \
            that matches nothing); 64 for invalid command-line options. A dataset found \
            nowhere is downloaded (into --data-dir when given) unless --no-fetch.
            """)

        @Argument(help: "The study definition (JSON; see Studies/ and Studies/study.schema.json).")
        var study: String

        @OptionGroup var database: DatabaseOptions

        @OptionGroup var data: DataDirOptions

        @OptionGroup var threading: ThreadOptions

        @Flag(help: "List the expanded trials with ids, parameter counts, multiply-adds and an estimated time; train nothing.")
        var dryRun = false

        @Option(help: "Run only some trials: a trial-id prefix, or key=value filters on swept values (e.g. model.head=gap,seed=1).")
        var only: String?

        @Flag(help: "Do not render confidence maps and learning curves.")
        var noMaps = false

        @Option(help: "Folder for confidence maps and learning curves (default: maps/NAME/ beside the database NAME.sqlite).")
        var mapsDir: String?

        @Flag(help: "Do not download a dataset that is found nowhere (by default it is fetched from its official location, checksums verified).")
        var noFetch = false

        @Flag(help: "Run trials that failed before again.")
        var retryFailed = false

        // `.unconditional`: a value that starts with a dash (`--shard -1/4`) is the option's value,
        // checked by `validate()`, not a missing one.
        @Option(parsing: .unconditional, help: "Run only shard K of N (e.g. 2/8): a stable assignment by trial id, for splitting a study across machines; give each shard its own --db, then `nin-study merge`.")
        var shard: String?

        @Flag(help: "This run is the database's only writer (as each Slurm array task is for its shard's database): trials left running by an earlier attempt, on any host, are taken over at once instead of after 15 minutes without a heartbeat.")
        var exclusive = false

        func validate() throws {
            if let shard {
                do { _ = try Shard(parsing: shard) } catch { throw ValidationError("\(error)") }  // the error names --shard
            }
        }

        func run() throws {
            let definition = try reportingErrors { try StudyDefinition.load(path: study) }
            for warning in definition.warnings {
                FileHandle.standardError.write(Data("warning: \(study): \(warning)\n".utf8))
            }
            threading.warnIfOversubscribed()
            var options = RunOptions()
            options.databasePath = database.databasePath
            options.dataDir = data.dataDir
            options.threads = threading.threads
            options.only = only
            options.renderMaps = !noMaps
            options.mapsDirectory = mapsDir
            options.retryFailed = retryFailed
            options.fetchMissing = !noFetch
            options.shard = try shard.map(Shard.init(parsing:))
            options.exclusive = exclusive
            let runner = StudyRunner(study: definition, options: options, reporter: ConsoleReporter())
            if dryRun {
                let trials = try reportingErrors { try runner.selectedTrials() }
                print(DryRun.table(trials: trials, threads: threading.threads))
                return
            }
            let stop = StopFlag()
            let signals = StopSignals(stop)
            defer { signals.cancel() }
            let summary = try reportingErrors { try runner.run(stop: stop) }
            print(summaryText(summary, study: definition))
            if summary.leftToOtherProcesses {
                // A worker of a Slurm array sharing one database: the others train what is left;
                // Slurm would record 3 as a FAILED task, so this is a success there.
                if ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"] != nil {
                    print("nothing left for this array task: the other workers run the rest (exit 0 as a Slurm array task; 3 elsewhere)")
                    return
                }
                throw ExitCode(3)
            }
            if !summary.succeeded { throw ExitCode(1) }
        }

        func summaryText(_ s: RunSummary, study: StudyDefinition) -> String {
            var lines = ["study \(study.name)" + (shard.map { " shard \($0)" } ?? "") + ": \(s.finished.count) finished now, \(s.skipped.count) skipped, \(s.failed.count) failed"
                         + (s.finishedElsewhere.isEmpty ? "" : ", \(s.finishedElsewhere.count) finished by other processes")
                         + (s.runningElsewhere.isEmpty ? "" : ", \(s.runningElsewhere.count) still running in other processes")
                         + (s.datasetChanged.isEmpty ? "" : ", \(s.datasetChanged.count) finished on other dataset files")
                         + (s.interrupted ? ", interrupted (\(s.notRun.count) not finished)" : "")]
            for f in s.failed { lines.append("  failed \(f.id.prefix(10)) \(f.label): \(f.reason)") }
            for c in s.datasetChanged {
                lines.append("  dataset changed \(c.id.prefix(10)) \(c.label): \(c.differences.joined(separator: "; "))")
            }
            if !s.datasetChanged.isEmpty { lines.append("  " + StudyRunner.datasetChangedAdvice) }
            if s.interrupted { lines.append("run the same command again to resume") }
            lines += finishedTable(s, study: study)
            lines.append("results: \(database.databasePath) (e.g. sqlite3 \(database.databasePath) \"select * from trial_summary\")")
            if !s.finished.isEmpty || !s.skipped.isEmpty {
                let db = database.databasePath == DatabaseFiles.defaultDatabasePath ? "" : " --db \(database.databasePath)"
                lines.append("the answer: \(invokedBinary) report \(study.name) --format text\(db) (without --format: an HTML page with figures)")
            }
            return lines.joined(separator: "\n")
        }

        /// This program as the user invoked it (e.g. `.build/release/nin-study`), for commands it
        /// suggests; `nin-study` when it was found on the PATH.
        var invokedBinary: String {
            let first = CommandLine.arguments.first ?? "nin-study"
            return first.contains("/") && !first.contains(" ") ? first : "nin-study"
        }

        /// The trials this run finished, as the database recorded them (test error after the last
        /// epoch, best test error, epochs, training time), and their total training time; nothing
        /// when none finished or the database cannot be read back.
        func finishedTable(_ s: RunSummary, study: StudyDefinition) -> [String] {
            guard !s.finished.isEmpty, let store = try? ResultsStore.openReadOnly(path: database.databasePath),
                  let rows = try? store.trialSummaries(study: study.name) else { return [] }
            let labels = Dictionary(study.trials.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
            let finished = Set(s.finished)
            let done = rows.filter { finished.contains($0.trialId) }
            guard !done.isEmpty else { return [] }
            var table = [["trial", "configuration", "test err %", "best err %", "epochs", "training"]]
            for r in done {
                table.append([r.shortId, labels[r.trialId] ?? "", fmt(r.testError), fmt(r.bestTestError),
                              "\(r.epochsDone)", r.wallSeconds.map(durationText) ?? "-"])
            }
            let total = done.compactMap(\.wallSeconds).reduce(0, +)
            return textTable(table).split(separator: "\n").map { "  " + $0 }
                + ["  \(done.count) trial\(done.count == 1 ? "" : "s") trained in \(durationText(total))"]
        }
    }
}
