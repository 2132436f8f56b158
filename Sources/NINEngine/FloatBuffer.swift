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
