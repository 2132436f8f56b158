import Foundation

/// Receives what a study run does, for the user: a live line per trial on a terminal, one plain
/// line per epoch otherwise.
public protocol RunReporter: AnyObject {
    func message(_ text: String)
    func trialStarted(index: Int, count: Int, trial: Trial, resumedFromEpoch: Int, epochs: Int)
    /// `trialETA`, `studyETA`: estimated seconds remaining.
    func batch(_ progress: BatchProgress, trialETA: Double, studyETA: Double)
    func epochFinished(_ metrics: EpochMetrics, trial: Trial)
    func trialEnded(_ trial: Trial, outcome: TrialOutcome)
}
