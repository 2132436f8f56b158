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
    let (h, w, c) = (shape.height, shape.width, shape.channels)
    let ho = convolutionOutputSize(h, kernel: kernel, stride: stride, pad: pad)
    let wo = convolutionOutputSize(w, kernel: kernel, stride: stride, pad: pad)
    let kcols = kernel * kernel * c
    Parallel.forEachChunk(count: batch * ho, threads: threads) { _, range in
        for nh in range {
            let n = nh / ho, oh = nh % ho
            let image = input + n * h * w * c
            for ow in 0..<wo {
                var dst = columns + ((n * ho + oh) * wo + ow) * kcols
                for kh in 0..<kernel {
                    let ih = oh * stride - pad + kh
                    if ih < 0 || ih >= h {
                        dst.update(repeating: 0, count: kernel * c)
                        dst += kernel * c
                        continue
                    }
                    for kw in 0..<kernel {
                        let iw = ow * stride - pad + kw
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
    }
}

/// col2im, the adjoint of `im2col`: `inputGradient[n, ih, iw, c] = Σ` of the column entries
/// that im2col copied from that pixel. `columns [N·Ho·Wo, k·k·C]` → `inputGradient [N, H, W, C]`
/// (overwritten). Parallel over examples, so each pixel's sum has a fixed order.
public func col2im(columns: UnsafePointer<Float>, batch: Int, shape: FeatureShape,
                   kernel: Int, stride: Int, pad: Int,
                   inputGradient: UnsafeMutablePointer<Float>, threads: Int) {
    let (h, w, c) = (shape.height, shape.width, shape.channels)
    let ho = convolutionOutputSize(h, kernel: kernel, stride: stride, pad: pad)
    let wo = convolutionOutputSize(w, kernel: kernel, stride: stride, pad: pad)
    let kcols = kernel * kernel * c
    Parallel.forEachChunk(count: batch, threads: threads) { _, range in
        for n in range {
            let image = inputGradient + n * h * w * c
            image.update(repeating: 0, count: h * w * c)
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var src = columns + ((n * ho + oh) * wo + ow) * kcols
                    for kh in 0..<kernel {
                        let ih = oh * stride - pad + kh
                        if ih < 0 || ih >= h { src += kernel * c; continue }
                        for kw in 0..<kernel {
                            let iw = ow * stride - pad + kw
                            if iw >= 0 && iw < w {
                                let dst = image + (ih * w + iw) * c
                                for ch in 0..<c { dst[ch] += src[ch] }
                            }
                            src += c
                        }
                    }
                }
            }
        }
    }
}

/// A k×k convolution with stride and zero padding, optionally with a fused ReLU: im2col + one
/// GEMM over the whole mini-batch (Caffe `base_conv_layer.cpp`, NHWC).
///
/// Shapes: input `[N, H, W, Cin]`, weights `[k, k, Cin, Cout]` (= `[K, Cout]`, `K = k·k·Cin`),
/// bias `[Cout]`, output `[N, Ho, Wo, Cout]`, `Ho = ⌊(H + 2·pad − k)/stride⌋ + 1`.
/// Forward: `out = relu?(im2col(in) · W + b)`; the im2col columns `[N·Ho·Wo, K]` are cached.
/// Backward: `dW = colsᵀ · dOut`, `db = Σ_rows dOut`, `dCols = dOut · Wᵀ` (written over the
/// cached columns, which are no longer needed), `dIn = col2im(dCols)`.
public final class Conv2D: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Kernel size k (square), stride and zero padding (pixels).
    public let kernel: Int, stride: Int, pad: Int
    /// Whether ReLU is fused into the output.
    public let relu: Bool
    /// Threads for the non-GEMM work.
    public let threads: Int
    /// Largest mini-batch the caches are sized for.
    public let maxBatch: Int

    public var weightCount: Int { kernel * kernel * inputShape.channels * outputShape.channels }
    public var biasCount: Int { outputShape.channels }
    public var multiplyAddsPerExample: Int {
        outputShape.height * outputShape.width * outputShape.channels * kernel * kernel * inputShape.channels
    }

    private(set) public var weights: UnsafeMutablePointer<Float>!
    private(set) public var weightGradient: UnsafeMutablePointer<Float>!
    private var bias: UnsafeMutablePointer<Float> { weights + weightCount }
    private var biasGradient: UnsafeMutablePointer<Float> { weightGradient + weightCount }
    /// Cached im2col columns `[maxBatch·Ho·Wo, K]`.
    let columns: FloatBuffer
    private let partial: FloatBuffer

    /// Creates the layer; `outChannels` output maps, `kernel`×`kernel` window.
    /// - Precondition: the output map is at least 1×1 (`ModelDescription.validate` checks this).
    public init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int = 1,
                pad: Int = 0, relu: Bool, maxBatch: Int, threads: Int) {
        let ho = convolutionOutputSize(input.height, kernel: kernel, stride: stride, pad: pad)
        let wo = convolutionOutputSize(input.width, kernel: kernel, stride: stride, pad: pad)
        precondition(ho >= 1 && wo >= 1 && outChannels >= 1 && stride >= 1, "invalid convolution \(name)")
        self.name = name
        self.inputShape = input
        self.outputShape = FeatureShape(height: ho, width: wo, channels: outChannels)
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.relu = relu
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        columns = FloatBuffer(count: maxBatch * ho * wo * kernel * kernel * input.channels)
        partial = FloatBuffer(count: max(1, threads) * outChannels)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        weights = parameters
        weightGradient = gradients
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let m = batch * outputShape.height * outputShape.width
        let k = kernel * kernel * inputShape.channels
        let cout = outputShape.channels
        im2col(input: input, batch: batch, shape: inputShape, kernel: kernel, stride: stride, pad: pad,
               columns: columns.pointer, threads: threads)
        GEMM.multiply(m: m, n: cout, k: k, a: columns.pointer, lda: k, b: weights, ldb: cout,
                      c: output, ldc: cout)
        Kernels.addBias(output, rows: m, channels: cout, bias: bias, relu: relu, threads: threads)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        let m = batch * outputShape.height * outputShape.width
        let k = kernel * kernel * inputShape.channels
        let cout = outputShape.channels
        Kernels.biasGradient(outputGradient, reluOutput: relu ? output : nil, rows: m, channels: cout,
                             into: biasGradient, partial: partial.pointer, threads: threads)
        GEMM.multiply(transA: true, m: k, n: cout, k: m, a: columns.pointer, lda: k,
                      b: outputGradient, ldb: cout, c: weightGradient, ldc: cout)
        guard let inputGradient else { return }
        GEMM.multiply(transB: true, m: m, n: k, k: cout, a: outputGradient, lda: cout,
                      b: weights, ldb: cout, c: columns.pointer, ldc: k)
        col2im(columns: columns.pointer, batch: batch, shape: inputShape, kernel: kernel, stride: stride,
               pad: pad, inputGradient: inputGradient, threads: threads)
    }
}

