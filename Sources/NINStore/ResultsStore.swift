import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite results store of nin-study: studies, trials, per-epoch metrics, artifacts, and the
/// environment and dataset identity of every trial.
///
/// One store wraps one `any DatabaseWriter` (GRDB): a `DatabasePool` in WAL mode for a file, a
/// `DatabaseQueue` for an in-memory database. Every method is one short write (or read)
/// transaction, so a process killed at any moment leaves the database at a committed state
/// (SQLite's atomic commit; see `docs/results-schema.md` for the schema and example queries).
/// Accuracies and errors are in percent, times in seconds, sizes in bytes, timestamps ISO-8601 UTC
/// text (``Timestamp``).
///
/// Methods throw ``StoreError``: SQLite failures are wrapped with the operation and file path.
public final class ResultsStore {
    /// The database connection(s); readable directly for ad-hoc queries.
    public let dbWriter: any DatabaseWriter
    /// The database file path, or `:memory:` for an in-memory database.
    public let path: String
    /// The clock that stamps every timestamp the store writes (injectable for tests).
    public let clock: @Sendable () -> Date
    /// Whether this store reads a snapshot and refuses every write (``openReadOnly(path:busyTimeout:)``).
    public internal(set) var isReadOnly = false

    /// Opens (creating if needed) the results database at `path` and applies pending migrations:
    /// the opening of `run` and `merge --into`, the only ones that create a schema.
    ///
    /// A schema is created only in a new file (missing, 0 bytes, or an SQLite database without
    /// tables) and migrated only in a nin-study database (``DatabaseFileKind``, checked through a
    /// read-only connection first); any other file is refused untouched. Creates the parent
    /// folder, opens a `DatabasePool` (WAL journal mode), waits up to `busyTimeout` seconds for
    /// another process's write lock, and runs ``Schema/migrator``.
    /// Opening an up-to-date database changes no data (GRDB's WAL bootstrap does rewrite the file;
    /// ``openExisting(path:busyTimeout:)`` does not).
    /// - Throws: ``StoreError/notAResultsDatabase(path:)``, ``StoreError/newerSchema(path:unknownMigrations:)``,
    ///   ``StoreError/cannotCreateDirectory(path:reason:)`` or
    ///   ``StoreError/database(operation:path:message:)`` (also when `path` is a folder).
    public convenience init(path: String, busyTimeout: TimeInterval = 10,
                            clock: @escaping @Sendable () -> Date = { Date() }) throws {
        try DatabaseFileKind.inspect(path: path, busyTimeout: busyTimeout).requireWritable(path: path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError.cannotCreateDirectory(path: folder, reason: "\(error.localizedDescription)")
            }
        }
        let pool = try ResultsStore.connect(path, busyTimeout: busyTimeout) {
            try DatabasePool(path: $0, configuration: $1)
        }
        try self.init(dbWriter: pool, path: path, clock: clock)
    }

    /// Opens a connection with the settings every file store uses (busy timeout, foreign keys),
    /// wrapping an open failure as ``StoreError/database(operation:path:message:)``.
    private static func connect<Writer>(_ path: String, busyTimeout: TimeInterval,
                                        _ open: (String, Configuration) throws -> Writer) throws -> Writer {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw StoreError.database(operation: "open", path: path,
                                      message: "this is a folder, not a database file (e.g. \((path as NSString).appendingPathComponent("results.sqlite")))")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        // SQLite answers SQLITE_BUSY at once, without the busy handler, when it would otherwise risk a
        // deadlock: several processes opening a new file together race to switch it to WAL
        // (`PRAGMA journal_mode = WAL` needs every other connection out of the way). Such an open
        // is retried with a short random pause until `busyTimeout` has passed.
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try open(path, configuration)
            } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) && Date() < deadline {
                Thread.sleep(forTimeInterval: Double.random(in: 0.01...0.05))
            } catch {
                throw StoreError.database(operation: "open", path: path, message: "\(error)")
            }
        }
    }

    /// Opens an existing results database for writing through one serial connection (a
    /// `DatabaseQueue`) that keeps the file's journal mode: for tools and tests that change a
    /// database in place. The commands that only read use ``openReadOnly(path:busyTimeout:)``.
    ///
    /// Unlike ``init(path:busyTimeout:clock:)`` it creates no folder, and it does not bootstrap a
    /// WAL file: GRDB's `DatabasePool` does that by creating and dropping a table, which rewrites
    /// the file even when nothing else changes. Like it, it refuses a file that is not a
    /// nin-study database (``DatabaseFileKind``) untouched; writes wait up to `busyTimeout`
    /// seconds for another process.
    /// - Throws: ``StoreError/notAResultsDatabase(path:)``, ``StoreError/newerSchema(path:unknownMigrations:)``,
    ///   ``StoreError/database(operation:path:message:)`` if the file is missing or a migration fails.
    public static func openExisting(path: String, busyTimeout: TimeInterval = 10) throws -> ResultsStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.database(operation: "open", path: path, message: "no such file")
        }
        try DatabaseFileKind.inspect(path: path, busyTimeout: busyTimeout).requireWritable(path: path)
        let queue = try connect(path, busyTimeout: busyTimeout) { try DatabaseQueue(path: $0, configuration: $1) }
        return try ResultsStore(dbWriter: queue, path: path)
    }

    /// Wraps an open database (e.g. `DatabaseQueue()` in tests) and applies pending migrations.
    /// - Throws: ``StoreError/database(operation:path:message:)`` if a migration fails.
    public init(dbWriter: any DatabaseWriter, path: String = ":memory:",
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.dbWriter = dbWriter
        self.path = path
        self.clock = clock
        // Several processes opening a new database at once race to apply the same migration (GRDB
        // reads the applied list before its migration's transaction): the loser's transaction fails
        // and rolls back, and trying again finds the winner's migration applied.
        var attempt = 0
        while true {
            do {
                try Schema.migrator.migrate(dbWriter)
                break
            } catch {
                attempt += 1
                if attempt >= 20 {
                    throw StoreError.database(operation: "migrate schema", path: path, message: "\(error)")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// A fresh, empty in-memory store (a `DatabaseQueue`), for tests and dry runs.
    /// - Throws: ``StoreError/database(operation:path:message:)``.
    public static func inMemory(clock: @escaping @Sendable () -> Date = { Date() }) throws -> ResultsStore {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue()
        } catch {
            throw StoreError.database(operation: "open", path: ":memory:", message: "\(error)")
        }
        return try ResultsStore(dbWriter: queue, clock: clock)
    }

    /// Whether process `pid` exists on this host (`kill(pid, 0)`; a process owned by another user counts).
    ///
    /// A zombie (killed, not yet reaped by its parent: state `Z` in `/proc/<pid>/stat` on Linux)
    /// counts as gone, since it will never write again.
    public static func processIsAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Format: pid (comm) state …; comm may contain spaces and parentheses.
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }

    /// The folder that relative artifact paths are relative to: the database file's folder as an
    /// absolute, standardized path, or `nil` for an in-memory store.
    public var artifactBase: String? {
        guard path != ":memory:" else { return nil }
        return ((Self.absolute(path) as NSString).deletingLastPathComponent as NSString).standardizingPath
    }

    /// The form of `filePath` stored in `artifacts.path`: relative to ``artifactBase`` when the file
    /// lies inside that folder (so a results folder can be moved or committed whole), else absolute.
    /// A relative `filePath` is taken relative to the current directory.
    public func storedArtifactPath(_ filePath: String) -> String {
        let absolute = (Self.absolute(filePath) as NSString).standardizingPath
        guard let base = artifactBase else { return absolute }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    /// `path` made absolute against the current directory (not standardized).
    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The absolute path of a stored `artifacts.path` (the inverse of ``storedArtifactPath(_:)``).
    public func resolvedArtifactPath(_ stored: String) -> String {
        guard !stored.hasPrefix("/"), let base = artifactBase else { return stored }
        return (base as NSString).appendingPathComponent(stored)
    }

    /// The current time as stored text.
    var nowText: String { Timestamp.string(from: clock()) }

    /// Runs `body` in one write transaction, wrapping SQLite errors with `operation` and the path.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        if isReadOnly { throw StoreError.readOnly(path: path, operation: operation) }
        do {
            return try dbWriter.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(operation: operation, path: path, message: "\(error)")
        }
    }

    /// Runs `body` in one read transaction, wrapping SQLite errors with `operation` and the path.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try dbWriter.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(operation: operation, path: path, message: "\(error)")
        }
    }
}
