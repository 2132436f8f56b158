import Foundation
import NINBuildInfo
import NINEngine
import NINStore

/// The version of nin-study recorded with every trial.
public let ninStudyVersion = "0.1.0"

/// Reads the facts recorded with every trial: host, CPU model, cores, thread count, OS, Swift
/// version, BLAS library, nin-study version, git commit and the GEMM kernels of each precision.
public enum EnvironmentProbe {
    /// The environment of this process for a run with `threads` threads. Sets the compute
    /// backend to `threads` first (as the trials will), so `blas` records the thread count, ISA
    /// and library the trials run with.
    public static func current(threads: Int) -> EnvironmentRecord {
        EnvironmentRecord(host: ProcessInfo.processInfo.hostName, cpuModel: cpuModel(),
                          cores: ProcessInfo.processInfo.activeProcessorCount, threads: threads,
                          os: osName(), swiftVersion: swiftVersion, blas: ComputeBackend.provenance(threads: threads).description,
                          ninStudyVersion: ninStudyVersion, gitCommit: gitCommit(), gemm: ComputeBackend.gemmDescription)
    }

    /// The CPU model name (`/proc/cpuinfo` on Linux), or the architecture when unknown.
    static func cpuModel() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let value = line.split(separator: ":", maxSplits: 1).last {
            return value.trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }

    static func osName() -> String {
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return ProcessInfo.processInfo.operatingSystemVersionString
    }

    /// The compiler's language version, to minor precision.
    static var swiftVersion: String {
        #if compiler(>=6.4)
        return "Swift ≥ 6.4"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #else
        return "Swift 6.0"
        #endif
    }

    /// The git commit of the source tree this binary was built from (with `-dirty` when it had
    /// uncommitted changes), or nil when it was built outside a git work tree. Recorded at build
    /// time by `BuildInfoPlugin`: a run never calls git (which would take `index.lock` in the
    /// build folder's tree).
    static func gitCommit() -> String? { BuildInfo.gitCommit }
}
