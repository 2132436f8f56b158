import Foundation
import NINData
import NINEngine

/// Turns one trial's JSON (the study's base keys with the swept values set) into a
/// `TrialConfig`: fills defaults, expands the model shorthands (`preset`, `depth`, `widths`,
/// `widthMultiplier`, `head`, `dropout`) and checks what the key-by-key schema cannot
/// (conflicting keys, maps shrinking below 1×1, flips on digits).
///
/// The key-by-key checks of `StudySchema` must have passed before; values are read as valid.
enum TrialResolver {
    struct Problems: Error { var list: [String] }

    /// The memory a trial may need to train (bytes): this machine's.
    static let machineMemory = Double(ProcessInfo.processInfo.physicalMemory)

    /// The trial's configuration, read step by step (dataset, model, training) by a ``TrialReading``.
    /// - Throws: ``Problems``, every problem found, each naming its key path.
    static func resolve(_ json: JSONValue) throws -> TrialConfig {
        var reading = TrialReading(json: json)
        let dataset = reading.dataset()
        let model = reading.model(dataset: dataset)
        let training = reading.training()
        guard reading.problems.isEmpty else { throw Problems(list: reading.problems) }
        return TrialConfig(dataset: dataset, model: model, training: training, seed: reading.int("seed") ?? 1)
    }

    /// An engine validation error as a study problem, naming the study's key path of the block
    /// (`model.blocks[i]`, also for the blocks a preset or shorthand produced) or of the head.
    static func studyProblem(_ error: ModelDescriptionError) -> String {
        switch error {
        case let .mapTooSmall(b, layer, input, k, s, p) where layer == .convolution:
            return "model.blocks[\(b)]: the \(k)×\(k) convolution (stride \(s), pad \(p)) does not fit its \(input) input (a map must stay at least 1×1)"
        case let .mapTooSmall(b, layer, input, k, s, p) where layer == .pool:
            return "model.blocks[\(b)].pool: the \(k)×\(k) pooling (stride \(s), pad \(p)) does not fit its \(input) input (a map must stay at least 1×1)"
        case .invalidDropout(nil, _), .invalidHidden:
            return "model: head: \(error)"
        default:
            return "model.\(error)"
        }
    }
}

/// One trial's JSON being resolved: typed reads of its key paths (the schema has checked each
/// value's type; a missing key reads as nil) and the problems found so far, in the order found.
struct TrialReading {
    let json: JSONValue
    var problems: [String] = []

    func int(_ path: String) -> Int? { if case .number(let d)? = json.value(at: path) { return Int(d) }; return nil }
    func num(_ path: String) -> Double? { if case .number(let d)? = json.value(at: path) { return d }; return nil }
    func str(_ path: String) -> String? { if case .string(let s)? = json.value(at: path) { return s }; return nil }
    func bool(_ path: String) -> Bool? { if case .bool(let b)? = json.value(at: path) { return b }; return nil }
    func ints(_ v: JSONValue?) -> [Int]? {
        guard case .array(let a)? = v else { return nil }
        return a.compactMap { if case .number(let d) = $0 { return Int(d) }; return nil }
    }
    func has(_ path: String) -> Bool { json.value(at: path) != nil }
    /// A typed value at `path`; the schema has checked that a present string is one of the cases.
    func typed<T: RawRepresentable>(_ path: String) -> T? where T.RawValue == String { str(path).flatMap(T.init(rawValue:)) }
    /// A key that is a name or an object with a `kind` (`"preprocessing": "scale"` or `{"kind": …}`).
    mutating func kind<T: RawRepresentable>(_ path: String, default value: T) -> T where T.RawValue == String {
        if case .object? = json.value(at: path) {
            guard let k: T = typed("\(path).kind") else {
                problems.append("\(path).kind: required key is missing")
                return value
            }
            return k
        }
        return typed(path) ?? value
    }
}

// MARK: - Dataset

