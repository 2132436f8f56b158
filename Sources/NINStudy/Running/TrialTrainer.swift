import Foundation
import NINEngine
import NINData

/// Trains one trial, epoch by epoch, with an end-of-epoch checkpoint after each epoch.
///
/// Determinism: every random draw (initialisation, per-epoch shuffle, augmentation, dropout)
/// comes from one generator seeded with the trial's seed, in a fixed order; the checkpoint holds
/// that generator's state with the weights, momentum buffers and schedule state, so a trial
/// resumed from epoch k ends with the same bytes as one never interrupted (same thread count).
public final class TrialTrainer {
    public let trial: Trial
    public let data: PreparedData
    public let threads: Int
    /// Where the end-of-epoch checkpoints are written.
    public let checkpoints: CheckpointStore
    /// Runs each checkpoint write (the closure it is given): the runner runs it while this
    /// process holds the trial's claim (``ResultsStore/whileOwningClaim(trialId:owner:action:_:)``),
    /// so a process that lost the claim never replaces the new owner's checkpoint. By default
    /// the write just runs.
    public var guardCheckpointWrite: (_ write: () throws -> Void) throws -> Void = { try $0() }
    public private(set) var network: Network
    private var optimizer: SGD
    private var generator: SeededGenerator
    private var state: ResumeState
    /// Epochs already completed when training began (non-zero after a resume).
    public let resumedFromEpoch: Int

    /// Builds and initialises the network from the trial's seed, then restores it from `resume`
    /// when given (a checkpoint `CheckpointStore.load` read for this trial). No file is read.
    /// - Throws: `ModelDescriptionError` for an impossible model; `CheckpointError.mismatch` for a
    ///   checkpoint of another network; `PrecisionError` for bf16 where it cannot run.
    public init(trial: Trial, data: PreparedData, threads: Int, resume: TrialCheckpoint?, checkpoints: CheckpointStore) throws {
        self.trial = trial
        self.data = data
        self.threads = threads
        self.checkpoints = checkpoints
        let t = trial.config.training
        var generator = SeededGenerator(seed: UInt64(trial.config.seed))
        network = try Network(description: trial.config.model.engineDescription(dataset: trial.config.dataset, name: trial.id),
                              initializer: t.engineInitializer, multipliers: t.engineMultipliers,
                              maxBatch: t.batchSize, threads: threads, biasValue: Float(t.initializer.bias),
                              generator: &generator)
        try network.setPrecision(t.gemmPrecision)
        var optimizer = SGD(momentum: Float(t.momentum), weightDecay: Float(t.weightDecay))
        var state = ResumeState(trialId: trial.id, epoch: 0, iterationsDone: 0,
                                schedule: LearningRateSchedule(base: t.learningRate, spec: t.schedule).initialState)
        if let resume {
            precondition(resume.state.trialId == trial.id, "a checkpoint of another trial")
            try network.restore(from: resume.checkpoint, optimizer: &optimizer, generator: &generator)
            state = resume.state
        }
        self.optimizer = optimizer
        self.generator = generator
        self.state = state
        resumedFromEpoch = state.epoch
    }

    /// Planned epochs (from `epochs`, or enough epochs to make `iterations` updates).
    var plannedEpochs: Int {
        let t = trial.config.training
        if let e = t.epochs { return e }
        let perEpoch = max(1, (data.train.count + t.batchSize - 1) / t.batchSize)
        return ((t.iterations ?? 1) + perEpoch - 1) / perEpoch
    }

