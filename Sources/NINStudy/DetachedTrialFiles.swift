import Foundation
import NINStore

/// Deletes the checkpoints and confidence maps of trials that a changed study definition
/// detached and that no study of the database contains any more, and forgets those files in the
/// database (the trial's configuration, epochs and outcome stay queryable in `trials`).
///
/// Never another database's or another live run's files:
/// - a trial still in a study of this database, or `running`, keeps its files;
/// - when another SQLite database lies in the results folder or beside the checkpoint folder, it
///   shares `checkpoints/` and `maps/` (a trial has the same id in every database), so nothing
///   is deleted;
/// - only files inside the checkpoint folder and the maps folder are deleted; the study's
///   learning curves stay.
struct DetachedTrialFiles {
    var store: ResultsStore
    var databasePath: String
    var checkpoints: CheckpointStore
    var mapsFolder: String

    /// What `remove` did: the files deleted, or why nothing was.
    struct Result: Equatable {
        var removedFiles: [String] = []
        var keptBecause: String?
    }

    /// Deletes the files of `trialIds` that qualify (see the type's rules).
    /// - Throws: `StoreError` when the database cannot be read or written.
    func remove(trialIds: [String]) throws -> Result {
        var result = Result()
        var candidates: [String] = []
        for id in trialIds {
            guard try store.studies(containingTrial: id).isEmpty, try store.trial(id: id)?.status != .running else { continue }
            candidates.append(id)
        }
        guard !candidates.isEmpty else { return result }
        if let other = otherDatabase() {
            result.keptBecause = "another database (\(other)) shares this folder's checkpoints and maps"
            return result
        }
        let fm = FileManager.default
        let roots = [checkpoints.directory, mapsFolder].map { (($0 as NSString).standardizingPath as String) + "/" }
        for id in candidates {
            var paths = Set([checkpoints.url(trialId: id).path])
            for artifact in try store.artifacts(trialId: id) where artifact.kind != .learningCurve {
                paths.insert(store.resolvedArtifactPath(artifact.path))
            }
            for path in paths.sorted() {
                let standard = (path as NSString).standardizingPath
                guard roots.contains(where: { standard.hasPrefix($0) }), fm.fileExists(atPath: standard) else { continue }
                if (try? fm.removeItem(atPath: standard)) != nil { result.removedFiles.append(standard) }
                // The trial's own maps folder (`maps/<study>/<trial-id>/`) goes when it is empty.
                let folder = (standard as NSString).deletingLastPathComponent
                if (folder as NSString).lastPathComponent == id, (try? fm.contentsOfDirectory(atPath: folder))?.isEmpty == true {
                    try? fm.removeItem(atPath: folder)
                }
            }
            try store.removeArtifacts(trialId: id, keeping: [.learningCurve])
        }
        return result
    }

    /// Another SQLite database (by its header) in the database's folder or beside the checkpoint
    /// folder, or nil.
    func otherDatabase() -> String? {
        let own = ((databasePath as NSString).standardizingPath as NSString).lastPathComponent
        let folders = Set([(databasePath as NSString).deletingLastPathComponent, (checkpoints.directory as NSString).deletingLastPathComponent]
            .map { (($0.isEmpty ? "." : $0) as NSString).standardizingPath })
        let header = Data("SQLite format 3\0".utf8)
        for folder in folders.sorted() {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where name != own {
                let path = (folder as NSString).appendingPathComponent(name)
                guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                defer { try? handle.close() }
                if (try? handle.read(upToCount: header.count)) == header { return path }
            }
        }
        return nil
    }
}
