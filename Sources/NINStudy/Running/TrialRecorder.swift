import Foundation
import NINStore

/// Records one trial's run in the results store: its claim, epochs, heartbeats, artifacts and
/// outcome. Wall time is summed from the recorded epochs by the store.
///
/// Every write carries the claim's owner (this process, ``ClaimOwner/current()`` at the claim):
/// once another process has taken the claim over (`run --exclusive`, or another host after
/// ``ClaimTimeout/staleAfter`` without a heartbeat, e.g. while this process was suspended), each
/// write fails with ``StoreError/claimLost(trialId:action:owner:)`` and changes nothing, and the
/// runner stops the trial without touching its files.
public final class TrialRecorder {
    /// The results store.
    public let store: ResultsStore
    /// The trial recorded.
    public let trialId: String
    /// Seconds between heartbeats (a live process's trial is not taken for abandoned).
    public let heartbeatInterval: TimeInterval
    /// The owner every write names: this process.
    public let owner: ClaimOwner
    /// Told once about a heartbeat that failed for another reason than a lost claim (it is
    /// retried at the next mini-batch).
    let warn: (String) -> Void
    private var lastHeartbeat = Date()
    private var warnedAboutHeartbeat = false

    /// A recorder of `trialId` in `store`, writing as `owner`.
    public init(store: ResultsStore, trialId: String, heartbeatInterval: TimeInterval = ClaimTimeout.heartbeatInterval,
                owner: ClaimOwner = .current(), warn: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.trialId = trialId
        self.heartbeatInterval = heartbeatInterval
        self.owner = owner
        self.warn = warn
    }

    /// Claims the trial for this process in one transaction (``ResultsStore/claimTrial``): a
    /// pending, interrupted, failed-and-retried or dead-running trial becomes running with this
    /// process as its owner; any other state is left alone and returned.
    /// - Returns: `.claimed(previous:)` with the record as it was, or `.notClaimable(current:)`.
    /// - Throws: `StoreError` (unknown trial, environment or dataset).
    public func claim(environmentId: Int64, datasetIdentity: String, retryFailed: Bool) throws -> TrialClaim {
        let result = try store.claimTrial(trialId, owner: owner, environmentId: environmentId,
                                          datasetIdentity: datasetIdentity, retryFailed: retryFailed)
        lastHeartbeat = Date()
        return result
    }

    /// Records a finished epoch's metrics.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)``, other `StoreError`s.
    public func record(_ m: EpochMetrics) throws {
        try store.recordEpoch(m.record(trialId: trialId), owner: owner)
    }

    /// Writes a heartbeat now, which also checks that this process still owns the claim.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)``, other `StoreError`s.
    public func heartbeat(now: Date = Date()) throws {
        try store.heartbeat(trialId: trialId, owner: owner)
        lastHeartbeat = now
    }

    /// Writes a heartbeat when `heartbeatInterval` has passed since the last one.
    ///
    /// A heartbeat that fails for another reason (a lock held too long) is told once through
    /// `warn` and retried at the next call.
    /// - Returns: whether a heartbeat was written.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)`` when another process owns the
    ///   trial now: the caller must stop training it.
    @discardableResult
    public func heartbeatIfDue(now: Date = Date()) throws -> Bool {
        guard now.timeIntervalSince(lastHeartbeat) > heartbeatInterval else { return false }
        do {
            try heartbeat(now: now)
            warnedAboutHeartbeat = false
            return true
        } catch let error as StoreError {
            if case .claimLost = error { throw error }
            if !warnedAboutHeartbeat { warn("trial \(trialId.prefix(10)): heartbeat failed, retried at the next mini-batch: \(error)") }
            warnedAboutHeartbeat = true
            return false
        }
    }

    /// Runs `write` (a file write of the trial, such as its checkpoint) while this process holds
    /// the claim, which no other process can take over meanwhile; refreshes the heartbeat.
    /// - Throws: ``StoreError/claimLost(trialId:action:owner:)`` (then `write` does not run),
    ///   whatever `write` throws.
    public func whileOwningClaim(_ action: String, _ write: () throws -> Void) throws {
        try store.whileOwningClaim(trialId: trialId, owner: owner, action: action, write)
        lastHeartbeat = Date()
    }

    /// Records a file the trial produced, with its SHA-256 and size.
    /// - Throws: `CocoaError` when the file cannot be read, `StoreError` (also a lost claim).
    public func recordArtifact(_ kind: ArtifactKind, path: String) throws {
        try Self.recordArtifact(kind, path: path, trialId: trialId, store: store, owner: owner)
    }

    /// Records a file of a trial with its SHA-256 and size, checking the claim of `owner` when
    /// given; without one, for files of trials no process trains (the study's learning curves).
    /// - Throws: `CocoaError` when the file cannot be read, `StoreError`.
    static func recordArtifact(_ kind: ArtifactKind, path: String, trialId: String, store: ResultsStore,
                               owner: ClaimOwner?) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try store.addArtifact(trialId: trialId, kind: kind, path: path, sha256: sha256Hex(data), bytes: Int64(data.count),
                              owner: owner)
    }

    /// Records how the trial ended. - Throws: `StoreError` (also a lost claim).
    public func record(_ outcome: TrialOutcome) throws {
        switch outcome {
        case .finished: try store.markFinished(trialId: trialId, owner: owner)
        case .failed(let reason): try store.markFailed(trialId: trialId, reason: reason, owner: owner)
        case .interrupted: try store.markInterrupted(trialId: trialId, owner: owner)
        }
    }
}
