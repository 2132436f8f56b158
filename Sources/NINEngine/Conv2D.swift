/// Output size of a convolution along one axis: `⌊(input + 2·pad − kernel) / stride⌋ + 1`
/// (Caffe `conv_layer.cpp`); below 1 means the map shrank away.
@inline(__always)
public func convolutionOutputSize(_ input: Int, kernel: Int, stride: Int, pad: Int) -> Int {
    let span = input + 2 * pad - kernel
    return span < 0 ? 0 : span / stride + 1
}

/// im2col for NHWC input: one row per output pixel `(n, oh, ow)`, columns ordered
/// `(kh, kw, c)`, zeros where the window leaves the padded map.
///
/// `input [N, H, W, C]` → `columns [N·Ho·Wo, k·k·C]`. Parallel over rows `(n, oh)`.
public func im2col(input: UnsafePointer<Float>, batch: Int, shape: FeatureShape,
                   kernel: Int, stride: Int, pad: Int,
                   columns: UnsafeMutablePointer<Float>, threads: Int) {
    let ho = convolutionOutputSize(shape.height, kernel: kernel, stride: stride, pad: pad)
    let wo = convolutionOutputSize(shape.width, kernel: kernel, stride: stride, pad: pad)
    let kcols = kernel * kernel * shape.channels
    Parallel.forEachChunk(count: batch * ho, threads: threads) { _, range in
        im2colPixels(input: input, shape: shape, kernel: kernel, stride: stride, pad: pad,
                     first: range.lowerBound * wo, count: range.count * wo,
                     columns: columns + range.lowerBound * wo * kcols)
    }
}

/// The serial core of `im2col` for the output pixels `first ..< first + count` of the
/// mini-batch (pixel index `(n·Ho + oh)·Wo + ow`): writes their rows `[count, k·k·C]` to
/// `columns`.
@inline(__always)
func im2colPixels(input: UnsafePointer<Float>, shape: FeatureShape, kernel: Int, stride: Int, pad: Int,
                  first: Int, count: Int, columns: UnsafeMutablePointer<Float>) {
    let (h, w, c) = (shape.height, shape.width, shape.channels)
    let ho = convolutionOutputSize(h, kernel: kernel, stride: stride, pad: pad)
    let wo = convolutionOutputSize(w, kernel: kernel, stride: stride, pad: pad)
    var dst = columns
    for p in first..<(first + count) {
        let n = p / (ho * wo), oh = (p / wo) % ho, ow = p % wo
        let image = input + n * h * w * c
        for kh in 0..<kernel {
            let ih = oh * stride - pad + kh
            if ih < 0 || ih >= h {
                dst.update(repeating: 0, count: kernel * c)
                dst += kernel * c
                continue
            }
            let iw0 = ow * stride - pad
            if iw0 >= 0 && iw0 + kernel <= w {
                // The whole window row is inside the map: one contiguous copy of k·C floats.
                let src = image + (ih * w + iw0) * c
                let span = kernel * c
                if span < 16 { for j in 0..<span { dst[j] = src[j] } } else { dst.update(from: src, count: span) }
                dst += span
                continue
            }
            for kw in 0..<kernel {
                let iw = iw0 + kw
                if iw < 0 || iw >= w {
                    if c < 16 { for ch in 0..<c { dst[ch] = 0 } } else { dst.update(repeating: 0, count: c) }
                } else {
                    let src = image + (ih * w + iw) * c
                    // Few channels (the input layer): an inline loop beats a memcpy call.
                    if c < 16 { for ch in 0..<c { dst[ch] = src[ch] } } else { dst.update(from: src, count: c) }
                }
                dst += c
            }
        }
    }
}

