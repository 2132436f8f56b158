import Foundation

/// A streaming reader for POSIX ustar archives (IEEE Std 1003.1, "pax" format, ustar header).
///
/// Bytes are fed in arbitrary chunks (for example straight out of `GzipInflater`); each regular
/// file member accepted by `wants` is collected in memory and handed to `onMember` once
/// complete; other members are skipped without being buffered. Nothing is ever written to disk.
/// GNU long names (`L`) and pax `path=` records (`x`) are honoured. Every member path is
/// checked with `safeRelativePath` and an archive containing a path that would escape its
/// folder (absolute, or with a `..` component, or a link pointing outside) is refused.
final class TarStreamReader {
    private let archive: String
    private let wants: (String) -> Bool
    private let onMember: (String, Data) throws -> Void

    private var header = [UInt8]()
    private var memberName = ""
    private var remaining = 0      // data bytes left in the current member
    private var padding = 0        // padding bytes left after the member's data
    private var collecting: Data?  // data of a wanted member
    private var special: Character? // 'L' or 'x' member being collected
    private var pendingLongName: String?
    private var sawEnd = false

    /// - Parameters:
    ///   - archive: archive path, named in errors.
    ///   - wants: whether to collect a member, given its normalised relative path.
    ///   - onMember: receives each wanted member's path and data.
    init(archive: String, wants: @escaping (String) -> Bool, onMember: @escaping (String, Data) throws -> Void) {
        self.archive = archive
        self.wants = wants
        self.onMember = onMember
        header.reserveCapacity(512)
    }

