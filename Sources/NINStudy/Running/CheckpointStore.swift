import Foundation
import NINEngine
import NINStore

/// The end-of-epoch checkpoint of a trial, read and checked: the engine checkpoint (weights,
/// momentum, generator) and the trainer's resume state stored in its metadata.
public struct TrialCheckpoint {
    /// Weights, momentum buffers and generator state.
    public var checkpoint: Checkpoint
    /// Epochs and updates done, and the learning-rate schedule's state.
    var state: ResumeState
    /// Epochs completed when the checkpoint was written.
    public var epoch: Int { state.epoch }
}

/// Where trials' checkpoints live and how they are read, written and removed: one file
/// `<directory>/<trial-id>.ckpt` per trial, by default in `checkpoints/NAME/` beside the results
/// database `NAME.sqlite` (``DatabaseFiles``, the owner of that convention). Writes are atomic (`Checkpoint.write`: temporary file, then rename).
public struct CheckpointStore: Sendable {
    /// The folder holding the checkpoint files.
    public let directory: String

    /// A store in `directory`.
    public init(directory: String) { self.directory = directory }

    /// The default store of a results database `NAME.sqlite`: `checkpoints/NAME/` beside it.
    public init(databasePath: String) {
        directory = DatabaseFiles(databasePath: databasePath).checkpointFolder
    }

    /// The checkpoint file of a trial (whether or not it exists).
    public func url(trialId: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent(DatabaseFiles.checkpointFileName(trialId: trialId))
    }

    /// Whether a checkpoint file of the trial exists.
    public func exists(trialId: String) -> Bool { FileManager.default.fileExists(atPath: url(trialId: trialId).path) }

    /// Reads a trial's checkpoint.
    /// - Returns: nil when there is no file, or when its metadata is not this trial's resume
    ///   state (then the trial starts from epoch 1, as if there were none).
    /// - Throws: `CheckpointError` for a file that cannot be read or parsed.
    public func load(trialId: String) throws -> TrialCheckpoint? {
        guard exists(trialId: trialId) else { return nil }
        let checkpoint = try Checkpoint.read(from: url(trialId: trialId))
        guard let state = try? JSONDecoder().decode(ResumeState.self, from: checkpoint.metadata), state.trialId == trialId else {
            return nil
        }
        return TrialCheckpoint(checkpoint: checkpoint, state: state)
    }

    /// Writes a trial's checkpoint with its resume state (same state, same bytes).
    /// - Throws: `CheckpointError.io` when the folder or file cannot be written.
    func save(_ checkpoint: Checkpoint, trialId: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try checkpoint.write(to: url(trialId: trialId))
    }

    /// Deletes a trial's checkpoint, if any (a trial that starts again from epoch 1).
    public func remove(trialId: String) {
        try? FileManager.default.removeItem(at: url(trialId: trialId))
    }

    /// Deletes the temporary files of checkpoint writes that never reached their rename (a kill
    /// between the two), `.<trial-id>.ckpt.tmp-<pid>`, at once unless their writer may still be
    /// writing (``temporaryWriterMayBeLive(trial:pid:modified:currentHost:now:probe:)``, given
    /// the trial's record in this database by `trial`).
    /// - Returns: the names of the files deleted.
    @discardableResult
    public func removeAbandonedTemporaryFiles(trial: (String) -> TrialRecord?, currentHost: String,
                                              now: Date = Date(), probe: ProcessProbe = .system) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let (target, pid) = Checkpoint.parseTemporaryName(name), target.hasSuffix("." + DatabaseFiles.checkpointExtension) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            guard let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { continue }
            let trialId = String(target.dropLast(".ckpt".count))
            if Self.temporaryWriterMayBeLive(trial: trial(trialId), pid: pid, modified: modified, currentHost: currentHost,
                                             now: now, probe: probe) { continue }
            if (try? fm.removeItem(atPath: path)) != nil { removed.append(name) }
        }
        return removed
    }

    /// Whether the writer of a temporary checkpoint file of `trial` named with process id `pid`,
    /// last written at `modified`, may still be writing it. Only the owner of a trial's claim
    /// writes its checkpoint, so the writer is identified as claims are (``ClaimOwner``: pid and
    /// process start time, not by the file's age):
    /// - the trial is `running` under a live claim of process `pid` (on any host: a claim
    ///   elsewhere is live while its heartbeat is fresh); or
    /// - process `pid` is alive on this machine and started before the file was last written
    ///   (a process that started later reused the id and is not the writer), or its start time
    ///   cannot be read.
    /// Any other file's writer is gone (or lost its claim, and stops at its next write) and the
    /// file is deleted by the next run, however soon it starts.
    public static func temporaryWriterMayBeLive(trial: TrialRecord?, pid: Int32, modified: Date, currentHost: String,
                                                now: Date, probe: ProcessProbe) -> Bool {
        if let trial, trial.status == .running, trial.pid == pid,
           ResultsStore.claimIsLive(trial, now: now, currentHost: currentHost, staleAfter: ClaimTimeout.staleAfter, probe: probe) {
            return true
        }
        guard probe.isAlive(pid) else { return false }
        guard let started = probe.startDate(pid) else { return true }
        // `btime` is whole seconds: a writer started up to 1 s after the write still counts.
        return started <= modified.addingTimeInterval(1)
    }
}
