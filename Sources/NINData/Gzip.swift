import CZlib
import Foundation

/// A streaming gzip (RFC 1952) decoder over zlib's `inflate`.
///
/// Feed compressed chunks with `feed(_:)`; decompressed bytes are handed to the sink as they
/// are produced, so a large archive never has to be held decompressed in memory. Concatenated
/// gzip members (as `gzip` itself allows) are decoded one after another. `finish()` throws if
/// the stream ended in the middle of a member. zlib is asked to auto-detect the header
/// (`windowBits` 15 + 32), so a raw zlib stream is accepted too.
final class GzipInflater {
    private var stream = z_stream()
    private var initialized = false
    private var memberOpen = false
    private var output = [UInt8](repeating: 0, count: 1 << 18)
    private let path: String
    /// Receives each run of decompressed bytes.
    private let sink: (UnsafeRawBufferPointer) throws -> Void

    /// - Parameters:
    ///   - path: the file being decoded (named in errors).
    ///   - sink: receives decompressed bytes in order.
    /// - Throws: `DatasetError.badGzip` if zlib cannot be initialised.
    init(path: String, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        self.path = path
        self.sink = sink
        let status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw DatasetError.badGzip(path: path, reason: "inflateInit2 returned \(status)") }
        initialized = true
    }

    deinit { if initialized { inflateEnd(&stream) } }

    /// Decodes one chunk of compressed input.
    /// - Throws: `DatasetError.badGzip` on a corrupt stream (bad header, bad data, CRC error),
    ///   or whatever the sink throws.
    func feed(_ chunk: UnsafeRawBufferPointer) throws {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(chunk.count)
        while stream.avail_in > 0 {
            if !memberOpen {
                // Between members: skip zero padding some tools append after the last member.
                if stream.next_in.pointee == 0 {
                    stream.next_in += 1; stream.avail_in -= 1; continue
                }
                memberOpen = true
            }
            let status: Int32 = try output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                let produced = out.count - Int(stream.avail_out)
                if produced > 0 { try sink(UnsafeRawBufferPointer(start: out.baseAddress, count: produced)) }
                return status
            }
            switch status {
            case Z_OK, Z_BUF_ERROR:
                if status == Z_BUF_ERROR && stream.avail_in > 0 {
                    throw DatasetError.badGzip(path: path, reason: "zlib made no progress")
                }
            case Z_STREAM_END:
                memberOpen = false
                inflateReset(&stream)
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw DatasetError.badGzip(path: path, reason: message)
            }
        }
    }

    /// Declares the end of input.
    /// - Throws: `DatasetError.badGzip` if a member was left unfinished (truncated stream).
    func finish() throws {
        if memberOpen {
            throw DatasetError.badGzip(path: path, reason: "unexpected end of compressed data (truncated gzip stream)")
        }
    }
}

/// gzip helpers over whole buffers.
enum Gzip {
    /// Whether `data` starts with the gzip magic bytes 1f 8b.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Decompresses a whole gzip buffer.
    /// - Throws: `DatasetError.badGzip` naming `path`.
    static func decompress(_ data: Data, path: String) throws -> Data {
        var out = Data()
        out.reserveCapacity(data.count * 4)
        let inflater = try GzipInflater(path: path) { out.append(contentsOf: $0) }
        try data.withUnsafeBytes { try inflater.feed($0) }
        try inflater.finish()
        if out.isEmpty { throw DatasetError.badGzip(path: path, reason: "no data decoded") }
        return out
    }

    /// Compresses `data` as a single gzip member (used to write test fixtures and caches).
    static func compress(_ data: Data, level: Int32 = 6) -> Data {
        var stream = z_stream()
        // windowBits 15 + 16 asks deflate for a gzip wrapper.
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            var result: Int32 = Z_OK
            repeat {
                buffer.withUnsafeMutableBufferPointer { b in
                    stream.next_out = b.baseAddress
                    stream.avail_out = uInt(b.count)
                    result = deflate(&stream, Z_FINISH)
                    out.append(b.baseAddress!, count: b.count - Int(stream.avail_out))
                }
            } while result == Z_OK
            precondition(result == Z_STREAM_END, "deflate failed: \(result)")
        }
        return out
    }
}
