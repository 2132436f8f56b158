/// Eight-lane SIMD load from any Float pointer (unaligned).
@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Eight-lane SIMD store to any Float pointer (unaligned).
@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Elementwise and reduction kernels shared by the layers (NHWC rows: `rows × channels`).
/// Channels are processed eight at a time with explicit SIMD loads and stores, then a scalar
/// tail; the arithmetic per element is the same as the scalar formula.
enum Kernels {
    /// `x[r, c] = relu?(x[r, c] + bias[c])` in place over `rows` consecutive rows (one worker's
    /// cache-hot block).
    @inline(__always)
    static func addBiasRows(_ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                            bias: UnsafePointer<Float>, relu: Bool) {
        let vec = channels & ~7
        for r in 0..<rows {
            let row = x + r * channels
            var c = 0
            while c < vec {
                var v = load8(row + c) + load8(bias + c)
                // `replace(with:where:)` lowers to a blend; `pointwiseMax` measured 4× slower.
                if relu { v.replace(with: 0, where: v .< 0) }
                store8(v, row + c)
                c += 8
            }
            while c < channels {
                let v = row[c] + bias[c]
                row[c] = relu && v < 0 ? 0 : v
                c += 1
            }
        }
    }

    /// `out[c] = Σ_r g[r, c]` over `rows` rows, after masking `g` in place by `y > 0` when
    /// `reluOutput` is given (ReLU backward fused with the bias gradient); parallel over static row
    /// chunks whose partial sums (`partial`, `threads × channels` floats) are combined in chunk
    /// order, so the result is bit-identical for a fixed thread count. Used where the layer's
    /// weight gradient comes from a library call over the whole mini-batch (oneDNN's convolution
    /// primitives) rather than per row block.
    static func biasGradient(_ g: UnsafeMutablePointer<Float>, reluOutput y: UnsafePointer<Float>?, rows: Int,
                             channels: Int, into out: UnsafeMutablePointer<Float>,
                             partial: UnsafeMutablePointer<Float>, threads: Int) {
        let chunks = Parallel.chunkCount(count: rows, threads: threads, grain: 64)
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { chunk, range in
            let p = partial + chunk * channels
            p.update(repeating: 0, count: channels)
            biasGradientRows(g + range.lowerBound * channels, reluOutput: y.map { $0 + range.lowerBound * channels },
                             rows: range.count, channels: channels, accumulating: p)
        }
        combinePartials(partial, chunks: chunks, count: channels, into: out)
    }

    /// ReLU backward fused with the bias gradient over `rows` consecutive rows: masks `g` by
    /// `y > 0` (when `y` is given: `g[r, c] = y[r, c] > 0 ? g[r, c] : 0` in place) and **adds**
    /// the column sums to `p` (rows in order; one pass over the gradient instead of two).
    @inline(__always)
    static func biasGradientRows(_ g: UnsafeMutablePointer<Float>, reluOutput y: UnsafePointer<Float>?, rows: Int,
                                 channels: Int, accumulating p: UnsafeMutablePointer<Float>) {
        let vec = channels & ~7
        for r in 0..<rows {
            let row = g + r * channels
            var c = 0
            if let y {
                let yr = y + r * channels
                while c < vec {
                    let v = load8(row + c).replacing(with: 0, where: load8(yr + c) .<= 0)
                    store8(v, row + c)
                    store8(load8(p + c) + v, p + c)
                    c += 8
                }
                while c < channels {
                    let v: Float = yr[c] > 0 ? row[c] : 0
                    row[c] = v
                    p[c] += v
                    c += 1
                }
            } else {
                addInPlace(p, row, count: channels)
            }
        }
    }

    /// `out = partial[0] + partial[1] + … + partial[chunks − 1]` (each `count` floats, summed in
    /// chunk order, so the result is deterministic for a chunk count).
    static func combinePartials(_ partial: UnsafePointer<Float>, chunks: Int, count: Int,
                                into out: UnsafeMutablePointer<Float>) {
        out.update(from: partial, count: count)
        for chunk in 1..<max(chunks, 1) { addInPlace(out, partial + chunk * count, count: count) }
    }

    /// `x[i] += y[i]` for `i < count`, eight lanes at a time.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        let vec = count & ~7
        var i = 0
        while i < vec {
            store8(load8(x + i) + load8(y + i), x + i)
            i += 8
        }
        while i < count {
            x[i] += y[i]
            i += 1
        }
    }
}
