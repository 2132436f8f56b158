import Foundation
import GRDB

/// One row of `epochs`: the metrics at the end of one epoch of one trial.
///
/// Accuracies are in percent (0–100); losses are mean cross-entropy in nats over the split;
/// `learningRate` is the base learning rate in force during the epoch (per mini-batch step).
/// A non-finite loss (NaN, ±Inf) is stored as NULL, which SQLite does for NaN anyway.
public struct EpochRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "epochs"
    public var trialId: String
    /// Epoch number, 1-based.
    public var epoch: Int
    public var trainLoss: Double?
    public var trainAccuracy: Double?
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var learningRate: Double?
    /// Wall time of the epoch in seconds (training and evaluation).
    public var wallSeconds: Double?
    /// Training throughput in images per second.
    public var imagesPerSecond: Double?
    /// When the epoch ended (set by the store).
    public var finishedAt: Date

    public init(trialId: String, epoch: Int, trainLoss: Double? = nil, trainAccuracy: Double? = nil,
                valLoss: Double? = nil, valAccuracy: Double? = nil, testLoss: Double? = nil,
                testAccuracy: Double? = nil, learningRate: Double? = nil, wallSeconds: Double? = nil,
                imagesPerSecond: Double? = nil, finishedAt: Date = Date()) {
        self.trialId = trialId
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.valLoss = valLoss
        self.valAccuracy = valAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.learningRate = learningRate
        self.wallSeconds = wallSeconds
        self.imagesPerSecond = imagesPerSecond
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case trialId = "trial_id"
        case epoch
        case trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy"
        case valLoss = "val_loss"
        case valAccuracy = "val_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
        case learningRate = "learning_rate"
        case wallSeconds = "wall_seconds"
        case imagesPerSecond = "images_per_second"
        case finishedAt = "finished_at"
    }
}

/// One row of `artifacts`: a file a trial produced (checkpoint, PNG, …).
public struct ArtifactRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "artifacts"
    /// Row id, assigned on insert.
    public var id: Int64?
    public var trialId: String
    public var kind: ArtifactKind
    /// File path as given by the runner (relative to the working folder or absolute).
    public var path: String
    /// SHA-256 (lowercase hex) of the file's bytes.
    public var sha256: String
    /// File size in bytes.
    public var bytes: Int64
    /// When the file was (last) written.
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case trialId = "trial_id"
        case kind, path, sha256, bytes
        case createdAt = "created_at"
    }
}

/// One row of the `trial_summary` view: a trial within a study, swept parameters as columns.
///
/// Errors and accuracies are in percent; `testError = 100 − testAccuracy`.
public struct TrialSummary: FetchableRecord, Decodable, Equatable, Sendable {
    public var study: String
    public var trialId: String
    public var shortId: String
    public var status: TrialStatus
    public var dataset: String
    public var head: String?
    public var depth: Int?
    public var widths: String?
    public var widthMultiplier: Double?
    public var dropout: Double?
    public var seed: Int64?
    public var epochsPlanned: Int?
    public var epochsDone: Int
    public var testAccuracy: Double?
    public var testError: Double?
    public var bestTestError: Double?
    public var finalTrainLoss: Double?
    public var wallSeconds: Double?
    /// Mean training throughput over the recorded epochs, images per second.
    public var imagesPerSecond: Double?
    public var failureReason: String?
    public var parameterCount: Int64?
    public var multiplyAdds: Int64?

    enum CodingKeys: String, CodingKey {
        case study
        case trialId = "trial_id"
        case shortId = "short_id"
        case status, dataset, head, depth, widths
        case widthMultiplier = "width_multiplier"
        case dropout, seed
        case epochsPlanned = "epochs_planned"
        case epochsDone = "epochs_done"
        case testAccuracy = "test_accuracy"
        case testError = "test_error"
        case bestTestError = "best_test_error"
        case finalTrainLoss = "final_train_loss"
        case wallSeconds = "wall_seconds"
        case imagesPerSecond = "images_per_second"
        case failureReason = "failure_reason"
        case parameterCount = "parameter_count"
        case multiplyAdds = "multiply_adds"
    }
}
