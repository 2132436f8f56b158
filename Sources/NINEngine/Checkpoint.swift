import Foundation

/// A failure reading, writing or restoring a checkpoint, with the file and what was expected.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file ended early: `needed` more bytes at byte `offset` than the `available`.
    case truncated(path: String, offset: Int, needed: Int, available: Int)
    /// The first 8 bytes are not `NINCKPT\0`.
    case badMagic(path: String, found: [UInt8])
    /// A format version this build cannot read.
    case unsupportedVersion(path: String, expected: UInt32, found: UInt32)
    /// The trailing FNV-1a 64 checksum does not match the content.
    case checksumMismatch(path: String, expected: UInt64, found: UInt64)
    /// The embedded model description JSON does not decode.
    case invalidDescription(path: String, reason: String)
    /// A length field is impossible (negative, overflowing or inconsistent).
    case corrupt(path: String, reason: String)
    /// The checkpoint does not fit the network it is restored into.
    case mismatch(what: String, expected: String, found: String)
    /// Reading or writing the file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .truncated(p, o, n, a): return "\(p): checkpoint truncated at byte \(o): needed \(n) bytes, \(a) available"
        case let .badMagic(p, f): return "\(p): not a nin-study checkpoint (magic \(f), expected \"NINCKPT\\0\")"
        case let .unsupportedVersion(p, e, f): return "\(p): checkpoint format version \(f), expected \(e)"
        case let .checksumMismatch(p, e, f):
            return "\(p): checkpoint corrupt: checksum \(String(f, radix: 16)), expected \(String(e, radix: 16))"
        case let .invalidDescription(p, r): return "\(p): checkpoint model description does not decode: \(r)"
        case let .corrupt(p, r): return "\(p): checkpoint corrupt: \(r)"
        case let .mismatch(w, e, f): return "checkpoint does not fit the network: \(w) expected \(e), found \(f)"
        case let .io(p, r): return "\(p): \(r)"
        }
    }
}

/// A complete training state: model description, parameters, SGD state and generator state,
/// plus opaque runner metadata (epoch, schedule) — everything needed to resume bit-exactly.
///
/// Binary format, version 1, all integers and floats **little-endian**:
///
///     offset  size   field
///     0       8      magic "NINCKPT\0"
///     8       4      UInt32 format version (1)
///     12      8      UInt64 D, then D bytes: ModelDescription JSON (UTF-8, sorted keys)
///             8      UInt64 P, then P × Float32: parameters (layers in forward order, weights then bias)
///             4+4    Float32 momentum, Float32 weight decay
///             8      UInt64 V (0 or P), then V × Float32: momentum buffers
///             8      UInt64 SGD step count
///             32     4 × UInt64: xoshiro256** generator state
///             8      UInt64 M, then M bytes: metadata (opaque to the engine)
///             8      UInt64 FNV-1a 64 checksum of every preceding byte
public struct Checkpoint: Equatable, Sendable {
    /// The format version written by this build.
    public static let formatVersion: UInt32 = 1
    static let magic: [UInt8] = Array("NINCKPT\0".utf8)

    /// The model the parameters belong to.
    public var description: ModelDescription
    /// All parameters in the network's storage order.
    public var parameters: [Float]
    /// The optimizer state (momentum buffers and step count).
    public var optimizer: SGD
    /// The generator state after the step checkpointed.
    public var generator: SeededGenerator
    /// Opaque bytes for the runner (epoch, schedule state, ...).
    public var metadata: Data

    /// A checkpoint from its parts.
    public init(description: ModelDescription, parameters: [Float], optimizer: SGD,
                generator: SeededGenerator, metadata: Data = Data()) {
        self.description = description
        self.parameters = parameters
        self.optimizer = optimizer
        self.generator = generator
        self.metadata = metadata
    }

    /// The checkpoint in the binary format above.
    public func serialized() -> Data {
        var out = Data()
        out.append(contentsOf: Checkpoint.magic)
        appendLE(&out, Checkpoint.formatVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(description)) ?? Data() // encoding a plain struct cannot fail
        appendLE(&out, UInt64(json.count))
        out.append(json)
        appendFloats(&out, parameters)
        appendLE(&out, optimizer.momentum.bitPattern)
        appendLE(&out, optimizer.weightDecay.bitPattern)
        appendFloats(&out, optimizer.velocity)
        appendLE(&out, UInt64(optimizer.step))
        for word in generator.state { appendLE(&out, word) }
        appendLE(&out, UInt64(metadata.count))
        out.append(metadata)
        appendLE(&out, fnv1a64(out))
        return out
    }