    /// Trains the remaining epochs.
    /// - Parameters:
    ///   - stop: checked once per mini-batch; when set, returns `.interrupted` at once.
    ///   - progress: live progress, once per mini-batch; an error it throws (a lost claim) ends
    ///     training at once, before any further checkpoint.
    ///   - epochFinished: called with each epoch's metrics BEFORE its checkpoint is written, so a
    ///     kill between the two redoes the epoch (with identical metrics) instead of losing it.
    /// - Throws: whatever `progress` or `epochFinished` throws, and checkpoint write errors.
    public func run(stop: StopFlag, progress: (BatchProgress) throws -> Void,
                    epochFinished: (EpochMetrics) throws -> Void) throws -> TrialOutcome {
        let t = trial.config.training
        let schedule = LearningRateSchedule(base: t.learningRate, spec: t.schedule)
        let sampler = MiniBatchSampler(count: data.train.count, batchSize: t.batchSize)
        let augmentation = Augmentation(translate: trial.config.dataset.translate, horizontalFlip: trial.config.dataset.horizontalFlip)
        var batch = MiniBatch(capacity: t.batchSize, height: data.train.height, width: data.train.width, channels: data.train.channels)
        let totalIterations = t.iterations ?? Int.max
        let epochs = plannedEpochs
        if let failure = state.failure { return .failed(failure) }

        while state.epoch < epochs {
            let epoch = state.epoch + 1
            let lr = state.schedule.learningRate
            let start = Date()
            let order = sampler.batches(generator: &generator)
            var lossSum = 0.0, correct = 0, seen = 0
            for (i, indices) in order.enumerated() {
                if state.iterationsDone >= totalIterations { break }
                if stop.isSet { return .interrupted }
                batch.gather(indices, from: data.train)
                if !augmentation.isIdentity { augmentation.apply(to: &batch.images, generator: &generator) }
                let result = try batch.images.data.withUnsafeBufferPointer { x in
                    try network.trainStep(input: x, labels: batch.labels, batch: indices.count, learningRate: Float(lr),
                                      optimizer: &optimizer, generator: &generator)
                }
                guard result.loss.isFinite else {
                    return .failed("training loss became \(result.loss) at epoch \(epoch), mini-batch \(i + 1) (learning rate \(lr)): the run diverged; lower training.learningRate")
                }
                state.iterationsDone += 1
                lossSum += Double(result.loss) * Double(indices.count)
                correct += result.correct
                seen += indices.count
                let elapsed = Date().timeIntervalSince(start)
                try progress(BatchProgress(epoch: epoch, epochs: epochs, batch: i + 1, batches: order.count,
                                       loss: lossSum / Double(seen), accuracy: 100 * Double(correct) / Double(seen),
                                       imagesPerSecond: Double(seen) / max(elapsed, 1e-9)))
            }
            let trainSeconds = Date().timeIntervalSince(start)
            var metrics = EpochMetrics(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                       trainAccuracy: 100 * Double(correct) / Double(max(seen, 1)),
                                       learningRate: lr, wallSeconds: 0, imagesPerSecond: Double(seen) / max(trainSeconds, 1e-9))
            if let v = data.validation {
                let (l, a) = try evaluate(v)
                metrics.valLoss = l; metrics.valAccuracy = a
            }
            let (tl, ta) = try evaluate(data.test)
            metrics.testLoss = tl; metrics.testAccuracy = ta
            metrics.wallSeconds = Date().timeIntervalSince(start)

            state.epoch = epoch
            schedule.advance(&state.schedule, afterEpoch: epoch, trainAccuracy: metrics.trainAccuracy)
            // The failure checks (a diverged loss, see `LossDivergence`; accuracy at chance) come
            // before the checkpoint, and the checkpoint holds their verdict:
            // a kill after the checkpoint resumes into the same failure (see `ResumeState.failure`).
            state.failure = LossDivergence.failure(epoch: epoch, trainLoss: metrics.trainLoss, classes: trial.config.dataset.classes,
                                                   learningRate: lr)
                ?? chanceFailure(epoch: epoch, metrics: metrics)
            try epochFinished(metrics)
            try saveCheckpoint()
            if let failure = state.failure { return .failed(failure) }
            if state.iterationsDone >= totalIterations { break }
        }
        return .finished
    }

    /// The at-chance failure after `epoch`, or nil: held-out accuracy within 2 points of 1/K and
    /// the training loss still near ln K (a network that predicts one class, or all classes
    /// equally). Checked from epoch `failAtChanceAfterEpoch` on: a network that collapses later is
    /// as dead.
    func chanceFailure(epoch: Int, metrics: EpochMetrics) -> String? {
        let t = trial.config.training
        let classes = trial.config.dataset.classes
        let chance = 100.0 / Double(classes)
        let heldOut = metrics.valAccuracy ?? metrics.testAccuracy ?? metrics.trainAccuracy
        guard t.failAtChanceAfterEpoch > 0, epoch >= t.failAtChanceAfterEpoch,
              heldOut < chance + 2, metrics.trainLoss > 0.97 * log(Double(classes)) else { return nil }
        return chanceFailureReason(epoch: epoch, metrics: metrics, classes: classes)
    }

    /// Why a trial at chance failed, with advice that fits its configuration.
    func chanceFailureReason(epoch: Int, metrics: EpochMetrics, classes: Int) -> String {
        let c = trial.config
        var advice: [String] = []
        if c.model.finalReLU { advice.append("model.finalReLU false (a ReLU after the last layer of the last block can silence every class map, or all an FC head sees: the known NIN failure with the zoo recipe)") }
        if c.training.initializer.kind == .gaussian { advice.append("the \"he\" initializer") }
        advice.append("a lower training.learningRate")
        if c.model.blocks.contains(where: { $0.dropout != nil }) { advice.append("less dropout (dropout makes early NIN training slow)") }
        advice.append("more training data or a later training.failAtChanceAfterEpoch")
        return String(format: "accuracy stuck at chance after epoch %d (training %.1f %%, test %.1f %%, loss %.4f; ln %d = %.4f). ",
                      epoch, metrics.trainAccuracy, metrics.testAccuracy ?? 0, metrics.trainLoss, classes, log(Double(classes)))
            + "Try " + advice.joined(separator: "; ")
    }

    /// Mean loss (nats) and accuracy (percent) over a split, inference mode, in mini-batches.
    /// - Throws: `NetworkInputError` when a label is outside the network's classes.
    public func evaluate(_ split: LabeledImages) throws -> (loss: Double, accuracy: Double) {
        let b = trial.config.training.batchSize
        let size = split.imageSize
        var lossSum = 0.0, correct = 0
        try split.images.data.withUnsafeBufferPointer { x in
            try split.labels.withUnsafeBufferPointer { y in
                var start = 0
                while start < split.count {
                    let n = min(b, split.count - start)
                    let r = try network.evaluate(input: UnsafeBufferPointer(rebasing: x[(start * size)..<((start + n) * size)]),
                                             labels: UnsafeBufferPointer(rebasing: y[start..<(start + n)]), batch: n)
                    lossSum += r.lossSum
                    correct += r.correct
                    start += n
                }
            }
        }
        return (lossSum / Double(max(split.count, 1)), 100 * Double(correct) / Double(max(split.count, 1)))
    }

    private func saveCheckpoint() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys] // same state, same bytes
        let metadata = try encoder.encode(state)
        let checkpoint = network.checkpoint(optimizer: optimizer, generator: generator, metadata: metadata)
        try guardCheckpointWrite { try checkpoints.save(checkpoint, trialId: trial.id) }
    }
}
