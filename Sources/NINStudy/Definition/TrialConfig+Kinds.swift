import NINData
import NINEngine

/// The classifier heads of the paper's Table 5 (NIN §4.6), by their study-file names.
public enum HeadKind: String, Codable, CaseIterable, Sendable {
    /// Global average pooling of one map per class (NIN §3.2).
    case gap
    /// Flatten, `fcHidden` fully connected layers, then a fully connected layer to the classes.
    case fc
    /// The same with dropout `fcDropout` after each hidden fully connected layer, or on the
    /// flattened maps when there is none (the engine's `Head.hiddenDropout`).
    case fcDropout = "fc-dropout"
}

/// Learning-rate schedule kinds (see `ResolvedSchedule`).
public enum ScheduleKind: String, Codable, CaseIterable, Sendable {
    case constant, step, multistep, plateau
}

/// Weight initialisers by their study-file names.
public enum InitializerKind: String, Codable, CaseIterable, Sendable {
    /// Normal with a fixed standard deviation (`std`), as the Caffe zoo network.
    case gaussian
    /// Kaiming normal, std √(2 / fan-in).
    case he
}

/// `model.preset`: the paper's networks, owned by the engine (`ModelDescription.ninCIFAR10`,
/// `.ninMNIST`), or `custom` (the study lists its own `model.blocks`).
public enum ModelPreset: String, Codable, CaseIterable, Sendable {
    case ninCIFAR10 = "nin-cifar10"
    case ninMNIST = "nin-mnist"
    case custom

    /// The engine's description of the preset network; nil for `custom`.
    var engineDescription: ModelDescription? {
        switch self {
        case .ninCIFAR10: return .ninCIFAR10
        case .ninMNIST: return .ninMNIST
        case .custom: return nil
        }
    }

    /// The network a study trains when it names none: the CIFAR-10 NIN for CIFAR-10, the MNIST
    /// NIN for the 28×28 grey datasets (docs/study-format.md).
    static func defaultPreset(for dataset: DatasetName) -> ModelPreset {
        switch dataset {
        case .cifar10: return .ninCIFAR10
        case .mnist, .fashionMNIST: return .ninMNIST
        }
    }
}

extension Preprocessing.Kind {
    /// The preprocessing a study uses when it names none: per-channel mean/std for CIFAR-10,
    /// pixels / 255 for the 28×28 grey datasets (docs/study-format.md).
    static func defaultKind(for dataset: DatasetName) -> Preprocessing.Kind {
        switch dataset {
        case .cifar10: return .meanStd
        case .mnist, .fashionMNIST: return .scale
        }
    }
}