    /// Parses the binary format; `path` only labels errors.
    /// - Throws: `CheckpointError` (truncated, bad magic, version, checksum, corrupt lengths,
    ///   undecodable description).
    public init(data: Data, path: String = "<memory>") throws {
        let bytes = [UInt8](data)
        var r = ByteReader(bytes: bytes, path: path)
        let magic = try r.take(8)
        guard Array(magic) == Checkpoint.magic else { throw CheckpointError.badMagic(path: path, found: Array(magic)) }
        let version: UInt32 = try r.read()
        guard version == Checkpoint.formatVersion else {
            throw CheckpointError.unsupportedVersion(path: path, expected: Checkpoint.formatVersion, found: version)
        }
        // Every length is bounds-checked against the bytes before the checksum, so a short file
        // reports `truncated`; any other damage reports the checksum mismatch first.
        guard bytes.count >= 12 + 8 else {
            throw CheckpointError.truncated(path: path, offset: 12, needed: 8, available: bytes.count - 12)
        }
        let body = bytes.count - 8
        r.limit = body
        var stored: UInt64 = 0
        for i in 0..<8 { stored |= UInt64(bytes[body + i]) << (8 * UInt64(i)) }
        let computed = fnv1a64(bytes[0..<body])
        let parsed: Result<Checkpoint, Error>
        do { parsed = .success(try Checkpoint.parseBody(&r)) } catch { parsed = .failure(error) }
        if case .failure(let error) = parsed, case CheckpointError.truncated = error { throw error }
        guard stored == computed else { throw CheckpointError.checksumMismatch(path: path, expected: stored, found: computed) }
        self = try parsed.get()
    }

    private static func parseBody(_ r: inout ByteReader) throws -> Checkpoint {
        let path = r.path
        let json = try r.take(try r.count())
        let description: ModelDescription
        do {
            description = try JSONDecoder().decode(ModelDescription.self, from: Data(json))
        } catch {
            throw CheckpointError.invalidDescription(path: path, reason: "\(error)")
        }
        let parameters = try r.floats()
        var sgd = SGD(momentum: Float(bitPattern: try r.read()), weightDecay: Float(bitPattern: try r.read()))
        sgd.velocity = try r.floats()
        guard sgd.velocity.isEmpty || sgd.velocity.count == parameters.count else {
            throw CheckpointError.corrupt(path: path, reason: "\(sgd.velocity.count) momentum values for \(parameters.count) parameters")
        }
        let step: UInt64 = try r.read()
        guard step <= UInt64(Int.max) else { throw CheckpointError.corrupt(path: path, reason: "step count \(step)") }
        sgd.step = Int(step)
        var state: [UInt64] = []
        for _ in 0..<4 { state.append(try r.read()) }
        guard state.contains(where: { $0 != 0 }) else {
            throw CheckpointError.corrupt(path: path, reason: "all-zero generator state")
        }
        let metadata = Data(try r.take(try r.count()))
        guard r.offset == r.limit else {
            throw CheckpointError.corrupt(path: path, reason: "\(r.limit - r.offset) unexpected bytes before the checksum")
        }
        return Checkpoint(description: description, parameters: parameters, optimizer: sgd,
                          generator: SeededGenerator(state: state), metadata: metadata)
    }

