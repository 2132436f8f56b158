import ArgumentParser
import Foundation
import NINStudy

extension NINStudyCommand {
    struct Slurm: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write (and with --submit, submit) a Slurm job array that runs a study in shards, plus a merge job.",
            discussion: """
            Task K of the array runs `nin-study run STUDY --shard K/N` into its own database under \
            <db folder>/slurm/<study>/, with --threads from SLURM_CPUS_PER_TASK; a requeued task resumes \
            from its last epoch checkpoint. The merge job starts after the whole array has ended \
            (afterany) and folds the shards into --db. That folder, the data and the nin-study executable \
            must be on a filesystem every node shares.
            """)

        @Argument(help: "The study definition (JSON).")
        var study: String

        @Option(parsing: .unconditional, help: "Number of array tasks (= shards).")
        var tasks: Int

        @Option(help: "Slurm partition (default: the cluster's default).")
        var partition: String?

        @Option(help: "Time limit per task, HH:MM:SS or D-HH:MM:SS.")
        var time: String?

        @Option(parsing: .unconditional, help: "CPUs per task; each task trains with that many threads (results are bit-identical for the same count).")
        var cpusPerTask: Int = 1

        @Option(help: "Memory per task's node, e.g. 4G.")
        var mem: String?

        @OptionGroup var database: DatabaseOptions

        @OptionGroup var data: DataDirOptions

        @Flag(help: "Do not let tasks download a missing dataset.")
        var noFetch = false

        @Flag(help: "Submit both jobs with sbatch and print their ids.")
        var submit = false

        /// Bad option values are usage errors (exit 64), like every other command's.
        func validate() throws {
            do {
                try SlurmArrayJob.checkOptions(tasks: tasks, cpusPerTask: cpusPerTask, partition: partition, time: time, memory: mem)
            } catch let error as SlurmError {
                throw ValidationError(error.description)
            }
        }

        func run() throws {
            try reportingErrors {
                let definition = try StudyDefinition.load(path: study)
                if let warning = SlurmArrayJob.emptyTasksWarning(trialIds: definition.trials.map(\.id), tasks: tasks) {
                    FileHandle.standardError.write(Data("warning: study \(definition.name): \(warning)\n".utf8))
                }
                let cwd = FileManager.default.currentDirectoryPath
                let absolute = { (p: String) in ((p.hasPrefix("/") ? p : cwd + "/" + p) as NSString).standardizingPath }
                let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                    ?? absolute(CommandLine.arguments[0])
                let job = try SlurmArrayJob(study: definition.name, tasks: tasks, cpusPerTask: cpusPerTask, partition: partition,
                                            time: time, memory: mem, executable: executable,
                                            mergedDatabase: absolute(database.databasePath), dataDir: data.dataDir.map(absolute),
                                            fetchMissing: !noFetch, workingDirectory: cwd)
                try job.write(studySource: definition.sourceText)
                print("wrote \(job.arrayScriptPath) (\(tasks) array task\(tasks == 1 ? "" : "s"), \(cpusPerTask) CPU\(cpusPerTask == 1 ? "" : "s") each)")
                print("wrote \(job.mergeScriptPath)")
                guard submit else {
                    print("submit with:\n  array=$(sbatch --parsable \(job.arrayScriptPath))\n  sbatch --dependency=afterany:${array%%;*} \(job.mergeScriptPath)")
                    print("the merged database will be \(job.mergedDatabase)")
                    return
                }
                let array = try sbatch([job.arrayScriptPath])
                let merge = try sbatch(["--dependency=afterany:\(array)", job.mergeScriptPath])
                print("submitted array job \(array): shard databases \(job.folder)/shard-K-of-\(tasks).sqlite, logs in \(job.logFolder)")
                print("submitted merge job \(merge) (runs after the array ends): merged database \(job.mergedDatabase)")
            }
        }

        /// Runs `sbatch --parsable ARGS` and returns the job id it prints (`123` or `123;cluster`).
        func sbatch(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sbatch", "--parsable"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            do { try process.run() } catch {
                throw SlurmError.submitFailed(script: arguments.last ?? "", status: -1, output: "\(error)")
            }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let id = output.split(whereSeparator: \.isNewline).last.map { String($0.split(separator: ";")[0]) } ?? ""
            guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
                throw SlurmError.submitFailed(script: arguments.last ?? "", status: process.terminationStatus, output: output)
            }
            return id
        }
    }
}
