import Foundation
import GRDB

/// What a file offered as a results database holds, judged without writing to it.
///
/// The one check every opening makes before touching a file: the read-only commands read only
/// ``results(applied:)`` files, and `run` and `merge --into` create a schema only in a
/// ``new`` file (missing, 0 bytes, or an SQLite database without any table or view, or with
/// only an empty `grdb_migrations` table).
public enum DatabaseFileKind: Equatable, Sendable {
    /// No file, a 0-byte file, an SQLite database with no table or view, or one whose only table
    /// is an empty `grdb_migrations`: a schema may be created. The last is what another process
    /// creating the schema leaves visible between GRDB's `CREATE TABLE grdb_migrations` (outside
    /// any transaction) and the first migration's commit.
    case new
    /// A nin-study results database; `applied` lists its applied migrations (all known to this
    /// binary, possibly fewer than ``Schema/migrationNames``: an older schema).
    case results(applied: [String])
    /// A nin-study results database from a newer nin-study: `unknown` are the migrations it has
    /// that this binary does not know.
    case newer(unknown: [String])
    /// Anything else: not SQLite, or SQLite with tables that are not nin-study's (e.g. Optuna's).
    case foreign

    /// The 16 bytes every SQLite 3 database file starts with (sqlite.org/fileformat.html, 1.3).
    static let sqliteHeader = Data("SQLite format 3\u{0}".utf8)

    /// Inspects the file at `path` through a read-only connection (no journal-mode switch, no
    /// migration: the file's bytes stay as they are).
    /// - Throws: ``StoreError/database(operation:path:message:)`` when the file cannot be read
    ///   (permissions, a lock held past `busyTimeout` seconds), or `path` is a folder.
    public static func inspect(path: String, busyTimeout: TimeInterval = 10) throws -> DatabaseFileKind {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return .new }
        if isFolder.boolValue {
            throw StoreError.database(operation: "open", path: path,
                                      message: "this is a folder, not a database file (e.g. \((path as NSString).appendingPathComponent("results.sqlite")))")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.database(operation: "open", path: path, message: "the file cannot be read")
        }
        let head = handle.readData(ofLength: sqliteHeader.count)
        try? handle.close()
        if head.isEmpty { return .new }
        guard head == sqliteHeader else { return .foreign }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                let names = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"))
                if names.isEmpty { return .new }
                if names == ["grdb_migrations"],
                   try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") == 0 { return .new }
                guard names.isSuperset(of: ["grdb_migrations", "studies", "trials"]) else { return .foreign }
                let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                let unknown = applied.filter { !Schema.migrationNames.contains($0) }
                return unknown.isEmpty ? .results(applied: applied) : .newer(unknown: unknown.sorted())
            }
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            return .foreign
        } catch {
            throw StoreError.database(operation: "inspect", path: path, message: "\(error)")
        }
    }

    /// Throws unless a schema may be created or migrated in this file (``new`` or ``results(applied:)``).
    /// - Throws: ``StoreError/notAResultsDatabase(path:)``, ``StoreError/newerSchema(path:unknownMigrations:)``.
    func requireWritable(path: String) throws {
        switch self {
        case .new, .results: return
        case .foreign: throw StoreError.notAResultsDatabase(path: path)
        case .newer(let unknown): throw StoreError.newerSchema(path: path, unknownMigrations: unknown)
        }
    }
}