    /// The temporary file `write(to:)` fills before renaming it over `url`: `.<name>.tmp-<pid>` in
    /// the same folder. A kill between the write and the rename leaves it behind.
    public static func temporaryURL(for url: URL, pid: Int32) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(pid)")
    }

    /// The checkpoint file name and writer's process id of a temporary file name made by
    /// `temporaryURL(for:pid:)` (`.abc.ckpt.tmp-123` → `("abc.ckpt", 123)`), or nil for other names.
    public static func parseTemporaryName(_ name: String) -> (target: String, pid: Int32)? {
        guard name.hasPrefix("."), let r = name.range(of: ".tmp-", options: .backwards),
              let pid = Int32(name[r.upperBound...]), pid > 0 else { return nil }
        let target = String(name[name.index(after: name.startIndex)..<r.lowerBound])
        return target.isEmpty ? nil : (target, pid)
    }

    /// Writes the checkpoint atomically: a temporary file in the same folder, `fsync`, then
    /// `rename` over `url`, so a crash leaves either the old or the new checkpoint.
    /// - Throws: `CheckpointError.io` naming the path.
    public func write(to url: URL) throws {
        let data = serialized()
        let tmp = Self.temporaryURL(for: url, pid: getpid())
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: tmp.path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        let writeErr = errno
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(tmp.path)
            throw CheckpointError.io(path: tmp.path, reason: "write/fsync failed: \(String(cString: strerror(writeErr)))")
        }
        guard rename(tmp.path, url.path) == 0 else {
            let e = String(cString: strerror(errno))
            unlink(tmp.path)
            throw CheckpointError.io(path: url.path, reason: "rename failed: \(e)")
        }
        let dirFD = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dirFD >= 0 { _ = fsync(dirFD); close(dirFD) }
    }

    /// Reads and parses a checkpoint file.
    /// - Throws: `CheckpointError` (I/O, truncated, corrupt, ...), naming the path.
    public static func read(from url: URL) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.io(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try Checkpoint(data: data, path: url.path)
    }
}

extension Network {
    /// Captures the network's parameters with the optimizer and generator state and the
    /// runner's opaque `metadata`.
    public func checkpoint(optimizer: SGD, generator: SeededGenerator, metadata: Data = Data()) -> Checkpoint {
        Checkpoint(description: modelDescription, parameters: parameterValues(), optimizer: optimizer,
                   generator: generator, metadata: metadata)
    }

    /// Restores parameters, optimizer and generator exactly from `checkpoint`.
    /// - Throws: `CheckpointError.mismatch` when the description or parameter count differ.
    public func restore(from checkpoint: Checkpoint, optimizer: inout SGD, generator: inout SeededGenerator) throws {
        guard checkpoint.description.blocks == modelDescription.blocks, checkpoint.description.head == modelDescription.head,
              checkpoint.description.input == modelDescription.input,
              checkpoint.description.classes == modelDescription.classes else {
            throw CheckpointError.mismatch(what: "model description", expected: modelDescription.name,
                                           found: checkpoint.description.name)
        }
        guard checkpoint.parameters.count == parameterCount else {
            throw CheckpointError.mismatch(what: "parameter count", expected: "\(parameterCount)",
                                           found: "\(checkpoint.parameters.count)")
        }
        _ = parameters.update(from: checkpoint.parameters)
        optimizer = checkpoint.optimizer
        generator = checkpoint.generator
    }
}

// MARK: - Little-endian helpers

private func appendLE<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
}

private func appendFloats(_ data: inout Data, _ values: [Float]) {
    appendLE(&data, UInt64(values.count))
    #if _endian(little)
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    #else
    for v in values { appendLE(&data, v.bitPattern) }
    #endif
}

/// FNV-1a 64-bit hash (Fowler–Noll–Vo) of a byte sequence.
func fnv1a64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

private struct ByteReader {
    let bytes: [UInt8]
    let path: String
    var offset = 0
    var limit: Int

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
        limit = bytes.count
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= limit - offset else {
            throw CheckpointError.truncated(path: path, offset: offset, needed: n, available: limit - offset)
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func read<T: FixedWidthInteger>() throws -> T {
        let s = try take(MemoryLayout<T>.size)
        var v: T = 0
        for (i, b) in s.enumerated() { v |= T(b) << (8 * i) }
        return v
    }

    /// A UInt64 length that must fit in the remaining bytes.
    mutating func count() throws -> Int {
        let v: UInt64 = try read()
        guard v <= UInt64(limit - offset) else {
            throw CheckpointError.truncated(path: path, offset: offset, needed: v > UInt64(Int.max) ? Int.max : Int(v),
                                            available: limit - offset)
        }
        return Int(v)
    }

    mutating func floats() throws -> [Float] {
        let n: UInt64 = try read()
        guard n <= UInt64(limit - offset) / 4 else {
            throw CheckpointError.truncated(path: path, offset: offset, needed: n > UInt64(Int.max / 4) ? Int.max : Int(n) * 4,
                                            available: limit - offset)
        }
        let s = try take(Int(n) * 4)
        var out = [Float](repeating: 0, count: Int(n))
        out.withUnsafeMutableBytes { dst in
            s.withUnsafeBytes { src in dst.copyMemory(from: src) }
        }
        #if !_endian(little)
        for i in out.indices { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
        #endif
        return out
    }
}
