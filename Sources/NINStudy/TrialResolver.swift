import Foundation
import NINEngine

/// Turns one trial's JSON (the study's base keys with the swept values set) into a
/// `TrialConfig`: fills defaults, expands the model shorthands (`preset`, `depth`, `widths`,
/// `widthMultiplier`, `head`, `dropout`) and checks what the key-by-key schema cannot
/// (conflicting keys, maps shrinking below 1×1, flips on digits).
///
/// The key-by-key checks of `StudySchema` must have passed before; values are read as valid.
enum TrialResolver {
    struct Problems: Error { var list: [String] }

    /// Known dataset shapes: (height, width, channels, classes, training images).
    static let datasetShapes: [String: (h: Int, w: Int, c: Int, classes: Int, train: Int, test: Int)] = [
        "mnist": (28, 28, 1, 10, 60_000, 10_000),
        "fashion-mnist": (28, 28, 1, 10, 60_000, 10_000),
        "cifar10": (32, 32, 3, 10, 50_000, 10_000),
    ]

    /// The paper's networks (NIN.md): the Caffe model-zoo CIFAR-10 NIN and the authors' MNIST NIN.
    /// The last width of the last block is the class-map layer.
    static func preset(_ name: String) -> [ResolvedBlock] {
        let max32 = ResolvedPool(kind: "max", size: 3, stride: 2, pad: 0)
        let avg32 = ResolvedPool(kind: "avg", size: 3, stride: 2, pad: 0)
        switch name {
        case "nin-mnist":
            return [
                ResolvedBlock(channels: 96, kernel: 5, stride: 1, pad: 2, widths: [64, 48], pool: max32, dropout: 0.5),
                ResolvedBlock(channels: 128, kernel: 5, stride: 1, pad: 2, widths: [96, 48], pool: max32, dropout: 0.5),
                ResolvedBlock(channels: 128, kernel: 5, stride: 1, pad: 2, widths: [96, 10], pool: nil, dropout: nil),
            ]
        default: // nin-cifar10
            return [
                ResolvedBlock(channels: 192, kernel: 5, stride: 1, pad: 2, widths: [160, 96], pool: max32, dropout: 0.5),
                ResolvedBlock(channels: 192, kernel: 5, stride: 1, pad: 2, widths: [192, 192], pool: avg32, dropout: 0.5),
                ResolvedBlock(channels: 192, kernel: 3, stride: 1, pad: 1, widths: [192, 10], pool: nil, dropout: nil),
            ]
        }
    }

