import ArgumentParser
import Foundation
import NINEngine
import NINStudy

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NINStudyCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a study: train every trial that is not finished yet, recording results in the database.",
            discussion: """
            Finished trials are skipped; interrupted ones resume from their last finished epoch with \
            bit-identical results (same thread count). Ctrl-C stops cleanly; run again to resume. \
            Exit status: 0 when every selected trial finished; 1 when some failed, the run was interrupted \
            or another process is running some; 2 for bad input (study file, dataset, results database, \
            an --only filter that matches nothing); 64 for invalid command-line options.
            """)

        @Argument(help: "The study definition (JSON; see Studies/ and Studies/study.schema.json).")
        var study: String

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Folder holding the datasets; searched first, then $NIN_DATA_DIR, ~/.cache/nin-study/data and /usr/share/datasets. Found nowhere, the dataset is downloaded (into this folder when given) unless --no-fetch.")
        var dataDir: String?

        @Option(help: "Threads for the engine and BLAS (the default is the number of cores). Results are bit-identical for the same thread count.")
        var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

        @Flag(help: "List the expanded trials with ids, parameter counts, multiply-adds and an estimated time; train nothing.")
        var dryRun = false

        @Option(help: "Run only some trials: a trial-id prefix, or key=value filters on swept values (e.g. model.head=gap,seed=1).")
        var only: String?

        @Flag(help: "Do not render confidence maps and learning curves.")
        var noMaps = false

        @Option(help: "Folder for confidence maps and learning curves (default: maps/ beside the database).")
        var mapsDir: String?

        @Flag(help: "Do not download a dataset that is found nowhere (by default it is fetched from its official location, checksums verified).")
        var noFetch = false

        @Flag(help: "Run trials that failed before again.")
        var retryFailed = false

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, found \(threads)") }
            try checkDataDir(dataDir)
        }

        func run() throws {
            let definition = try reportingErrors { try StudyDefinition.load(path: study) }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            if threads > cores {
                FileHandle.standardError.write(Data("warning: --threads \(threads) is more than the \(cores) cores of this machine; expect it to be slower\n".utf8))
            }
            var options = RunOptions()
            options.databasePath = database.databasePath
            options.dataDir = dataDir
            options.threads = threads
            options.only = only
            options.renderMaps = !noMaps
            options.mapsDirectory = mapsDir
            options.retryFailed = retryFailed
            options.fetchMissing = !noFetch
            let runner = StudyRunner(study: definition, options: options, reporter: ConsoleReporter())
            if dryRun {
                let trials = try reportingErrors { try runner.selectedTrials() }
                print(DryRun.table(trials: trials, threads: threads))
                return
            }
            let stop = StopFlag()
            let source = installInterruptHandler(stop)
            defer { source.cancel() }
            let summary = try reportingErrors { try runner.run(stop: stop) }
            print(summaryText(summary, study: definition))
            if !summary.succeeded { throw ExitCode(1) }
        }

        func summaryText(_ s: RunSummary, study: StudyDefinition) -> String {
            var lines = ["study \(study.name): \(s.finished.count) finished now, \(s.skipped.count) skipped, \(s.failed.count) failed"
                         + (s.interrupted ? ", interrupted (\(s.notRun.count) not finished)" : s.notRun.isEmpty ? "" : ", \(s.notRun.count) running in another process")]
            for f in s.failed { lines.append("  failed \(f.id.prefix(10)) \(f.label): \(f.reason)") }
            if s.interrupted { lines.append("run the same command again to resume") }
            lines.append("results: \(database.databasePath) (e.g. sqlite3 \(database.databasePath) \"select * from trial_summary\")")
            return lines.joined(separator: "\n")
        }
    }
}

/// Ctrl-C: the first asks the runner to stop after the current mini-batch (the last end-of-epoch
/// checkpoint stays valid); a second one exits at once.
func installInterruptHandler(_ stop: StopFlag) -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
        if stop.isSet { _exit(130) }
        FileHandle.standardError.write(Data("\nstopping after this mini-batch (Ctrl-C again to quit at once)…\n".utf8))
        stop.set()
    }
    source.resume()
    return source
}

/// The `--dry-run` table: trials, ids, sizes and an estimated time from a measured throughput.
enum DryRun {
    static func table(trials: [Trial], threads: Int) -> String {
        var rows: [[String]] = [["trial", "swept values", "params", "MACs/img", "epochs", "est. time"]]
        var measured: [String: Double] = [:]
        var total = 0.0
        for t in trials {
            let description = t.config.model.engineDescription(dataset: t.config.dataset)
            let params = (try? description.parameterCount) ?? 0
            let macs = (try? description.multiplyAddsPerImage) ?? 0
            let key = t.config.model.engineDescription(dataset: t.config.dataset, name: "m").debugKey + "|\(t.config.training.batchSize)"
            let ips = measured[key] ?? measure(description, batch: t.config.training.batchSize, threads: threads)
            measured[key] = ips
            let d = t.config.dataset
            let images = Double(d.trainPerClass.map { $0 * d.classes } ?? d.trainSubset ?? (d.name == "cifar10" ? 50_000 : 60_000)) - Double(d.validation)
            let epochs: Double = t.config.training.epochs.map(Double.init)
                ?? Double(t.config.training.iterations ?? 0) * Double(t.config.training.batchSize) / max(images, 1)
            let evalImages = Double(d.testSubset ?? 10_000) + Double(d.validation)
            let seconds = epochs * (images / ips + evalImages / (3 * ips))
            total += seconds
            rows.append([String(t.id.prefix(10)), t.label, format(params), format(macs),
                         String(format: epochs == epochs.rounded() ? "%.0f" : "%.1f", epochs), ConsoleReporter.duration(seconds)])
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
        var out = rows.map { r in r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        out.insert(String(repeating: "-", count: out[0].count), at: 1)
        out.append("\(trials.count) trial\(trials.count == 1 ? "" : "s"), estimated \(ConsoleReporter.duration(total)) with \(threads) thread\(threads == 1 ? "" : "s") (throughput measured on 2 training steps per distinct network)")
        return out.joined(separator: "\n")
    }

    static func format(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 1000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
    }

    /// Training images per second of a network over 2 timed steps (after 1 warm-up) on random data.
    static func measure(_ description: ModelDescription, batch: Int, threads: Int) -> Double {
        var g = SeededGenerator(seed: 0)
        guard let net = try? Network(description: description, initializer: .he, maxBatch: batch, threads: threads, generator: &g) else { return .nan }
        let x = (0..<(batch * description.input.height * description.input.width * description.input.channels)).map { _ in g.nextFloat() }
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
    var debugKey: String { String(describing: blocks) + String(describing: head) + "\(input)" }
}

/// `--data-dir` names a folder that must exist (a typo must not start a download into a new folder).
func checkDataDir(_ dataDir: String?) throws {
    guard let dataDir else { return }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("--data-dir \(dataDir) is not an existing folder")
    }
}
