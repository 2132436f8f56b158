/// The checkpoint metadata the trainer needs to resume (stored inside the engine checkpoint).
struct ResumeState: Codable, Equatable {
    var trialId: String
    /// Epochs completed.
    var epoch: Int
    var iterationsDone: Int
    var schedule: ScheduleState
    /// Why the trial failed at the end of epoch `epoch` (the at-chance check), decided before this
    /// checkpoint was written; nil for a trial still training. A trainer resumed from a checkpoint
    /// with a failure returns that failure at once, so a kill between the checkpoint and the
    /// recorded outcome cannot turn a failed trial into a finished one. Absent from the JSON when
    /// nil (checkpoints of trials that did not fail keep their bytes).
    var failure: String? = nil
}