    static func resolve(_ json: JSONValue) throws -> TrialConfig {
        var problems: [String] = []
        func int(_ path: String) -> Int? { if case .number(let d)? = json.value(at: path) { return Int(d) }; return nil }
        func num(_ path: String) -> Double? { if case .number(let d)? = json.value(at: path) { return d }; return nil }
        func str(_ path: String) -> String? { if case .string(let s)? = json.value(at: path) { return s }; return nil }
        func bool(_ path: String) -> Bool? { if case .bool(let b)? = json.value(at: path) { return b }; return nil }
        func ints(_ v: JSONValue?) -> [Int]? {
            guard case .array(let a)? = v else { return nil }
            return a.compactMap { if case .number(let d) = $0 { return Int(d) }; return nil }
        }

        // Dataset.
        let dsName = str("dataset.name") ?? "mnist"
        let shape = datasetShapes[dsName]!
        let digits = dsName != "cifar10"
        var prep = str("dataset.preprocessing") ?? str("dataset.preprocessing.kind") ?? (digits ? "scale" : "meanstd")
        if case .object? = json.value(at: "dataset.preprocessing") { prep = str("dataset.preprocessing.kind")! }
        if prep != "gcn-zca", json.value(at: "dataset.preprocessing.gcnScale") != nil || json.value(at: "dataset.preprocessing.zcaFilterBias") != nil {
            problems.append("dataset.preprocessing: gcnScale and zcaFilterBias apply to \"gcn-zca\" only, found kind \"\(prep)\"")
        }
        let flip = bool("dataset.augmentation.horizontalFlip") ?? false
        if flip, digits, !(bool("dataset.augmentation.allowFlipOnDigits") ?? false) {
            problems.append("dataset.augmentation.horizontalFlip: flipping changes the meaning of \(dsName) images (digits and clothes are not mirror-symmetric); set dataset.augmentation.allowFlipOnDigits to true to override")
        }
        let trainSubset = int("dataset.subset.train"), perClass = int("dataset.subset.trainPerClass")
        if trainSubset != nil, perClass != nil {
            problems.append("dataset.subset: give either train or trainPerClass, not both")
        }
        var trainCount = shape.train
        if let t = trainSubset {
            if t > shape.train { problems.append("dataset.subset.train: expected at most \(shape.train) (\(dsName) training images), found \(t)") }
            trainCount = min(t, shape.train)
        }
        if let p = perClass {
            let most = shape.train / shape.classes
            if p > most { problems.append("dataset.subset.trainPerClass: expected at most \(most) per class for \(dsName), found \(p)") }
            trainCount = min(p, most) * shape.classes
        }
        if let t = int("dataset.subset.test"), t > shape.test {
            problems.append("dataset.subset.test: expected at most \(shape.test) (\(dsName) test images), found \(t)")
        }
        let validation = int("dataset.validation") ?? 0
        if validation >= trainCount {
            problems.append("dataset.validation: holding out \(validation) leaves no training images (the training set has \(trainCount))")
        }
        let dataset = ResolvedDataset(
            name: dsName, preprocessing: prep,
            gcnScale: prep == "gcn-zca" ? (num("dataset.preprocessing.gcnScale") ?? 55) : nil,
            zcaFilterBias: prep == "gcn-zca" ? (num("dataset.preprocessing.zcaFilterBias") ?? 0.1) : nil,
            translate: int("dataset.augmentation.translate") ?? 0, horizontalFlip: flip,
            trainSubset: trainSubset, trainPerClass: perClass, testSubset: int("dataset.subset.test"),
            validation: validation, height: shape.h, width: shape.w, channels: shape.c, classes: shape.classes)

        // Model.
        let presetName = str("model.preset") ?? (digits ? "nin-mnist" : "nin-cifar10")
        var blocks: [ResolvedBlock]
        if case .array(let items)? = json.value(at: "model.blocks") {
            if let p = str("model.preset"), p != "custom" {
                problems.append("model.blocks: conflicts with model.preset \"\(p)\" (use \"preset\": \"custom\" or drop one)")
            }
            blocks = items.indices.map { i in
                let b = "model.blocks.\(i)"
                var pool: ResolvedPool?
                if json.value(at: "\(b).pool") != nil {
                    pool = ResolvedPool(kind: str("\(b).pool.kind")!, size: int("\(b).pool.size")!,
                                        stride: int("\(b).pool.stride")!, pad: int("\(b).pool.pad") ?? 0)
                }
                return ResolvedBlock(channels: int("\(b).channels")!, kernel: int("\(b).kernel")!,
                                     stride: int("\(b).stride") ?? 1, pad: int("\(b).pad") ?? 0,
                                     widths: ints(json.value(at: "\(b).widths")) ?? [],
                                     pool: pool, dropout: num("\(b).dropout").flatMap { $0 > 0 ? $0 : nil })
            }
        } else {
            if presetName == "custom" { problems.append("model.blocks: required when model.preset is \"custom\"") }
            blocks = preset(presetName)
        }
        let classes = shape.classes
        let depth = int("model.depth")
        if case .array(let lists)? = json.value(at: "model.widths") {
            if depth != nil { problems.append("model.widths: conflicts with model.depth (the widths lists set the depth; give one)") }
            if lists.count != blocks.count {
                problems.append("model.widths: expected one list of 1×1 widths per block (\(blocks.count)), found \(lists.count)")
            } else {
                for i in blocks.indices { blocks[i].widths = ints(lists[i]) ?? [] }
            }
        } else if let depth {
            // Depth shorthand: keep each block's listed widths up to `depth`, repeating the last
            // hidden width (or the k×k channels) when deeper; the last block ends in the class layer.
            for i in blocks.indices {
                let last = i == blocks.count - 1
                var hidden = blocks[i].widths
                if last, !hidden.isEmpty { hidden.removeLast() }
                let count = last ? max(depth - 1, 0) : depth
                var w: [Int] = (0..<count).map { j in hidden.isEmpty ? blocks[i].channels : hidden[min(j, hidden.count - 1)] }
                if last, depth > 0 { w.append(classes) }
                blocks[i].widths = w
            }
        }
        if let m = num("model.widthMultiplier"), m != 1 {
            for i in blocks.indices {
                let last = i == blocks.count - 1
                for j in blocks[i].widths.indices where !(last && j == blocks[i].widths.count - 1) {
                    blocks[i].widths[j] = max(1, Int((Double(blocks[i].widths[j]) * m).rounded()))
                }
            }
        }
        if let d = num("model.dropout") {
            for i in blocks.indices.dropLast() { blocks[i].dropout = d > 0 ? d : nil }
        }
        // The final layer emits one map per class. Widths the user wrote out must say so; the
        // shorthands (preset, depth, widthMultiplier) set it.
        if let last = blocks.last {
            let final = last.widths.last ?? last.channels
            let explicitPath: String? = json.value(at: "model.widths") != nil
                ? "model.widths[\(blocks.count - 1)]\(last.widths.isEmpty ? "" : "[\(last.widths.count - 1)]")"
                : (json.value(at: "model.blocks") != nil && depth == nil
                    ? "model.blocks[\(blocks.count - 1)].\(last.widths.isEmpty ? "channels" : "widths[\(last.widths.count - 1)]")" : nil)
            if let explicitPath, final != classes {
                problems.append("\(explicitPath): the final layer emits one map per class, so it must be \(classes) wide for \(dsName), found \(final)")
            }
        }
        if var lastBlock = blocks.last {
            if lastBlock.widths.isEmpty { lastBlock.channels = classes } else { lastBlock.widths[lastBlock.widths.count - 1] = classes }
            blocks[blocks.count - 1] = lastBlock
        }
        let head = str("model.head") ?? "gap"
        let fcHidden = ints(json.value(at: "model.fcHidden")) ?? []
        if head == "gap", !fcHidden.isEmpty { problems.append("model.fcHidden: applies to \"fc\" and \"fc-dropout\" heads, found head \"gap\"") }
        let model = ResolvedModel(blocks: blocks, head: head, finalReLU: bool("model.finalReLU") ?? true,
                                  fcHidden: head == "gap" ? [] : fcHidden,
                                  fcDropout: head == "fc-dropout" ? (num("model.fcDropout") ?? 0.5) : nil)
        let shapeProblems = checkShapes(model, dataset: dataset)
        problems += shapeProblems
        if shapeProblems.isEmpty {
            // The engine's own check of the network it will build (channels, pooling, dropout, head).
            do { try model.engineDescription(dataset: dataset).validate() } catch { problems.append("model: \(error)") }
        }

        // Training.
        let epochs = int("training.epochs"), iterations = int("training.iterations")
        if (epochs == nil) == (iterations == nil) {
            problems.append("training: give exactly one of epochs or iterations")
        }
        let scheduleKind = str("training.schedule") ?? str("training.schedule.kind") ?? "constant"
        var schedule = ResolvedSchedule(kind: scheduleKind, gamma: num("training.schedule.gamma") ?? 0.1)
        switch scheduleKind {
        case "step":
            schedule.stepEpochs = int("training.schedule.stepEpochs")
            if schedule.stepEpochs == nil { problems.append("training.schedule.stepEpochs: required for a \"step\" schedule") }
        case "multistep":
            let m = ints(json.value(at: "training.schedule.milestones"))
            if let m, zip(m, m.dropFirst()).contains(where: { $0 >= $1 }) {
                problems.append("training.schedule.milestones: expected strictly increasing epochs, found \(m)")
            }
            if m == nil { problems.append("training.schedule.milestones: required for a \"multistep\" schedule") }
            if let m, let e = epochs, let late = m.first(where: { $0 > e }) {
                problems.append("training.schedule.milestones: milestone epoch \(late) is after the last epoch (\(e)), so it would never apply")
            }
            schedule.milestones = m
        case "plateau":
            schedule.patience = int("training.schedule.patience") ?? 1
            schedule.minDelta = num("training.schedule.minDelta") ?? 0.1
            schedule.maxReductions = int("training.schedule.maxReductions") ?? 2
        default: break
        }
        let initKind = str("training.initializer") ?? str("training.initializer.kind") ?? "he"
        let std = num("training.initializer.std")
        if initKind == "gaussian", std == nil { problems.append("training.initializer.std: required for a \"gaussian\" initializer") }
        if initKind == "he", std != nil { problems.append("training.initializer.std: He initialisation sets the standard deviation from the fan-in; drop std or use \"gaussian\"") }
        // `lastLayer` (a factor on the other multipliers) and `last` (the last layer's own) both
        // set the last layer's multipliers: one or the other.
        let lastLayer = num("training.multipliers.lastLayer")
        if lastLayer != nil, json.value(at: "training.multipliers.last") != nil {
            problems.append("training.multipliers.lastLayer: scales the other multipliers for the last layer; give it or training.multipliers.last (the last layer's own multipliers), not both")
        }
        let training = ResolvedTraining(
            epochs: epochs, iterations: iterations,
            batchSize: int("training.batchSize") ?? 128,
            learningRate: num("training.learningRate")!,
            momentum: num("training.momentum") ?? 0.9,
            weightDecay: num("training.weightDecay") ?? 1e-4,
            multipliers: ResolvedMultipliers(
                weight: num("training.multipliers.weight") ?? 1, bias: num("training.multipliers.bias") ?? 2,
                weightDecay: num("training.multipliers.weightDecay") ?? 1, biasDecay: num("training.multipliers.biasDecay") ?? 0,
                lastLayer: lastLayer,
                last: lastLayer != nil ? nil : ResolvedLayerMultipliers(
                    weight: num("training.multipliers.last.weight") ?? 0.1, bias: num("training.multipliers.last.bias") ?? 0.1,
                    weightDecay: num("training.multipliers.last.weightDecay") ?? 1,
                    biasDecay: num("training.multipliers.last.biasDecay") ?? 0)),
            schedule: schedule,
            initializer: ResolvedInitializer(kind: initKind, std: std, bias: num("training.initializer.bias") ?? 0),
            failAtChanceAfterEpoch: int("training.failAtChanceAfterEpoch") ?? 1)

        guard problems.isEmpty else { throw Problems(list: problems) }
        return TrialConfig(dataset: dataset, model: model, training: training, seed: int("seed") ?? 1)
    }

