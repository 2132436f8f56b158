import Foundation
import GRDB

/// The result of ``ResultsStore/claimTrial(_:owner:environmentId:datasetIdentity:retryFailed:staleAfter:probe:)``.
public enum TrialClaim: Equatable, Sendable {
    /// This process now owns the trial (it is `running` under its name); `previous` is the trial
    /// as it was just before the claim (status, epochs recorded, dataset identity).
    case claimed(previous: TrialRecord)
    /// The trial is not this process's to run: `current` is finished, failed (without
    /// `retryFailed`), or running in a live process, as of the claim's transaction.
    case notClaimable(current: TrialRecord)
}

extension ResultsStore {
    /// Claims a trial for `owner` in ONE write transaction: a trial that is pending, interrupted,
    /// failed (only with `retryFailed`), or running under a dead claim becomes `running` with the
    /// owner's host, process id, boot id and process start time, `started_at` and `heartbeat_at`
    /// now, `finished_at` and `failure_reason` cleared.
    ///
    /// SQLite's write lock (an IMMEDIATE transaction; other processes wait up to the store's busy
    /// timeout) makes the check and the update one step, so of several processes claiming the
    /// same trial exactly one gets ``TrialClaim/claimed(previous:)`` and the others
    /// ``TrialClaim/notClaimable(current:)``, on one machine or across machines sharing the file.
    /// A dead claim is judged by ``claimIsLive(_:now:currentHost:staleAfter:probe:)``.
    /// - Throws: ``StoreError/trialNotFound(prefix:)``, ``StoreError/environmentNotFound(id:)``,
    ///   ``StoreError/datasetNotFound(identity:)``, or a database error.
    public func claimTrial(_ trialId: String, owner: ClaimOwner, environmentId: Int64?, datasetIdentity: String?,
                           retryFailed: Bool, staleAfter: TimeInterval = ClaimTimeout.staleAfter,
                           probe: ProcessProbe = .system) throws -> TrialClaim {
        let now = clock()
        return try write("claim trial \(trialId.prefix(10))") { db in
            guard let trial = try TrialRecord.fetchOne(db, key: trialId) else { throw StoreError.trialNotFound(prefix: trialId) }
            switch trial.status {
            case .finished: return .notClaimable(current: trial)
            case .failed where !retryFailed: return .notClaimable(current: trial)
            case .running where Self.claimIsLive(trial, now: now, currentHost: owner.host, staleAfter: staleAfter, probe: probe):
                return .notClaimable(current: trial)
            case .pending, .interrupted, .failed, .running:
                break
            }
            if let environmentId, try !EnvironmentRecord.exists(db, key: environmentId) {
                throw StoreError.environmentNotFound(id: environmentId)
            }
            if let datasetIdentity, try !DatasetRecord.exists(db, key: datasetIdentity) {
                throw StoreError.datasetNotFound(identity: datasetIdentity)
            }
            var previous = trial
            if trial.status == .running {
                // A dead claim: account its recorded epochs' time as an interruption would.
                try Self.setInterrupted(db, trialId: trialId)
                previous = try TrialRecord.fetchOne(db, key: trialId)!
            }
            let text = Timestamp.string(from: now)
            try db.execute(
                sql: """
                    UPDATE trials SET status = 'running', pid = ?, host = ?, boot_id = ?, process_start_ticks = ?,
                        environment_id = ?, dataset_identity = ?, started_at = ?, heartbeat_at = ?,
                        finished_at = NULL, failure_reason = NULL
                    WHERE id = ?
                    """,
                arguments: [owner.pid, owner.host, owner.bootId, owner.processStartTicks, environmentId,
                            datasetIdentity, text, text, trialId])
            return .claimed(previous: previous)
        }
    }

    /// Whether a `running` trial's claim belongs to a live process.
    ///
    /// - On this machine (same host name, and the same boot id when both are known) the claim
    ///   is live only if its process exists and, when the claim recorded a process start time,
    ///   has that start time: a process id reused after a restart is not the owner. A claim
    ///   without a recorded start time (written by an older version) whose process id exists is
    ///   trusted only while its heartbeat is younger than `staleAfter`.
    /// - On another machine (or an earlier boot), whose processes cannot be checked, the claim
    ///   is live while its `heartbeat_at` (else `started_at`, else `created_at`) is younger than
    ///   `staleAfter` seconds. A running trial refreshes its heartbeat at least every minute.
    public static func claimIsLive(_ trial: TrialRecord, now: Date, currentHost: String, staleAfter: TimeInterval,
                                   probe: ProcessProbe) -> Bool {
        let lastSign = trial.heartbeatAt ?? trial.startedAt ?? trial.createdAt
        let heartbeatIsFresh = now.timeIntervalSince(lastSign) <= staleAfter
        let sameBoot = trial.bootId == nil || probe.bootId == nil || trial.bootId == probe.bootId
        guard trial.host == currentHost, sameBoot else { return heartbeatIsFresh }
        guard let pid = trial.pid, probe.isAlive(pid) else { return false }
        if let recorded = trial.processStartTicks, let actual = probe.startTicks(pid) { return recorded == actual }
        return heartbeatIsFresh
    }