/// The serial adjoint of `im2colPixels`: **adds** the column rows `[count, k·k·C]` of the output
/// pixels `first ..< first + count` into `inputGradient [N, H, W, C]` (pixels in order, window
/// taps in order, so each input pixel's sum has a fixed order).
@inline(__always)
func col2imPixels(columns: UnsafePointer<Float>, shape: FeatureShape, kernel: Int, stride: Int, pad: Int,
                  first: Int, count: Int, inputGradient: UnsafeMutablePointer<Float>) {
    let (h, w, c) = (shape.height, shape.width, shape.channels)
    let ho = convolutionOutputSize(h, kernel: kernel, stride: stride, pad: pad)
    let wo = convolutionOutputSize(w, kernel: kernel, stride: stride, pad: pad)
    var src = columns
    for p in first..<(first + count) {
        let n = p / (ho * wo), oh = (p / wo) % ho, ow = p % wo
        let image = inputGradient + n * h * w * c
        for kh in 0..<kernel {
            let ih = oh * stride - pad + kh
            if ih < 0 || ih >= h { src += kernel * c; continue }
            let iw0 = ow * stride - pad
            if iw0 >= 0 && iw0 + kernel <= w {
                // Whole window row inside the map: the k·C destination floats are contiguous.
                Kernels.addInPlace(image + (ih * w + iw0) * c, src, count: kernel * c)
                src += kernel * c
                continue
            }
            for kw in 0..<kernel {
                let iw = iw0 + kw
                if iw >= 0 && iw < w {
                    let dst = image + (ih * w + iw) * c
                    for ch in 0..<c { dst[ch] += src[ch] }
                }
                src += c
            }
        }
    }
}

