/// The declarative description of a Network-In-Network model: stacked mlpconv blocks and a
/// classifier head (NIN §3, Figure 2).
///
/// Each `MlpconvBlock` is one k×k convolution followed by its micro-network of 1×1
/// convolutions (`microWidths`, depth = count; depth 0 is a conventional convolution layer),
/// with ReLU after every convolution, then optional pooling and dropout.
///
/// **GAP head**: the last layer of the last block (its last 1×1 layer, or its k×k convolution
/// when the depth is 0) emits `classes` maps — *its listed width is overridden by `classes`* —
/// followed by ReLU only if `head.finalReLU`, then global average pooling feeds softmax.
/// **FC head**: the last layer of the last block keeps its listed width and is followed by ReLU
/// only if `head.finalReLU`; then flatten (NHWC order), `head.hidden` Dense layers each with ReLU
/// (and dropout `head.hiddenDropout` after each), then a Dense layer to `classes` logits.
public struct ModelDescription: Codable, Equatable, Sendable {
    /// A short name for records and benchmarks ("nin-cifar10").
    public var name: String
    /// Per-example input shape (NHWC).
    public var input: InputShape
    /// Number of classes (softmax width).
    public var classes: Int
    /// The mlpconv blocks, input side first.
    public var blocks: [MlpconvBlock]
    /// The classifier head.
    public var head: Head

    /// A description; call `validate()` (or build a `Network`) to check it.
    public init(name: String = "custom", input: InputShape, classes: Int, blocks: [MlpconvBlock], head: Head) {
        self.name = name
        self.input = input
        self.classes = classes
        self.blocks = blocks
        self.head = head
    }

    enum CodingKeys: String, CodingKey { case name, input, classes, blocks, head }

    /// Decodes a description; `name` defaults to "custom".
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "custom"
        input = try c.decode(InputShape.self, forKey: .input)
        classes = try c.decode(Int.self, forKey: .classes)
        blocks = try c.decode([MlpconvBlock].self, forKey: .blocks)
        head = try c.decode(Head.self, forKey: .head)
    }
}

/// One mlpconv block: a k×k convolution, its micro-network of 1×1 convolutions, then optional
/// pooling and dropout (NIN §3.1).
public struct MlpconvBlock: Codable, Equatable, Sendable {
    /// Output channels of the k×k convolution.
    public var channels: Int
    /// Kernel size k of the k×k convolution (pixels).
    public var kernel: Int
    /// Stride of the k×k convolution (pixels, default 1).
    public var stride: Int
    /// Zero padding of the k×k convolution (pixels, default 0).
    public var pad: Int
    /// Widths of the 1×1 layers of the micro-network; the count is the micro-network depth
    /// (0 = a plain convolution layer).
    public var microWidths: [Int]
    /// Pooling after the block, if any.
    public var pool: Pool?
    /// Dropout rate after the pooling of this block, if any (in [0, 1)).
    public var dropout: Float?

    /// A block.
    public init(channels: Int, kernel: Int, stride: Int = 1, pad: Int = 0, microWidths: [Int] = [],
                pool: Pool? = nil, dropout: Float? = nil) {
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.microWidths = microWidths
        self.pool = pool
        self.dropout = dropout
    }

    enum CodingKeys: String, CodingKey { case channels, kernel, stride, pad, microWidths, pool, dropout }

    /// Decodes a block; `stride` defaults to 1, `pad` to 0, `microWidths` to `[]`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode(Int.self, forKey: .channels)
        kernel = try c.decode(Int.self, forKey: .kernel)
        stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1
        pad = try c.decodeIfPresent(Int.self, forKey: .pad) ?? 0
        microWidths = try c.decodeIfPresent([Int].self, forKey: .microWidths) ?? []
        pool = try c.decodeIfPresent(Pool.self, forKey: .pool)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout)
    }

    /// Pooling after an mlpconv block (Caffe semantics: output size rounded up).
    public struct Pool: Codable, Equatable, Sendable {
        /// Max or average.
        public var kind: PoolKind
        /// Window size (pixels).
        public var size: Int
        /// Stride (pixels).
        public var stride: Int
        /// Zero padding (pixels, default 0).
        public var pad: Int

        /// A pooling spec.
        public init(kind: PoolKind, size: Int, stride: Int, pad: Int = 0) {
            self.kind = kind
            self.size = size
            self.stride = stride
            self.pad = pad
        }

        enum CodingKeys: String, CodingKey { case kind, size, stride, pad }

        /// Decodes a pooling spec; `pad` defaults to 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(PoolKind.self, forKey: .kind)
            size = try c.decode(Int.self, forKey: .size)
            stride = try c.decode(Int.self, forKey: .stride)
            pad = try c.decodeIfPresent(Int.self, forKey: .pad) ?? 0
        }
    }
}

