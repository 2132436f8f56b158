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
        Parallel.forEachChunk(count: rows, threads: threads, grain: 64) { _, range in
            addBiasRows(x + range.lowerBound * channels, rows: range.count, channels: channels, bias: bias, relu: relu)
        }
    }

    /// The serial core of `addBias` over `rows` consecutive rows (one worker's cache-hot block).
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

    /// ReLU backward fused with the bias gradient: `g[r, c] = y[r, c] > 0 ? g[r, c] : 0` in place,
    /// and `out[c] = Σ_r g[r, c]` with per-chunk partials combined in chunk order (one pass
    /// over the gradient instead of two). With `relu == false` only the sums are taken.
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

    /// The serial core of `biasGradient` over `rows` consecutive rows: masks `g` by `y > 0`
    /// (when `y` is given) and **adds** the column sums to `sums` (rows in order).
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

    /// Column sums `out[c] = Σ_r x[r, c]` (per-chunk partials in `partial`, `threads × channels`
    /// floats, combined in chunk order: deterministic for a thread count).
    static func sumRows(_ x: UnsafePointer<Float>, rows: Int, channels: Int,
                        into out: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>,
                        threads: Int) {
        biasGradient(UnsafeMutablePointer(mutating: x), reluOutput: nil, rows: rows, channels: channels, into: out,
                     partial: partial, threads: threads)
    }
}

/// Row-blocked GEMM work split over workers: the static partition of `Parallel`, each worker
/// running its own single-threaded GEMM calls on cache-sized row blocks of its share.
///
/// Instead of one large multi-threaded GEMM followed by separate passes (im2col before, bias and
/// ReLU after, each streaming the whole mini-batch through memory), every worker loops over
/// blocks of `blockRows` rows: im2col of the block, GEMM of the block, bias/ReLU of the block,
/// while the block is still in cache. Threads are the compute backend's decision
/// (`ComputeBackend.gemmThreading`): one single-threaded worker per thread, or one caller with
/// multi-threaded GEMMs. Every output row is computed by one GEMM call whose summation order
/// depends only on the shapes and its thread count, so results are bit-identical for a fixed
/// thread count and threading.
enum RowBlocks {
    /// Cache budget of one row block (A block + C block), bytes.
    /// Measured on the MNIST and CIFAR-10 NINs (2 threads, batch 128): 256 KiB blocks are too
    /// small for the 1200- and 4800-deep GEMMs, 4 MiB and more lose the cache benefit; 1–2 MiB
    /// was best.
    static let blockBytes = 1024 * 1024

    /// Rows per block for a GEMM with inner dimension `k` and `n` output columns: the block's
    /// `rows × (k + n)` floats fit `blockBytes`, at least 128 rows (so packing B, which the
    /// library repeats per call, stays small next to the block's multiply-adds).
    @inline(__always)
    static func rows(k: Int, n: Int) -> Int {
        max(128, blockBytes / (4 * max(k + n, 1)))
    }

    /// The number of workers `run` uses for `count` items.
    static func workers(count: Int, threads: Int) -> Int {
        switch ComputeBackend.gemmThreading {
        case .workers: return Parallel.chunkCount(count: count, threads: threads)
        case .library: return 1
        }
    }

    /// Runs `body(worker, range)` over the static partition of `0..<count` into
    /// `workers(count:threads:)` workers; returns the number of workers. With more than one
    /// worker each runs its GEMMs single-threaded; with one, its GEMMs use `threads` threads.
    @discardableResult
    static func run(count: Int, threads: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) -> Int {
        let workers = workers(count: count, threads: threads)
        guard workers > 1 else {
            ComputeBackend.setWorkerThreads(threads)
            if count > 0 { body(0, 0..<count) }
            return 1
        }
        Parallel.forEachChunk(count: count, threads: workers) { worker, range in
            ComputeBackend.setWorkerThreads(1)
            body(worker, range)
        }
        ComputeBackend.setWorkerThreads(threads)  // the caller ran one chunk itself
        return workers
    }
}
