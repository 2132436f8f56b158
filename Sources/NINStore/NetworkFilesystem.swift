import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A network (or cluster) filesystem, on which SQLite's WAL mode, used by every results
/// database, is not safe: WAL needs shared memory between the processes of one machine
/// (sqlite.org/wal.html, "WAL does not work over a network filesystem").
///
/// Detected on Linux by the `f_type` magic of `statfs(2)` (values from linux/magic.h and the
/// filesystems' sources), and for FUSE by the mount's subtype in `/proc/self/mountinfo`.
public enum NetworkFilesystem: String, Equatable, Sendable {
    case nfs = "NFS"
    case smb = "SMB/CIFS"
    case lustre = "Lustre"
    case gpfs = "GPFS (IBM Storage Scale)"
    case cephfs = "CephFS"
    case afs = "AFS"
    case ninep = "9p"
    case beegfs = "BeeGFS"
    /// A FUSE mount of a remote filesystem (sshfs, s3fs, rclone, GlusterFS, gcsfuse).
    case remoteFUSE = "a remote FUSE filesystem"

    /// `statfs` `f_type` magic numbers of the kernel network filesystems.
    static let magics: [Int: NetworkFilesystem] = [
        0x6969: .nfs,                           // NFS_SUPER_MAGIC
        0x517B: .smb,                           // SMB_SUPER_MAGIC
        0xFF53_4D42: .smb,                      // CIFS_SUPER_MAGIC
        0xFE53_4D42: .smb,                      // SMB2_SUPER_MAGIC
        0x0BD0_0BD0: .lustre,                   // LL_SUPER_MAGIC
        0x4750_4653: .gpfs,                     // "GPFS"
        0x00C3_6400: .cephfs,                   // CEPH_SUPER_MAGIC
        0x5346_414F: .afs,                      // AFS_SUPER_MAGIC
        0x6B41_4653: .afs,                      // AFS_FS_MAGIC (kAFS)
        0x0102_1997: .ninep,                    // V9FS_MAGIC
        0x1983_0326: .beegfs,                   // BEEGFS_MAGIC
    ]
    /// `f_type` of every FUSE mount (FUSE_SUPER_MAGIC); which one is told by the mount's subtype.
    static let fuseMagic = 0x6573_5546
    /// FUSE subtypes (`fuse.<subtype>` in mountinfo) that reach another machine.
    static let remoteFUSESubtypes: Set<String> = ["sshfs", "s3fs", "rclone", "glusterfs", "gcsfuse", "davfs", "curlftpfs"]

    /// The network filesystem of a `statfs` magic and, for FUSE, the mount's filesystem type as
    /// mountinfo names it (`fuse.sshfs`); nil for a local filesystem.
    public static func classify(magic: Int, fuseType: String?) -> NetworkFilesystem? {
        if let kind = magics[magic] { return kind }
        guard magic == fuseMagic, let fuseType else { return nil }
        let subtype = fuseType.hasPrefix("fuse.") ? String(fuseType.dropFirst(5)) : fuseType
        return remoteFUSESubtypes.contains(subtype) ? .remoteFUSE : nil
    }

    /// The network filesystem holding `path` (or, for a file not created yet, its nearest existing
    /// folder), or nil when it is local or cannot be told (not Linux).
    public static func holding(_ path: String) -> NetworkFilesystem? {
        #if os(Linux)
        var probe = DatabaseFiles.absolute(path)
        while !FileManager.default.fileExists(atPath: probe), probe != "/" {
            probe = (probe as NSString).deletingLastPathComponent
        }
        guard let magic = statfsType(probe) else { return nil }
        return classify(magic: magic, fuseType: magic == fuseMagic ? mountType(of: probe) : nil)
        #else
        return nil
        #endif
    }

    /// `f_type` of `statfs(2)` for `path`, nil when the call fails. Glibc's Swift module does not
    /// export `<sys/vfs.h>`, so the C function is looked up by name; `f_type` (`__fsword_t`, a C
    /// `long`) is the first member of `struct statfs` on every Linux ABI, which is at most 120 bytes.
    static func statfsType(_ path: String) -> Int? {
        #if os(Linux)
        typealias StatfsFunction = @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statfs") else { return nil }
        let call = unsafeBitCast(symbol, to: StatfsFunction.self)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
        guard path.withCString({ call($0, buffer) }) == 0 else { return nil }
        return buffer.load(as: Int.self)
        #else
        return nil
        #endif
    }

    /// The filesystem type (mountinfo field after " - ") of the mount that holds `path`: the
    /// longest mount point that is a prefix of it. Source: proc(5), /proc/<pid>/mountinfo.
    static func mountType(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in text.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            let fields = halves[0].split(separator: " ")
            guard halves.count == 2, fields.count >= 5, let type = halves[1].split(separator: " ").first else { continue }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            let isPrefix = point == "/" || path == point || path.hasPrefix(point + "/")
            if isPrefix, point.count >= (best?.point.count ?? -1) { best = (point, String(type)) }
        }
        return best?.type
    }

    /// The warning `run` prints for a database on this filesystem.
    public func warning(database: String) -> String {
        "warning: the results database \(database) is on \(rawValue), a network filesystem: SQLite's WAL mode, which every "
            + "results database uses, is not safe there (concurrent runs can corrupt it). Keep one database per machine "
            + "or per shard (--db, --shard K/N; a shard task's own database on a shared disk is fine with --exclusive), then combine them with `nin-study merge`."
    }
}
