import ArgumentParser
import Foundation
import NINStudy

extension NINStudyCommand {
    struct VerifyTrial: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Re-run a recorded trial from its stored configuration and compare it with the record.",
            discussion: """
            The trial is trained again by the code `run` uses, into a scratch database in a temporary \
            folder (removed afterwards, also after an error or a signal); the database given is only \
            read. Every epoch's metrics are compared exactly, then the final checkpoint's SHA-256, and \
            the environment fields that differ from the recorded run's are listed. Training stops at \
            the first epoch that differs. The checkpoint is compared only when every recorded epoch is \
            re-run (the record keeps the checkpoint after its last epoch). \
            Exit status: 0 when identical; 1 when different; 2 when the dataset files differ from the \
            recorded SHA-256 (named) or for other bad input (unknown trial, unreadable database, a \
            trial still running or never trained); 3 when a signal stopped it before the end; 64 for \
            invalid command-line options.
            """)

        @Argument(help: "A trial id or a unique prefix of one.") var trial: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var data: DataDirOptions
        @Option(parsing: .unconditional, help: "Threads for the re-run (default: the thread count the trial was recorded with; results are bit-identical only at the same count).")
        var threads: Int?
        @Option(parsing: .unconditional, help: "Compare only the first K epochs, a spot check of a long trial (the checkpoint is then not compared).")
        var epochs: Int?

        func validate() throws {
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, found \(threads)") }
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, found \(epochs)") }
        }

        func run() throws {
            var verifier = TrialVerifier(databasePath: database.databasePath)
            verifier.dataDir = data.dataDir
            verifier.threads = threads
            verifier.epochs = epochs
            let scratch = try reportingErrors { try ScratchFolder.create() }
            let stop = StopFlag()
            let signals = StopSignals(stop, beforeForcedExit: { scratch.remove() })
            defer {
                signals.cancel()
                scratch.remove()
            }
            let verification = try reportingErrors { () throws -> TrialVerification in
                do {
                    return try verifier.verify(trial: trial, in: scratch, reporter: ConsoleReporter(), stop: stop)
                } catch VerifyError.interrupted(let id) {
                    FileHandle.standardError.write(Data("error: \(VerifyError.interrupted(trial: id))\n".utf8))
                    throw ExitCode(3)
                }
            }
            print(verification.text)
            if !verification.identical { throw ExitCode(1) }
        }
    }
}