    /// Consumes a chunk of the (decompressed) archive.
    /// - Throws: `DatasetError.badTarMember` on a bad header checksum or an escaping path,
    ///   or whatever `onMember` throws.
    func feed(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        let bytes = chunk.bindMemory(to: UInt8.self)
        while offset < bytes.count {
            if sawEnd { return }
            if remaining > 0 {
                let n = min(remaining, bytes.count - offset)
                if special != nil || collecting != nil {
                    let slice = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + n)])
                    if collecting == nil { collecting = Data() }
                    collecting!.append(contentsOf: slice)
                }
                remaining -= n
                offset += n
                if remaining == 0 { try memberDataComplete() }
            } else if padding > 0 {
                let n = min(padding, bytes.count - offset)
                padding -= n
                offset += n
            } else {
                let n = min(512 - header.count, bytes.count - offset)
                header.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + n)]))
                offset += n
                if header.count == 512 {
                    try parseHeader()
                    header.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// Declares the end of the archive stream.
    /// - Throws: `DatasetError.badTarMember` if the stream ended inside a header or a member.
    func finish() throws {
        if sawEnd { return }
        if remaining > 0 {
            throw DatasetError.badTarMember(archive: archive, member: memberName,
                                            reason: "archive ends inside the member: \(remaining) more bytes expected")
        }
        if !header.isEmpty {
            throw DatasetError.badTarMember(archive: archive, member: "(header)",
                                            reason: "archive ends inside a 512-byte header: found \(header.count) bytes")
        }
    }

    /// Normalises a member path and refuses one that would escape the extraction folder.
    /// - Returns: the path without leading `./` and trailing `/`.
    /// - Throws: `DatasetError.badTarMember` for an absolute path or a `..` component.
    static func safeRelativePath(_ path: String, archive: String) throws -> String {
        if path.hasPrefix("/") {
            throw DatasetError.badTarMember(archive: archive, member: path,
                                            reason: "absolute path escapes the extraction folder")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        if parts.contains("..") {
            throw DatasetError.badTarMember(archive: archive, member: path,
                                            reason: "'..' component escapes the extraction folder")
        }
        return parts.joined(separator: "/")
    }

    private func parseHeader() throws {
        if header.allSatisfy({ $0 == 0 }) { sawEnd = true; return }
        // Header checksum: sum of all bytes with the checksum field (148..<156) read as spaces.
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        let rawName = Self.string(header[0..<100])
        guard let stored = Self.octal(header[148..<156]), stored == sum else {
            throw DatasetError.badTarMember(archive: archive, member: rawName.isEmpty ? "(unnamed)" : rawName,
                                            reason: "header checksum expected \(sum), found '\(Self.string(header[148..<156]))'")
        }
        guard let size = Self.size(header[124..<136]), size >= 0 else {
            throw DatasetError.badTarMember(archive: archive, member: rawName,
                                            reason: "size field is not an octal number: '\(Self.string(header[124..<136]))'")
        }
        let type = Character(UnicodeScalar(header[156] == 0 ? UInt8(ascii: "0") : header[156]))
        let isUstar = Self.string(header[257..<262]) == "ustar"
        let prefix = isUstar ? Self.string(header[345..<500]) : ""
        var name = prefix.isEmpty ? rawName : prefix + "/" + rawName
        if let long = pendingLongName { name = long; pendingLongName = nil }
        memberName = name
        remaining = size
        padding = (512 - size % 512) % 512
        collecting = nil
        special = nil

        switch type {
        case "L", "x":
            special = type
        case "g":
            break // global pax header: ignored
        case "0", "7":
            let path = try Self.safeRelativePath(name, archive: archive)
            memberName = path
            // Reserve at most 64 MiB up front: a damaged size field must not allocate gigabytes.
            if wants(path) { collecting = Data(capacity: min(size, 1 << 26)) }
        case "1", "2":
            _ = try Self.safeRelativePath(name, archive: archive)
            let target = Self.string(header[157..<257])
            // A link is resolved relative to the member's folder (symlink) or the root (hard link).
            let base = type == "2" ? (name as NSString).deletingLastPathComponent : ""
            _ = try Self.safeRelativePath(base.isEmpty ? target : base + "/" + target, archive: archive)
        default:
            _ = try Self.safeRelativePath(name, archive: archive)
        }
        if remaining == 0 { try memberDataComplete() }
    }

    private func memberDataComplete() throws {
        let data = collecting ?? Data()
        collecting = nil
        if let kind = special {
            special = nil
            let text = String(decoding: data, as: UTF8.self)
            if kind == "L" {
                pendingLongName = text.trimmingCharacters(in: CharacterSet(charactersIn: "\0"))
            } else {
                // pax records: "<length> key=value\n"
                for record in text.split(separator: "\n") {
                    guard let space = record.firstIndex(of: " ") else { continue }
                    let kv = record[record.index(after: space)...]
                    if kv.hasPrefix("path=") { pendingLongName = String(kv.dropFirst(5)) }
                }
            }
            return
        }
        if wants(memberName) { try onMember(memberName, data) }
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        let text = string(field).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? 0 : Int(text, radix: 8)
    }

    /// Size field: octal, or GNU base-256 when the high bit of the first byte is set.
    /// - Returns: nil when the field is not a number or its value does not fit in an `Int`
    ///   (a base-256 size with more than 63 significant bits).
    static func size(_ field: ArraySlice<UInt8>) -> Int? {
        if let first = field.first, first & 0x80 != 0 {
            var value = 0
            for b in field.dropFirst() {
                guard value >> 55 == 0 else { return nil }
                value = value << 8 | Int(b)
            }
            return value
        }
        return octal(field)
    }
}

/// Writes ustar archives (used to build test fixtures; the readers never extract to disk).
enum TarWriter {
    /// One regular-file member per entry, then the two zero blocks that end an archive.
    static func archive(_ entries: [(name: String, data: Data)]) -> Data {
        var out = Data()
        for (name, data) in entries {
            var h = [UInt8](repeating: 0, count: 512)
            func put(_ s: String, _ at: Int, _ len: Int) {
                let bytes = Array(s.utf8.prefix(len))
                h.replaceSubrange(at..<(at + bytes.count), with: bytes)
            }
            put(name, 0, 100)
            put("0000644", 100, 8)
            put("0000000", 108, 8)
            put("0000000", 116, 8)
            put(String(format: "%011o", data.count), 124, 12)
            put("00000000000", 136, 12)
            put("        ", 148, 8)
            h[156] = UInt8(ascii: "0")
            put("ustar", 257, 6)
            put("00", 263, 2)
            let sum = h.reduce(0) { $0 + Int($1) }
            put(String(format: "%06o", sum) + "\0 ", 148, 8)
            out.append(contentsOf: h)
            out.append(data)
            out.append(Data(count: (512 - data.count % 512) % 512))
        }
        out.append(Data(count: 1024))
        return out
    }
}
