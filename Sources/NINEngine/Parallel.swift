import Dispatch

/// A deterministic static-partition parallel-for.
///
/// `count` items are split into at most `threads` fixed contiguous chunks
/// (`chunk i = [i·count/chunks, (i+1)·count/chunks)`), run with
/// `DispatchQueue.concurrentPerform`. The partition depends only on `count`, `threads` and
/// `grain`, never on scheduling, so any per-chunk reduction combined in chunk order gives
/// bit-identical results for the same thread count.
public enum Parallel {
    /// The number of chunks used for `count` items: `min(threads, count / grain)`, at least 1.
    @inline(__always)
    public static func chunkCount(count: Int, threads: Int, grain: Int = 1) -> Int {
        max(1, min(threads, count / max(grain, 1)))
    }

    /// The item range of chunk `index` out of `chunks`.
    @inline(__always)
    public static func chunkRange(_ index: Int, chunks: Int, count: Int) -> Range<Int> {
        (index * count / chunks)..<((index + 1) * count / chunks)
    }

    /// Runs `body(chunkIndex, itemRange)` over the static partition of `0..<count`.
    /// With one chunk the body runs on the calling thread.
    public static func forEachChunk(count: Int, threads: Int, grain: Int = 1,
                                    _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count: count, threads: threads, grain: grain)
        if chunks == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            body(i, chunkRange(i, chunks: chunks, count: count))
        }
    }
}

/// A fixed-size, zero-initialised Float32 buffer owned by a layer or network: allocated once
/// when shapes are set, never inside the mini-batch loop.
public final class FloatBuffer {
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    /// A copy of the elements.
    public var array: [Float] { Array(buffer) }
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Elementwise and reduction kernels shared by the layers (NHWC rows: `rows × channels`).
/// Channels are processed eight at a time with explicit SIMD loads and stores, then a scalar
/// tail; the arithmetic per element is the same as the scalar formula.
enum Kernels {
    /// `x[r, c] = relu?(x[r, c] + bias[c])` in place, parallel over rows.
    static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                        bias: UnsafePointer<Float>, relu: Bool, threads: Int) {
        let vec = channels & ~7
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { _, range in
            for r in range {
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
    }

    /// ReLU backward fused with the bias gradient: `g[r, c] = y[r, c] > 0 ? g[r, c] : 0` in place,
    /// and `out[c] = Σ_r g[r, c]` with per-chunk partials combined in chunk order (one pass
    /// over the gradient instead of two). With `relu == false` only the sums are taken.
    static func biasGradient(_ g: UnsafeMutablePointer<Float>, reluOutput y: UnsafePointer<Float>?, rows: Int,
                             channels: Int, into out: UnsafeMutablePointer<Float>,
                             partial: UnsafeMutablePointer<Float>, threads: Int) {
        let chunks = Parallel.chunkCount(count: rows, threads: threads, grain: 64)
        let vec = channels & ~7
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { chunk, range in
            let p = partial + chunk * channels
            p.update(repeating: 0, count: channels)
            for r in range {
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
                    while c < vec {
                        store8(load8(p + c) + load8(row + c), p + c)
                        c += 8
                    }
                    while c < channels {
                        p[c] += row[c]
                        c += 1
                    }
                }
            }
        }
        out.update(from: partial, count: channels)
        for chunk in 1..<max(chunks, 1) {
            let p = partial + chunk * channels
            for c in 0..<channels { out[c] += p[c] }
        }
    }

    /// Column sums `out[c] = Σ_r x[r, c]` (per-chunk partials in `partial`, `threads × channels`
    /// floats, combined in chunk order: deterministic for a thread count).
    static func sumRows(_ x: UnsafePointer<Float>, rows: Int, channels: Int,
                        into out: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>,
                        threads: Int) {
        biasGradient(UnsafeMutablePointer(mutating: x), reluOutput: nil, rows: rows, channels: channels, into: out,
                     partial: partial, threads: threads)
    }
}
