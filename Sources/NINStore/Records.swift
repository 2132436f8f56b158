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
