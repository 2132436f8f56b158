import Foundation

/// Where the files of one results database live: the one owner of the path convention.
///
/// A database `FOLDER/NAME.sqlite` keeps its checkpoints in `FOLDER/checkpoints/NAME/` and its
/// confidence maps and learning curves in `FOLDER/maps/NAME/` and its reports in
/// `FOLDER/reports/NAME/`, so two databases in one folder
/// (two shards, a merged database beside its inputs) never overwrite each other's files. `NAME`
/// is the database file name without its last extension (`results` for `results.sqlite`).
public struct DatabaseFiles: Equatable, Sendable {
    /// The database file path, as given (absolute or relative to the current directory).
    public let databasePath: String

    public init(databasePath: String) { self.databasePath = databasePath }

    /// The results database the commands use without `--db`: `results/results.sqlite`.
    public static let defaultDatabasePath = "results/results.sqlite"

    /// The extension of a checkpoint file: `ckpt`.
    public static let checkpointExtension = "ckpt"

    /// `<trial-id>.ckpt`: the name of a trial's checkpoint file in its checkpoint folder.
    public static func checkpointFileName(trialId: String) -> String { "\(trialId).\(checkpointExtension)" }

    /// The folder holding the database (`.` for a bare file name).
    public var folder: String {
        let f = (databasePath as NSString).deletingLastPathComponent
        return f.isEmpty ? "." : f
    }

    /// The database file name without its last extension, e.g. `shard-1-of-4` for `shard-1-of-4.sqlite`.
    public var name: String {
        let file = (databasePath as NSString).lastPathComponent
        let stem = (file as NSString).deletingPathExtension
        return stem.isEmpty ? file : stem
    }

    /// `FOLDER/checkpoints/NAME`: the end-of-epoch checkpoints of this database's trials.
    public var checkpointFolder: String {
        ((folder as NSString).appendingPathComponent("checkpoints") as NSString).appendingPathComponent(name)
    }

    /// `FOLDER/checkpoints/NAME/<trial-id>.ckpt`: the checkpoint of one trial.
    public func checkpointPath(trialId: String) -> String {
        (checkpointFolder as NSString).appendingPathComponent(Self.checkpointFileName(trialId: trialId))
    }

    /// `FOLDER/maps/NAME`: confidence maps (`<study>/<trial-id>/…`) and learning curves (`<study>/…`).
    public var mapsFolder: String {
        ((folder as NSString).appendingPathComponent("maps") as NSString).appendingPathComponent(name)
    }

    /// `FOLDER/reports/NAME`: `nin-study report`'s pages and figures, one folder per study.
    public var reportsFolder: String {
        ((folder as NSString).appendingPathComponent("reports") as NSString).appendingPathComponent(name)
    }
}

extension DatabaseFiles {
    /// `path` as an absolute, standardized path (`..`, `.` and doubled slashes resolved): a
    /// relative path is taken relative to the current directory. The one normal form in which
    /// file paths are compared (a relative folder is never a prefix of an absolute file path).
    public static func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (joined as NSString).standardizingPath
    }
}

extension ResultsStore {
    /// The file layout of this database (``DatabaseFiles``).
    public var files: DatabaseFiles { DatabaseFiles(databasePath: path) }
}