/// The classifier head of a model description.
public struct Head: Codable, Equatable, Sendable {
    /// Global average pooling or fully connected.
    public enum Kind: String, Codable, Sendable {
        /// Global average pooling of one map per class (NIN §3.2).
        case gap
        /// Flatten, hidden Dense+ReLU layers, Dense to the classes.
        case fc
    }
    /// The head kind.
    public var kind: Kind
    /// ReLU after the last layer of the last block: the class-map layer of a GAP head, the layer
    /// an FC head flattens (default true, as the Caffe zoo network; see NIN.md "Known pitfalls" —
    /// on a layer as narrow as the class count it can silence every map, and then the head sees
    /// only zeros whichever kind it is).
    public var finalReLU: Bool
    /// FC only: hidden layer widths, ReLU after each (default none).
    public var hidden: [Int]
    /// FC only: dropout rate after each hidden layer, if any; with no hidden layer, dropout on the
    /// flattened features before the final Dense layer.
    public var hiddenDropout: Float?

    /// A head.
    public init(kind: Kind, finalReLU: Bool = true, hidden: [Int] = [], hiddenDropout: Float? = nil) {
        self.kind = kind
        self.finalReLU = finalReLU
        self.hidden = hidden
        self.hiddenDropout = hiddenDropout
    }

    /// Global average pooling head.
    public static func gap(finalReLU: Bool = true) -> Head { Head(kind: .gap, finalReLU: finalReLU) }
    /// Fully connected head.
    public static func fc(hidden: [Int] = [], dropout: Float? = nil, finalReLU: Bool = true) -> Head {
        Head(kind: .fc, finalReLU: finalReLU, hidden: hidden, hiddenDropout: dropout)
    }

    enum CodingKeys: String, CodingKey { case kind, finalReLU, hidden, hiddenDropout }

    /// Decodes a head; `finalReLU` defaults to true, `hidden` to `[]`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        finalReLU = try c.decodeIfPresent(Bool.self, forKey: .finalReLU) ?? true
        hidden = try c.decodeIfPresent([Int].self, forKey: .hidden) ?? []
        hiddenDropout = try c.decodeIfPresent(Float.self, forKey: .hiddenDropout)
    }
}

/// A layer of an mlpconv block, as validation errors name it (Caffe zoo names).
public enum BlockLayer: Equatable, Sendable, CustomStringConvertible {
    /// The k×k convolution ("conv").
    case convolution
    /// The i-th 1×1 layer of the micro-network, 1-based ("cccp1", "cccp2", …).
    case microLayer(Int)
    /// The pooling after the block ("pool").
    case pool

    public var description: String {
        switch self {
        case .convolution: return "conv"
        case .microLayer(let i): return "cccp\(i)"
        case .pool: return "pool"
        }
    }
}

/// An invalid model description, naming the offending block (key path `blocks[i]`) and shapes.
public enum ModelDescriptionError: Error, Equatable, CustomStringConvertible {
    /// The input shape has a non-positive axis.
    case invalidInput(InputShape)
    /// Fewer than 2 classes.
    case invalidClasses(Int)
    /// No mlpconv blocks.
    case noBlocks
    /// A non-positive channel count or micro-network width.
    case zeroChannels(block: Int, layer: BlockLayer, found: Int)
    /// Kernel below 1, stride below 1 or negative padding of the k×k convolution.
    case invalidConvolution(block: Int, kernel: Int, stride: Int, pad: Int)
    /// A layer's output map would be smaller than 1×1.
    case mapTooSmall(block: Int, layer: BlockLayer, input: FeatureShape, kernel: Int, stride: Int, pad: Int)
    /// Pool size or stride below 1, or padding outside `0..<size`.
    case invalidPool(block: Int, size: Int, stride: Int, pad: Int)
    /// A dropout rate outside [0, 1) (`block` nil for the head).
    case invalidDropout(block: Int?, rate: Float)
    /// A non-positive hidden width of the FC head.
    case invalidHidden(index: Int, width: Int)

