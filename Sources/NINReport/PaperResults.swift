// The paper's own numbers: the one place in code that holds them (source: ../shared/docs/NIN.md,
// Lin, Chen, Yan, "Network In Network", ICLR 2014, arXiv:1312.4400 v3).

import NINData
import NINEngine
import NINStudy

/// One test error the paper reports, with the setting it belongs to.
public struct PaperResult: Equatable, Sendable {
    /// Where in the paper: "Table 5", "§4.6", ….
    public let source: String
    /// The setting in the paper's words.
    public let setting: String
    /// Test error, percent.
    public let testError: Double
    public let dataset: DatasetName
    public let head: HeadKind
    /// Depth 0: a conventional CNN (the paper's §4.6 comparison) rather than NIN.
    let conventionalCNN: Bool
    /// Trained with translation and horizontal flipping (Table 1's 8.81 %).
    let augmented: Bool
}

/// How the paper trained the networks its numbers belong to.
public struct PaperRecipe: Sendable {
    public let dataset: DatasetName
    /// The paper's network (its multiply-adds per image are the budget's yardstick).
    public let network: ModelDescription
    /// Training epochs; nil where the paper does not say.
    public let epochs: Double?
    /// Where `epochs` comes from, in words.
    let epochsSource: String
    /// The input preprocessing; nil where the paper does not say.
    public let preprocessing: Preprocessing?
}

/// The paper's results (test error, %) and recipes, as summarised in `NIN.md`.
enum Paper {
    /// Every test error of the paper that a study in this project can match. All are with dropout
    /// 0.5 between the mlpconv blocks (§4.5's 14.51 % without it is not matched: the report lists
    /// each trial's dropout beside the number instead).
    public static let results: [PaperResult] = [
        PaperResult(source: "Table 5", setting: "CIFAR-10, mlpconv + global average pooling", testError: 10.41,
                    dataset: .cifar10, head: .gap, conventionalCNN: false, augmented: false),
        PaperResult(source: "Table 5", setting: "CIFAR-10, mlpconv + fully connected + dropout", testError: 10.88,
                    dataset: .cifar10, head: .fcDropout, conventionalCNN: false, augmented: false),
        PaperResult(source: "Table 5", setting: "CIFAR-10, mlpconv + fully connected", testError: 11.59,
                    dataset: .cifar10, head: .fc, conventionalCNN: false, augmented: false),
        PaperResult(source: "Table 1", setting: "CIFAR-10, NIN + dropout + augmentation (translation, flip)", testError: 8.81,
                    dataset: .cifar10, head: .gap, conventionalCNN: false, augmented: true),
        PaperResult(source: "§4.6", setting: "CIFAR-10, conventional CNN + fully connected", testError: 17.56,
                    dataset: .cifar10, head: .fc, conventionalCNN: true, augmented: false),
        PaperResult(source: "§4.6", setting: "CIFAR-10, conventional CNN + fully connected + dropout", testError: 15.99,
                    dataset: .cifar10, head: .fcDropout, conventionalCNN: true, augmented: false),
        PaperResult(source: "§4.6", setting: "CIFAR-10, conventional CNN + global average pooling", testError: 16.46,
                    dataset: .cifar10, head: .gap, conventionalCNN: true, augmented: false),
        PaperResult(source: "Table 4", setting: "MNIST, NIN + dropout, no augmentation", testError: 0.47,
                    dataset: .mnist, head: .gap, conventionalCNN: false, augmented: false),
    ]

    /// The recipe behind the paper's numbers for `dataset`; nil for a dataset the paper did not use.
    public static func recipe(for dataset: DatasetName) -> PaperRecipe? {
        switch dataset {
        case .cifar10:
            // The Caffe model-zoo solver: 120k iterations of batch 128 over the 50,000 training images.
            return PaperRecipe(dataset: .cifar10, network: .ninCIFAR10,
                               epochs: 120_000.0 * 128 / Double(DatasetName.cifar10.officialCounts.train),
                               epochsSource: "model-zoo solver, 120k iterations of 128", preprocessing: .gcnZCA())
        case .mnist:
            return PaperRecipe(dataset: .mnist, network: .ninMNIST, epochs: nil, epochsSource: "not stated",
                               preprocessing: nil)
        case .fashionMNIST:
            return nil
        }
    }

    /// The paper's result for a trial's setting, matched on dataset, head, augmentation and the
    /// micro-network depth: 0 (no 1×1 layers) is §4.6's conventional CNN; NIN numbers belong only
    /// to the paper's own depth (`microNetworkDepth`, 2), not to other points of a depth sweep.
    /// Nil when the paper has no such number (or `depth` is unknown).
    public static func result(dataset: DatasetName, head: HeadKind, depth: Int?, augmented: Bool) -> PaperResult? {
        guard let depth, depth == 0 || depth == microNetworkDepth(for: dataset) else { return nil }
        return results.first {
            $0.dataset == dataset && $0.head == head && $0.conventionalCNN == (depth == 0) && $0.augmented == augmented
        }
    }

    /// 1×1 layers per mlpconv block of the paper's NIN for `dataset` (2 for both), from its
    /// network description; nil for a dataset the paper did not use.
    static func microNetworkDepth(for dataset: DatasetName) -> Int? {
        recipe(for: dataset)?.network.blocks.map(\.microWidths.count).max()
    }
}
