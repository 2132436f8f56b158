import NINEngine

/// Training-time data augmentation: random translation and horizontal flip (Lin et al. 2014
/// Table 1; translation by zero-padding and random cropping as in the maxout setup it follows).
///
/// Applied in place to a mini-batch buffer `[B, H, W, C]` (NHWC), with every random draw taken
/// from the caller's `SeededGenerator`: per image, in order, the vertical offset, the
/// horizontal offset (when `translate > 0`), then the flip coin (when `horizontalFlip`).
public struct Augmentation: Codable, Equatable, Hashable, Sendable {
    /// Padding p in pixels: the image is zero-padded by p on every side and a random H×W crop
    /// is taken, i.e. shifted by (dy, dx) uniform in [−p, p]². 0 disables translation.
    public var translate: Int
    /// Flip each image left–right with probability 0.5.
    public var horizontalFlip: Bool

    /// No augmentation.
    public static let none = Augmentation(translate: 0, horizontalFlip: false)

    public init(translate: Int = 0, horizontalFlip: Bool = false) {
        self.translate = translate
        self.horizontalFlip = horizontalFlip
    }

    /// Whether this augmentation changes anything.
    public var isIdentity: Bool { translate == 0 && !horizontalFlip }

    /// Checks the augmentation makes sense for a dataset.
    /// - Parameter allowFlipOnDigits: explicit override to flip MNIST/Fashion-MNIST anyway.
    /// - Throws: `DatasetError.augmentationRefused` for a horizontal flip on MNIST or
    ///   Fashion-MNIST without the override (a flipped digit is a different or no digit), and
    ///   `DatasetError.invalidArgument` for a negative translation or one of at least the
    ///   image size.
    public func validate(for dataset: DatasetName, allowFlipOnDigits: Bool = false) throws {
        if horizontalFlip && dataset.flipChangesMeaning && !allowFlipOnDigits {
            throw DatasetError.augmentationRefused(
                dataset: dataset.rawValue,
                reason: "horizontal flip changes the meaning of \(dataset.rawValue) images (mirrored digits and "
                    + "garments are not the same class); the paper flips only CIFAR-10. Set the explicit override "
                    + "to flip anyway")
        }
        let size = min(dataset.imageShape[0], dataset.imageShape[1])
        guard translate >= 0, translate < size else {
            throw DatasetError.invalidArgument(name: "translate (padding in pixels)", expected: "0..<\(size)",
                                               found: "\(translate)")
        }
    }

    /// Augments a mini-batch in place.
    /// - Parameters:
    ///   - batch: `[B, H, W, C]` NHWC images.
    ///   - generator: the seeded generator all draws come from.
    /// - Precondition: `batch` has rank 4 and `translate < min(H, W)` (programmer errors; call
    ///   `validate` first for user input).
    public func apply(to batch: inout Tensor, generator: inout SeededGenerator) {
        precondition(batch.shape.count == 4, "batch must be NHWC [B, H, W, C], got \(batch.shape)")
        let (b, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        batch.data.withUnsafeMutableBufferPointer { buffer in
            apply(to: buffer, count: b, height: h, width: w, channels: c, generator: &generator)
        }
    }

    /// Augments `count` NHWC images of `height × width × channels` floats stored contiguously
    /// in `buffer`, in place (one image of scratch space).
    public func apply(to buffer: UnsafeMutableBufferPointer<Float>, count: Int, height: Int, width: Int,
                      channels: Int, generator: inout SeededGenerator) {
        precondition(translate >= 0 && translate < min(height, width), "translate \(translate) out of range")
        precondition(buffer.count >= count * height * width * channels, "buffer too small")
        if isIdentity { return }
        let size = height * width * channels
        let rowFloats = width * channels
        var scratch = [Float](repeating: 0, count: size)
        scratch.withUnsafeMutableBufferPointer { tmp in
            for i in 0..<count {
                let image = buffer.baseAddress! + i * size
                var dy = 0, dx = 0
                if translate > 0 {
                    dy = generator.nextInt(below: 2 * translate + 1) - translate
                    dx = generator.nextInt(below: 2 * translate + 1) - translate
                }
                let flip = horizontalFlip && generator.nextInt(below: 2) == 1
                if dy == 0 && dx == 0 && !flip { continue }
                tmp.baseAddress!.update(from: image, count: size)
                // out(y, x) = in(y + dy, x' + dx) with x' = x or W−1−x (flip), 0 outside.
                for y in 0..<height {
                    let sy = y + dy
                    let outRow = image + y * rowFloats
                    guard sy >= 0 && sy < height else {
                        outRow.update(repeating: 0, count: rowFloats)
                        continue
                    }
                    let inRow = tmp.baseAddress! + sy * rowFloats
                    for x in 0..<width {
                        let sx = (flip ? width - 1 - x : x) + dx
                        let out = outRow + x * channels
                        if sx >= 0 && sx < width {
                            out.update(from: inRow + sx * channels, count: channels)
                        } else {
                            out.update(repeating: 0, count: channels)
                        }
                    }
                }
            }
        }
    }
}
