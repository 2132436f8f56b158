import Foundation
import GRDB
import XCTest

@testable import NINStore

/// Claiming a trial: one transaction, exactly one winner among concurrent claimers, and dead
/// claims (a gone process, a reused process id, a silent other host) recovered.
final class ClaimTests: XCTestCase {
    let clock = TestClock()

    /// A probe where process `alivePid` exists and started at `ticks`; every other process is gone.
    func probe(alivePid: Int32 = 500, ticks: Int64 = 1_000, bootId: String = "boot-a") -> ProcessProbe {
        ProcessProbe(isAlive: { $0 == alivePid }, startTicks: { $0 == alivePid ? ticks : nil }, bootId: bootId)
    }

    func owner(_ pid: Int32, host: String = testHost, ticks: Int64? = 1_000, bootId: String? = "boot-a") -> ClaimOwner {
        ClaimOwner(host: host, pid: pid, bootId: bootId, processStartTicks: ticks)
    }

    /// A store on a file with `count` pending trials of study `study`.
    func fileStore(trials count: Int) throws -> (ResultsStore, [String]) {
        let folder = try makeTemporaryFolder(self)
        let clock = self.clock
        let store = try ResultsStore(path: folder.appendingPathComponent("results.sqlite").path, clock: { clock.now })
        try store.upsertStudy(name: "study", description: "", definitionJSON: "{}", definitionSHA256: hexId(0))
        let ids = (1...count).map { hexId(UInt64($0)) }
        for (n, id) in ids.enumerated() {
            try store.upsertTrial(sampleTrial(id: id, head: "gap", depth: 1, seed: Int64(n)), params: [:], study: "study")
        }
        return (store, ids)
    }

    static let claimerVariable = "NIN_STORE_CLAIMER"

    /// Claimer processes (eight, or two more than this machine's cores if that is more), each
    /// this test binary started again running only ``testChildClaimer`` with its own connection
    /// to one database file, claim every trial in their own order at the same time (they wait
    /// for a start file the parent creates once all are running): each trial is claimed exactly
    /// once, and every other attempt sees it taken.
    func testConcurrentClaimerProcessesOnOneFileClaimEachTrialOnce() throws {
        #if !os(Linux)
        throw XCTSkip("the child processes are started through the Linux XCTest runner")
        #endif
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let (store, ids) = try fileStore(trials: 24)
        let workers = max(8, ProcessInfo.processInfo.activeProcessorCount + 2)
        let folder = URL(fileURLWithPath: store.path).deletingLastPathComponent()
        let gate = folder.appendingPathComponent("start").path
        var children: [(Process, String)] = []
        for worker in 0..<workers {
            let child = Process(), output = folder.appendingPathComponent("claimer-\(worker).txt").path
            child.executableURL = testBinary
            child.arguments = ["NINStoreTests.ClaimTests/testChildClaimer"]
            child.environment = ProcessInfo.processInfo.environment.merging(
                [Self.claimerVariable: [store.path, gate, output, "\(worker)"].joined(separator: "\n")]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            children.append((child, output))
        }
        XCTAssertTrue(children.allSatisfy { $0.0.isRunning }, "\(workers) claimer processes at once")
        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        var claims: [String: [Int32]] = [:]
        var taken = 0
        for (worker, (child, output)) in children.enumerated() {
            child.waitUntilExit()
            XCTAssertEqual(child.terminationStatus, 0, "claimer \(worker)")
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, ids.count, "claimer \(worker): \(lines.filter { !$0.hasPrefix("claimed ") && !$0.hasPrefix("taken ") })")
            for line in lines {
                if line.hasPrefix("claimed ") { claims[String(line.dropFirst(8)), default: []].append(Int32(1000 + worker)) }
                if line.hasPrefix("taken ") { taken += 1 }
            }
        }
        XCTAssertEqual(Set(claims.keys), Set(ids))
        XCTAssertTrue(claims.values.allSatisfy { $0.count == 1 }, "\(claims.filter { $0.value.count != 1 })")
        XCTAssertEqual(taken, ids.count * (workers - 1))
        for id in ids {
            let stored = try XCTUnwrap(store.trial(id: id))
            XCTAssertEqual(stored.status, .running)
            XCTAssertEqual(stored.pid, claims[id]?.first, "the database names the one winner")
            XCTAssertEqual(stored.processStartTicks, 7)
            XCTAssertEqual(stored.bootId, "boot-a")
        }
    }

