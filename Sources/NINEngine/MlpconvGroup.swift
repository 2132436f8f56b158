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
/// run to run (the blocks depend only on the shapes and the thread count); `Network.profiling`,
/// which times the layers one by one, runs them unblocked.
///
/// In training every layer's output goes to its activation buffer (backward needs them); in
/// inference only the last one does, and the intermediate blocks live in a per-worker scratch
/// `[threads, 2, blockRows, max Ci]`.
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

    /// The layers' indices, the convolution first.
    var layerIndices: ClosedRange<Int> { first...(first + micro.count) }

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
    ///   - keepIntermediates: write every layer's output (training) or only the last (inference).
    func forward(input: UnsafePointer<Float>, outputs: [UnsafeMutablePointer<Float>], batch: Int,
                 keepIntermediates: Bool) {
        let (convolution, micro, block, width, scratch, channels) = (self.convolution, self.micro, blockRows, self.width,
                                                                     self.scratch.pointer, self.channels)
        let pixels = convolution.outputShape.height * convolution.outputShape.width
        convolution.prepareWeights()
        for layer in micro { layer.prepareWeights() }
        RowBlocks.run(count: batch, threads: convolution.threads) { worker, examples in
            let pingPong = (scratch + worker * 2 * block * width, scratch + (worker * 2 + 1) * block * width)
            var p = examples.lowerBound * pixels
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
            }
        }
    }
}
