import Foundation
import NINStore

/// Deletes the checkpoints and confidence maps of trials that a changed study definition
/// detached and that no study of the database contains any more, and forgets those files in the
/// database (the trial's configuration, epochs and outcome stay queryable in `trials`).
///
/// Never another database's or another live run's files:
/// - a trial still in a study of this database, or `running`, keeps its files;
/// - only files inside this database's own checkpoint and maps folders (``DatabaseFiles``:
///   `checkpoints/NAME/`, `maps/NAME/`, which no other database uses) are deleted; the study's
///   learning curves stay.
struct DetachedTrialFiles {
    var store: ResultsStore
    var databasePath: String
    var checkpoints: CheckpointStore
    var mapsFolder: String

    /// What `remove` did: the files deleted.
    struct Result: Equatable {
        var removedFiles: [String] = []
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
        let fm = FileManager.default
        // Every path in one normal form (absolute, standardized): with a relative --db the folders
        // are relative while the artifact paths are absolute, and no prefix test would match.
        let roots = [checkpoints.directory, mapsFolder].map { DatabaseFiles.absolute($0) + "/" }
        for id in candidates {
            var paths = Set([checkpoints.url(trialId: id).path])
            for artifact in try store.artifacts(trialId: id) where artifact.kind != .learningCurve {
                paths.insert(store.resolvedArtifactPath(artifact.path))
            }
            for path in paths.sorted() {
                let standard = DatabaseFiles.absolute(path)
                guard roots.contains(where: { standard.hasPrefix($0) }), fm.fileExists(atPath: standard) else { continue }
                if (try? fm.removeItem(atPath: standard)) != nil { result.removedFiles.append(standard) }
                // The trial's own maps folder (`maps/NAME/<study>/<trial-id>/`) goes with what else
                // the renderer put there (the PDF beside each PNG, sheets of other --images).
                let folder = (standard as NSString).deletingLastPathComponent
                if (folder as NSString).lastPathComponent == id, fm.fileExists(atPath: folder) {
                    try? fm.removeItem(atPath: folder)
                }
            }
            try store.removeArtifacts(trialId: id, keeping: [.learningCurve])
        }
        return result
    }
}
