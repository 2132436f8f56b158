/// The forward pass of one mlpconv layer run as a unit (NIN §3.1: a k×k convolution followed by
/// the 1×1 convolutions of its micro-network, which act on each pixel's feature vector alone).
///
/// Layer by layer, each layer would stream the whole mini-batch through memory and the next one
/// read it back. Here every worker takes a block of output pixels through the convolution and
/// then through each 1×1 layer while the block is still in cache: `[rows, k·k·Cin]` im2col →
/// `[rows, C0]` → `[rows, C1]` → … → `[rows, Cm]`. Each layer computes its rows with the same
/// GEMM and bias/ReLU kernels as its own `forward`, but in blocks of another size, and oneDNN's
/// sgemm may round a row differently depending on the row count of the call: on some shapes (the
/// MNIST quick start) the outputs are bit-identical to running the layers one after the other, on
/// others (the CIFAR-10 networks) they differ in low-order bits. Results stay bit-identical from
/// run to run (the blocks depend only on the shapes and the thread count); `Network.profiling`
/// times the group's forward pass as a whole.
///
/// In training every layer's output goes to its activation buffer (backward needs them); in
/// inference only the last one does, and the intermediate blocks live in a per-worker scratch
/// `[threads, 2, blockRows, max Ci]`.
///
/// A pooling layer that reads the group's output (`ExamplewiseLayer`: the max or average pooling
/// between mlpconv layers, the global average pooling of a GAP head) runs inside the group: each
/// worker pools an example as soon as its last block of pixels is written, while that example's
/// map (`[H, W, Cm]`, 150–390 KiB in the NIN networks) is still in the core's cache, instead of a
/// separate pass reading the whole mini-batch back from memory. Its outputs (and a max pooling's
/// argmax) are the same bits as its own `forward`, whose arithmetic it shares. With
/// `GEMMThreading.library` (one caller, for measuring) the pooling then runs on that one thread.
final class MlpconvGroup {
    /// The convolution's index in the network's layers; the group is `first ... first + micro.count`.
    let first: Int
    /// The k×k convolution (im2col + GEMM).
    let convolution: Conv2D
    /// The micro-network's 1×1 convolutions, in order.
    let micro: [Conv1x1]
    /// Output pixels per block: every layer's block and the im2col block fit the cache budget
    /// of `RowBlocks` together (and the convolution's own im2col buffer). Internal and settable
    /// so tests can force many small blocks; it may only shrink.
    var blockRows: Int {
        didSet { precondition(blockRows >= 1 && blockRows <= oldValue, "blockRows may only shrink") }
    }
    /// Output channels of each layer of the group, the convolution first.
    private let channels: [Int]
    /// Widest intermediate (channels) of the micro-network's inputs.
    private let width: Int
    /// Per-worker ping-pong blocks for inference `[threads, 2, blockRows, width]`.
    private let scratch: FloatBuffer

    /// The pooling layer that reads the group's output and runs inside it, if the layer after
    /// the last 1×1 convolution is one (`ExamplewiseLayer`).
    let pooling: (any ExamplewiseLayer)?

    /// The layers' indices, the convolution first (the pooling not included).
    var layerIndices: ClosedRange<Int> { first...(first + micro.count) }
    /// The indices of every layer whose forward pass the group runs: `layerIndices` and the pooling.
    var forwardIndices: ClosedRange<Int> { first...(first + micro.count + (pooling == nil ? 0 : 1)) }

    /// The group that starts at `layers[index]`: an im2col + GEMM `Conv2D` followed by at least one
    /// `Conv1x1`; nil otherwise.
    init?(layers: [Layer], at index: Int, threads: Int) {
        guard let convolution = layers[index] as? Conv2D, convolution.algorithm == .im2colGEMM else { return nil }
        var micro: [Conv1x1] = []
        var j = index + 1
        while j < layers.count, let layer = layers[j] as? Conv1x1 {
            micro.append(layer)
            j += 1
        }
        guard !micro.isEmpty else { return nil }
        pooling = j < layers.count ? layers[j] as? any ExamplewiseLayer : nil
        self.first = index
        self.convolution = convolution
        self.micro = micro
        let k = convolution.kernel * convolution.kernel * convolution.inputShape.channels
        let channels = [convolution.outputShape.channels] + micro.map(\.outputShape.channels)
        self.channels = channels
        blockRows = min(convolution.blockRows, RowBlocks.rows(k: k, n: channels.reduce(0, +)))
        width = channels.dropLast().max() ?? 1
        scratch = FloatBuffer(count: max(1, threads) * 2 * blockRows * width)
    }

    /// Runs the group on a mini-batch.
    /// - Parameters:
    ///   - input: the convolution's input `[N, H, W, Cin]`.
    ///   - outputs: one buffer per layer of the group, each `[N, Ho, Wo, Ci]`; in inference only
    ///     the last is written.
    ///   - pooled: the pooling's output `[N, Hp, Wp, Cm]`, or nil to leave the pooling to its own
    ///     `forward`.
    ///   - keepIntermediates: write every layer's output (training) or only the last (inference);
    ///     in training a max pooling also records its argmax.
    func forward(input: UnsafePointer<Float>, outputs: [UnsafeMutablePointer<Float>], pooled: UnsafeMutablePointer<Float>?,
                 batch: Int, keepIntermediates: Bool) {
        precondition(pooled == nil || pooling != nil, "a pooled output for a group without a pooling")
        let (convolution, micro, block, width, scratch, channels) = (self.convolution, self.micro, blockRows, self.width,
                                                                     self.scratch.pointer, self.channels)
        let pixels = convolution.outputShape.height * convolution.outputShape.width
        convolution.prepareWeights()
        for layer in micro { layer.prepareWeights() }
        let pooling = self.pooling, last = outputs[micro.count]
        RowBlocks.run(count: batch, threads: convolution.threads) { worker, examples in
            let pingPong = (scratch + worker * 2 * block * width, scratch + (worker * 2 + 1) * block * width)
            var p = examples.lowerBound * pixels
            var pooledUpTo = examples.lowerBound
            let end = examples.upperBound * pixels
            while p < end {
                let rows = min(block, end - p)
                func destination(_ layer: Int) -> UnsafeMutablePointer<Float> {
                    if keepIntermediates || layer == micro.count { return outputs[layer] + p * channels[layer] }
                    return layer % 2 == 0 ? pingPong.0 : pingPong.1
                }
                var x = destination(0)
                convolution.forwardPixels(input: input, first: p, count: rows, output: x, worker: worker)
                for (i, layer) in micro.enumerated() {
                    let y = destination(i + 1)
                    layer.forwardRows(input: x, count: rows, output: y)
                    x = y
                }
                p += rows
                if let pooling, let pooled, p / pixels > pooledUpTo {
                    pooling.forwardExamples(input: last, output: pooled, examples: pooledUpTo..<(p / pixels),
                                            training: keepIntermediates)
                    pooledUpTo = p / pixels
                }
            }
        }
    }
}
