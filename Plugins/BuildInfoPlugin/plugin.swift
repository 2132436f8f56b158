import Foundation
import PackagePlugin

/// Records the git commit of the source tree at build time, so a run never calls git.
///
/// A prebuild command (it runs before every build, and needs no tool built from this package)
/// writes `BuildInfo+Generated.swift` with `BuildInfo.gitCommit`: `git rev-parse HEAD` of the
/// package folder, with `-dirty` when tracked files have uncommitted changes (read with
/// `--no-optional-locks`, so the build takes no `index.lock`), or nil when the package is not
/// the top of a git work tree (a tarball, an unpacked source archive) or git is missing. The
/// file is replaced only when its content changes, so an unchanged commit recompiles nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        let script = #"""
            set -u
            root="$1"; dir="$2"; out="$dir/BuildInfo+Generated.swift"; tmp="$out.tmp.$$"
            mkdir -p "$dir"
            commit=""
            top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=""
            if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$root" && pwd -P)" ]; then
                commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || commit=""
                if [ -n "$commit" ] && [ -n "$(git --no-optional-locks -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                    commit="$commit-dirty"
                fi
            fi
            if [ -n "$commit" ]; then value="\"$commit\""; else value="nil"; fi
            printf '// Generated at build time by Plugins/BuildInfoPlugin. Do not edit.\nextension BuildInfo {\n    /// The git commit this binary was built from (`-dirty`: with uncommitted changes), nil outside a git work tree.\n    public static let gitCommit: String? = %s\n}\n' "$value" > "$tmp"
            if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv "$tmp" "$out"; fi
            """#
        return [.prebuildCommand(displayName: "Recording the git commit of the source tree",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, "build-info", context.package.directoryURL.path, output.path],
                                 outputFilesDirectory: output)]
    }
}
