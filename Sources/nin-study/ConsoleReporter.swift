import Foundation
import NINStudy

/// Writes progress to standard output: on a terminal a live, rewritten line (at most 5 updates a
/// second); otherwise one line per epoch and per trial event.
final class ConsoleReporter: RunReporter {
    let isTerminal: Bool
    private var lastDraw = Date.distantPast
    private var liveLineShown = false
    private var prefix = ""
    /// Epochs of the current trial whose checkpoint is written (resumed ones included).
    private var epochsDone = 0

    init(isTerminal: Bool = isatty(STDOUT_FILENO) == 1) { self.isTerminal = isTerminal }

    private func emit(_ line: String) {
        if liveLineShown { print("\r\u{1B}[K", terminator: ""); liveLineShown = false }
        print(line)
        fflush(stdout)
    }

    func message(_ text: String) { emit(text) }

    func trialStarted(index: Int, count: Int, trial: Trial, resumedFromEpoch: Int, epochs: Int) {
        prefix = "[\(index)/\(count)] \(trial.id.prefix(10))"
        epochsDone = resumedFromEpoch
        let resume = resumedFromEpoch > 0 ? ", resuming after epoch \(resumedFromEpoch)" : ""
        emit("\(prefix) \(trial.label): \(epochs) epoch\(epochs == 1 ? "" : "s")\(resume)")
    }

    func batch(_ p: BatchProgress, trialETA: Double, studyETA: Double) {
        guard isTerminal, Date().timeIntervalSince(lastDraw) >= 0.2 || p.batch == p.batches else { return }
        lastDraw = Date()
        let line = prefix + String(format: " epoch %d/%d batch %d/%d loss %.4f acc %.2f%% %.1f img/s",
                                   p.epoch, p.epochs, p.batch, p.batches, p.loss, p.accuracy, p.imagesPerSecond)
            + " ETA trial \(durationText(trialETA)) study \(durationText(studyETA))"
        print("\r\u{1B}[K" + line, terminator: "")
        fflush(stdout)
        liveLineShown = true
    }

    func epochFinished(_ m: EpochMetrics, trial: Trial) {
        var parts = [prefix + String(format: " epoch %d: train loss %.4f acc %.2f%%", m.epoch, m.trainLoss, m.trainAccuracy)]
        if let a = m.valAccuracy { parts.append(String(format: "val acc %.2f%%", a)) }
        if let l = m.testLoss, let a = m.testAccuracy { parts.append(String(format: "test loss %.4f acc %.2f%%", l, a)) }
        parts.append(String(format: "lr %g, %.1f s, %.1f img/s", m.learningRate, m.wallSeconds, m.imagesPerSecond))
        emit(parts.joined(separator: ", "))
        epochsDone = m.epoch
    }

    func trialEnded(_ trial: Trial, outcome: TrialOutcome) {
        switch outcome {
        case .finished: emit("\(prefix) finished")
        case .failed(let reason): emit("\(prefix) FAILED: \(reason)")
        case .interrupted where epochsDone == 0:
            emit("\(prefix) interrupted during its first epoch; the next run starts it from the beginning")
        case .interrupted: emit("\(prefix) interrupted; the next run resumes after epoch \(epochsDone)")
        }
    }
}
