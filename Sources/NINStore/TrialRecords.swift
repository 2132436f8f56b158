import Foundation
import GRDB

/// One row of `trials`: one fully resolved configuration, its state and its final metrics.
///
/// Accuracies are in percent (0–100), losses are mean cross-entropy in nats, times in seconds.
/// The `status`, time, process and metric fields are owned by ``ResultsStore``: they are set by
/// its `mark…` and `recordEpoch` methods and ignored by `upsertTrial` for an existing trial.
public struct TrialRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "trials"
    /// SHA-256 (lowercase hex, 64 digits) of the trial's canonical configuration JSON.
    public var id: String
    /// The canonical configuration JSON (sorted keys, no whitespace) the id hashes.
    public var configJSON: String
    /// The swept values as a JSON object `{"dotted.key.path": value}`.
    public var sweptJSON: String
    /// Dataset name, e.g. `cifar10`.
    public var dataset: String
    /// Classifier head: `gap`, `fc` or `fc-dropout` (the paper's Table 5).
    public var head: String?
    /// Micro-network depth: 1×1 convolutions per mlpconv block (0 = a conventional CNN).
    public var depth: Int?
    /// 1×1 widths of the first mlpconv block's micro-network as text, e.g. `192-160-96`.
    public var widths: String?
    /// Multiplier applied to every 1×1 convolution's width.
    public var widthMultiplier: Double?
    /// Dropout probability between mlpconv blocks.
    public var dropout: Double?
    /// The seed of the trial's ``SeededGenerator`` (must fit in a signed 64-bit integer).
    public var seed: Int64?
    /// Epochs the trial is configured to train.
    public var epochsPlanned: Int?
    /// The number format of its GEMM inputs (`training.precision`): `fp32` or `bf16`.
    public var precision: String
    /// Life-cycle state.
    public var status: TrialStatus
    /// Why the trial failed, in plain words (only when `status == .failed`).
    public var failureReason: String?
    /// Process id of the run that last started the trial.
    public var pid: Int32?
    /// Host name of the run that last started the trial.
    public var host: String?
    /// Boot id of the machine of the run that last started the trial (Linux
    /// `/proc/sys/kernel/random/boot_id`); nil where unknown.
    var bootId: String?
    /// Start time of the process that last started the trial, in clock ticks since boot (Linux
    /// `/proc/<pid>/stat` field 22); with `bootId` it tells that process from a later one with the same id.
    var processStartTicks: Int64?
    /// `environments.id` of the run that last started the trial.
    public var environmentId: Int64?
    /// `datasets.identity` the trial was trained and tested on.
    public var datasetIdentity: String?
    /// Learnable parameters of the model.
    public var parameterCount: Int64?
    /// Multiply-adds for one image's forward pass.
    public var multiplyAdds: Int64?
    /// When the trial was first registered.
    var createdAt: Date
    /// When the trial was last marked running.
    public var startedAt: Date?
    /// When the trial finished or failed.
    public var finishedAt: Date?
    /// Last sign of life from the running process.
    var heartbeatAt: Date?
    /// Training wall time in seconds over all runs of the trial (set when it finishes).
    public var wallSeconds: Double?
    /// Epochs recorded so far.
    public var epochsDone: Int
    /// Training loss of the last recorded epoch.
    public var finalTrainLoss: Double?
    /// Training accuracy (%) of the last recorded epoch.
    var finalTrainAccuracy: Double?
    /// Validation accuracy (%) of the last recorded epoch.
    var finalValAccuracy: Double?
    /// Test loss of the last recorded epoch.
    var finalTestLoss: Double?
    /// Test accuracy (%) of the last recorded epoch.
    public var finalTestAccuracy: Double?
    /// Highest test accuracy (%) over the recorded epochs.
    var bestTestAccuracy: Double?
    /// Epoch (1-based) of `bestTestAccuracy`; the earliest on ties.
    var bestEpoch: Int?

    /// Creates a pending trial with the descriptive fields; state and metrics start empty.
    public init(id: String, configJSON: String, sweptJSON: String, dataset: String, head: String? = nil,
                depth: Int? = nil, widths: String? = nil, widthMultiplier: Double? = nil,
                dropout: Double? = nil, seed: Int64? = nil, epochsPlanned: Int? = nil, precision: String = "fp32",
                parameterCount: Int64? = nil, multiplyAdds: Int64? = nil, createdAt: Date = Date()) {
        self.id = id
        self.configJSON = configJSON
        self.sweptJSON = sweptJSON
        self.dataset = dataset
        self.head = head
        self.depth = depth
        self.widths = widths
        self.widthMultiplier = widthMultiplier
        self.dropout = dropout
        self.seed = seed
        self.epochsPlanned = epochsPlanned
        self.precision = precision
        self.status = .pending
        self.parameterCount = parameterCount
        self.multiplyAdds = multiplyAdds
        self.createdAt = createdAt
        self.epochsDone = 0
    }

    /// The first 10 hexadecimal digits of `id`, as shown by `nin-study list`.
    public var shortId: String { String(id.prefix(10)) }

    enum CodingKeys: String, CodingKey {
        case id
        case configJSON = "config_json"
        case sweptJSON = "swept_json"
        case dataset, head, depth, widths
        case widthMultiplier = "width_multiplier"
        case dropout, seed
        case epochsPlanned = "epochs_planned"
        case precision
        case status
        case failureReason = "failure_reason"
        case pid, host
        case bootId = "boot_id"
        case processStartTicks = "process_start_ticks"
        case environmentId = "environment_id"
        case datasetIdentity = "dataset_identity"
        case parameterCount = "parameter_count"
        case multiplyAdds = "multiply_adds"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case heartbeatAt = "heartbeat_at"
        case wallSeconds = "wall_seconds"
        case epochsDone = "epochs_done"
        case finalTrainLoss = "final_train_loss"
        case finalTrainAccuracy = "final_train_accuracy"
        case finalValAccuracy = "final_val_accuracy"
        case finalTestLoss = "final_test_loss"
        case finalTestAccuracy = "final_test_accuracy"
        case bestTestAccuracy = "best_test_accuracy"
        case bestEpoch = "best_epoch"
    }
}

/// One row of `study_trials`: links a trial to a study that contains it (a trial may be in several).
struct StudyTrialRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "study_trials"
    public var study: String
    public var trialId: String
    /// When the trial was first added to the study.
    var addedAt: Date

    enum CodingKeys: String, CodingKey {
        case study
        case trialId = "trial_id"
        case addedAt = "added_at"
    }
}

/// One row of `trial_params`: one swept value of a trial.
struct TrialParamRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "trial_params"
    public var trialId: String
    /// Dotted key path in the study definition, e.g. `model.depth`.
    public var key: String
    /// The value as JSON text, e.g. `2`, `"gap"`, `[192,160,96]`.
    var valueJSON: String

    enum CodingKeys: String, CodingKey {
        case trialId = "trial_id"
        case key
        case valueJSON = "value_json"
    }
}
