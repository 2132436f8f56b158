/// Output size of a pooling layer along one axis, Caffe's rule (`pooling_layer.cpp`): the size
/// rounds **up**, `⌈(input + 2·pad − size) / stride⌉ + 1`, then drops the last window if it would
/// start at or beyond the end of the input (`(out − 1)·stride ≥ input + pad`, i.e. it would hold
/// only padding). Caffe applies that second step only when `pad > 0`; here it always applies, so
/// a stride larger than the window (8 wide, size 3, stride 4: windows at 0 and 4, not a third,
/// empty one at 8) never yields an empty window. With `0 ≤ pad < size` every window then holds at
/// least one input pixel. 3×3 stride 2 maps 32→16→8 and 28→14→7.
///
/// The one definition of a pooled map's size: `ModelDescription.plan()` (shape walk and
/// validation), `Pool2D` and the study validator all call it.
/// - Returns: the output size in pixels; 0 when the window does not fit (`input + 2·pad < size`)
///   or the arguments are invalid (`size < 1`, `stride < 1`, `pad < 0`, `pad ≥ size`: a window of
///   padding only).
@inline(__always)
public func poolingOutputSize(_ input: Int, size: Int, stride: Int, pad: Int) -> Int {
    guard size >= 1, stride >= 1, pad >= 0, pad < size else { return 0 }
    let span = input + 2 * pad - size
    if span < 0 { return 0 }
    var out = (span + stride - 1) / stride + 1
    if (out - 1) * stride >= input + pad { out -= 1 }
    return out
}

/// A parameter-free layer whose forward pass computes each example from that example's input
/// alone (`Pool2D`, `GlobalAveragePool`). An mlpconv group whose output it reads runs it on each
/// example as soon as that example's last block of pixels is written, while the map is still in
/// cache (`MlpconvGroup`); the outputs are the same bits as the layer's own `forward`.
protocol ExamplewiseLayer: Layer {
    /// The forward pass of `examples` (indices into the mini-batch) on the calling thread, as
    /// `forward` computes them; in training a max pooling also records its argmax for backward.
    func forwardExamples(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, examples: Range<Int>,
                         training: Bool)
}

/// The kind of a pooling layer.
public enum PoolKind: String, Codable, CaseIterable, Sendable {
    /// Maximum over the window.
    case max
    /// Average over the window (Caffe divisor: the window clipped to the padded map).
    case avg
}

