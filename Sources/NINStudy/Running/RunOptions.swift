import Foundation
import NINData
import NINStore

/// Options of `nin-study run`.
public struct RunOptions: Sendable {
    /// The results database (default `results/results.sqlite`).
    public var databasePath: String = DatabaseFiles.defaultDatabasePath
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
    /// Where confidence maps and learning curves go (default: `maps/NAME/` beside the database `NAME.sqlite`).
    public var mapsDirectory: String?
    /// Cache for fitted preprocessing (default: the per-user cache).
    public var cacheDirectory: String?
    /// `--shard K/N`: run only the trials of this shard (``Shard``).
    public var shard: Shard?
    /// `--exclusive`: this run is the database's only writer (a Slurm array task on its shard's
    /// database), so every claim left `running` is an earlier attempt's and is taken over at once.
    public var exclusive: Bool = false
    /// The network filesystem holding a path, if any (``NetworkFilesystem/holding(_:)``;
    /// injectable for tests): `run` warns about a database on one unless it is `exclusive`.
    public var networkFilesystem: @Sendable (String) -> NetworkFilesystem? = { NetworkFilesystem.holding($0) }

    public init() {}

    /// Where the database's checkpoints and maps go (``DatabaseFiles``).
    var files: DatabaseFiles { DatabaseFiles(databasePath: databasePath) }
    var checkpoints: CheckpointStore { CheckpointStore(databasePath: databasePath) }
    var maps: String { mapsDirectory ?? files.mapsFolder }
    var cache: String { cacheDirectory ?? (DataLocator().userCacheDirectory as NSString).appendingPathComponent("preprocessing") }
}
