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
enum FileChunks {
    /// Reads a whole file.
    /// - Throws: `DatasetError.missingFile` if absent, `.io` if unreadable.
    static func readAll(_ path: String, expected: String = "a dataset file") throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.missingFile(path: path, expected: expected)
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DatasetError.io(path: path, operation: "read", reason: "\(error.localizedDescription)")
        }
    }

    /// Calls `body` with consecutive chunks of the file (4 MiB each, the last possibly shorter).
    /// - Throws: `DatasetError.missingFile`, `.io`, or whatever `body` throws.
    static func read(_ path: String, chunkSize: Int = 4 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.missingFile(path: path, expected: "a dataset file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatasetError.io(path: path, operation: "open", reason: "permission denied or not a file")
        }
        defer { try? handle.close() }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: chunkSize) ?? Data() } catch {
                throw DatasetError.io(path: path, operation: "read", reason: "\(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { try body($0) }
        }
    }
}
