/// A layer whose products are GEMMs with its own weights (`Conv2D`, `Conv1x1`, `Dense`): the
/// number format of those GEMMs' inputs can be set (`Network.setPrecision`, from a trial's
/// `training.precision`). Accumulation, outputs, master weights and gradients stay fp32.
public protocol GEMMLayer: Layer {
    /// The number format of the layer's GEMM inputs (fp32 until set).
    var precision: GEMMPrecision { get }
    /// Sets it; the caller checked that bf16 runs here (`ComputeBackend.bf16Unsupported()`).
    func setPrecision(_ precision: GEMMPrecision)
}

/// The number format a GEMM layer multiplies its weights `[K, Cout]` in, with their bf16 copy.
///
/// In bf16 the copy is refreshed from the fp32 master weights at the start of every forward
/// pass, before the row blocks, so each training step converts them once (not once per block and
/// worker); the backward pass uses the copy of the forward pass it follows (the weights do not
/// change in between).
struct WeightPrecision {
    /// The number format of the layer's GEMM inputs.
    private(set) var precision: GEMMPrecision = .fp32
    /// The bf16 bit patterns `[K, Cout]` (bf16 only).
    private var copy: FloatBits?

    /// Sets the format for `count` weights.
    mutating func set(_ precision: GEMMPrecision, count: Int) {
        self.precision = precision
        copy = precision == .bf16 ? FloatBits(count: count) : nil
    }

    /// Makes the bf16 copy current (bf16 only).
    func prepare(from weights: UnsafePointer<Float>) {
        if let copy { BFloat16.convert(weights, rows: 1, columns: copy.count, ld: copy.count, into: copy.pointer) }
    }

    /// The weights as the layer's GEMMs take them: the bf16 copy, or the fp32 weights.
    func operand(_ weights: UnsafePointer<Float>) -> GEMMOperand { copy.map { .bf16($0.pointer) } ?? .fp32(weights) }

    /// An owned buffer of bf16 bit patterns.
    final class FloatBits {
        let count: Int
        let pointer: UnsafeMutablePointer<UInt16>
        init(count: Int) {
            self.count = count
            pointer = .allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
        }
        deinit { pointer.deallocate() }
    }
}