/// Max or average pooling over k×k windows with stride and zero padding, Caffe semantics
/// (ceil output size; padding never wins a max; the average divides by the window clipped to
/// `input + pad`, so padded cells inside that count as zeros, cells beyond it do not count).
///
/// Input `[N, H, W, C]`, output `[N, Ho, Wo, C]`, `Ho = poolingOutputSize(H, …)`. Max pooling
/// caches the argmax (input offset within the example) for backward in training mode only.
public final class Pool2D: ExamplewiseLayer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Max or average.
    public let kind: PoolKind
    /// Window size, stride and padding (pixels).
    public let size: Int, stride: Int, pad: Int
    /// Threads for the work (parallel over rows / examples).
    public let threads: Int
    /// Largest mini-batch.
    public let maxBatch: Int
    private let argmax: UnsafeMutablePointer<Int32>

    public var formula: LayerFormula { .parameterFree(output: outputShape) }

    /// Output `poolingOutputSize` along each axis, channels kept; no parameters.
    public static func formula(input: FeatureShape, size: Int, stride: Int, pad: Int) -> LayerFormula {
        .parameterFree(output: FeatureShape(height: poolingOutputSize(input.height, size: size, stride: stride, pad: pad),
                                            width: poolingOutputSize(input.width, size: size, stride: stride, pad: pad),
                                            channels: input.channels))
    }

    /// Creates the layer.
    /// - Precondition: the window fits (`ModelDescription.validate` checks this).
    public init(name: String, kind: PoolKind, input: FeatureShape, size: Int, stride: Int, pad: Int = 0,
                maxBatch: Int, threads: Int) {
        let output = Pool2D.formula(input: input, size: size, stride: stride, pad: pad).output
        precondition(output.height >= 1 && output.width >= 1 && stride >= 1 && pad < size, "invalid pooling \(name)")
        self.name = name
        self.kind = kind
        self.inputShape = input
        self.outputShape = output
        self.size = size
        self.stride = stride
        self.pad = pad
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        let n = kind == .max ? maxBatch * outputShape.count : 1
        argmax = .allocate(capacity: n)
        argmax.initialize(repeating: 0, count: n)
    }

    deinit { argmax.deallocate() }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {}

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let training = mode == .training
        Parallel.forEachChunk(count: batch * outputShape.height, threads: threads, grain: 4) { _, range in
            forwardRows(input: input, output: output, rows: range, training: training)
        }
    }

    func forwardExamples(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, examples: Range<Int>,
                         training: Bool) {
        precondition(examples.upperBound <= maxBatch, "examples \(examples) exceed maxBatch \(maxBatch)")
        let ho = outputShape.height
        forwardRows(input: input, output: output, rows: (examples.lowerBound * ho)..<(examples.upperBound * ho),
                    training: training)
    }

    /// The forward pass of output rows `rows` (row `n · Ho + oh` is output row `oh` of example
    /// `n`) on the calling thread; in training it records each output's argmax.
    private func forwardRows(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows range: Range<Int>,
                             training: Bool) {
        let (h, w, c) = (inputShape.height, inputShape.width, inputShape.channels)
        let (ho, wo) = (outputShape.height, outputShape.width)
        let (size, stride, pad, kind, argmax) = (self.size, self.stride, self.pad, self.kind, self.argmax)
        for nh in range {
            let n = nh / ho, oh = nh % ho
            let image = input + n * h * w * c
            for ow in 0..<wo {
                var hs = oh * stride - pad, ws = ow * stride - pad
                var he = Swift.min(hs + size, h + pad), we = Swift.min(ws + size, w + pad)
                let poolArea = Float((he - hs) * (we - ws))
                hs = Swift.max(hs, 0); ws = Swift.max(ws, 0)
                he = Swift.min(he, h); we = Swift.min(we, w)
                let outIndex = (n * ho + oh) * wo + ow
                let dst = output + outIndex * c
                if kind == .max {
                    // Branch-free selects so the channel loop vectorises; the first maximum
                    // in window order wins (strict >). Windows are never empty (see
                    // poolingOutputSize), so every output gets a real input's value.
                    dst.update(repeating: -Float.infinity, count: c)
                    if c % 8 == 0 {
                        Pool2D.maxWindowSIMD8(image: image, width: w, channels: c, rows: hs..<he, cols: ws..<we,
                                              output: dst, argmax: training ? argmax + outIndex * c : nil)
                    } else if training {
                        let idx = argmax + outIndex * c
                        idx.update(repeating: -1, count: c)
                        for ih in hs..<he {
                            for iw in ws..<we {
                                let off = (ih * w + iw) * c
                                let src = image + off
                                for ch in 0..<c {
                                    let v = src[ch], better = v > dst[ch]
                                    dst[ch] = better ? v : dst[ch]
                                    idx[ch] = better ? Int32(truncatingIfNeeded: off + ch) : idx[ch]
                                }
                            }
                        }
                    } else {
                        for ih in hs..<he {
                            for iw in ws..<we {
                                let src = image + (ih * w + iw) * c
                                for ch in 0..<c { dst[ch] = Swift.max(dst[ch], src[ch]) }
                            }
                        }
                    }
                } else {
                    dst.update(repeating: 0, count: c)
                    for ih in hs..<he {
                        for iw in ws..<we {
                            let src = image + (ih * w + iw) * c
                            for ch in 0..<c { dst[ch] += src[ch] }
                        }
                    }
                    let inv = 1 / poolArea
                    for ch in 0..<c { dst[ch] *= inv }
                }
            }
        }
    }

    /// Max over one window, eight channels at a time (same result and first-maximum argmax as
    /// the scalar loop). `output` starts at −∞.
    @inline(__always)
    static func maxWindowSIMD8(image: UnsafePointer<Float>, width w: Int, channels c: Int, rows: Range<Int>,
                               cols: Range<Int>, output: UnsafeMutablePointer<Float>,
                               argmax: UnsafeMutablePointer<Int32>?) {
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        var ch = 0
        while ch < c {
            var best = SIMD8<Float>(repeating: -Float.infinity)
            var index = SIMD8<Int32>(repeating: -1)
            for ih in rows {
                for iw in cols {
                    let off = (ih * w + iw) * c + ch
                    let v = UnsafeRawPointer(image + off).loadUnaligned(as: SIMD8<Float>.self)
                    let better = v .> best
                    best.replace(with: v, where: better)
                    if argmax != nil {
                        index.replace(with: SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: off)) &+ lanes, where: better)
                    }
                }
            }
            UnsafeMutableRawPointer(output + ch).storeBytes(of: best, as: SIMD8<Float>.self)
            if let argmax { UnsafeMutableRawPointer(argmax + ch).storeBytes(of: index, as: SIMD8<Int32>.self) }
            ch += 8
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let inputGradient else { return }
        let (h, w, c) = (inputShape.height, inputShape.width, inputShape.channels)
        let (ho, wo) = (outputShape.height, outputShape.width)
        let (size, stride, pad, kind, argmax) = (self.size, self.stride, self.pad, self.kind, self.argmax)
        Parallel.forEachChunk(count: batch, threads: threads) { _, range in
            for n in range {
                let image = inputGradient + n * h * w * c
                image.update(repeating: 0, count: h * w * c)
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        let outIndex = (n * ho + oh) * wo + ow
                        let g = outputGradient + outIndex * c
                        if kind == .max {
                            let idx = argmax + outIndex * c
                            for ch in 0..<c where idx[ch] >= 0 { image[Int(idx[ch])] += g[ch] }
                        } else {
                            var hs = oh * stride - pad, ws = ow * stride - pad
                            var he = Swift.min(hs + size, h + pad), we = Swift.min(ws + size, w + pad)
                            let inv = 1 / Float((he - hs) * (we - ws))
                            hs = Swift.max(hs, 0); ws = Swift.max(ws, 0)
                            he = Swift.min(he, h); we = Swift.min(we, w)
                            for ih in hs..<he {
                                for iw in ws..<we {
                                    let dst = image + (ih * w + iw) * c
                                    for ch in 0..<c { dst[ch] += g[ch] * inv }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Global average pooling (NIN §3.2): each channel's map is averaged to one number.
/// Input `[N, H, W, C]`, output `[N, 1, 1, C]`; no parameters.
/// Backward: `dIn[n, h, w, c] = dOut[n, c] / (H·W)`.
public final class GlobalAveragePool: ExamplewiseLayer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Threads (parallel over examples).
    public let threads: Int
    public var formula: LayerFormula { GlobalAveragePool.formula(input: inputShape) }

    /// One value per channel (`1 × 1 × C`); no parameters.
    public static func formula(input: FeatureShape) -> LayerFormula {
        .parameterFree(output: FeatureShape(height: 1, width: 1, channels: input.channels))
    }

    /// Creates the layer.
    public init(name: String, input: FeatureShape, threads: Int) {
        self.name = name
        self.inputShape = input
        self.outputShape = GlobalAveragePool.formula(input: input).output
        self.threads = max(1, threads)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {}

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        Parallel.forEachChunk(count: batch, threads: threads, grain: 8) { _, range in
            forwardExamples(input: input, output: output, examples: range, training: mode == .training)
        }
    }

    func forwardExamples(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, examples: Range<Int>,
                         training: Bool) {
        let hw = inputShape.height * inputShape.width, c = inputShape.channels
        for n in examples {
            let dst = output + n * c
            dst.update(repeating: 0, count: c)
            let image = input + n * hw * c
            for p in 0..<hw {
                let src = image + p * c
                for ch in 0..<c { dst[ch] += src[ch] }
            }
            let inv = 1 / Float(hw)
            for ch in 0..<c { dst[ch] *= inv }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let inputGradient else { return }
        let hw = inputShape.height * inputShape.width, c = inputShape.channels
        let inv = 1 / Float(hw)
        Parallel.forEachChunk(count: batch, threads: threads, grain: 8) { _, range in
            for n in range {
                let g = outputGradient + n * c
                for p in 0..<hw {
                    let dst = inputGradient + (n * hw + p) * c
                    for ch in 0..<c { dst[ch] = g[ch] * inv }
                }
            }
        }
    }
}
