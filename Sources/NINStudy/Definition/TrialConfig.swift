import Foundation
import NINData
import NINEngine

/// One fully resolved trial configuration: every default filled in, every shorthand expanded.
///
/// Its canonical JSON (keys sorted, no whitespace) is hashed with SHA-256 to give the trial id,
/// which is therefore stable across machines and runs, and independent of the study the trial
/// appears in (two studies that contain the same configuration share its results).
public struct TrialConfig: Codable, Equatable, Sendable {
    /// Bumped when the meaning of a resolved key changes, so old ids are never reused for new meanings.
    public var formatVersion: Int = 1
    public var dataset: ResolvedDataset
    public var model: ResolvedModel
    public var training: ResolvedTraining
    /// The seed of the one generator every random draw of the trial comes from.
    public var seed: Int

    /// Canonical JSON: keys sorted, no whitespace, integral numbers without a fraction.
    var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try! encoder.encode(self) // encoding plain value types cannot fail
        return (try! JSONValue.parse(data, file: "trial")).canonicalText
    }

    /// The trial id: lowercase hex SHA-256 of `canonicalJSON`.
    public var id: String {
        sha256Hex(Data(canonicalJSON.utf8))
    }
}

/// The dataset part of a trial (see docs/study-format.md, `dataset`).
public struct ResolvedDataset: Codable, Equatable, Sendable {
    /// `mnist`, `fashion-mnist` or `cifar10`.
    public var name: DatasetName
    /// `none`, `scale` (pixels / 255), `meanstd` (per channel) or `gcn-zca` (paper §4, CIFAR).
    public var preprocessing: Preprocessing.Kind
    /// GCN scale (`gcn-zca` only; the paper's setup uses 55).
    public var gcnScale: Double?
    /// ZCA filter bias added to the covariance eigenvalues (`gcn-zca` only; 0.1).
    public var zcaFilterBias: Double?
    /// Random translation: zero-pad by this many pixels and crop back at a random offset.
    public var translate: Int
    /// Horizontal flip with probability 0.5.
    public var horizontalFlip: Bool
    /// Training subset: the first N training images.
    public var trainSubset: Int?
    /// Training subset: the first N images of each class (stratified).
    public var trainPerClass: Int?
    /// Test subset: the first N test images.
    var testSubset: Int?
    /// The last N training images held out for validation (0: none).
    public var validation: Int
    /// Image height, width and channels, and the number of classes (from the dataset).
    public var height: Int, width: Int, channels: Int, classes: Int
}

/// A pooling layer after an mlpconv block. Output size rounds up, as Caffe does.
public struct ResolvedPool: Codable, Equatable, Sendable {
    /// `max` or `avg`.
    public var kind: PoolKind
    public var size: Int, stride: Int, pad: Int
}

/// One mlpconv block: a k×k convolution then `widths.count` 1×1 convolutions (the micro-network),
/// ReLU after each, then optional pooling and dropout.
public struct ResolvedBlock: Codable, Equatable, Sendable {
    /// Output channels of the k×k convolution.
    public var channels: Int
    public var kernel: Int, stride: Int, pad: Int
    /// Widths of the 1×1 convolutions; the count is the micro-network depth.
    public var widths: [Int]
    public var pool: ResolvedPool?
    /// Dropout rate after the block (after pooling), if any.
    public var dropout: Double?
}

/// The network of a trial. The final layer of the last block (its last 1×1 convolution, or its
/// k×k convolution at depth 0) always emits `dataset.classes` maps.
public struct ResolvedModel: Codable, Equatable, Sendable {
    public var blocks: [ResolvedBlock]
    /// `gap`, `fc` or `fc-dropout` (the paper's Table 5 heads).
    public var head: HeadKind
    /// Whether a ReLU follows the final layer (the Caffe zoo network has it; see NIN.md pitfalls).
    public var finalReLU: Bool
    /// Hidden fully connected widths of an FC head (ReLU after each).
    var fcHidden: [Int]
    /// Dropout rate of an `fc-dropout` head, where the engine's `Head.hiddenDropout` puts it:
    /// after each hidden fully connected layer, or on the flattened maps when there is none (so
    /// always before the final fully connected layer, never before the first hidden one).
    public var fcDropout: Double?

