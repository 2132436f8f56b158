import Foundation
import NINStore

/// A throw-away folder for one process (`nin-study verify`'s scratch database and checkpoints):
/// `<parent>/nin-study-verify-<pid>-<uuid>/`, removed by ``remove()``. A folder left behind by a
/// process that was killed outright (SIGKILL) is removed by the next one, which knows the owner is
/// gone from the process id in its name.
public struct ScratchFolder: Sendable {
    /// The folder's path.
    public let path: String
    static let prefix = "nin-study-verify-"

    /// Creates a new folder in `parent` (default: the system's temporary folder), first removing
    /// the folders of this kind whose process is gone.
    /// - Throws: `CocoaError` when the folder cannot be created.
    public static func create(in parent: String? = nil) throws -> ScratchFolder {
        let parent = parent ?? FileManager.default.temporaryDirectory.path
        removeAbandoned(in: parent)
        let pid = ProcessInfo.processInfo.processIdentifier
        let path = (parent as NSString).appendingPathComponent("\(prefix)\(pid)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return ScratchFolder(path: path)
    }

    /// Removes the folder and everything in it (idempotent).
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes the scratch folders in `parent` whose owning process no longer exists.
    /// - Returns: the folders removed.
    @discardableResult
    static func removeAbandoned(in parent: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }),
                  pid != ProcessInfo.processInfo.processIdentifier, !ResultsStore.processIsAlive(pid) else { return nil }
            let path = (parent as NSString).appendingPathComponent(name)
            return (try? FileManager.default.removeItem(atPath: path)) != nil ? path : nil
        }
    }
}