    public var description: String {
        switch self {
        case .invalidInput(let s): return "input: shape \(s) must have positive height, width and channels"
        case .invalidClasses(let k): return "classes: expected at least 2, found \(k)"
        case .noBlocks: return "blocks: expected at least one mlpconv block, found none"
        case let .zeroChannels(b, layer, found):
            return "blocks[\(b)].\(layer): expected a positive channel count, found \(found)"
        case let .invalidConvolution(b, k, s, p):
            return "blocks[\(b)].conv: kernel \(k) and stride \(s) must be ≥ 1 and pad \(p) ≥ 0"
        case let .mapTooSmall(b, layer, input, k, s, p):
            return "blocks[\(b)].\(layer): input map \(input) with window \(k)×\(k), stride \(s), pad \(p) gives an output below 1×1"
        case let .invalidPool(b, size, s, p):
            return "blocks[\(b)].pool: size \(size) and stride \(s) must be ≥ 1 and pad \(p) in 0..<size "
                + "(a pad of the window's size or more makes windows of padding only: empty windows)"
        case let .invalidDropout(b, r):
            return "\(b.map { "blocks[\($0)].dropout" } ?? "head.hiddenDropout"): rate \(r) outside [0, 1)"
        case let .invalidHidden(i, w): return "head.hidden[\(i)]: expected a positive width, found \(w)"
        }
    }
}

/// One layer of a model as `layerShapes()` reports it (no model allocated).
public struct LayerShape: Codable, Equatable, Sendable {
    /// What kind of layer.
    public enum Kind: String, Codable, Sendable {
        case convolution, conv1x1, maxPool, avgPool, dropout, globalAveragePool, dense
    }
    /// Name such as "block1.conv", "block1.cccp1", "block1.pool", "head.gap", "head.fc".
    public var name: String
    /// Layer kind.
    public var kind: Kind
    /// Per-example output shape (NHWC).
    public var output: FeatureShape
    /// Whether ReLU follows (fused).
    public var relu: Bool
    /// Weights plus biases.
    public var parameters: Int
    /// Forward multiply-adds per example.
    public var multiplyAdds: Int
}

/// One planned layer: shared by `layerShapes()` and the network builder.
struct LayerPlan {
    var name: String
    var spec: LayerSpec
    var input: FeatureShape
    var relu: Bool
    /// The layer whose output `[N, H, W, classes]` global average pooling averages: the class
    /// confidence maps of a GAP head (NIN §4.7).
    var isClassMaps = false
    /// Output shape, parameter counts, multiply-adds and fan-in, from the layer kind.
    var formula: LayerFormula { spec.formula(input: input) }
    var output: FeatureShape { formula.output }
}

extension ModelDescription {
    /// Checks the description: positive shapes and widths, kernels, pools and dropout rates in
    /// range, and every map at least 1×1.
    /// - Throws: `ModelDescriptionError` naming the block and the shapes.
    public func validate() throws { _ = try plan() }

    /// The per-layer output shapes, parameter counts and multiply-adds, without allocating a model.
    /// - Throws: `ModelDescriptionError`.
    public func layerShapes() throws -> [LayerShape] {
        try plan().map { p in
            let kind: LayerShape.Kind
            switch p.spec {
            case .convolution: kind = p.spec.isPointwiseConvolution ? .conv1x1 : .convolution
            case .pooling(let spec): kind = spec.kind == .max ? .maxPool : .avgPool
            case .dropout: kind = .dropout
            case .globalAveragePool: kind = .globalAveragePool
            case .dense: kind = .dense
            }
            let f = p.formula
            return LayerShape(name: p.name, kind: kind, output: f.output, relu: p.relu,
                              parameters: f.parameters, multiplyAdds: f.multiplyAdds)
        }
    }