extension TrialReading {
    /// `dataset`: its facts (image shape, classes, image counts) come from NINData.
    mutating func dataset() -> ResolvedDataset {
        let dsName: DatasetName = typed("dataset.name") ?? .mnist
        let imageShape = dsName.imageShape
        let prep: Preprocessing.Kind = kind("dataset.preprocessing", default: .defaultKind(for: dsName))
        if prep != .gcnZCA, has("dataset.preprocessing.gcnScale") || has("dataset.preprocessing.zcaFilterBias") {
            problems.append("dataset.preprocessing: gcnScale and zcaFilterBias apply to \"gcn-zca\" only, found kind \"\(prep.rawValue)\"")
        }
        let augmentation = self.augmentation(dsName)
        let trainCount = trainingImageCount(dsName)
        let validation = int("dataset.validation") ?? 0
        if validation >= trainCount {
            problems.append("dataset.validation: holding out \(validation) leaves no training images (the training set has \(trainCount))")
        }
        return ResolvedDataset(
            name: dsName, preprocessing: prep,
            gcnScale: prep == .gcnZCA ? (num("dataset.preprocessing.gcnScale") ?? 55) : nil,
            zcaFilterBias: prep == .gcnZCA ? (num("dataset.preprocessing.zcaFilterBias") ?? 0.1) : nil,
            translate: augmentation.translate, horizontalFlip: augmentation.horizontalFlip,
            trainSubset: int("dataset.subset.train"), trainPerClass: int("dataset.subset.trainPerClass"),
            testSubset: int("dataset.subset.test"),
            validation: validation, height: imageShape[0], width: imageShape[1], channels: imageShape[2],
            classes: dsName.classCount)
    }

    /// `dataset.augmentation`, checked against the dataset (no flips on digits unless allowed).
    mutating func augmentation(_ dsName: DatasetName) -> Augmentation {
        let augmentation = Augmentation(translate: int("dataset.augmentation.translate") ?? 0,
                                        horizontalFlip: bool("dataset.augmentation.horizontalFlip") ?? false)
        do {
            try augmentation.validate(for: dsName, allowFlipOnDigits: bool("dataset.augmentation.allowFlipOnDigits") ?? false)
        } catch DatasetError.augmentationRefused(_, let reason) {
            problems.append("dataset.augmentation.horizontalFlip: \(reason) (dataset.augmentation.allowFlipOnDigits: true)")
        } catch {
            problems.append("dataset.augmentation.translate: \(error)")
        }
        return augmentation
    }

    /// The training images `dataset.subset` leaves (before any validation hold-out), each subset
    /// checked against the dataset's official counts.
    mutating func trainingImageCount(_ dsName: DatasetName) -> Int {
        let counts = dsName.officialCounts, classes = dsName.classCount
        let trainSubset = int("dataset.subset.train"), perClass = int("dataset.subset.trainPerClass")
        if trainSubset != nil, perClass != nil {
            problems.append("dataset.subset: give either train or trainPerClass, not both")
        }
        var trainCount = counts.train
        if let t = trainSubset {
            if t > counts.train { problems.append("dataset.subset.train: expected at most \(counts.train) (\(dsName.rawValue) training images), found \(t)") }
            trainCount = min(t, counts.train)
        }
        if let p = perClass {
            let most = counts.train / classes
            if p > most { problems.append("dataset.subset.trainPerClass: expected at most \(most) per class for \(dsName.rawValue), found \(p)") }
            trainCount = min(p, most) * classes
        }
        if let t = int("dataset.subset.test"), t > counts.test {
            problems.append("dataset.subset.test: expected at most \(counts.test) (\(dsName.rawValue) test images), found \(t)")
        }
        return trainCount
    }
}

// MARK: - Model

