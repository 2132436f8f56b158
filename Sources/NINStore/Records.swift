import Foundation
import GRDB

/// The life-cycle state of a trial, stored as text in `trials.status`.
///
/// `pending → running → finished`, or `running → failed` / `running → interrupted`; a failed or
/// interrupted trial may run again (`→ running`). A finished trial never changes state.
public enum TrialStatus: String, Codable, CaseIterable, Sendable, DatabaseValueConvertible {
    /// Registered, never started.
    case pending
    /// A process (`trials.pid` on `trials.host`) is training it now.
    case running
    /// Trained for all planned epochs; its final metrics are complete.
    case finished
    /// Stopped for a reason recorded in `trials.failure_reason` (e.g. a NaN loss).
    case failed
    /// Its process stopped before the end (Ctrl-C, kill, crash); it resumes from its last checkpoint.
    case interrupted
}

/// What an artifact file is, stored as text in `artifacts.kind`; any string is allowed.
public struct ArtifactKind: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral,
    DatabaseValueConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var databaseValue: DatabaseValue { rawValue.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ArtifactKind? {
        String.fromDatabaseValue(dbValue).map(ArtifactKind.init(rawValue:))
    }

    /// An end-of-epoch training checkpoint (weights, momentum, RNG and schedule state).
    public static let checkpoint: ArtifactKind = "checkpoint"
    /// A PNG sheet of category confidence maps (the last mlpconv's per-class feature maps).
    public static let confidenceMap: ArtifactKind = "confidence-map"
    /// A PNG of the top-scoring classes' confidence maps for a few images.
    public static let confidenceMapTop: ArtifactKind = "confidence-map-top"
    /// A PNG plot of loss and accuracy per epoch.
    public static let learningCurve: ArtifactKind = "learning-curve"
}

/// Shared GRDB settings for every record: time columns hold ``Timestamp`` text (ISO-8601 UTC).
public protocol StoreRecord: Codable, FetchableRecord, PersistableRecord {}

extension StoreRecord {
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { Timestamp.string(from: $0) }
    }
    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { dbValue in String.fromDatabaseValue(dbValue).flatMap(Timestamp.date(from:)) }
    }
}

/// One row of `studies`: a study definition as it was last run.
public struct StudyRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "studies"
    /// The study's unique name (from the definition's `name`).
    public var name: String
    /// Free text from the definition's `description`.
    public var description: String
    /// The study definition file's JSON text.
    public var definitionJSON: String
    /// SHA-256 (lowercase hex) of `definitionJSON`'s bytes.
    public var definitionSHA256: String
    /// When the study was first registered.
    var createdAt: Date
    /// When the definition was last registered (each `run`).
    var updatedAt: Date

    public init(name: String, description: String, definitionJSON: String, definitionSHA256: String,
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.name = name
        self.description = description
        self.definitionJSON = definitionJSON
        self.definitionSHA256 = definitionSHA256
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, description
        case definitionJSON = "definition_json"
        case definitionSHA256 = "definition_sha256"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// One row of `environments`: the machine and build a trial ran on.
public struct EnvironmentRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "environments"
    /// Row id, assigned on insert.
    public var id: Int64?
    /// A text key unique per distinct environment; see ``makeFingerprint()``.
    public var fingerprint: String
    /// Host name.
    public var host: String
    /// CPU model name (e.g. from `/proc/cpuinfo`).
    public var cpuModel: String
    /// Logical CPU cores on the machine.
    public var cores: Int
    /// Threads the run was allowed to use (GEMM and data loading).
    public var threads: Int
    /// Operating system name and version.
    public var os: String
    /// Swift compiler version that built nin-study.
    public var swiftVersion: String
    /// BLAS library and version (e.g. `OpenBLAS 0.3.21`).
    public var blas: String
    /// nin-study version.
    public var ninStudyVersion: String
    /// Git commit of the nin-study build, if known.
    public var gitCommit: String?
    /// When this environment was first registered.
    public var createdAt: Date
    /// The GEMM kernels of each `training.precision` here, e.g. `fp32 sgemm (measured rule); bf16
    /// matmul brg:avx512_core_bf16`, or why bf16 cannot run (naming the ISA); nil for an
    /// environment recorded before the column existed.
    public var gemm: String?

    /// Creates a record; an empty `fingerprint` is replaced by ``makeFingerprint()``.
    public init(id: Int64? = nil, fingerprint: String = "", host: String, cpuModel: String, cores: Int,
                threads: Int, os: String, swiftVersion: String, blas: String, ninStudyVersion: String,
                gitCommit: String?, gemm: String? = nil, createdAt: Date = Date()) {
        self.id = id
        self.fingerprint = fingerprint
        self.host = host
        self.cpuModel = cpuModel
        self.cores = cores
        self.threads = threads
        self.os = os
        self.swiftVersion = swiftVersion
        self.blas = blas
        self.ninStudyVersion = ninStudyVersion
        self.gitCommit = gitCommit
        self.gemm = gemm
        self.createdAt = createdAt
        if fingerprint.isEmpty { self.fingerprint = makeFingerprint() }
    }

    /// The canonical fingerprint: every descriptive field as `key=value`, joined by `;`.
    func makeFingerprint() -> String {
        [
            "host=\(host)", "cpu=\(cpuModel)", "cores=\(cores)", "threads=\(threads)", "os=\(os)",
            "swift=\(swiftVersion)", "blas=\(blas)", "nin-study=\(ninStudyVersion)",
            "commit=\(gitCommit ?? "")",
        ].joined(separator: ";") + (gemm.map { ";gemm=\($0)" } ?? "")
    }

    enum CodingKeys: String, CodingKey {
        case id, fingerprint, host
        case cpuModel = "cpu_model"
        case cores, threads, os
        case swiftVersion = "swift_version"
        case blas
        case ninStudyVersion = "nin_study_version"
        case gitCommit = "git_commit"
        case createdAt = "created_at"
        case gemm
    }
}

/// One row of `datasets`: a set of data files identified by a combined SHA-256.
public struct DatasetRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "datasets"
    /// Combined SHA-256 (lowercase hex) over the dataset's files, computed by NINData.
    public var identity: String
    /// Dataset name, e.g. `cifar10` or `mnist`.
    public var name: String
    /// When the dataset was first registered.
    var createdAt: Date
    /// Class names indexed by label, as a JSON array of strings (CIFAR-10: from
    /// `batches.meta.txt`); nil for a dataset registered before the column existed.
    var classNamesJSON: String?

    enum CodingKeys: String, CodingKey {
        case identity, name
        case createdAt = "created_at"
        case classNamesJSON = "class_names_json"
    }

    /// The class names, decoded from `classNamesJSON` (nil when absent or not a string array).
    public var classNames: [String]? {
        classNamesJSON.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
    }
}

/// One row of `dataset_files`: one file of a dataset with its size and checksum.
public struct DatasetFileRecord: StoreRecord, Equatable, Sendable {
    public static let databaseTableName = "dataset_files"
    /// The dataset's combined identity (`datasets.identity`).
    public var identity: String
    /// File name relative to the data folder, e.g. `cifar-10-batches-bin/data_batch_1.bin`.
    public var file: String
    /// File size in bytes.
    public var bytes: Int64
    /// SHA-256 (lowercase hex) of the file's bytes.
    public var sha256: String

    public init(identity: String = "", file: String, bytes: Int64, sha256: String) {
        self.identity = identity
        self.file = file
        self.bytes = bytes
        self.sha256 = sha256
    }
}

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
