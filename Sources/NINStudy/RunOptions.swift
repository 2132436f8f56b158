import Foundation
import NINData

/// Options of `nin-study run`.
public struct RunOptions: Sendable {
    /// The results database (default `results/results.sqlite`).
    public var databasePath: String = "results/results.sqlite"
    /// `--data-dir`; see `DataLocator` for the lookup order.
    public var dataDir: String?
    /// Threads for the engine and BLAS.
    public var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// `--only`: a trial-id prefix, or comma-separated `key=value` filters on swept values.
    public var only: String?
    /// Render confidence maps at the end of each trial.
    public var renderMaps: Bool = true
    /// Download a dataset that is found nowhere (`--no-fetch` turns this off).
    public var fetchMissing: Bool = true
    /// Run trials that failed before again (they are skipped by default: failures are deterministic).
    public var retryFailed: Bool = false
    /// Where per-trial checkpoints go (default: `checkpoints/` beside the database).
    public var checkpointDirectory: String?
    /// Where confidence maps and learning curves go (default: `maps/` beside the database).
    public var mapsDirectory: String?
    /// Cache for fitted preprocessing (default: the per-user cache).
    public var cacheDirectory: String?

    public init() {}

    var resultsFolder: String { (databasePath as NSString).deletingLastPathComponent }
    var checkpoints: CheckpointStore { checkpointDirectory.map(CheckpointStore.init(directory:)) ?? CheckpointStore(databasePath: databasePath) }
    var maps: String { mapsDirectory ?? (resultsFolder as NSString).appendingPathComponent("maps") }
    var cache: String { cacheDirectory ?? (DataLocator().userCacheDirectory as NSString).appendingPathComponent("preprocessing") }
}
