/// The checkpoint metadata the trainer needs to resume (stored inside the engine checkpoint).
struct ResumeState: Codable, Equatable {
    var trialId: String
    /// Epochs completed.
    var epoch: Int
    var iterationsDone: Int
    var schedule: ScheduleState
}
