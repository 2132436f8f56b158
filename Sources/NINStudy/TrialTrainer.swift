import Foundation
import NINEngine
import NINData

/// A thread-safe stop request (set by Ctrl-C, read once per mini-batch).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    public func set() { lock.lock(); value = true; lock.unlock() }
}

/// The metrics of one finished epoch. Accuracies in percent, losses in nats per image.
public struct EpochMetrics: Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// The learning rate used during the epoch (per mini-batch).
    public var learningRate: Double
    /// Wall seconds of the epoch, training and evaluation.
    public var wallSeconds: Double
    /// Training throughput, images per second.
    public var imagesPerSecond: Double
}

/// What happened to a trial.
public enum TrialOutcome: Equatable, Sendable {
    case finished
    /// Failed with a plain reason (NaN/Inf loss, accuracy stuck at chance).
    case failed(String)
    /// Stopped on request; the last end-of-epoch checkpoint is kept for resuming.
    case interrupted
}

/// Live progress of a trial's training, called at most once per mini-batch.
public struct BatchProgress: Sendable {
    public var epoch: Int, epochs: Int, batch: Int, batches: Int
    /// Running mean loss and accuracy (percent) of the epoch so far.
    public var loss: Double, accuracy: Double
    public var imagesPerSecond: Double
}

/// The checkpoint metadata the trainer needs to resume (stored inside the engine checkpoint).
struct ResumeState: Codable, Equatable {
    var trialId: String
    /// Epochs completed.
    var epoch: Int
    var iterationsDone: Int
    var schedule: ScheduleState
}

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
    public let checkpointURL: URL
    public private(set) var network: Network
    private var optimizer: SGD
    private var generator: SeededGenerator
    private var state: ResumeState
    /// Epochs already completed when training began (non-zero after a resume).
    public let resumedFromEpoch: Int

    /// Builds the network, restoring from `checkpointURL` when a checkpoint of this trial exists.
    /// - Throws: `ModelDescriptionError` for an impossible model; `CheckpointError` for a checkpoint
    ///   that belongs to this trial but cannot be read.
    public init(trial: Trial, data: PreparedData, threads: Int, checkpointURL: URL) throws {
        self.trial = trial
        self.data = data
        self.threads = threads
        self.checkpointURL = checkpointURL
        let t = trial.config.training
        var generator = SeededGenerator(seed: UInt64(trial.config.seed))
        network = try Network(description: trial.config.model.engineDescription(dataset: trial.config.dataset, name: trial.id),
                              initializer: t.engineInitializer, multipliers: t.engineMultipliers,
                              maxBatch: t.batchSize, threads: threads, biasValue: Float(t.initializer.bias),
                              generator: &generator)
        var optimizer = SGD(momentum: Float(t.momentum), weightDecay: Float(t.weightDecay))
        var state = ResumeState(trialId: trial.id, epoch: 0, iterationsDone: 0,
                                schedule: LearningRateSchedule(base: t.learningRate, spec: t.schedule).initialState)
        if FileManager.default.fileExists(atPath: checkpointURL.path) {
            let checkpoint = try Checkpoint.read(from: checkpointURL)
            if let saved = try? JSONDecoder().decode(ResumeState.self, from: checkpoint.metadata), saved.trialId == trial.id {
                try network.restore(from: checkpoint, optimizer: &optimizer, generator: &generator)
                state = saved
            }
        }
        self.optimizer = optimizer
        self.generator = generator
        self.state = state
        resumedFromEpoch = state.epoch
    }

    /// Planned epochs (from `epochs`, or enough epochs to make `iterations` updates).
    public var plannedEpochs: Int {
        let t = trial.config.training
        if let e = t.epochs { return e }
        let perEpoch = max(1, (data.train.count + t.batchSize - 1) / t.batchSize)
        return ((t.iterations ?? 1) + perEpoch - 1) / perEpoch
    }

    /// Trains the remaining epochs.
    /// - Parameters:
    ///   - stop: checked once per mini-batch; when set, returns `.interrupted` at once.
    ///   - progress: live progress, once per mini-batch.
    ///   - epochFinished: called with each epoch's metrics BEFORE its checkpoint is written, so a
    ///     kill between the two redoes the epoch (with identical metrics) instead of losing it.
    /// - Throws: whatever `epochFinished` throws, and checkpoint write errors.
    public func run(stop: StopFlag, progress: (BatchProgress) -> Void,
                    epochFinished: (EpochMetrics) throws -> Void) throws -> TrialOutcome {
        let t = trial.config.training
        let classes = trial.config.dataset.classes
        let schedule = LearningRateSchedule(base: t.learningRate, spec: t.schedule)
        let sampler = MiniBatchSampler(count: data.train.count, batchSize: t.batchSize)
        let augmentation = Augmentation(translate: trial.config.dataset.translate, horizontalFlip: trial.config.dataset.horizontalFlip)
        var batch = MiniBatch(capacity: t.batchSize, height: data.train.height, width: data.train.width, channels: data.train.channels)
        let totalIterations = t.iterations ?? Int.max
        let epochs = plannedEpochs

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
                progress(BatchProgress(epoch: epoch, epochs: epochs, batch: i + 1, batches: order.count,
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
            try epochFinished(metrics)
            try saveCheckpoint()

            // At chance: held-out accuracy within 2 points of 1/K and the training loss still near
            // ln K (a network that predicts one class, or all classes equally). Checked from epoch
            // `failAtChanceAfterEpoch` on: a network that collapses later is as dead.
            let chance = 100.0 / Double(classes)
            let heldOut = metrics.valAccuracy ?? metrics.testAccuracy ?? metrics.trainAccuracy
            if t.failAtChanceAfterEpoch > 0, epoch >= t.failAtChanceAfterEpoch,
               heldOut < chance + 2, metrics.trainLoss > 0.97 * log(Double(classes)) {
                return .failed(chanceFailureReason(epoch: epoch, metrics: metrics, classes: classes))
            }
            if state.iterationsDone >= totalIterations { break }
        }
        return .finished
    }

    /// Why a trial at chance failed, with advice that fits its configuration.
    func chanceFailureReason(epoch: Int, metrics: EpochMetrics, classes: Int) -> String {
        let c = trial.config
        var advice: [String] = []
        if c.model.finalReLU { advice.append("model.finalReLU false (a ReLU after the last layer of the last block can silence every class map, or all an FC head sees: the known NIN failure with the zoo recipe)") }
        if c.training.initializer.kind == "gaussian" { advice.append("the \"he\" initializer") }
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
        try network.checkpoint(optimizer: optimizer, generator: generator, metadata: metadata).write(to: checkpointURL)
    }

    /// The weights, momentum and generator bytes (for determinism tests).
    public var stateBytes: [Float] { network.parameterValues() + optimizer.velocity }
}
