import Foundation

/// A folder a command writes its output into (reports, confidence-map sheets), created with its
/// missing parents.
public enum OutputFolder {
    /// Creates `url` and its missing parents; an existing folder is fine.
    /// - Throws: ``OutputFolderError/notAFolder(path:requested:)`` when `url` or one of its
    ///   parents exists as something other than a folder (a file, a FIFO), naming which;
    ///   ``OutputFolderError/cannotCreate(path:reason:)`` for any other failure (permissions, a
    ///   full disk).
    public static func create(_ url: URL) throws {
        var probe = url.standardizedFileURL
        while probe.path != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: probe.path, isDirectory: &isFolder) {
                if !isFolder.boolValue { throw OutputFolderError.notAFolder(path: probe.path, requested: url.path) }
                break
            }
            probe.deleteLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw OutputFolderError.cannotCreate(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// Why an output folder cannot be made.
public enum OutputFolderError: Error, Equatable, CustomStringConvertible {
    /// `path` (the requested folder or one of its parents) exists and is not a folder.
    case notAFolder(path: String, requested: String)
    /// The folder could not be created.
    case cannotCreate(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notAFolder(path, requested) where path == requested:
            return "cannot write into \(path): it is a file, not a folder (pass a folder)"
        case let .notAFolder(path, requested):
            return "cannot write into \(requested): \(path) is a file, not a folder (pass a folder)"
        case let .cannotCreate(path, reason):
            return "cannot create the folder \(path): \(reason)"
        }
    }
}
