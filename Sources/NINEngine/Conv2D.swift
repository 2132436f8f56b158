/// A k×k convolution with stride and zero padding, optionally with a fused ReLU: im2col + GEMM
/// (Caffe `base_conv_layer.cpp`, NHWC), computed in cache-sized blocks of output pixels.
///
/// Shapes: input `[N, H, W, Cin]`, weights `[k, k, Cin, Cout]` (= `[K, Cout]`, `K = k·k·Cin`),
/// bias `[Cout]`, output `[N, Ho, Wo, Cout]`, `Ho = ⌊(H + 2·pad − k)/stride⌋ + 1`.
/// Forward: `out = relu?(im2col(in) · W + b)`. Backward: `dW = colsᵀ · dOut`, `db = Σ_rows dOut`,
/// `dCols = dOut · Wᵀ`, `dIn = col2im(dCols)`.
///
/// The examples of the mini-batch are split over `threads` workers (`RowBlocks`); each walks
/// its output pixels in blocks of `RowBlocks.rows(k: K, n: Cout)` rows: im2col of the block into
/// a small per-worker buffer, the block's GEMM(s), bias/ReLU (forward) or ReLU mask, bias
/// gradient and col2im (backward), all while the block is in cache. The columns are rebuilt in
/// backward instead of being cached for the whole mini-batch, so the layer holds only
/// `threads × block × K` column floats. Weight and bias gradients are summed per worker and
/// the workers' partial sums combined in worker order (deterministic for a thread count).
public final class Conv2D: GEMMLayer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Kernel size k (square), stride and zero padding (pixels).
    public let kernel: Int, stride: Int, pad: Int
    /// Whether ReLU is fused into the output.
    public let relu: Bool
    /// Threads (workers with single-threaded GEMMs, or the primitives' OpenMP threads).
    public let threads: Int
    /// Largest mini-batch the caches are sized for.
    public let maxBatch: Int
    /// How the layer computes (`ComputeBackend.convolutionAlgorithm`, fixed at creation; im2col +
    /// GEMM when oneDNN has no primitive for the shape).
    public let algorithm: ConvolutionAlgorithm
    /// oneDNN's primitives when `algorithm == .primitive`.
    private let primitives: ConvolutionPrimitives?

    public let formula: LayerFormula
    /// The number format of this layer's GEMM inputs (`setPrecision`; fp32 by default). In bf16
    /// the layer always runs im2col + GEMM (oneDNN's convolution primitives here are fp32).
    public var precision: GEMMPrecision { weightPrecision.precision }
    /// The format the weights are multiplied in, with their bf16 copy.
    private var weightPrecision = WeightPrecision()

    /// Output `convolutionOutputSize` along each axis with `outChannels` maps; weights
    /// `[k·k·Cin, Cout]`, bias `[Cout]`; `Ho·Wo·Cout·k·k·Cin` multiply-adds; fan-in `k·k·Cin`.
    public static func formula(input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, pad: Int) -> LayerFormula {
        let output = FeatureShape(height: convolutionOutputSize(input.height, kernel: kernel, stride: stride, pad: pad),
                                  width: convolutionOutputSize(input.width, kernel: kernel, stride: stride, pad: pad),
                                  channels: outChannels)
        let fanIn = kernel * kernel * input.channels
        return LayerFormula(output: output, weightCount: fanIn * outChannels, biasCount: outChannels,
                            multiplyAdds: output.height * output.width * outChannels * fanIn, fanIn: fanIn)
    }

    private(set) public var weights: UnsafeMutablePointer<Float>!
    private(set) public var weightGradient: UnsafeMutablePointer<Float>!
    private var bias: UnsafeMutablePointer<Float> { weights + weightCount }
    private var biasGradient: UnsafeMutablePointer<Float> { weightGradient + weightCount }
    /// Output pixels per block (internal so tests can force many small blocks).
    var blockRows: Int {
        didSet {
            precondition(blockRows >= 1, "blockRows must be ≥ 1")
            columns = FloatBuffer(count: threads * blockRows * kernel * kernel * inputShape.channels)
        }
    }
    /// Per-worker im2col blocks `[threads, blockRows, K]`.
    private(set) var columns: FloatBuffer
    /// Per-worker bias-gradient sums `[threads, Cout]`.
    private let partial: FloatBuffer
    /// Weight-gradient sums of workers 1… `[threads − 1, K, Cout]` (worker 0 writes in place).
    private let weightPartial: FloatBuffer

    /// Creates the layer; `outChannels` output maps, `kernel`×`kernel` window.
    /// - Precondition: the output map is at least 1×1 (`ModelDescription.validate` checks this).
    public init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int = 1,
                pad: Int = 0, relu: Bool, maxBatch: Int, threads: Int) {
        let formula = Conv2D.formula(input: input, outChannels: outChannels, kernel: kernel, stride: stride, pad: pad)
        let (ho, wo) = (formula.output.height, formula.output.width)
        precondition(ho >= 1 && wo >= 1 && outChannels >= 1 && stride >= 1, "invalid convolution \(name)")
        self.name = name
        self.formula = formula
        self.inputShape = input
        self.outputShape = formula.output
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.relu = relu
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        let k = kernel * kernel * input.channels
        primitives = ComputeBackend.convolutionAlgorithm(input: input, kernel: kernel, stride: stride, pad: pad) == .primitive
            ? ConvolutionPrimitives(input: input, output: outputShape, kernel: kernel, stride: stride, pad: pad,
                                    relu: relu, maxBatch: maxBatch, threads: self.threads)
            : nil
        algorithm = primitives == nil ? .im2colGEMM : .primitive
        blockRows = min(RowBlocks.rows(k: k, n: outChannels), max(1, maxBatch * ho * wo))
        columns = FloatBuffer(count: self.threads * blockRows * k)
        partial = FloatBuffer(count: self.threads * outChannels)
        weightPartial = FloatBuffer(count: (self.threads - 1) * k * outChannels)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        weights = parameters
        weightGradient = gradients
    }

    public func setPrecision(_ precision: GEMMPrecision) { weightPrecision.set(precision, count: weightCount) }

    /// Makes the weights' bf16 copy current (bf16 only): the start of every forward pass, also
    /// of `MlpconvGroup`'s.
    func prepareWeights() { weightPrecision.prepare(from: weights) }

    private var weightOperand: GEMMOperand { weightPrecision.operand(weights) }

    /// oneDNN's convolution primitives when the layer runs them (`algorithm`, and fp32).
    private var activePrimitives: ConvolutionPrimitives? { precision == .fp32 ? primitives : nil }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let pixels = outputShape.height * outputShape.width
        let cout = outputShape.channels
        let (w, b) = (UnsafePointer(weights!), UnsafePointer(bias))
        if let primitives = activePrimitives,
           primitives.forward(input: input, weights: w, bias: b, output: output, batch: batch) { return }
        prepareWeights()
        let block = blockRows
        RowBlocks.run(count: batch, threads: threads) { worker, examples in
            var p = examples.lowerBound * pixels
            let end = examples.upperBound * pixels
            while p < end {
                let rows = min(block, end - p)
                forwardPixels(input: input, first: p, count: rows, output: output + p * cout, worker: worker)
                p += rows
            }
        }
    }

    /// The im2col + GEMM forward of the output pixels `first ..< first + count` of the mini-batch
    /// (pixel `(n·Ho + oh)·Wo + ow`): writes their rows `[count, Cout]` to `output`, with
    /// worker `worker`'s im2col block as scratch. The unit of work of `forward` and of
    /// `MlpconvGroup`. - Precondition: `count ≤ blockRows`, `worker < threads`.
    @inline(__always)
    func forwardPixels(input: UnsafePointer<Float>, first: Int, count: Int, output: UnsafeMutablePointer<Float>,
                       worker: Int) {
        let k = kernel * kernel * inputShape.channels
        let cout = outputShape.channels
        let cols = columns.pointer + worker * blockRows * k
        im2colPixels(input: input, shape: inputShape, kernel: kernel, stride: stride, pad: pad,
                     first: first, count: count, columns: cols)
        GEMM.multiply(m: count, n: cout, k: k, a: .fp32(cols), lda: k, b: weightOperand, ldb: cout, c: output, ldc: cout,
                      precision: precision)
        Kernels.addBiasRows(output, rows: count, channels: cout, bias: bias, relu: relu)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        let pixels = outputShape.height * outputShape.width
        let k = kernel * kernel * inputShape.channels
        let cout = outputShape.channels
        let (shape, kernel, stride, pad, relu, block) = (inputShape, self.kernel, self.stride, self.pad, self.relu, blockRows)
        let (w, columns, partial) = (UnsafePointer(weights!), self.columns.pointer, self.partial.pointer)
        let (dW, weightPartial, weightOperand, precision) = (weightGradient!, self.weightPartial.pointer, self.weightOperand,
                                                             self.precision)
        if let primitives = activePrimitives {
            Kernels.biasGradient(outputGradient, reluOutput: relu ? output : nil, rows: batch * pixels, channels: cout,
                                 into: biasGradient, partial: partial, threads: threads)
            if primitives.backward(input: input, weights: w, outputGradient: outputGradient, weightGradient: dW,
                                   inputGradient: inputGradient, batch: batch) { return }
            // No primitive for this batch size: the GEMM path below (its ReLU mask is idempotent).
        }
        let workers = RowBlocks.run(count: batch, threads: threads) { worker, examples in
            let cols = columns + worker * block * k
            let dWorker = worker == 0 ? dW : weightPartial + (worker - 1) * k * cout
            let db = partial + worker * cout
            db.update(repeating: 0, count: cout)
            if let inputGradient {
                (inputGradient + examples.lowerBound * shape.count).update(repeating: 0, count: examples.count * shape.count)
            }
            var p = examples.lowerBound * pixels
            let end = examples.upperBound * pixels
            while p < end {
                let rows = min(block, end - p)
                let g = outputGradient + p * cout
                Kernels.biasGradientRows(g, reluOutput: relu ? output + p * cout : nil, rows: rows, channels: cout,
                                         accumulating: db)
                im2colPixels(input: input, shape: shape, kernel: kernel, stride: stride, pad: pad,
                             first: p, count: rows, columns: cols)
                GEMM.multiply(transA: true, m: k, n: cout, k: rows, a: .fp32(cols), lda: k, b: .fp32(g), ldb: cout,
                              beta: p == examples.lowerBound * pixels ? 0 : 1, c: dWorker, ldc: cout, precision: precision)
                if let inputGradient {
                    GEMM.multiply(transB: true, m: rows, n: k, k: cout, a: .fp32(g), lda: cout, b: weightOperand, ldb: cout,
                                  c: cols, ldc: k, precision: precision)
                    col2imPixels(columns: cols, shape: shape, kernel: kernel, stride: stride, pad: pad,
                                 first: p, count: rows, inputGradient: inputGradient)
                }
                p += rows
            }
        }
        for worker in 1..<max(workers, 1) {
            Kernels.addInPlace(dW, weightPartial + (worker - 1) * k * cout, count: k * cout)
        }
        Kernels.combinePartials(partial, chunks: workers, count: cout, into: biasGradient)
    }
}
