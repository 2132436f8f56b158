import Foundation
import PackagePlugin

/// Records the git commit of the source tree at build time, so a run never calls git.
///
/// A build command writes `BuildInfo+Generated.swift` with `BuildInfo.gitCommit`: `git rev-parse
/// HEAD` of the package folder, with `-dirty` when the code the binary is built from (the
/// package's targets, its plugins, `Package.swift`) differs from that commit, read with
/// `--no-optional-locks` so the build takes no `index.lock`; nil when the package is not the top
/// of a git work tree (a tarball, an unpacked source archive) or git is missing. The file is
/// replaced only when its content changes, so an unchanged commit recompiles nothing.
///
/// It is a build command with declared inputs, not a prebuild command, because SwiftPM skips
/// prebuild commands when it finds the build up to date: a `git pull` that changed only studies
/// or documents, or an empty commit, left the previous commit in the binary and in every trial's
/// `environments.git_commit`. The inputs are what moves when the answer can change: the work
/// tree's `HEAD`, its reflog (`logs/HEAD`, appended by every commit, checkout, reset and pull), its
/// index, and every source file of the package (for `-dirty`).
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        let generated = output.appendingPathComponent("BuildInfo+Generated.swift")
        var inputs = Self.gitStateFiles(packageRoot: root)
        for target in context.package.targets {
            if let source = target.sourceModule { inputs += source.sourceFiles.map(\.url) }
        }
        inputs.append(root.appendingPathComponent("Package.swift"))
        let script = #"""
            set -u
            root="$1"; out="$2"; tmp="$out.tmp.$$"
            mkdir -p "$(dirname "$out")"
            commit=""
            top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=""
            if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$root" && pwd -P)" ]; then
                commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || commit=""
                if [ -n "$commit" ] && [ -n "$(git --no-optional-locks -C "$root" status --porcelain --untracked-files=no -- Sources Plugins Package.swift 2>/dev/null)" ]; then
                    commit="$commit-dirty"
                fi
            fi
            if [ -n "$commit" ]; then value="\"$commit\""; else value="nil"; fi
            printf '// Generated at build time by Plugins/BuildInfoPlugin. Do not edit.\nextension BuildInfo {\n    /// The git commit this binary was built from (`-dirty`: its sources had uncommitted changes), nil outside a git work tree.\n    public static let gitCommit: String? = %s\n}\n' "$value" > "$tmp"
            if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv "$tmp" "$out"; fi
            """#
        return [.buildCommand(displayName: "Recording the git commit of the source tree",
                              executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: ["-c", script, "build-info", root.path, generated.path],
                              inputFiles: inputs,
                              outputFiles: [generated])]
    }

    /// The files of the package's git work tree that change when its `HEAD` or index does:
    /// `HEAD`, `logs/HEAD` and `index` of the git directory, which is `.git` itself or, in a
    /// linked work tree or submodule, the folder a `.git` file names (`gitdir: PATH`, git's
    /// gitrepository-layout). Empty when the package folder has no `.git`; files that do not
    /// exist yet (a fresh clone has no reflog in some setups) are left out.
    static func gitStateFiles(packageRoot: URL) -> [URL] {
        let dotGit = packageRoot.appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return [] }
        var gitDir = dotGit
        if !isDirectory.boolValue {
            guard let text = try? String(contentsOf: dotGit, encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") }) else { return [] }
            let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            gitDir = path.hasPrefix("/") ? URL(fileURLWithPath: path) : packageRoot.appendingPathComponent(path)
        }
        return ["HEAD", "logs/HEAD", "index"].map { gitDir.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
