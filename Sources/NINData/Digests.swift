import Crypto
import Foundation

/// SHA-256 and MD5 digests of files and buffers (swift-crypto).
enum Digests {
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }
    static func md5(_ data: Data) -> String { hex(Insecure.MD5.hash(data: data)) }

    /// Streams a file through SHA-256 and MD5 in 4 MiB chunks.
    /// - Returns: byte count, SHA-256 hex, MD5 hex.
    /// - Throws: `DatasetError.missingFile` or `.io`.
    static func file(_ path: String) throws -> (bytes: Int, sha256: String, md5: String) {
        var sha = SHA256()
        var md5 = Insecure.MD5()
        var bytes = 0
        try FileChunks.read(path) { chunk in
            sha.update(bufferPointer: chunk)
            md5.update(bufferPointer: chunk)
            bytes += chunk.count
        }
        return (bytes, hex(sha.finalize()), hex(md5.finalize()))
    }
}

/// Reading files whole or in chunks, with `DatasetError`s that name the path.
///
/// Only regular files are read (symbolic links are followed): a directory, FIFO, socket or
/// device in place of a dataset file is refused before it is opened, so a named pipe or a link
/// to `/dev/zero` cannot block or feed endless bytes. Failures carry the system's own reason
/// (`strerror`), never Foundation's generic "error 256".
enum FileChunks {
    /// Opens a regular file for reading.
    /// - Returns: the descriptor (the caller closes it) and the size in bytes.
    /// - Throws: `DatasetError.missingFile` if absent (or a dangling link), `.io` naming what the
    ///   path is when it is not a regular file, or the system's reason when it cannot be opened.
    static func openRegularFile(_ path: String, expected: String) throws -> (descriptor: Int32, bytes: Int) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw DatasetError.missingFile(path: path, expected: expected) }
            throw DatasetError.io(path: path, operation: "read", reason: String(cString: strerror(errno)))
        }
        let kind: String?
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = nil
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        if let kind {
            throw DatasetError.io(path: path, operation: "read",
                                  reason: "it is \(kind), not a regular file; expected \(expected)")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DatasetError.io(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        return (descriptor, Int(info.st_size))
    }

    /// Reads a whole regular file.
    /// - Throws: `DatasetError.missingFile` if absent, `.io` if not a regular file or unreadable.
    static func readAll(_ path: String, expected: String = "a dataset file") throws -> Data {
        let (descriptor, bytes) = try openRegularFile(path, expected: expected)
        defer { close(descriptor) }
        var data = Data(count: bytes)
        var filled = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < bytes {
                let n = systemRead(descriptor, buffer.baseAddress! + filled, bytes - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError.io(path: path, operation: "read", reason: String(cString: strerror(errno)))
                }
                if n == 0 { break } // the file shrank while being read
                filled += n
            }
        }
        if filled < bytes { data.removeSubrange(filled...) }
        return data
    }

    /// Calls `body` with consecutive chunks of a regular file (4 MiB each, the last possibly shorter).
    /// - Throws: `DatasetError.missingFile`, `.io`, or whatever `body` throws.
    static func read(_ path: String, chunkSize: Int = 4 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (descriptor, _) = try openRegularFile(path, expected: "a dataset file")
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError.io(path: path, operation: "read", reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Size in bytes of the file a path names, following symbolic links (nil when absent).
    static func size(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }
}

/// `read(2)` under a name the `FileChunks.read` method does not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
