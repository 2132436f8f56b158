import NINEngine

/// Splits an epoch into mini-batches of example indices, shuffled from a seeded generator.
///
/// Determinism and resumption: an epoch's order depends only on the generator state passed in
/// (`batches(generator:)`), so a runner that resumes at epoch e from a checkpoint holding that
/// state reproduces exactly the order an uninterrupted run would have used.
///
/// Last partial batch: when `count` is not a multiple of `batchSize`, the last batch holds the
/// remaining `count % batchSize` examples if `dropLast` is false (the default), or is dropped
/// (those examples are skipped this epoch; a different set each epoch when shuffling) if true.
public struct MiniBatchSampler: Codable, Equatable, Sendable {
    /// Number of examples in the split.
    public var count: Int
    /// Examples per mini-batch.
    public var batchSize: Int
    /// Drop the last partial batch (true) or keep it (false, default).
    public var dropLast: Bool
    /// Shuffle every epoch (true, default) or keep dataset order (evaluation).
    public var shuffle: Bool

    /// - Precondition: `count >= 0`, `batchSize > 0` (programmer errors).
    public init(count: Int, batchSize: Int, dropLast: Bool = false, shuffle: Bool = true) {
        precondition(count >= 0 && batchSize > 0, "invalid sampler: count \(count), batch size \(batchSize)")
        self.count = count
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.shuffle = shuffle
    }

    /// Number of mini-batches per epoch.
    var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The mini-batches of one epoch, drawing the shuffle from `generator` (Fisher–Yates via
    /// `SeededGenerator.shuffle`; exactly `count − 1` draws when shuffling, none otherwise).
    public func batches(generator: inout SeededGenerator) -> [[Int]] {
        var order = Array(0..<count)
        if shuffle { generator.shuffle(&order) }
        var result: [[Int]] = []
        result.reserveCapacity(batchesPerEpoch)
        var start = 0
        while start < count {
            let end = min(start + batchSize, count)
            if end - start < batchSize && dropLast { break }
            result.append(Array(order[start..<end]))
            start = end
        }
        return result
    }
}

/// A preallocated mini-batch buffer: images `[B, H, W, C]` (NHWC) and labels, refilled by
/// `gather` without copying the whole dataset.
public struct MiniBatch: Sendable {
    /// Images `[B, H, W, C]` where B is the number of examples last gathered.
    public var images: Tensor
    /// Labels of the examples last gathered.
    public var labels: [Int32]
    /// Number of examples last gathered (B).
    public var count: Int { labels.count }

    /// Allocates a buffer for up to `capacity` images of shape `[height, width, channels]`.
    public init(capacity: Int, height: Int, width: Int, channels: Int) {
        images = Tensor(zeros: [capacity, height, width, channels])
        labels = [Int32](repeating: 0, count: capacity)
    }

    /// Copies the examples at `indices` from `source` into this buffer.
    ///
    /// The buffer's storage is reused: a shorter (last partial) batch shrinks it without
    /// freeing capacity, and a later full batch regrows it within that capacity.
    /// - Precondition: image shapes agree and every index is in range (programmer errors).
    public mutating func gather(_ indices: [Int], from source: LabeledImages) {
        let size = source.imageSize
        precondition(Array(images.shape.dropFirst()) == [source.height, source.width, source.channels],
                     "mini-batch shape \(images.shape) does not match images \(source.images.shape)")
        let b = indices.count
        let floats = b * size
        if images.data.count > floats {
            images.data.removeLast(images.data.count - floats)
        } else if images.data.count < floats {
            images.data.append(contentsOf: repeatElement(0, count: floats - images.data.count))
        }
        images.shape[0] = b
        if labels.count > b { labels.removeLast(labels.count - b) } else if labels.count < b {
            labels.append(contentsOf: repeatElement(0, count: b - labels.count))
        }
        source.images.data.withUnsafeBufferPointer { src in
            images.data.withUnsafeMutableBufferPointer { dst in
                for (row, i) in indices.enumerated() {
                    precondition(i >= 0 && i < source.count, "index \(i) out of range 0..<\(source.count)")
                    (dst.baseAddress! + row * size).update(from: src.baseAddress! + i * size, count: size)
                    labels[row] = source.labels[i]
                }
            }
        }
    }
}