    /// Runs only in a child process started by ``testConcurrentClaimerProcessesOnOneFileClaimEachTrialOnce``:
    /// waits for the start file, claims every trial of the database (even workers in id order,
    /// odd ones in reverse) as process 1000 + worker, and writes "claimed ID" or "taken ID" per
    /// trial (or "error …") to its output file.
    func testChildClaimer() throws {
        guard let setting = ProcessInfo.processInfo.environment[Self.claimerVariable] else {
            throw XCTSkip("runs only as a child process of testConcurrentClaimerProcessesOnOneFileClaimEachTrialOnce")
        }
        let parts = setting.components(separatedBy: "\n")
        let (path, gate, output, worker) = (parts[0], parts[1], parts[2], try XCTUnwrap(Int32(parts[3])))
        let mine = try ResultsStore(path: path, busyTimeout: 30)
        let ids = try mine.trials().map(\.id).sorted()
        // Every claimer's process is alive, so no claim is ever judged dead.
        let everyoneAlive = ProcessProbe(isAlive: { _ in true }, startTicks: { _ in 7 }, bootId: "boot-a")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: gate), Date() < deadline { usleep(1_000) }
        var lines: [String] = []
        for id in worker % 2 == 0 ? ids : ids.reversed() {
            do {
                switch try mine.claimTrial(id, owner: owner(1000 + worker, ticks: 7), environmentId: nil, datasetIdentity: nil,
                                           retryFailed: false, probe: everyoneAlive) {
                case .claimed(let previous): lines.append(previous.status == .pending ? "claimed \(id)" : "error claimed from \(previous.status)")
                case .notClaimable(let current): lines.append(current.status == .running ? "taken \(id)" : "error taken as \(current.status)")
                }
            } catch { lines.append("error \(error)") }
        }
        try lines.joined(separator: "\n").write(toFile: output, atomically: true, encoding: .utf8)
    }

    /// Finished trials, failed ones (without retry) and live claims are not claimable; a failed
    /// trial is with `retryFailed`, and the claim returns the trial as it was.
    func testWhatCanBeClaimed() throws {
        let (store, ids) = try fileStore(trials: 3)
        let p = probe()
        guard case .claimed = try store.claimTrial(ids[0], owner: owner(500), environmentId: nil, datasetIdentity: nil, retryFailed: false, probe: p)
        else { return XCTFail("a pending trial is claimable") }
        try store.recordEpoch(EpochRecord(trialId: ids[0], epoch: 1, testAccuracy: 50))
        try store.markFinished(trialId: ids[0])
        XCTAssertEqual(try store.claimTrial(ids[0], owner: owner(500), environmentId: nil, datasetIdentity: nil, retryFailed: true, probe: p),
                       .notClaimable(current: try XCTUnwrap(store.trial(id: ids[0]))))
        try store.markFailed(trialId: ids[1], reason: "diverged")
        guard case .notClaimable = try store.claimTrial(ids[1], owner: owner(500), environmentId: nil, datasetIdentity: nil, retryFailed: false, probe: p)
        else { return XCTFail("a failed trial is not retried by default") }
        guard case .claimed(let previous) = try store.claimTrial(ids[1], owner: owner(500), environmentId: nil, datasetIdentity: nil, retryFailed: true, probe: p)
        else { return XCTFail("--retry-failed claims a failed trial") }
        XCTAssertEqual(previous.status, .failed)
        XCTAssertEqual(try store.trial(id: ids[1])?.failureReason, nil)
        XCTAssertThrowsError(try store.claimTrial(hexId(999), owner: owner(500), environmentId: nil, datasetIdentity: nil, retryFailed: false, probe: p)) {
            XCTAssertEqual($0 as? StoreError, .trialNotFound(prefix: hexId(999)))
        }
        XCTAssertThrowsError(try store.claimTrial(ids[2], owner: owner(500), environmentId: 42, datasetIdentity: nil, retryFailed: false, probe: p)) {
            XCTAssertEqual($0 as? StoreError, .environmentNotFound(id: 42))
        }
        XCTAssertEqual(try store.trial(id: ids[2])?.status, .pending, "a refused claim changes nothing")
    }

    /// A dead claim is taken over by the next claimer, whatever killed it.
    func testDeadClaimsAreRecoveredByTheNextClaim() throws {
        let (store, ids) = try fileStore(trials: 6)
        let p = probe(alivePid: 500, ticks: 1_000)
        func claim(_ id: String, _ o: ClaimOwner) throws -> Bool {
            if case .claimed = try store.claimTrial(id, owner: o, environmentId: nil, datasetIdentity: nil, retryFailed: false, probe: p) { return true }
            return false
        }
        // 0: the owner process is alive with the recorded start time: live.
        XCTAssertTrue(try claim(ids[0], owner(500, ticks: 1_000)))
        // 1: the process id exists but started later (a restarted container's PID 1): dead.
        XCTAssertTrue(try claim(ids[1], owner(500, ticks: 999)))
        // 2: the process is gone.
        XCTAssertTrue(try claim(ids[2], owner(501)))
        // 3: another host, heartbeat fresh now, stale in 20 minutes.
        XCTAssertTrue(try claim(ids[3], owner(500, host: "node-7", bootId: "boot-b")))
        // 4: same host name but another boot (another machine, or before a reboot): the heartbeat decides.
        XCTAssertTrue(try claim(ids[4], owner(500, ticks: 1_000, bootId: "boot-old")))
        // 5: an old claim without a start time whose process id exists: trusted while its heartbeat is fresh.
        _ = try store.claimTrial(ids[5], owner: ClaimOwner(host: testHost, pid: 500, bootId: nil, processStartTicks: nil),
            environmentId: nil, datasetIdentity: nil, retryFailed: false)

        let next = owner(600, ticks: 5)
        XCTAssertFalse(try claim(ids[0], next))
        XCTAssertTrue(try claim(ids[1], next), "a reused process id does not keep the trial")
        XCTAssertTrue(try claim(ids[2], next))
        XCTAssertFalse(try claim(ids[3], next), "another host's fresh heartbeat")
        XCTAssertFalse(try claim(ids[4], next))
        XCTAssertFalse(try claim(ids[5], next))
        clock.advance(by: 20 * 60)
        XCTAssertFalse(try claim(ids[0], next), "a live, matching process keeps its claim however long its epoch")
        XCTAssertTrue(try claim(ids[3], next), "another host silent for 20 minutes")
        XCTAssertTrue(try claim(ids[4], next))
        XCTAssertTrue(try claim(ids[5], next), "a day-old heartbeat on this host no longer keeps a claim without a start time")
        XCTAssertEqual(try store.trial(id: ids[1])?.pid, 600)
        XCTAssertEqual(try store.trial(id: ids[1])?.processStartTicks, 5)
    }

    /// The real probe: this process is the owner of its own claim; an exited child is not.
    func testRealProcessesThroughProc() throws {
        #if os(Linux)
        let me = ClaimOwner.current()
        XCTAssertNotNil(me.processStartTicks)
        XCTAssertNotNil(me.bootId)
        let (store, ids) = try fileStore(trials: 2)
        guard case .claimed = try store.claimTrial(ids[0], owner: me, environmentId: nil, datasetIdentity: nil, retryFailed: false)
        else { return XCTFail("pending") }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        var gone = me
        gone.pid = child.processIdentifier
        guard case .claimed = try store.claimTrial(ids[1], owner: gone, environmentId: nil, datasetIdentity: nil, retryFailed: false)
        else { return XCTFail("pending") }
        XCTAssertEqual(try store.recoverAbandonedTrials(currentHost: me.host), [ids[1]])
        XCTAssertEqual(try store.trial(id: ids[0])?.status, .running)
        // This process with another recorded start time is a reused process id: dead.
        try store.dbWriter.write { try $0.execute(sql: "UPDATE trials SET process_start_ticks = process_start_ticks - 1 WHERE id = ?", arguments: [ids[0]]) }
        XCTAssertEqual(try store.recoverAbandonedTrials(currentHost: me.host), [ids[0]])
        #else
        throw XCTSkip("the real probe reads /proc (Linux)")
        #endif
    }
}
