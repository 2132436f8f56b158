import XCTest
import NINStore
@testable import NINStudy

/// Item 5b of issue 21 with two real processes of the built binary: a run suspended (SIGSTOP)
/// past a shortened stale-claim timeout loses its trial to a run on "another host" (a UTS
/// namespace with its own host name, so the claim is judged by its heartbeat, as across
/// machines); resumed (SIGCONT), the old owner stops that trial with a clear message at its
/// next write and writes nothing more, while the new owner trains on.
final class ClaimTakeoverTests: XCTestCase {
    var root: URL!
    var binary: URL!

    override func setUpWithError() throws {
        binary = try builtBinary()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") && getuid() == 0,
                          "needs unshare(1) and root for a second host name")
        root = try SyntheticDigits.tempDir()
        try SyntheticDigits.write(to: root)
    }

    override func tearDownWithError() throws { if let root { try? FileManager.default.removeItem(at: root) } }

    /// A process started with `environment`, its output to `<root>/<name>.log`.
    func start(_ executable: String, _ arguments: [String], name: String, environment: [String: String]) throws -> (Process, URL) {
        let log = root.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return (p, log)
    }

    /// Polls the database (read-only) until `condition` holds for the trial, or `seconds` pass.
    func wait(db: String, seconds: TimeInterval, _ what: String, _ condition: (TrialRecord) -> Bool) throws -> TrialRecord {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let trial = try? ResultsStore.openReadOnly(path: db).trials().first, condition(trial) { return trial }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for: \(what)")
        throw CocoaError(.userCancelled)
    }

    func testASuspendedRunThatLostItsClaimStopsWritingAndTheNewOwnerTrainsOn() throws {
        let studyFile = root.appendingPathComponent("long.json")
        try SyntheticDigits.study(name: "long", epochs: 400).write(to: studyFile)
        let db = root.appendingPathComponent("shared/results.sqlite").path
        let arguments = ["run", studyFile.path, "--db", db, "--data-dir", root.path, "--no-fetch", "--no-maps", "--threads", "1"]
        let stale: TimeInterval = 3
        let environment = [ClaimTimeout.environmentVariable: "\(stale)"]

        let (old, oldLog) = try start(binary.path, arguments, name: "old", environment: environment)
        defer { if old.isRunning { kill(old.processIdentifier, SIGCONT); kill(old.processIdentifier, SIGKILL) } }
        let claimed = try wait(db: db, seconds: 60, "an epoch of the first run") { $0.epochsDone >= 1 }
        XCTAssertEqual(claimed.pid, old.processIdentifier)
        XCTAssertEqual(kill(old.processIdentifier, SIGSTOP), 0)
        Thread.sleep(forTimeInterval: stale + 2)

        // The new owner, on "another host": the first run's claim has no heartbeat for longer than
        // the stale-claim timeout, so it is taken over.
        let (new, newLog) = try start("/usr/bin/unshare", ["--uts", "/bin/sh", "-c", #"hostname other-node && exec "$0" "$@""#,
                                                           binary.path] + arguments, name: "new", environment: environment)
        defer { if new.isRunning { kill(new.processIdentifier, SIGKILL) } }
        let taken = try wait(db: db, seconds: 60, "the take-over") { $0.host == "other-node" && $0.status == .running }
        let newPid = try XCTUnwrap(taken.pid)

        XCTAssertEqual(kill(old.processIdentifier, SIGCONT), 0)
        let deadline = Date().addingTimeInterval(60)
        while old.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(old.isRunning, "the old owner goes on training the trial it lost")
        old.waitUntilExit()
        let oldOutput = try String(contentsOf: oldLog, encoding: .utf8)
        XCTAssertEqual(old.terminationReason, .exit, oldOutput)
        XCTAssertEqual(old.terminationStatus, 3, "another live process runs the trial now: \(oldOutput)")
        XCTAssertTrue(oldOutput.contains("this process no longer owns its claim (now running in process \(newPid) on other-node)"), oldOutput)
        XCTAssertTrue(oldOutput.contains("and stops training it; its results and files are the other process's"), oldOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent(
            "shared/checkpoints/results/.\(taken.id).ckpt.tmp-\(old.processIdentifier)").path), "the old owner left a temporary file")

        // The trial is still the new owner's, and it goes on recording epochs.
        let after = try XCTUnwrap(ResultsStore.openReadOnly(path: db).trial(id: taken.id))
        XCTAssertEqual(after.status, .running, "the old owner ended the new owner's trial")
        XCTAssertEqual(after.host, "other-node")
        XCTAssertEqual(after.pid, newPid)
        _ = try wait(db: db, seconds: 60, "an epoch of the new owner") { $0.epochsDone >= after.epochsDone + 1 }
        XCTAssertTrue(new.isRunning, (try? String(contentsOf: newLog, encoding: .utf8)) ?? "")
        kill(new.processIdentifier, SIGTERM)
        new.waitUntilExit()
        let newOutput = try String(contentsOf: newLog, encoding: .utf8)
        XCTAssertEqual(new.terminationStatus, 1, newOutput)
        let store = try ResultsStore.openReadOnly(path: db)
        let final = try XCTUnwrap(store.trial(id: taken.id))
        XCTAssertEqual(final.status, .interrupted, newOutput)
        XCTAssertEqual(try store.epochs(trialId: taken.id).map(\.epoch), Array(1...final.epochsDone), "every epoch once, in order")
        XCTAssertEqual(try CheckpointStore(databasePath: db).load(trialId: taken.id)?.epoch, final.epochsDone,
                       "the checkpoint is the new owner's last epoch")
    }
}