/// col2im, the adjoint of `im2col`: `inputGradient[n, ih, iw, c] = Σ` of the column entries
/// that im2col copied from that pixel. `columns [N·Ho·Wo, k·k·C]` → `inputGradient [N, H, W, C]`
/// (overwritten). Parallel over examples, so each pixel's sum has a fixed order.
public func col2im(columns: UnsafePointer<Float>, batch: Int, shape: FeatureShape,
                   kernel: Int, stride: Int, pad: Int,
                   inputGradient: UnsafeMutablePointer<Float>, threads: Int) {
    let pixels = convolutionOutputSize(shape.height, kernel: kernel, stride: stride, pad: pad)
        * convolutionOutputSize(shape.width, kernel: kernel, stride: stride, pad: pad)
    let kcols = kernel * kernel * shape.channels
    Parallel.forEachChunk(count: batch, threads: threads) { _, range in
        inputGradient.advanced(by: range.lowerBound * shape.count).update(repeating: 0, count: range.count * shape.count)
        col2imPixels(columns: columns + range.lowerBound * pixels * kcols, shape: shape, kernel: kernel, stride: stride,
                     pad: pad, first: range.lowerBound * pixels, count: range.count * pixels, inputGradient: inputGradient)
    }
}

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
public final class Conv2D: Layer {
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

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let pixels = outputShape.height * outputShape.width
        let cout = outputShape.channels
        let (w, b) = (UnsafePointer(weights!), UnsafePointer(bias))
        if let primitives, primitives.forward(input: input, weights: w, bias: b, output: output, batch: batch) { return }
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
        GEMM.multiply(m: count, n: cout, k: k, a: cols, lda: k, b: weights, ldb: cout, c: output, ldc: cout)
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
        let (dW, weightPartial) = (weightGradient!, self.weightPartial.pointer)
        if let primitives {
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
                GEMM.multiply(transA: true, m: k, n: cout, k: rows, a: cols, lda: k, b: g, ldb: cout,
                              beta: p == examples.lowerBound * pixels ? 0 : 1, c: dWorker, ldc: cout)
                if let inputGradient {
                    GEMM.multiply(transB: true, m: rows, n: k, k: cout, a: g, lda: cout, b: w, ldb: cout, c: cols, ldc: k)
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

/// A fully connected (linear) map applied to rows, optionally with fused ReLU — the shared core
/// of the 1×1 convolution (rows = pixels) and Dense (rows = examples).
///
/// Shapes: input `[R, Cin]`, weights `[Cin, Cout]`, bias `[Cout]`, output `[R, Cout]`.
/// Forward `out = relu?(in · W + b)`; backward `dW = inᵀ · dOut`, `db = Σ_rows dOut`,
/// `dIn = dOut · Wᵀ`. Rows are split over `threads` workers and walked in cache-sized blocks
/// (`RowBlocks`): GEMM then bias/ReLU per block; per-worker gradient sums combined in worker order.
public class LinearLayer: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Whether ReLU is fused into the output.
    public let relu: Bool
    /// Threads (workers; OpenBLAS runs single-threaded inside each).
    public let threads: Int
    /// Largest mini-batch.
    public let maxBatch: Int
    let rowsPerExample: Int
    let inFeatures: Int
    public let formula: LayerFormula

    /// `rowsPerExample` rows of `inFeatures` each times weights `[inFeatures, Cout]`, bias
    /// `[Cout]`: `rows·inFeatures·Cout` multiply-adds, fan-in `inFeatures`.
    static func formula(output: FeatureShape, rowsPerExample: Int, inFeatures: Int) -> LayerFormula {
        LayerFormula(output: output, weightCount: inFeatures * output.channels, biasCount: output.channels,
                     multiplyAdds: rowsPerExample * inFeatures * output.channels, fanIn: inFeatures)
    }

    private(set) public var weights: UnsafeMutablePointer<Float>!
    private(set) public var weightGradient: UnsafeMutablePointer<Float>!
    var bias: UnsafeMutablePointer<Float> { weights + weightCount }
    private var biasGradient: UnsafeMutablePointer<Float> { weightGradient + weightCount }
    /// Rows per block (`RowBlocks`; internal so tests can force many small blocks).
    var blockRows: Int {
        didSet { precondition(blockRows >= 1, "blockRows must be ≥ 1") }
    }
    /// Per-worker bias-gradient sums `[threads, Cout]`.
    private let partial: FloatBuffer
    /// Weight-gradient sums of workers 1… `[threads − 1, Cin, Cout]` (worker 0 writes in place).
    private let weightPartial: FloatBuffer

    init(name: String, input: FeatureShape, output: FeatureShape, rowsPerExample: Int, inFeatures: Int,
         relu: Bool, maxBatch: Int, threads: Int) {
        precondition(output.channels >= 1 && inFeatures >= 1, "invalid linear layer \(name)")
        self.name = name
        self.inputShape = input
        self.outputShape = output
        self.rowsPerExample = rowsPerExample
        self.inFeatures = inFeatures
        formula = LinearLayer.formula(output: output, rowsPerExample: rowsPerExample, inFeatures: inFeatures)
        self.relu = relu
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        blockRows = RowBlocks.rows(k: inFeatures, n: output.channels)
        partial = FloatBuffer(count: self.threads * output.channels)
        weightPartial = FloatBuffer(count: (self.threads - 1) * inFeatures * output.channels)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        weights = parameters
        weightGradient = gradients
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let m = batch * rowsPerExample
        let (k, cout, block) = (inFeatures, outputShape.channels, blockRows)
        RowBlocks.run(count: m, threads: threads) { _, range in
            var r = range.lowerBound
            while r < range.upperBound {
                let rows = min(block, range.upperBound - r)
                forwardRows(input: input + r * k, count: rows, output: output + r * cout)
                r += rows
            }
        }
    }

    /// The GEMM + bias (+ ReLU) forward of `count` rows: `input [count, Cin]` → `output
    /// [count, Cout]`. The unit of work of `forward` and of `MlpconvGroup`.
    @inline(__always)
    func forwardRows(input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        let cout = outputShape.channels
        GEMM.multiply(m: count, n: cout, k: inFeatures, a: input, lda: inFeatures, b: weights, ldb: cout,
                      c: output, ldc: cout)
        Kernels.addBiasRows(output, rows: count, channels: cout, bias: bias, relu: relu)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        let m = batch * rowsPerExample
        let (k, cout, relu, block) = (inFeatures, outputShape.channels, self.relu, blockRows)
        let (w, partial, dW, weightPartial) = (UnsafePointer(weights!), self.partial.pointer, weightGradient!,
                                               self.weightPartial.pointer)
        let workers = RowBlocks.run(count: m, threads: threads) { worker, range in
            let dWorker = worker == 0 ? dW : weightPartial + (worker - 1) * k * cout
            let db = partial + worker * cout
            db.update(repeating: 0, count: cout)
            var r = range.lowerBound
            while r < range.upperBound {
                let rows = min(block, range.upperBound - r)
                let g = outputGradient + r * cout
                Kernels.biasGradientRows(g, reluOutput: relu ? output + r * cout : nil, rows: rows, channels: cout,
                                         accumulating: db)
                GEMM.multiply(transA: true, m: k, n: cout, k: rows, a: input + r * k, lda: k, b: g, ldb: cout,
                              beta: r == range.lowerBound ? 0 : 1, c: dWorker, ldc: cout)
                if let inputGradient {
                    GEMM.multiply(transB: true, m: rows, n: k, k: cout, a: g, lda: cout, b: w, ldb: cout,
                                  c: inputGradient + r * k, ldc: k)
                }
                r += rows
            }
        }
        for worker in 1..<max(workers, 1) {
            Kernels.addInPlace(dW, weightPartial + (worker - 1) * k * cout, count: k * cout)
        }
        Kernels.combinePartials(partial, chunks: workers, count: cout, into: biasGradient)
    }
}

/// A 1×1 convolution (one micro-network layer of mlpconv, "cccp" in the Caffe zoo), optionally
/// with fused ReLU: with NHWC data it is one GEMM `[N·H·W, Cin] × [Cin, Cout]`, no im2col
/// (NIN.md; Caffe's 1×1 shortcut). Input `[N, H, W, Cin]`, weights `[Cin, Cout]`, bias
/// `[Cout]`, output `[N, H, W, Cout]`.
public final class Conv1x1: LinearLayer {
    /// Creates the layer with `outChannels` output maps.
    public init(name: String, input: FeatureShape, outChannels: Int, relu: Bool, maxBatch: Int, threads: Int) {
        super.init(name: name, input: input,
                   output: FeatureShape(height: input.height, width: input.width, channels: outChannels),
                   rowsPerExample: input.height * input.width, inFeatures: input.channels,
                   relu: relu, maxBatch: maxBatch, threads: threads)
    }

    /// Same height and width with `outChannels` maps: one row per pixel, `Cin` features each.
    public static func formula(input: FeatureShape, outChannels: Int) -> LayerFormula {
        LinearLayer.formula(output: FeatureShape(height: input.height, width: input.width, channels: outChannels),
                            rowsPerExample: input.height * input.width, inFeatures: input.channels)
    }
}

/// A fully connected layer (Dense), optionally with fused ReLU. The input `[N, H, W, C]` is
/// flattened in NHWC order to `[N, H·W·C]`; weights `[H·W·C, D]` (row `(h·W + w)·C + c`), bias
/// `[D]`, output `[N, 1, 1, D]`.
public final class Dense: LinearLayer {
    /// Creates the layer with `outFeatures` outputs.
    public init(name: String, input: FeatureShape, outFeatures: Int, relu: Bool, maxBatch: Int, threads: Int) {
        super.init(name: name, input: input, output: FeatureShape(height: 1, width: 1, channels: outFeatures),
                   rowsPerExample: 1, inFeatures: input.count, relu: relu, maxBatch: maxBatch, threads: threads)
    }

    /// `1 × 1 × outFeatures` from the flattened input: one row of `H·W·C` features per example.
    public static func formula(input: FeatureShape, outFeatures: Int) -> LayerFormula {
        LinearLayer.formula(output: FeatureShape(height: 1, width: 1, channels: outFeatures),
                            rowsPerExample: 1, inFeatures: input.count)
    }
}
