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

/// Elementwise and reduction kernels shared by the layers (NHWC rows: `rows × channels`).
enum Kernels {
    /// `x[r, c] = relu?(x[r, c] + bias[c])` in place, parallel over rows.
    static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                        bias: UnsafePointer<Float>, relu: Bool, threads: Int) {
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { _, range in
            for r in range {
                let row = x + r * channels
                if relu {
                    for c in 0..<channels { row[c] = Swift.max(row[c] + bias[c], 0) }
                } else {
                    for c in 0..<channels { row[c] += bias[c] }
                }
            }
        }
    }

    /// ReLU backward fused with the bias gradient: `g[r, c] = y[r, c] > 0 ? g[r, c] : 0` in place,
    /// and `out[c] = Σ_r g[r, c]` with per-chunk partials combined in chunk order (one pass
    /// over the gradient instead of two).
    static func reluBackwardSumRows(_ g: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, rows: Int,
                                    channels: Int, into out: UnsafeMutablePointer<Float>,
                                    partial: UnsafeMutablePointer<Float>, threads: Int) {
        let chunks = Parallel.chunkCount(count: rows, threads: threads, grain: 64)
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { chunk, range in
            let p = partial + chunk * channels
            p.update(repeating: 0, count: channels)
            for r in range {
                let row = g + r * channels, yr = y + r * channels
                for c in 0..<channels {
                    let v: Float = yr[c] > 0 ? row[c] : 0
                    row[c] = v
                    p[c] += v
                }
            }
        }
        out.update(from: partial, count: channels)
        for chunk in 1..<max(chunks, 1) {
            let p = partial + chunk * channels
            for c in 0..<channels { out[c] += p[c] }
        }
    }

    /// Column sums `out[c] = Σ_r x[r, c]`: per-chunk partial sums into `partial`
    /// (`threads × channels` floats), then combined in chunk order (deterministic).
    static func sumRows(_ x: UnsafePointer<Float>, rows: Int, channels: Int,
                        into out: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>,
                        threads: Int) {
        let chunks = Parallel.chunkCount(count: rows, threads: threads, grain: 64)
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { chunk, range in
            let p = partial + chunk * channels
            p.update(repeating: 0, count: channels)
            for r in range {
                let row = x + r * channels
                for c in 0..<channels { p[c] += row[c] }
            }
        }
        out.update(from: partial, count: channels)
        for chunk in 1..<max(chunks, 1) {
            let p = partial + chunk * channels
            for c in 0..<channels { out[c] += p[c] }
        }
    }
}