/// A fully connected (linear) map applied to rows, optionally with fused ReLU — the shared core
/// of the 1×1 convolution (rows = pixels) and Dense (rows = examples).
///
/// Shapes: input `[R, Cin]`, weights `[Cin, Cout]`, bias `[Cout]`, output `[R, Cout]`.
/// Forward `out = relu?(in · W + b)`; backward `dW = inᵀ · dOut`, `db = Σ_rows dOut`,
/// `dIn = dOut · Wᵀ`.
public class LinearLayer: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Whether ReLU is fused into the output.
    public let relu: Bool
    /// Threads for the non-GEMM work.
    public let threads: Int
    /// Largest mini-batch.
    public let maxBatch: Int
    let rowsPerExample: Int
    let inFeatures: Int

    public var weightCount: Int { inFeatures * outputShape.channels }
    public var biasCount: Int { outputShape.channels }
    public var multiplyAddsPerExample: Int { rowsPerExample * inFeatures * outputShape.channels }

    private(set) public var weights: UnsafeMutablePointer<Float>!
    private(set) public var weightGradient: UnsafeMutablePointer<Float>!
    var bias: UnsafeMutablePointer<Float> { weights + weightCount }
    private var biasGradient: UnsafeMutablePointer<Float> { weightGradient + weightCount }
    private let partial: FloatBuffer

    init(name: String, input: FeatureShape, output: FeatureShape, rowsPerExample: Int, inFeatures: Int,
         relu: Bool, maxBatch: Int, threads: Int) {
        precondition(output.channels >= 1 && inFeatures >= 1, "invalid linear layer \(name)")
        self.name = name
        self.inputShape = input
        self.outputShape = output
        self.rowsPerExample = rowsPerExample
        self.inFeatures = inFeatures
        self.relu = relu
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        partial = FloatBuffer(count: max(1, threads) * output.channels)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        weights = parameters
        weightGradient = gradients
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let m = batch * rowsPerExample
        let cout = outputShape.channels
        GEMM.multiply(m: m, n: cout, k: inFeatures, a: input, lda: inFeatures, b: weights, ldb: cout,
                      c: output, ldc: cout)
        Kernels.addBias(output, rows: m, channels: cout, bias: bias, relu: relu, threads: threads)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        let m = batch * rowsPerExample
        let cout = outputShape.channels
        Kernels.biasGradient(outputGradient, reluOutput: relu ? output : nil, rows: m, channels: cout,
                             into: biasGradient, partial: partial.pointer, threads: threads)
        GEMM.multiply(transA: true, m: inFeatures, n: cout, k: m, a: input, lda: inFeatures,
                      b: outputGradient, ldb: cout, c: weightGradient, ldc: cout)
        guard let inputGradient else { return }
        GEMM.multiply(transB: true, m: m, n: inFeatures, k: cout, a: outputGradient, lda: cout,
                      b: weights, ldb: cout, c: inputGradient, ldc: inFeatures)
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
}