extension TrialReading {
    /// `model`: the blocks (listed or a preset's), the shorthands applied, the class layer set,
    /// the head, then the size and the engine's own checks of the network it will build.
    mutating func model(dataset: ResolvedDataset) -> ResolvedModel {
        var blocks = listedOrPresetBlocks(dataset.name)
        applyWidthShorthands(&blocks, classes: dataset.classes)
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
        setClassLayer(&blocks, dataset: dataset)
        let head: HeadKind = typed("model.head") ?? .gap
        let fcHidden = ints(json.value(at: "model.fcHidden")) ?? []
        if head == .gap, !fcHidden.isEmpty { problems.append("model.fcHidden: applies to \"fc\" and \"fc-dropout\" heads, found head \"gap\"") }
        let model = ResolvedModel(blocks: blocks, head: head, finalReLU: bool("model.finalReLU") ?? true,
                                  fcHidden: head == .gap ? [] : fcHidden,
                                  fcDropout: head == .fcDropout ? (num("model.fcDropout") ?? 0.5) : nil)
        // Sizes first, in floating point: an absurd network gets a message naming its key before
        // any integer count (which could overflow) or allocation.
        let size = TrialSize(model: model, height: dataset.height, width: dataset.width, channels: dataset.channels, classes: dataset.classes)
        if let problem = size.problem(batch: int("training.batchSize") ?? 128, memory: TrialResolver.machineMemory) {
            problems.append(problem)
        } else if !blocks.isEmpty {
            // The engine's check of the network it will build (shapes, channels, pooling, dropout,
            // head), its errors named by the study's key paths.
            do { try model.engineDescription(dataset: dataset).validate() } catch let error as ModelDescriptionError {
                problems.append(TrialResolver.studyProblem(error))
            } catch { problems.append("model: \(error)") }
        }
        return model
    }

    /// `model.blocks` as listed (only with the `custom` preset), or the preset's blocks.
    mutating func listedOrPresetBlocks(_ dsName: DatasetName) -> [ResolvedBlock] {
        let preset: ModelPreset = typed("model.preset") ?? .defaultPreset(for: dsName)
        if case .array(let items)? = json.value(at: "model.blocks") {
            if let p: ModelPreset = typed("model.preset"), p != .custom {
                problems.append("model.blocks: conflicts with model.preset \"\(p.rawValue)\" (use \"preset\": \"custom\" or drop one)")
            }
            return items.indices.map { i in
                let b = "model.blocks.\(i)"
                var pool: ResolvedPool?
                if has("\(b).pool") {
                    pool = ResolvedPool(kind: typed("\(b).pool.kind")!, size: int("\(b).pool.size")!,
                                        stride: int("\(b).pool.stride")!, pad: int("\(b).pool.pad") ?? 0)
                }
                return ResolvedBlock(channels: int("\(b).channels")!, kernel: int("\(b).kernel")!,
                                     stride: int("\(b).stride") ?? 1, pad: int("\(b).pad") ?? 0,
                                     widths: ints(json.value(at: "\(b).widths")) ?? [],
                                     pool: pool, dropout: num("\(b).dropout").flatMap { $0 > 0 ? $0 : nil })
            }
        }
        if let description = preset.engineDescription { return description.blocks.map(ResolvedBlock.init) }
        problems.append("model.blocks: required when model.preset is \"custom\"")
        return []
    }

    /// `model.widths` (one list of 1×1 widths per block) or the `model.depth` shorthand.
    mutating func applyWidthShorthands(_ blocks: inout [ResolvedBlock], classes: Int) {
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
    }

    /// The final layer emits one map per class. Widths the user wrote out must say so; the
    /// shorthands (preset, depth, widthMultiplier) set it.
    mutating func setClassLayer(_ blocks: inout [ResolvedBlock], dataset: ResolvedDataset) {
        guard var last = blocks.last else { return }
        let classes = dataset.classes
        let final = last.widths.last ?? last.channels
        let explicitPath: String? = has("model.widths")
            ? "model.widths[\(blocks.count - 1)]\(last.widths.isEmpty ? "" : "[\(last.widths.count - 1)]")"
            : (has("model.blocks") && int("model.depth") == nil
                ? "model.blocks[\(blocks.count - 1)].\(last.widths.isEmpty ? "channels" : "widths[\(last.widths.count - 1)]")" : nil)
        if let explicitPath, final != classes {
            problems.append("\(explicitPath): the final layer emits one map per class, so it must be \(classes) wide for \(dataset.name.rawValue), found \(final)")
        }
        if last.widths.isEmpty { last.channels = classes } else { last.widths[last.widths.count - 1] = classes }
        blocks[blocks.count - 1] = last
    }
}

// MARK: - Training

