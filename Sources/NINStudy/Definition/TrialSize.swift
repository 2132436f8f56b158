import Foundation

/// What a trial's network needs, estimated in floating point before anything is allocated or
/// counted in integers (absurd sizes must get a message naming the key, not an overflow trap or
/// a failed allocation): parameters, activations and multiply-adds per image, and the memory
/// training takes at its batch size.
///
/// An upper-bound walk of the blocks: a convolution's map is `⌊(H + 2·pad − k) / stride⌋ + 1`,
/// a pooling map is taken with the larger (ceiling) rounding. The exact shapes and counts are
/// the engine's (`ModelDescription.layerShapes()`), checked after this estimate passes.
struct TrialSize {
    /// Weights and biases per block; then the FC head's dense layers as one more entry.
    var parameters: [Double] = []
    /// Activations (floats) per image per block, each layer's output counted once.
    var activations: [Double] = []
    /// Forward multiply-adds per image per block.
    var multiplyAdds: [Double] = []
    /// A convolution larger than the map it slides over (its input before padding) that shrinks
    /// the map, by key path.
    var oversizedWindow: String?
    /// Whether the last entry of each list is the FC head's dense layers (not a block).
    var hasHeadEntry = false

    init(model: ResolvedModel, height: Int, width: Int, channels: Int, classes: Int) {
        var h = Double(height), w = Double(width), c = Double(channels)
        for (i, block) in model.blocks.enumerated() {
            var params = 0.0, acts = 0.0, macs = 0.0
            let k = Double(block.kernel)
            let (inH, inW) = (h, w)
            h = max(1, ((h + 2 * Double(block.pad) - k) / Double(block.stride)).rounded(.down) + 1)
            w = max(1, ((w + 2 * Double(block.pad) - k) / Double(block.stride)).rounded(.down) + 1)
            // A kernel larger than its input that also shrinks the map (not a "same" convolution
            // over a small map) is the block to blame, not a later layer that no longer fits.
            if oversizedWindow == nil, k > min(inH, inW), h < inH || w < inW || k > inH + 2 * Double(block.pad) {
                oversizedWindow = "model.blocks[\(i)].kernel: the \(block.kernel)×\(block.kernel) convolution is larger than its \(Int(inH))×\(Int(inW)) input map"
            }
            for (j, out) in ([Double(block.channels)] + block.widths.map(Double.init)).enumerated() {
                let fanIn = j == 0 ? k * k * c : c
                params += fanIn * out + out
                macs += h * w * fanIn * out
                acts += h * w * out
                c = out
            }
            if let pool = block.pool {
                let s = Double(pool.size)
                h = max(1, ((h + 2 * Double(pool.pad) - s) / Double(pool.stride)).rounded(.up) + 1)
                w = max(1, ((w + 2 * Double(pool.pad) - s) / Double(pool.stride)).rounded(.up) + 1)
                acts += h * w * c
            }
            parameters.append(params); activations.append(acts); multiplyAdds.append(macs)
        }
        if model.head != .gap {
            var features = h * w * c, params = 0.0, acts = 0.0
            for out in model.fcHidden.map(Double.init) + [Double(classes)] {
                params += features * out + out
                acts += out
                features = out
            }
            parameters.append(params); activations.append(acts); multiplyAdds.append(params)
            hasHeadEntry = true
        }
    }

    /// Bytes to train at `batch` images per mini-batch: weights, their gradients and momentum
    /// (3 floats per parameter), and every layer's output and its gradient for each image of the
    /// mini-batch (2 floats per activation).
    func trainingBytes(batch: Int) -> Double {
        4 * (3 * parameters.reduce(0, +) + 2 * Double(batch) * activations.reduce(0, +))
    }

    /// Forward multiply-adds per image beyond which a trial is refused: 10^13 is about a minute
    /// per image on these machines (the paper's CIFAR-10 NIN is 2.2·10^8).
    static let maxMultiplyAddsPerImage = 1e13

    /// Why the trial cannot be trained on a machine with `memory` bytes, naming the key to
    /// change, or nil when it fits.
    func problem(batch: Int, memory: Double) -> String? {
        if let oversizedWindow { return oversizedWindow }
        func key(_ i: Int) -> String { hasHeadEntry && i == parameters.count - 1 ? "model.head" : "model.blocks[\(i)]" }
        let needed = trainingBytes(batch: batch)
        if needed > memory {
            let weights = 12 * parameters.reduce(0, +)
            let perImage = 8 * activations.reduce(0, +)
            let machine = "this machine has \(Self.bytes(memory))"
            if weights > memory / 2 {
                let worst = parameters.indices.max { parameters[$0] < parameters[$1] }!
                return "\(key(worst)): the network needs about \(Self.bytes(needed)) of memory to train, \(Self.bytes(weights)) of it for weights, gradients and momentum (\(Self.count(parameters[worst])) parameters here); \(machine) (reduce channels or widths)"
            }
            if weights + perImage > memory / 2 {
                let worst = activations.indices.max { activations[$0] < activations[$1] }!
                return "\(key(worst)): the network needs about \(Self.bytes(weights + perImage)) of memory per training image (\(Self.count(activations[worst])) activations per image here); \(machine) (reduce channels, widths or padding)"
            }
            let fits = max(1, Int(((memory - weights) / perImage).rounded(.down)))
            return "training.batchSize: \(batch) images per mini-batch need about \(Self.bytes(needed)) of memory; \(machine), enough for about \(fits)"
        }
        let macs = multiplyAdds.reduce(0, +)
        if macs > Self.maxMultiplyAddsPerImage {
            let worst = multiplyAdds.indices.max { multiplyAdds[$0] < multiplyAdds[$1] }!
            return "\(key(worst)): the network needs \(Self.count(macs)) multiply-adds per image (this block \(Self.count(multiplyAdds[worst]))); at most \(Self.count(Self.maxMultiplyAddsPerImage)) are trained (reduce channels, widths, kernel or padding)"
        }
        return nil
    }

    static func bytes(_ b: Double) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = b, u = 0
        while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
        if u == units.count - 1, v >= 1024 { return String(format: "%.1e bytes", b) }
        return String(format: u == 0 ? "%.0f " : "%.1f ", v) + units[u]
    }

    static func count(_ n: Double) -> String {
        n >= 1e12 ? String(format: "%.2g", n) : n >= 1e9 ? String(format: "%.1f G", n / 1e9) : n >= 1e6 ? String(format: "%.1f M", n / 1e6) : String(format: "%.0f", n)
    }
}
