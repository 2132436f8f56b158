import Foundation
import XCTest

/// `BuildInfo.gitCommit`, which every trial records as `environments.git_commit` and `verify`
/// compares, names the commit the binary was built from after each way HEAD moves without a
/// source change (the case a prebuild command missed: SwiftPM skipped it when the build was up
/// to date, so an empty commit or a pull of studies and documents left the old commit in the
/// binary), and says `-dirty` exactly while the package's sources differ from it.
///
/// It clones this checkout's HEAD into a temporary folder and builds only the `NINBuildInfo`
/// target there (the plugin and one file), reading the file the plugin writes after each build.
/// Skipped when the checkout is not a git work tree or git is missing.
final class BuildInfoTests: XCTestCase {
    func testTheRecordedCommitFollowsHeadAndTheSources() throws {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let git = URL(fileURLWithPath: "/usr/bin/git")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: git.path), "no git at /usr/bin/git")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: checkout.appendingPathComponent(".git").path),
                          "\(checkout.path) is not a git work tree")
        let swift = try XCTUnwrap(Self.onPath("swift"), "no swift on PATH")

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nin-buildinfo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let clone = root.appendingPathComponent("pkg")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (cloned, cloneOutput) = try runProcess(git, ["clone", "--quiet", checkout.path, clone.path], timeout: 120)
        XCTAssertEqual(cloned, 0, cloneOutput)
        let resolved = checkout.appendingPathComponent("Package.resolved")
        if FileManager.default.fileExists(atPath: resolved.path) {
            try FileManager.default.copyItem(at: resolved, to: clone.appendingPathComponent("Package.resolved"))
        }

        func gitIn(_ arguments: [String]) throws -> String {
            let (status, output) = try runProcess(git, ["-C", clone.path, "-c", "user.name=nin-study test",
                                                        "-c", "user.email=test@nin-study.invalid"] + arguments, timeout: 60)
            XCTAssertEqual(status, 0, "git \(arguments.joined(separator: " ")): \(output)")
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func recordedCommit() throws -> String? {
            let (status, output) = try runProcess(swift, ["build", "--package-path", clone.path, "--target", "NINBuildInfo"],
                                                  timeout: 900)
            XCTAssertEqual(status, 0, output)
            let outputs = clone.appendingPathComponent(".build/plugins/outputs")
            let files = FileManager.default.enumerator(at: outputs, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.filter { $0.lastPathComponent == "BuildInfo+Generated.swift" } ?? []
            XCTAssertEqual(files.count, 1, "\(files)")
            let text = try String(contentsOf: try XCTUnwrap(files.first), encoding: .utf8)
            guard let start = text.range(of: "gitCommit: String? = \"") else { return nil }
            return String(text[start.upperBound...].prefix { $0 != "\"" })
        }

        XCTAssertEqual(try recordedCommit(), try gitIn(["rev-parse", "HEAD"]), "a fresh clone")

        _ = try gitIn(["commit", "--quiet", "--allow-empty", "-m", "empty"])
        XCTAssertEqual(try recordedCommit(), try gitIn(["rev-parse", "HEAD"]), "after an empty commit")

        let source = clone.appendingPathComponent("Sources/NINBuildInfo/BuildInfo.swift")
        let original = try Data(contentsOf: source)
        try (original + Data("\n// an uncommitted change\n".utf8)).write(to: source)
        let head = try gitIn(["rev-parse", "HEAD"])
        XCTAssertEqual(try recordedCommit(), head + "-dirty", "a source differs from HEAD")
        try original.write(to: source)
        XCTAssertEqual(try recordedCommit(), head, "the source restored")

        let readme = clone.appendingPathComponent("README.md")
        try (try Data(contentsOf: readme) + Data("\nAn edit outside the sources.\n".utf8)).write(to: readme)
        XCTAssertEqual(try recordedCommit(), head, "a document edited: the binary's code is still HEAD's")
        _ = try gitIn(["commit", "--quiet", "-am", "a document"])
        XCTAssertEqual(try recordedCommit(), try gitIn(["rev-parse", "HEAD"]), "after a commit of documents only")
        XCTAssertNotEqual(try gitIn(["rev-parse", "HEAD"]), head)
    }

    /// The first executable called `name` in `$PATH`.
    static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
