import ArgumentParser
import Foundation
import NINStore
import NINStudy

extension NINStudyCommand {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fold results databases (e.g. the shards of a study) into one.",
            discussion: """
            Studies, trials, epochs, artifacts (paths rewritten to stay valid from the new database), \
            environments and datasets. Per trial the version furthest along wins (finished, failed, more \
            epochs); unfinished trials arrive interrupted with their checkpoints, so `run` on the merged \
            database resumes them. Merging again changes nothing. A trial finished in two databases with \
            different metrics is a conflict: reported with both values and both environments, the \
            destination's version kept. Each study of the inputs is then checked against its definition \
            (recorded in every shard): every trial it defines that the merged database lacks or holds \
            unfinished is listed, by shard when the inputs are named shard-K-of-N.sqlite (as `nin-study \
            slurm` names them), and the merge ends with status 1. Exit status: 0 merged, every study \
            complete (each trial finished or failed); 1 merged with conflicts, or some study incomplete, \
            or no input holds a study; 2 bad input.
            """)

        @Option(name: .customLong("into"), help: "The merged database (created when missing).")
        var into: String

        @Argument(help: "The databases to merge into it, in order.")
        var sources: [String]

        func validate() throws {
            guard !sources.isEmpty else { throw ValidationError("give at least one database to merge") }
        }

        func run() throws {
            let (reports, completeness) = try reportingErrors { () -> ([MergeReport], [StudyCompleteness]) in
                // Every input is opened before the output is created: a bad input leaves no new file.
                let inputs = try sources.map { try openExisting($0, hint: "check the path of this database to merge") }
                let destination = try ResultsStore(path: into)
                let reports = try inputs.map { try destination.merge(from: $0) }
                var studies: [String] = []
                for input in inputs { for s in try input.studies().map(\.name) where !studies.contains(s) { studies.append(s) } }
                return (reports, try studies.map { try StudyCompleteness.check(store: destination, study: $0) })
            }
            for r in reports {
                print("\(r.source): \(r.added.count) added, \(r.updated.count) updated, \(r.unchanged.count) unchanged, "
                      + "\(r.conflicts.count) conflict\(r.conflicts.count == 1 ? "" : "s"), \(r.checkpointsCopied.count) checkpoint\(r.checkpointsCopied.count == 1 ? "" : "s") copied")
                for id in r.checkpointsUnreachable {
                    print("  \(id.prefix(10)): no checkpoint found beside \(r.source); an unfinished trial trains again from epoch 1")
                }
                for c in r.conflicts { print("  \(c)") }
            }
            print("merged database: \(into)")
            let shards = Self.shardCount(sources)
            for c in completeness {
                print(c.summary + (c.isComplete ? "" : "; not ended:"))
                for line in c.gapLines(shards: shards) { print(line) }
            }
            if completeness.isEmpty {
                FileHandle.standardError.write(Data("error: no input holds a study (each shard's task ended before registering its trials: see its log)\n".utf8))
            }
            if reports.contains(where: { !$0.conflicts.isEmpty }) || completeness.isEmpty || completeness.contains(where: { !$0.isComplete }) {
                throw ExitCode(1)
            }
        }

        /// N when every input is named `shard-K-of-N.sqlite` with one N (as `nin-study slurm`
        /// names them), else nil.
        static func shardCount(_ sources: [String]) -> Int? {
            let counts = Set(sources.map { path -> Int? in
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                let parts = name.split(separator: "-")
                guard parts.count == 4, parts[0] == "shard", parts[2] == "of", Int(parts[1]) != nil, let n = Int(parts[3]), n >= 1 else { return nil }
                return n
            })
            guard counts.count == 1, let n = counts.first else { return nil }
            return n
        }
    }
}
