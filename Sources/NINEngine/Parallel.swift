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
