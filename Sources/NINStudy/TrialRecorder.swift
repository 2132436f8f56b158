import Foundation
import NINStore

/// Records one trial's run in the results store: its claim, epochs, heartbeats, artifacts and
/// outcome. Wall time is summed from the recorded epochs by the store.
public final class TrialRecorder {
    /// The results store.
    public let store: ResultsStore
    /// The trial recorded.
    public let trialId: String
    /// Seconds between heartbeats (a live process's trial is not taken for abandoned).
    public let heartbeatInterval: TimeInterval
    private var lastHeartbeat = Date()

    /// A recorder of `trialId` in `store`.
    public init(store: ResultsStore, trialId: String, heartbeatInterval: TimeInterval = 60) {
        self.store = store
        self.trialId = trialId
        self.heartbeatInterval = heartbeatInterval
    }

    /// Claims the trial for this process in one transaction (``ResultsStore/claimTrial``): a
    /// pending, interrupted, failed-and-retried or dead-running trial becomes running with this
    /// process as its owner; any other state is left alone and returned.
    /// - Returns: `.claimed(previous:)` with the record as it was, or `.notClaimable(current:)`.
    /// - Throws: `StoreError` (unknown trial, environment or dataset).
    public func claim(environmentId: Int64, datasetIdentity: String, retryFailed: Bool) throws -> TrialClaim {
        let result = try store.claimTrial(trialId, owner: .current(), environmentId: environmentId,
                                          datasetIdentity: datasetIdentity, retryFailed: retryFailed)
        lastHeartbeat = Date()
        return result
    }

    /// Records a finished epoch's metrics. - Throws: `StoreError`.
    public func record(_ m: EpochMetrics) throws {
        try store.recordEpoch(m.record(trialId: trialId))
    }

    /// Writes a heartbeat when `heartbeatInterval` has passed since the last one (a failed
    /// heartbeat is retried at the next call).
    public func heartbeatIfDue(now: Date = Date()) {
        guard now.timeIntervalSince(lastHeartbeat) > heartbeatInterval else { return }
        if (try? store.heartbeat(trialId: trialId)) != nil { lastHeartbeat = now }
    }

    /// Records a file the trial produced, with its SHA-256 and size.
    /// - Throws: `CocoaError` when the file cannot be read, `StoreError`.
    public func recordArtifact(_ kind: ArtifactKind, path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try store.addArtifact(trialId: trialId, kind: kind, path: path, sha256: sha256Hex(data), bytes: Int64(data.count))
    }

    /// Records how the trial ended. - Throws: `StoreError`.
    public func record(_ outcome: TrialOutcome) throws {
        switch outcome {
        case .finished: try store.markFinished(trialId: trialId)
        case .failed(let reason): try store.markFailed(trialId: trialId, reason: reason)
        case .interrupted: try store.markInterrupted(trialId: trialId)
        }
    }
}