extension TrialReading {
    /// `training`: length, schedule, initializer, the solver's settings and multipliers (their
    /// defaults are the zoo's, owned by the engine: `ZooSolver`), precision.
    mutating func training() -> ResolvedTraining {
        let epochs = int("training.epochs"), iterations = int("training.iterations")
        if (epochs == nil) == (iterations == nil) {
            problems.append("training: give exactly one of epochs or iterations")
        }
        let schedule = self.schedule(epochs: epochs)
        let initializer = self.initializer()
        return ResolvedTraining(
            epochs: epochs, iterations: iterations,
            batchSize: int("training.batchSize") ?? 128,
            learningRate: num("training.learningRate")!,
            momentum: num("training.momentum") ?? ZooSolver.momentum,
            weightDecay: num("training.weightDecay") ?? ZooSolver.weightDecay,
            multipliers: multipliers(),
            schedule: schedule,
            initializer: initializer,
            failAtChanceAfterEpoch: int("training.failAtChanceAfterEpoch") ?? 1,
            precision: typed("training.precision").flatMap { (p: GEMMPrecision) in p == .fp32 ? nil : p })
    }

    /// `training.schedule`, with the keys its kind requires.
    mutating func schedule(epochs: Int?) -> ResolvedSchedule {
        let scheduleKind: ScheduleKind = kind("training.schedule", default: .constant)
        var schedule = ResolvedSchedule(kind: scheduleKind, gamma: num("training.schedule.gamma") ?? 0.1)
        switch scheduleKind {
        case .step:
            schedule.stepEpochs = int("training.schedule.stepEpochs")
            if schedule.stepEpochs == nil { problems.append("training.schedule.stepEpochs: required for a \"step\" schedule") }
        case .multistep:
            let m = ints(json.value(at: "training.schedule.milestones"))
            if let m, zip(m, m.dropFirst()).contains(where: { $0 >= $1 }) {
                problems.append("training.schedule.milestones: expected strictly increasing epochs, found \(m)")
            }
            if m == nil { problems.append("training.schedule.milestones: required for a \"multistep\" schedule") }
            if let m, let e = epochs, let late = m.first(where: { $0 > e }) {
                problems.append("training.schedule.milestones: milestone epoch \(late) is after the last epoch (\(e)), so it would never apply")
            }
            schedule.milestones = m
        case .plateau:
            schedule.patience = int("training.schedule.patience") ?? 1
            schedule.minDelta = num("training.schedule.minDelta") ?? 0.1
            schedule.maxReductions = int("training.schedule.maxReductions") ?? 2
        case .constant: break
        }
        return schedule
    }

    /// `training.initializer`: He (std from the fan-in) or Gaussian with its `std`.
    mutating func initializer() -> ResolvedInitializer {
        let initKind: InitializerKind = kind("training.initializer", default: .he)
        let std = num("training.initializer.std")
        if initKind == .gaussian, std == nil { problems.append("training.initializer.std: required for a \"gaussian\" initializer") }
        if initKind == .he, std != nil { problems.append("training.initializer.std: He initialisation sets the standard deviation from the fan-in; drop std or use \"gaussian\"") }
        return ResolvedInitializer(kind: initKind, std: std, bias: num("training.initializer.bias") ?? 0)
    }

    /// `training.multipliers`. `lastLayer` (a factor on the other multipliers) and `last` (the
    /// last layer's own) both set the last layer's multipliers: one or the other.
    mutating func multipliers() -> ResolvedMultipliers {
        let lastLayer = num("training.multipliers.lastLayer")
        if lastLayer != nil, has("training.multipliers.last") {
            problems.append("training.multipliers.lastLayer: scales the other multipliers for the last layer; give it or training.multipliers.last (the last layer's own multipliers), not both")
        }
        let zoo = ZooSolver.multipliers, zooLast = ZooSolver.lastLayerMultipliers
        return ResolvedMultipliers(
            weight: num("training.multipliers.weight") ?? zoo.weight, bias: num("training.multipliers.bias") ?? zoo.bias,
            weightDecay: num("training.multipliers.weightDecay") ?? zoo.weightDecay,
            biasDecay: num("training.multipliers.biasDecay") ?? zoo.biasDecay,
            lastLayer: lastLayer,
            last: lastLayer != nil ? nil : ResolvedLayerMultipliers(
                weight: num("training.multipliers.last.weight") ?? zooLast.weight,
                bias: num("training.multipliers.last.bias") ?? zooLast.bias,
                weightDecay: num("training.multipliers.last.weightDecay") ?? zooLast.weightDecay,
                biasDecay: num("training.multipliers.last.biasDecay") ?? zooLast.biasDecay))
    }
}
