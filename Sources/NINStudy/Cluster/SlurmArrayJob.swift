import Foundation
import NINStore

/// The batch scripts `nin-study slurm` writes for a study: a Slurm job array with one shard of the
/// study per array task (``Shard``), and a merge job that runs after the array has ended.
///
/// Everything lives in one folder on the filesystem the nodes share,
/// `<merged database folder>/slurm/<study>/`: the study file as submitted (`study.json`, so that
/// editing the original while tasks wait in the queue does not change their trials), one
/// database per shard (`shard-K-of-N.sqlite`, with its `checkpoints/` and `maps/`, see
/// ``DatabaseFiles``), the scripts, and the logs (`logs/`). A task that Slurm requeues or
/// restarts runs the same command again: finished trials are skipped and an interrupted trial
/// resumes from its last end-of-epoch checkpoint (SIGTERM stops training after the current
/// mini-batch and keeps that checkpoint). The merge job (`--dependency=afterany:<array job>`)
/// folds the shard databases into the merged database.
public struct SlurmArrayJob: Equatable, Sendable {
    /// Study name (from the study file).
    public var study: String
    /// Number of array tasks, = number of shards, ≥ 1.
    public var tasks: Int
    /// CPUs per task; each task trains with this many threads (`SLURM_CPUS_PER_TASK`).
    public var cpusPerTask: Int
    /// `--partition`, or nil for the cluster's default.
    public var partition: String?
    /// Time limit per task, Slurm's `[D-]HH:MM:SS`, or nil for the partition's default.
    public var time: String?
    /// Memory per node, Slurm's `<number>[K|M|G|T]`, or nil for the default.
    public var memory: String?
    /// Absolute path of the nin-study executable (it must be reachable from every node).
    public var executable: String
    /// Absolute path of the merged database.
    public var mergedDatabase: String
    /// Absolute `--data-dir` for the tasks, or nil.
    public var dataDir: String?
    /// Whether a task may download a missing dataset (`--no-fetch` when false).
    public var fetchMissing: Bool
    /// Working directory of the jobs (absolute).
    public var workingDirectory: String

