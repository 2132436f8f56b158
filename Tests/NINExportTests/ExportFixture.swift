import Foundation
import XCTest

/// What the export tests share: the package's folders, the real data and the Python virtual
/// environment with ONNX Runtime (`scripts/export/python-env`).
enum ExportFixture {
    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data` beside the checkout, or a skip saying it is absent (CI always has it).
    static func sharedData() throws -> String {
        let path = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
        guard FileManager.default.fileExists(atPath: path + "/mnist") else {
            print("SKIPPED export runtime test: ../shared/data is absent")
            throw XCTSkip("../shared/data is absent")
        }
        return path
    }

    /// The virtual environment's python, made once per test process; a skip with the script's
    /// message where the packages cannot be installed (its exit status 3); a failure otherwise.
    static func python() throws -> String {
        switch pythonResult {
        case .success(let path): return path
        case .failure(let error):
            if case .skip(let message) = error {
                print("SKIPPED export runtime test: \(message)")
                throw XCTSkip(message)
            }
            throw error
        }
    }

    enum PythonError: Error, CustomStringConvertible {
        case skip(String), failed(String)
        var description: String { switch self { case .skip(let m), .failed(let m): return m } }
    }

    private static let pythonResult: Result<String, PythonError> = {
        let script = packageRoot.appendingPathComponent("scripts/export/python-env").path
        let r = run(script, [])
        let message = "scripts/export/python-env (exit \(r.status)): \(r.stderr.suffix(2000))"
        switch r.status {
        case 0: return .success(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        case 3: return .failure(.skip("the Python packages cannot be installed: \(message)"))
        default: return .failure(.failed(message))
        }
    }()

    /// Runs a program to the end; its exit status and output.
    static func run(_ executable: String, _ arguments: [String], in folder: URL? = nil) -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nin-export-\(UUID().uuidString)")
        let (out, err) = (scratch.appendingPathExtension("out"), scratch.appendingPathExtension("err"))
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        do {
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
        } catch {
            return (-1, "", "\(executable): \(error)")
        }
        process.waitUntilExit()
        let text = { (u: URL) in (try? String(contentsOf: u, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, text(out), text(err))
    }

    /// Writes float32 values little-endian, the check script's input format.
    static func writeFloats(_ values: [Float], to url: URL) throws {
        try values.withUnsafeBytes { Data($0) }.write(to: url)
    }
}
