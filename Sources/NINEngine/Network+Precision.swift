extension Network {
    /// The number format of the GEMM inputs of every GEMM layer (`GEMMLayer`: convolutions, 1×1
    /// convolutions, fully connected layers): fp32, or bf16 inputs with fp32 accumulation and
    /// output (mixed precision, as PyTorch's autocast and oneDNN do). Master weights, momentum,
    /// the loss, softmax, the update and every reduction stay fp32. fp32 until set.
    public var precision: GEMMPrecision {
        layers.lazy.compactMap { $0 as? any GEMMLayer }.first?.precision ?? .fp32
    }

    /// Sets `precision` on every GEMM layer (a trial's `training.precision`). Set it before
    /// training; a checkpoint does not store it (the trial's configuration does).
    /// - Throws: `PrecisionError.bf16Unsupported` for bf16 on a processor (or an
    ///   `ONEDNN_MAX_CPU_ISA` limit) without oneDNN bf16 matmul kernels; the layers are unchanged.
    public func setPrecision(_ precision: GEMMPrecision) throws {
        if precision == .bf16, let reason = ComputeBackend.bf16Unsupported() {
            throw PrecisionError.bf16Unsupported(reason: reason)
        }
        for case let layer as any GEMMLayer in layers { layer.setPrecision(precision) }
    }
}

/// A precision this machine cannot run.
public enum PrecisionError: Error, Equatable, CustomStringConvertible {
    /// bf16 GEMMs need oneDNN's bf16 matmul kernels; `reason` names the ISA oneDNN dispatches to.
    case bf16Unsupported(reason: String)

    public var description: String {
        switch self {
        case .bf16Unsupported(let reason):
            return "training.precision \"bf16\" cannot run here: \(reason). Use \"fp32\" (the default) on this machine"
        }
    }
}