    /// Total weights and biases. - Throws: `ModelDescriptionError`.
    public var parameterCount: Int { get throws { try layerShapes().reduce(0) { $0 + $1.parameters } } }

    /// Forward multiply-adds per image (convolutions and Dense layers; pooling not counted).
    /// NIN-CIFAR10: 222,486,528 ≈ 222.5 M. - Throws: `ModelDescriptionError`.
    public var multiplyAddsPerImage: Int { get throws { try layerShapes().reduce(0) { $0 + $1.multiplyAdds } } }

    func plan() throws -> [LayerPlan] {
        guard input.height > 0, input.width > 0, input.channels > 0 else { throw ModelDescriptionError.invalidInput(input) }
        guard classes >= 2 else { throw ModelDescriptionError.invalidClasses(classes) }
        guard !blocks.isEmpty else { throw ModelDescriptionError.noBlocks }
        var layers: [LayerPlan] = []
        var shape = input
        for (b, block) in blocks.enumerated() {
            let prefix = "block\(b + 1)"
            let isLastBlock = b == blocks.count - 1
            guard block.kernel >= 1, block.stride >= 1, block.pad >= 0 else {
                throw ModelDescriptionError.invalidConvolution(block: b, kernel: block.kernel, stride: block.stride, pad: block.pad)
            }
            guard block.channels >= 1 else { throw ModelDescriptionError.zeroChannels(block: b, layer: .convolution, found: block.channels) }
            for (i, w) in block.microWidths.enumerated() where w < 1 {
                throw ModelDescriptionError.zeroChannels(block: b, layer: .microLayer(i + 1), found: w)
            }
            let depth = block.microWidths.count
            let classMapsHere = isLastBlock && head.kind == .gap
            // The conv is the class-map layer when depth is 0 in the last block of a GAP model.
            let convChannels = classMapsHere && depth == 0 ? classes : block.channels
            let convReLU = isLastBlock && depth == 0 ? head.finalReLU : true
            let conv = LayerPlan(name: "\(prefix).conv",
                                 spec: .convolution(channels: convChannels, kernel: block.kernel, stride: block.stride, pad: block.pad),
                                 input: shape, relu: convReLU)
            guard conv.output.height >= 1, conv.output.width >= 1 else {
                throw ModelDescriptionError.mapTooSmall(block: b, layer: .convolution, input: shape, kernel: block.kernel,
                                                        stride: block.stride, pad: block.pad)
            }
            layers.append(conv)
            shape = conv.output
            for (i, width) in block.microWidths.enumerated() {
                let last = i == depth - 1
                let ch = classMapsHere && last ? classes : width
                let cccp = LayerPlan(name: "\(prefix).cccp\(i + 1)", spec: .convolution(channels: ch, kernel: 1, stride: 1, pad: 0),
                                     input: shape, relu: isLastBlock && last ? head.finalReLU : true)
                layers.append(cccp)
                shape = cccp.output
            }
            if let pool = block.pool {
                guard pool.size >= 1, pool.stride >= 1, pool.pad >= 0, pool.pad < pool.size else {
                    throw ModelDescriptionError.invalidPool(block: b, size: pool.size, stride: pool.stride, pad: pool.pad)
                }
                let pooling = LayerPlan(name: "\(prefix).pool", spec: .pooling(pool), input: shape, relu: false)
                guard pooling.output.height >= 1, pooling.output.width >= 1 else {
                    throw ModelDescriptionError.mapTooSmall(block: b, layer: .pool, input: shape, kernel: pool.size,
                                                            stride: pool.stride, pad: pool.pad)
                }
                layers.append(pooling)
                shape = pooling.output
            }
            if let rate = block.dropout {
                guard rate >= 0, rate < 1 else { throw ModelDescriptionError.invalidDropout(block: b, rate: rate) }
                layers.append(LayerPlan(name: "\(prefix).dropout", spec: .dropout(rate: rate), input: shape, relu: false))
            }
        }
        try appendHead(to: &layers, input: shape)
        return layers
    }

