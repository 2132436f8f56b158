import Foundation

/// Writes an export atomically: the bytes go to a temporary file in the destination's folder,
/// which is then renamed over the destination, so a failure or a kill leaves either the old file
/// or the complete new one, never a partial file.
public enum ExportFile {
    /// Checks the destination: its folder must exist and nothing but a regular file may be at
    /// the path (a regular file there is replaced).
    /// - Throws: `ExportError.missingFolder`, `.notAFile`.
    public static func checkDestination(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExportError.missingFolder(path: path, folder: folder)
        }
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
           type != .typeRegular {
            throw ExportError.notAFile(path: path)
        }
    }

    /// Writes `data` to `path` through a temporary file and a rename.
    /// - Throws: as `checkDestination`, and `ExportError.io` when writing or renaming fails (the
    ///   temporary file is removed).
    public static func write(_ data: Data, to path: String) throws {
        try checkDestination(path)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw ExportError.io(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch let error as ExportError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ExportError.io(path: path, reason: error.localizedDescription)
        }
    }
}
