extension Preprocessing {
    /// The preprocessing methods by the names study files and the command line use
    /// (`none`, `scale`, `meanstd`, `gcn-zca`), without their parameters.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// Pixels as decoded (0–255).
        case none
        /// Pixels / 255.
        case scale
        /// Per-channel mean and standard deviation of the training split.
        case meanStd = "meanstd"
        /// Global contrast normalisation then ZCA whitening (the paper's CIFAR-10 setup, §4.2).
        case gcnZCA = "gcn-zca"
    }

    /// The method's name-level kind.
    public var kind: Kind {
        switch self {
        case .none: return .none
        case .scale: return .scale
        case .meanStd: return .meanStd
        case .gcnZCA: return .gcnZCA
        }
    }

    /// A preprocessing of `kind`; `gcnScale` and `zcaFilterBias` apply to `gcnZCA` only (the
    /// paper's 55 and 0.1 when nil) and are ignored otherwise.
    public init(kind: Kind, gcnScale: Float? = nil, zcaFilterBias: Float? = nil) {
        switch kind {
        case .none: self = .none
        case .scale: self = .scale
        case .meanStd: self = .meanStd
        case .gcnZCA: self = .gcnZCA(scale: gcnScale ?? 55, filterBias: zcaFilterBias ?? 0.1)
        }
    }
}