    /// The head's layers after the last block's output `input`: global average pooling of the
    /// class maps (NIN §3.2), or Dense layers (hidden ones with ReLU and optional dropout).
    /// - Throws: `ModelDescriptionError.invalidDropout` or `.invalidHidden`.
    private func appendHead(to layers: inout [LayerPlan], input: FeatureShape) throws {
        var shape = input
        switch head.kind {
        case .gap:
            layers[layers.count - 1].isClassMaps = true
            layers.append(LayerPlan(name: "head.gap", spec: .globalAveragePool, input: shape, relu: false))
        case .fc:
            if let rate = head.hiddenDropout, !(rate >= 0 && rate < 1) {
                throw ModelDescriptionError.invalidDropout(block: nil, rate: rate)
            }
            for (i, width) in head.hidden.enumerated() {
                guard width >= 1 else { throw ModelDescriptionError.invalidHidden(index: i, width: width) }
                let fc = LayerPlan(name: "head.fc\(i + 1)", spec: .dense(features: width), input: shape, relu: true)
                layers.append(fc)
                shape = fc.output
                if let rate = head.hiddenDropout {
                    layers.append(LayerPlan(name: "head.fc\(i + 1).dropout", spec: .dropout(rate: rate), input: shape, relu: false))
                }
            }
            if head.hidden.isEmpty, let rate = head.hiddenDropout {
                // No hidden layer: the dropout acts on the flattened features before the final
                // Dense layer (Table 5's "fully connected + dropout" with a single linear layer).
                layers.append(LayerPlan(name: "head.dropout", spec: .dropout(rate: rate), input: shape, relu: false))
            }
            layers.append(LayerPlan(name: "head.fc", spec: .dense(features: classes), input: shape, relu: false))
        }
    }
}

extension ModelDescription {
    /// The CIFAR-10 NIN of the Caffe model zoo (NIN.md): conv 192 5×5 p2 → 1×1 160 → 1×1 96 →
    /// max 3/2 → dropout 0.5 → conv 192 5×5 p2 → 1×1 192 → 1×1 192 → avg 3/2 → dropout 0.5 →
    /// conv 192 3×3 p1 → 1×1 192 → 1×1 10 (ReLU) → global average pooling.
    /// 966,986 parameters, 222,486,528 multiply-adds per 32×32×3 image.
    public static let ninCIFAR10 = ModelDescription(
        name: "nin-cifar10",
        input: .cifar10Image, classes: 10,
        blocks: [
            MlpconvBlock(channels: 192, kernel: 5, pad: 2, microWidths: [160, 96],
                         pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
            MlpconvBlock(channels: 192, kernel: 5, pad: 2, microWidths: [192, 192],
                         pool: .init(kind: .avg, size: 3, stride: 2), dropout: 0.5),
            MlpconvBlock(channels: 192, kernel: 3, pad: 1, microWidths: [192, 10]),
        ],
        head: .gap(finalReLU: true))

    /// The MNIST NIN of the authors' cuda-convnet definition (NIN.md): conv 96 5×5 p2 → 1×1 64 →
    /// 1×1 48 → max 3/2 → dropout 0.5 → conv 128 5×5 p2 → 1×1 96 → 1×1 48 → max 3/2 →
    /// dropout 0.5 → conv 128 5×5 p2 → 1×1 96 → 1×1 10 → global average pooling (7×7).
    /// 349,674 parameters, 50,699,712 multiply-adds per 28×28×1 image.
    public static let ninMNIST = ModelDescription(
        name: "nin-mnist",
        input: .mnistImage, classes: 10,
        blocks: [
            MlpconvBlock(channels: 96, kernel: 5, pad: 2, microWidths: [64, 48],
                         pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
            MlpconvBlock(channels: 128, kernel: 5, pad: 2, microWidths: [96, 48],
                         pool: .init(kind: .max, size: 3, stride: 2), dropout: 0.5),
            MlpconvBlock(channels: 128, kernel: 5, pad: 2, microWidths: [96, 10]),
        ],
        head: .gap(finalReLU: true))
}