    /// Marks as interrupted every trial left `running` by a process that is gone, and returns their ids.
    /// Each one's `wall_seconds` becomes the wall time of its recorded epochs.
    ///
    /// A claim is dead by ``claimIsLive(_:now:currentHost:staleAfter:probe:)``, with `isAlive`
    /// checking this machine's process ids (and `/proc` their start times).
    /// - Returns: The recovered trial ids, sorted.
    /// - Throws: A database error.
    @discardableResult
    public func recoverAbandonedTrials(currentHost: String, staleAfter: TimeInterval = ClaimTimeout.staleAfter,
                                       isAlive: @escaping (Int32) -> Bool = ResultsStore.processIsAlive) throws -> [String] {
        var probe = ProcessProbe.system
        probe.isAlive = isAlive
        return try recoverAbandonedTrials(currentHost: currentHost, staleAfter: staleAfter, probe: probe)
    }

    /// ``recoverAbandonedTrials(currentHost:staleAfter:isAlive:)`` with every process check injectable.
    @discardableResult
    public func recoverAbandonedTrials(currentHost: String, staleAfter: TimeInterval, probe: ProcessProbe) throws -> [String] {
        let now = clock()
        return try write("recover abandoned trials") { db in
            let running = try TrialRecord.filter(Column("status") == TrialStatus.running).order(Column("id")).fetchAll(db)
            var recovered: [String] = []
            for trial in running
            where !Self.claimIsLive(trial, now: now, currentHost: currentHost, staleAfter: staleAfter, probe: probe) {
                try Self.setInterrupted(db, trialId: trial.id)
                recovered.append(trial.id)
            }
            return recovered
        }
    }
}

extension ResultsStore {
    /// Fetches a trial for a write by `owner` and checks that `owner` still holds its claim
    /// (``ClaimOwner/owns(_:)``); without an owner (a database's only writer: tests, tools), checks
    /// only that its status is one of `allowed`.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)`` when another process took the
    ///   claim over (or recovered it as interrupted), ``StoreError/trialNotFound(prefix:)``,
    ///   ``StoreError/invalidTransition(trialId:action:from:allowed:)``.
    static func requireClaim(_ db: Database, trialId: String, action: String, owner: ClaimOwner?,
                             allowed: [TrialStatus] = [.running]) throws -> TrialRecord {
        guard let owner else { return try requireStatus(db, trialId: trialId, action: action, allowed: allowed) }
        guard let trial = try TrialRecord.fetchOne(db, key: trialId) else { throw StoreError.trialNotFound(prefix: trialId) }
        guard owner.owns(trial) else {
            let now = trial.status == .running
                ? "running in process \(trial.pid.map(String.init) ?? "?") on \(trial.host ?? "?")"
                : trial.status.rawValue
            throw StoreError.claimLost(trialId: trialId, action: action, owner: now)
        }
        return trial
    }
}

extension ResultsStore {
    /// Runs `body` (a trial's file write, such as renaming its new checkpoint into place) inside
    /// one write transaction that first checks that `owner` still holds the trial's claim and
    /// refreshes its heartbeat: no other process can take the claim over while `body` runs, so a
    /// process that lost its claim never replaces the new owner's files.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)`` (then `body` does not run),
    ///   ``StoreError/trialNotFound(prefix:)``, whatever `body` throws (the heartbeat is then not
    ///   written), or a database error.
    public func whileOwningClaim<T>(trialId: String, owner: ClaimOwner, action: String, _ body: () throws -> T) throws -> T {
        let now = nowText
        var bodyError: (any Error)?
        do {
            return try write("\(action) trial \(trialId.prefix(10))") { db in
                _ = try Self.requireClaim(db, trialId: trialId, action: action, owner: owner)
                try db.execute(sql: "UPDATE trials SET heartbeat_at = ? WHERE id = ?", arguments: [now, trialId])
                do { return try body() } catch { bodyError = error; throw error }
            }
        } catch {
            throw bodyError ?? error
        }
    }
}
