import ArgumentParser
import Foundation
import NINStore

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
            destination's version kept. Exit status: 0 merged; 1 merged with conflicts; 2 bad input.
            """)

        @Option(name: .customLong("into"), help: "The merged database (created when missing).")
        var into: String

        @Argument(help: "The databases to merge into it, in order.")
        var sources: [String]

        func validate() throws {
            guard !sources.isEmpty else { throw ValidationError("give at least one database to merge") }
        }

        func run() throws {
            let reports = try reportingErrors { () -> [MergeReport] in
                // Every input is opened before the output is created: a bad input leaves no new file.
                let inputs = try sources.map { try openExisting($0, hint: "check the path of this database to merge") }
                let destination = try ResultsStore(path: into)
                return try inputs.map { try destination.merge(from: $0) }
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
            if reports.contains(where: { !$0.conflicts.isEmpty }) { throw ExitCode(1) }
        }
    }
}
