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