    /// - Throws: ``SlurmError`` for a value Slurm would refuse or a path a batch directive cannot hold.
    /// Checks the values of the command-line options a job is made from, as Slurm would.
    /// - Throws: ``SlurmError/invalidOption(_:_:_:)`` naming the option, what it expects and what it got.
    public static func checkOptions(tasks: Int, cpusPerTask: Int, partition: String?, time: String?, memory: String?) throws {
        guard tasks >= 1 else { throw SlurmError.invalidOption("--tasks", "a number of array tasks ≥ 1", "\(tasks)") }
        guard cpusPerTask >= 1 else { throw SlurmError.invalidOption("--cpus-per-task", "a number ≥ 1", "\(cpusPerTask)") }
        if let partition, partition.range(of: #"^[A-Za-z0-9_.,-]+$"#, options: .regularExpression) == nil {
            throw SlurmError.invalidOption("--partition", "a partition name (letters, digits, _ . , -)", partition)
        }
        if let time, time.range(of: #"^([0-9]+-)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$"#, options: .regularExpression) == nil {
            throw SlurmError.invalidOption("--time", "HH:MM:SS or D-HH:MM:SS", time)
        }
        if let memory, memory.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) == nil {
            throw SlurmError.invalidOption("--mem", "a size such as 4G or 4000M", memory)
        }
    }

    /// A warning when some of `tasks` array tasks get no trial of a study with these trial ids
    /// (``Shard/assignment(trialId:count:)``), else nil. The job is still written as asked (the
    /// shard count fixes every trial's shard, so it is not silently changed): such tasks run
    /// nothing and end at once.
    public static func emptyTasksWarning(trialIds: [String], tasks: Int) -> String? {
        let trials = trialIds.count
        if tasks > trials {
            return "--tasks \(tasks) is more than its \(trials) trial\(trials == 1 ? "" : "s"): at least \(tasks - trials) array tasks get no trial and end at once (use --tasks \(max(1, trials)) or fewer)"
        }
        // Exact count while cheap (trials × tasks hashes): rendezvous hashing can leave a shard empty.
        guard trials * tasks <= 1_000_000 else { return nil }
        let used = Set(trialIds.map { Shard.assignment(trialId: $0, count: tasks) })
        guard used.count < tasks else { return nil }
        return "\(tasks - used.count) of the \(tasks) array tasks get no trial of its \(trials) (shards are assigned by trial id) and end at once"
    }

    public init(study: String, tasks: Int, cpusPerTask: Int, partition: String?, time: String?, memory: String?,
                executable: String, mergedDatabase: String, dataDir: String?, fetchMissing: Bool,
                workingDirectory: String) throws {
        try Self.checkOptions(tasks: tasks, cpusPerTask: cpusPerTask, partition: partition, time: time, memory: memory)
        for path in [mergedDatabase, workingDirectory] where path.contains(where: { $0.isWhitespace || $0 == "%" }) {
            throw SlurmError.invalidOption("path", "a path without spaces or % (Slurm's #SBATCH lines cannot hold them)", path)
        }
        self.study = study
        self.tasks = tasks
        self.cpusPerTask = cpusPerTask
        self.partition = partition
        self.time = time
        self.memory = memory
        self.executable = executable
        self.mergedDatabase = mergedDatabase
        self.dataDir = dataDir
        self.fetchMissing = fetchMissing
        self.workingDirectory = workingDirectory
    }

    /// `<merged database folder>/slurm/<study>`: the study copy, shard databases, scripts and logs.
    public var folder: String {
        ((DatabaseFiles(databasePath: mergedDatabase).folder as NSString).appendingPathComponent("slurm") as NSString)
            .appendingPathComponent(study)
    }
    /// The copy of the study file the tasks run.
    public var studyFile: String { (folder as NSString).appendingPathComponent("study.json") }
    public var arrayScriptPath: String { (folder as NSString).appendingPathComponent("array.sbatch") }
    public var mergeScriptPath: String { (folder as NSString).appendingPathComponent("merge.sbatch") }
    public var logFolder: String { (folder as NSString).appendingPathComponent("logs") }

    /// The database of shard `index` (1-based).
    public func shardDatabase(_ index: Int) -> String {
        (folder as NSString).appendingPathComponent(shardFileName(index: "\(index)"))
    }

    private func shardFileName(index: String) -> String { "shard-\(index)-of-\(tasks).sqlite" }

    /// The `#SBATCH` lines both scripts share.
    private func commonDirectives(jobName: String, output: String, cpus: Int) -> [String] {
        var lines = ["#SBATCH --job-name=\(jobName)", "#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=\(cpus)"]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time { lines.append("#SBATCH --time=\(time)") }
        if let memory { lines.append("#SBATCH --mem=\(memory)") }
        lines += ["#SBATCH --output=\(output)", "#SBATCH --open-mode=append", "#SBATCH --chdir=\(workingDirectory)"]
        return lines
    }

    /// The job-array script: task K runs `nin-study run --shard K/N` into its own shard database.
    public var arrayScript: String {
        var run = [Self.quoted(executable), "run", Self.quoted(studyFile), "--shard", "\"$shard/\(tasks)\"",
                   "--db", Self.quoted(folder) + "/\"shard-$shard-of-\(tasks).sqlite\"",
                   "--threads", "\"${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}\"", "--exclusive"]
        if let dataDir { run += ["--data-dir", Self.quoted(dataDir)] }
        if !fetchMissing { run.append("--no-fetch") }
        return (["#!/bin/bash",
                 "# nin-study: study \(study), one shard per array task (written by `nin-study slurm`).",
                 "#SBATCH --array=1-\(tasks)"]
            + commonDirectives(jobName: "nin-\(study)", output: (logFolder as NSString).appendingPathComponent("array-%A_%a.out"), cpus: cpusPerTask)
            + ["#SBATCH --requeue",
               "#",
               "# Requeue-safe: a requeued or restarted task runs the same command; finished trials are",
               "# skipped and an interrupted trial resumes from its last end-of-epoch checkpoint. SIGTERM",
               "# (scancel, preemption, scontrol requeue) stops training after the current mini-batch and",
               "# keeps that checkpoint; --exclusive takes over a trial an earlier attempt left running (killed",
               "# outright, on this or another node). Exit status: 0 shard finished, 1 failed or interrupted trials.",
               "set -euo pipefail",
               "shard=\"${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}\"",
               "echo \"nin-study: shard $shard/\(tasks) of study \(study) on $(hostname), restart ${SLURM_RESTART_COUNT:-0}\"",
               "exec " + run.joined(separator: " ")]).joined(separator: "\n") + "\n"
    }

    /// The merge script: folds every shard database that exists into the merged database.
    public var mergeScript: String {
        let shardPattern = Self.quoted(folder) + "/\"shard-$k-of-\(tasks).sqlite\""
        return (["#!/bin/bash",
                 "# nin-study: merge the shards of study \(study) (written by `nin-study slurm`; runs after the array: afterany)."]
            + commonDirectives(jobName: "nin-\(study)-merge", output: (logFolder as NSString).appendingPathComponent("merge-%j.out"), cpus: 1)
            + ["set -uo pipefail",
               "shards=()",
               "missing=0",
               "for k in $(seq 1 \(tasks)); do",
               "  f=\(shardPattern)",
               "  if [ -f \"$f\" ]; then shards+=(\"$f\"); else echo \"nin-study: shard $k/\(tasks) has no database ($f): its task never ran\" >&2; missing=1; fi",
               "done",
               "[ ${#shards[@]} -gt 0 ] || exit 1",
               Self.quoted(executable) + " merge --into " + Self.quoted(mergedDatabase) + " \"${shards[@]}\"",
               "status=$?",
               "[ $status -eq 0 ] && [ $missing -eq 1 ] && status=1",
               "exit $status"]).joined(separator: "\n") + "\n"
    }

    /// Writes the study copy and both scripts (and creates the log folder).
    /// - Throws: ``SlurmError/cannotWrite(path:reason:)``.
    public func write(studySource: String) throws {
        let files = [(studyFile, studySource), (arrayScriptPath, arrayScript), (mergeScriptPath, mergeScript)]
        do {
            try FileManager.default.createDirectory(atPath: logFolder, withIntermediateDirectories: true)
            for (path, text) in files {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
            for path in [arrayScriptPath, mergeScriptPath] {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        } catch {
            throw SlurmError.cannotWrite(path: folder, reason: error.localizedDescription)
        }
    }

    /// `text` as one single-quoted shell word.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
}

/// Errors of `nin-study slurm`.
public enum SlurmError: Error, Equatable, CustomStringConvertible {
    /// An option value Slurm would refuse: option, what was expected, what was found.
    case invalidOption(String, String, String)
    case cannotWrite(path: String, reason: String)
    /// `sbatch` could not be started or refused the script.
    case submitFailed(script: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case let .invalidOption(option, expected, found): return "\(option): expected \(expected), found \"\(found)\""
        case let .cannotWrite(path, reason): return "cannot write the Slurm scripts into \(path): \(reason)"
        case let .submitFailed(script, status, output):
            return "sbatch \(script) failed (exit status \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}
