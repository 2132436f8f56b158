/// A contiguous Float32 tensor in **NHWC** layout (batch, height, width, channels).
///
/// The engine's layers work on flat buffers; `Tensor` is the value type that carries a buffer
/// and its shape across module boundaries (datasets, checkpoints, confidence maps).
/// `shape` lists the axis sizes outermost first; for images it is `[N, H, W, C]`, for
/// per-example vectors `[N, D]`.
public struct Tensor: Equatable, Sendable {
    /// Axis sizes, outermost first (NHWC for images).
    public var shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// A tensor of zeros with the given shape.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Wraps `data` with `shape`.
    /// - Precondition: `data.count == shape.reduce(1, *)` (programmer error otherwise).
    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *), "tensor data count \(data.count) does not match shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    public var count: Int { data.count }
}