    /// The micro-network depth if every block has the same number of 1×1 layers, else nil.
    var uniformDepth: Int? {
        let depths = Set(blocks.map(\.widths.count))
        return depths.count == 1 ? depths.first : nil
    }

    /// Widths as text, blocks separated by `/`, layers by `-` (e.g. `160-96/192-192/192-10`).
    var widthsText: String {
        blocks.map { $0.widths.isEmpty ? "0" : $0.widths.map(String.init).joined(separator: "-") }.joined(separator: "/")
    }
}

/// The learning-rate schedule. Learning rates are per mini-batch (Caffe convention).
public struct ResolvedSchedule: Codable, Equatable, Sendable {
    /// `constant`, `step` (×gamma every `stepEpochs`), `multistep` (×gamma at each milestone epoch)
    /// or `plateau` (×gamma when training accuracy has not improved by `minDelta` percentage points
    /// for `patience` epochs, at most `maxReductions` times — the paper's schedule).
    public var kind: ScheduleKind
    var gamma: Double
    var stepEpochs: Int?
    var milestones: [Int]?
    var patience: Int?
    var minDelta: Double?
    var maxReductions: Int?
}

/// Per-parameter multipliers of the learning rate and weight decay (Caffe `lr_mult`/`decay_mult`),
/// the engine's `LearningRateMultipliers`: every layer but the last, then the last layer with
/// parameters (the class-map layer of a GAP head, the final FC layer of an FC head).
public struct ResolvedMultipliers: Codable, Equatable, Sendable {
    public var weight: Double, bias: Double, weightDecay: Double, biasDecay: Double
    /// Given only when the study gives `lastLayer`: the last layer's four multipliers are the
    /// others times this factor (with 0.1: lr 0.1 / 0.2 and decay 0.1 / 0, not the zoo's recipe).
    /// Then `last` is nil, and the canonical JSON (hence the trial id) is what it was before `last`.
    public var lastLayer: Double?
    /// The last layer's own multipliers when `lastLayer` is not given (default: the zoo's cccp6,
    /// lr 0.1 / 0.1, decay 1 / 0).
    public var last: ResolvedLayerMultipliers?
}

/// The four multipliers of one layer: learning rate and weight decay of its weights and bias.
public struct ResolvedLayerMultipliers: Codable, Equatable, Sendable {
    public var weight: Double, bias: Double, weightDecay: Double, biasDecay: Double
}

/// How weights are drawn at the start of a trial.
public struct ResolvedInitializer: Codable, Equatable, Sendable {
    /// `gaussian` (std `std`) or `he` (Kaiming normal, std √(2 / fan-in)).
    public var kind: InitializerKind
    public var std: Double?
    /// Constant bias value.
    public var bias: Double
}

/// The solver of a trial.
public struct ResolvedTraining: Codable, Equatable, Sendable {
    /// Number of epochs (passes over the training set); exactly one of `epochs`, `iterations` is set.
    public var epochs: Int?
    /// Number of mini-batch updates; the last epoch may be partial.
    public var iterations: Int?
    public var batchSize: Int
    /// Base learning rate (per mini-batch).
    public var learningRate: Double
    public var momentum: Double
    /// L2 weight decay coefficient.
    public var weightDecay: Double
    public var multipliers: ResolvedMultipliers
    public var schedule: ResolvedSchedule
    public var initializer: ResolvedInitializer
    /// A trial whose training accuracy is still at chance after this epoch is recorded as failed
    /// (the known NIN failure, NIN.md "Known pitfalls"); 0 disables the check.
    var failAtChanceAfterEpoch: Int
    /// The number format of the GEMM inputs (`training.precision`), bf16 only: nil is fp32, so
    /// the canonical JSON (hence the id) of every fp32 trial is what it was before the key.
    public var precision: GEMMPrecision? = nil

    /// The number format of the GEMM inputs: fp32 unless the study asks for bf16.
    public var gemmPrecision: GEMMPrecision { precision ?? .fp32 }
}

extension ResolvedBlock {
    /// The study form of an engine block (its dropout rate as the Double the study file holds).
    init(_ b: MlpconvBlock) {
        self.init(channels: b.channels, kernel: b.kernel, stride: b.stride, pad: b.pad, widths: b.microWidths,
                  pool: b.pool.map { ResolvedPool(kind: $0.kind, size: $0.size, stride: $0.stride, pad: $0.pad) },
                  dropout: b.dropout.map(Double.init))
    }
}
