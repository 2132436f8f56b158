import Foundation
import GRDB

extension ResultsStore {
    /// Opens an existing results database READ-ONLY: the opening of every command that only reads
    /// (`list`, `show`, `report`, `maps`, `merge`'s inputs, `export`, `verify`).
    ///
    /// The file is checked (``DatabaseFileKind/inspect(path:busyTimeout:)``) and then copied, through
    /// one read-only SQLite connection (GRDB `Configuration.readonly`: no migration, no journal-mode
    /// switch), into an in-memory database, the snapshot every query of the returned store reads.
    /// In that snapshot, and only there, an older schema is migrated to this binary's and trials
    /// left `running` by a process that is gone are shown `interrupted` (as `run` would record
    /// them), so a listing never shows a killed run as still running. The file's bytes stay as
    /// they were (SQLite may create the `-wal`/`-shm` files a WAL database's readers need).
    /// Every write to the returned store throws ``StoreError/readOnly(path:operation:)``.
    /// - Parameters:
    ///   - path: The database file; relative paths are relative to the current directory, and
    ///     artifact paths resolve against its folder.
    ///   - busyTimeout: Seconds to wait for another process's lock.
    /// - Throws: ``StoreError/notAResultsDatabase(path:)`` for a file without nin-study's schema
    ///   (not SQLite, an empty or 0-byte file, another program's tables),
    ///   ``StoreError/newerSchema(path:unknownMigrations:)``, or
    ///   ``StoreError/database(operation:path:message:)`` when the file is missing or unreadable.
    public static func openReadOnly(path: String, busyTimeout: TimeInterval = 10) throws -> ResultsStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.database(operation: "open", path: path, message: "no such file")
        }
        switch try DatabaseFileKind.inspect(path: path, busyTimeout: busyTimeout) {
        case .results: break
        case .new, .foreign: throw StoreError.notAResultsDatabase(path: path)
        case .newer(let unknown): throw StoreError.newerSchema(path: path, unknownMigrations: unknown)
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        let snapshot: DatabaseQueue
        do {
            let file = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? file.close() }
            snapshot = try DatabaseQueue()
            try file.backup(to: snapshot)
        } catch {
            throw StoreError.database(operation: "read", path: path, message: "\(error)")
        }
        let store = try ResultsStore(dbWriter: snapshot, path: path)
        try store.recoverAbandonedTrials(currentHost: ProcessInfo.processInfo.hostName)
        store.isReadOnly = true
        return store
    }
}
