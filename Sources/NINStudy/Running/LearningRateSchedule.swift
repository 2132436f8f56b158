/// The learning-rate schedule's state, saved in every end-of-epoch checkpoint so that a resumed
/// trial continues with exactly the learning rate an uninterrupted one would use.
public struct ScheduleState: Codable, Equatable, Sendable {
    /// Learning rate for the next epoch (per mini-batch).
    public var learningRate: Double
    /// Plateau: reductions made so far.
    var reductions: Int = 0
    /// Plateau: best training accuracy so far (percent).
    var bestTrainAccuracy: Double = -1
    /// Plateau: epochs since the best training accuracy improved by at least `minDelta`.
    var epochsWithoutImprovement: Int = 0

    public init(learningRate: Double) { self.learningRate = learningRate }
}

/// Learning-rate schedules: `constant`, `step`, `multistep` and `plateau` (the paper's: divide by
/// 10 when training accuracy stops improving, twice; NIN.md "Solver").
struct LearningRateSchedule: Sendable {
    public var base: Double
    public var spec: ResolvedSchedule

    public init(base: Double, spec: ResolvedSchedule) {
        self.base = base
        self.spec = spec
    }

    /// The state before the first epoch.
    var initialState: ScheduleState { ScheduleState(learningRate: base) }

    /// Advances the state after `epoch` (1-based) finished with `trainAccuracy` percent.
    public func advance(_ state: inout ScheduleState, afterEpoch epoch: Int, trainAccuracy: Double) {
        switch spec.kind {
        case .step:
            let step = spec.stepEpochs ?? Int.max
            state.learningRate = base * pow(spec.gamma, Double(epoch / step))
        case .multistep:
            let passed = (spec.milestones ?? []).filter { $0 <= epoch }.count
            state.learningRate = base * pow(spec.gamma, Double(passed))
        case .plateau:
            if trainAccuracy >= state.bestTrainAccuracy + (spec.minDelta ?? 0) || state.bestTrainAccuracy < 0 {
                state.bestTrainAccuracy = max(trainAccuracy, state.bestTrainAccuracy)
                state.epochsWithoutImprovement = 0
            } else {
                state.epochsWithoutImprovement += 1
                if state.epochsWithoutImprovement >= (spec.patience ?? 1), state.reductions < (spec.maxReductions ?? 2) {
                    state.learningRate *= spec.gamma
                    state.reductions += 1
                    state.epochsWithoutImprovement = 0
                }
            }
        case .constant:
            break
        }
    }

    /// x to a whole power by repeated multiplication: the same bits on every platform's libm, so a
    /// resumed trial's learning rate never depends on the machine.
    private func pow(_ x: Double, _ n: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(n) { r *= x }
        return r
    }
}