    /// Walks the spatial sizes through the blocks; a map must stay at least 1×1.
    /// Convolution output floor((H + 2p − k) / s) + 1; pooling by the engine's `poolingOutputSize`
    /// (Caffe's rule: rounds up, no window starting beyond the input).
    static func checkShapes(_ model: ResolvedModel, dataset: ResolvedDataset) -> [String] {
        var h = dataset.height, w = dataset.width, c = dataset.channels
        for (i, b) in model.blocks.enumerated() {
            let path = "model: block \(i + 1)"
            let oh = (h + 2 * b.pad - b.kernel) / b.stride + 1, ow = (w + 2 * b.pad - b.kernel) / b.stride + 1
            if h + 2 * b.pad < b.kernel || w + 2 * b.pad < b.kernel || oh < 1 || ow < 1 {
                return ["\(path): the \(b.kernel)×\(b.kernel) convolution (stride \(b.stride), pad \(b.pad)) does not fit its \(h)×\(w)×\(c) input (a map must stay at least 1×1)"]
            }
            h = oh; w = ow; c = b.widths.last ?? b.channels
            if let p = b.pool {
                if h + 2 * p.pad < p.size || w + 2 * p.pad < p.size {
                    return ["\(path): the \(p.size)×\(p.size) \(p.kind) pooling does not fit its \(h)×\(w)×\(c) input (a map must stay at least 1×1)"]
                }
                if p.pad >= p.size { return ["\(path): pooling pad \(p.pad) must be smaller than its size \(p.size) (a larger pad gives windows of padding only)"] }
                h = poolingOutputSize(h, size: p.size, stride: p.stride, pad: p.pad)
                w = poolingOutputSize(w, size: p.size, stride: p.stride, pad: p.pad)
            }
        }
        return []
    }
}
