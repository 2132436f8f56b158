import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process that claims a trial: host name, process id, and (on Linux) the machine's boot id
/// and the process's start time, which together name one process exactly.
///
/// A process id alone is not enough: after a restart another process gets the same id (a
/// container's PID 1 every time), and a claim checked by process id only would stay "running"
/// forever. See ``ResultsStore/claimIsLive(_:now:currentHost:staleAfter:probe:)`` for the rule.
public struct ClaimOwner: Equatable, Sendable {
    /// Host name (`ProcessInfo.hostName`).
    public var host: String
    /// Process id.
    public var pid: Int32
    /// The machine's boot id (`/proc/sys/kernel/random/boot_id`), nil where unknown.
    var bootId: String?
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), nil where unknown.
    var processStartTicks: Int64?

    public init(host: String, pid: Int32, bootId: String?, processStartTicks: Int64?) {
        self.host = host
        self.pid = pid
        self.bootId = bootId
        self.processStartTicks = processStartTicks
    }

    /// Whether `row`'s claim (`pid`, `host`, `boot_id`, `process_start_ticks`) names this owner.
    /// A boot id or start time is compared only when both sides know it (claims written by older
    /// versions have none).
    public func owns(_ row: TrialRecord) -> Bool {
        guard row.status == .running, row.host == host, row.pid == pid else { return false }
        if let a = row.bootId, let b = bootId, a != b { return false }
        if let a = row.processStartTicks, let b = processStartTicks, a != b { return false }
        return true
    }

    /// This process.
    public static func current() -> ClaimOwner {
        let pid = getpid()
        return ClaimOwner(host: ProcessInfo.processInfo.hostName, pid: pid, bootId: ProcessProbe.bootId(),
                          processStartTicks: ProcessProbe.system.startTicks(pid))
    }
}

/// How the store looks at the processes of this machine (injectable for tests).
public struct ProcessProbe {
    /// Whether process `pid` exists and is not a zombie.
    public var isAlive: (Int32) -> Bool
    /// The start time of process `pid` in clock ticks since boot, nil if unknown or gone.
    var startTicks: (Int32) -> Int64?
    /// This machine's boot id, nil where unknown.
    var bootId: String?

    public init(isAlive: @escaping (Int32) -> Bool, startTicks: @escaping (Int32) -> Int64?,
                bootId: String?) {
        self.isAlive = isAlive
        self.startTicks = startTicks
        self.bootId = bootId
    }

    /// The real processes of this machine (`kill(pid, 0)`, `/proc`).
    public static var system: ProcessProbe {
        ProcessProbe(isAlive: ResultsStore.processIsAlive, startTicks: procStartTicks, bootId: bootId())
    }

    /// A probe that finds no process alive: with a negative `staleAfter`, every claim is dead
    /// (for a run that knows it is the database's only writer).
    public static var noneAlive: ProcessProbe { ProcessProbe(isAlive: { _ in false }, startTicks: { _ in nil }, bootId: nil) }

    /// The wall-clock time at which process `pid` started, nil if unknown or gone: its start
    /// ticks (``startTicks``) after the boot time (`btime` of `/proc/stat`), in `sysconf(_SC_CLK_TCK)`
    /// ticks per second. Source: proc(5). Exact to about 1 s (`btime` is whole seconds).
    public func startDate(_ pid: Int32) -> Date? {
        guard let ticks = startTicks(pid), let boot = Self.bootTime() else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard perSecond > 0 else { return nil }
        return boot.addingTimeInterval(Double(ticks) / perSecond)
    }

    /// The boot time of this machine (`btime` of `/proc/stat`), nil where unknown.
    public static func bootTime() -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// `/proc/sys/kernel/random/boot_id` (Linux), nil elsewhere.
    static func bootId() -> String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Field 22 (`starttime`, clock ticks since boot) of `/proc/<pid>/stat`, nil when unreadable.
    /// Source: proc(5).
    static func procStartTicks(_ pid: Int32) -> Int64? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 (state) is the first; starttime is field 22, the 20th after comm.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else { return nil }
        return Int64(fields[19])
    }
}
