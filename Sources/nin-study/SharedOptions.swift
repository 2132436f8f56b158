import ArgumentParser
import Foundation
import NINStore

/// `--db`: the results database, for the commands that read or write it.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "The results database.")
    var databasePath: String = DatabaseFiles.defaultDatabasePath
}

/// `--data-dir`: the folder searched first for the datasets (then $NIN_DATA_DIR,
/// ~/.cache/nin-study/data, /usr/share/datasets). It must exist: a typo must not start a
/// download into a new folder.
struct DataDirOptions: ParsableArguments {
    @Option(help: "Folder holding the datasets; searched first, then $NIN_DATA_DIR, ~/.cache/nin-study/data and /usr/share/datasets.")
    var dataDir: String?

    func validate() throws {
        guard let dataDir else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data-dir \(dataDir) is not an existing folder")
        }
    }
}

/// `--threads`: workers for the engine and BLAS (default: the number of cores). Results are
/// bit-identical for the same thread count.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for the engine and BLAS (the default is the number of cores). Results are bit-identical for the same thread count.")
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, found \(threads)") }
    }

    /// Warns on standard error when more threads than cores are asked for.
    func warnIfOversubscribed() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if threads > cores {
            FileHandle.standardError.write(Data("warning: --threads \(threads) is more than the \(cores) cores of this machine; expect it to be slower\n".utf8))
        }
    }
}
