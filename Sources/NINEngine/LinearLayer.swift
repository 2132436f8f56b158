/// A fully connected (linear) map applied to rows, optionally with fused ReLU — the shared core
/// of the 1×1 convolution (rows = pixels) and Dense (rows = examples).
///
/// Shapes: input `[R, Cin]`, weights `[Cin, Cout]`, bias `[Cout]`, output `[R, Cout]`.
/// Forward `out = relu?(in · W + b)`; backward `dW = inᵀ · dOut`, `db = Σ_rows dOut`,
/// `dIn = dOut · Wᵀ`. Rows are split over `threads` workers and walked in cache-sized blocks
/// (`RowBlocks`): GEMM then bias/ReLU per block; per-worker gradient sums combined in worker order.
public class LinearLayer: GEMMLayer {
    public let name: String
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    /// Whether ReLU is fused into the output.
    public let relu: Bool
    /// Threads (workers; OpenBLAS runs single-threaded inside each).
    public let threads: Int
    /// Largest mini-batch.
    public let maxBatch: Int
    let rowsPerExample: Int
    let inFeatures: Int
    public let formula: LayerFormula
    /// The number format of this layer's GEMM inputs (`setPrecision`; fp32 by default).
    public var precision: GEMMPrecision { weightPrecision.precision }
    /// The format the weights are multiplied in, with their bf16 copy.
    private var weightPrecision = WeightPrecision()

    /// `rowsPerExample` rows of `inFeatures` each times weights `[inFeatures, Cout]`, bias
    /// `[Cout]`: `rows·inFeatures·Cout` multiply-adds, fan-in `inFeatures`.
    static func formula(output: FeatureShape, rowsPerExample: Int, inFeatures: Int) -> LayerFormula {
        LayerFormula(output: output, weightCount: inFeatures * output.channels, biasCount: output.channels,
                     multiplyAdds: rowsPerExample * inFeatures * output.channels, fanIn: inFeatures)
    }

    private(set) public var weights: UnsafeMutablePointer<Float>!
    private(set) public var weightGradient: UnsafeMutablePointer<Float>!
    var bias: UnsafeMutablePointer<Float> { weights + weightCount }
    private var biasGradient: UnsafeMutablePointer<Float> { weightGradient + weightCount }
    /// Rows per block (`RowBlocks`; internal so tests can force many small blocks).
    var blockRows: Int {
        didSet { precondition(blockRows >= 1, "blockRows must be ≥ 1") }
    }
    /// Per-worker bias-gradient sums `[threads, Cout]`.
    private let partial: FloatBuffer
    /// Weight-gradient sums of workers 1… `[threads − 1, Cin, Cout]` (worker 0 writes in place).
    private let weightPartial: FloatBuffer

    init(name: String, input: FeatureShape, output: FeatureShape, rowsPerExample: Int, inFeatures: Int,
         relu: Bool, maxBatch: Int, threads: Int) {
        precondition(output.channels >= 1 && inFeatures >= 1, "invalid linear layer \(name)")
        self.name = name
        self.inputShape = input
        self.outputShape = output
        self.rowsPerExample = rowsPerExample
        self.inFeatures = inFeatures
        formula = LinearLayer.formula(output: output, rowsPerExample: rowsPerExample, inFeatures: inFeatures)
        self.relu = relu
        self.threads = max(1, threads)
        self.maxBatch = maxBatch
        blockRows = RowBlocks.rows(k: inFeatures, n: output.channels)
        partial = FloatBuffer(count: self.threads * output.channels)
        weightPartial = FloatBuffer(count: (self.threads - 1) * inFeatures * output.channels)
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        weights = parameters
        weightGradient = gradients
    }

    public func setPrecision(_ precision: GEMMPrecision) { weightPrecision.set(precision, count: weightCount) }

    /// Makes the weights' bf16 copy current (bf16 only): the start of every forward pass, also
    /// of `MlpconvGroup`'s.
    func prepareWeights() { weightPrecision.prepare(from: weights) }

    private var weightOperand: GEMMOperand { weightPrecision.operand(weights) }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                        mode: Mode, generator: inout SeededGenerator) {
        precondition(batch <= maxBatch, "batch \(batch) exceeds maxBatch \(maxBatch)")
        let m = batch * rowsPerExample
        let (k, cout, block) = (inFeatures, outputShape.channels, blockRows)
        prepareWeights()
        RowBlocks.run(count: m, threads: threads) { _, range in
            var r = range.lowerBound
            while r < range.upperBound {
                let rows = min(block, range.upperBound - r)
                forwardRows(input: input + r * k, count: rows, output: output + r * cout)
                r += rows
            }
        }
    }

    /// The GEMM + bias (+ ReLU) forward of `count` rows: `input [count, Cin]` → `output
    /// [count, Cout]`. The unit of work of `forward` and of `MlpconvGroup`.
    @inline(__always)
    func forwardRows(input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        let cout = outputShape.channels
        GEMM.multiply(m: count, n: cout, k: inFeatures, a: .fp32(input), lda: inFeatures, b: weightOperand, ldb: cout,
                      c: output, ldc: cout, precision: precision)
        Kernels.addBiasRows(output, rows: count, channels: cout, bias: bias, relu: relu)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>,
                         inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        let m = batch * rowsPerExample
        let (k, cout, relu, block) = (inFeatures, outputShape.channels, self.relu, blockRows)
        let (partial, dW, weightPartial) = (self.partial.pointer, weightGradient!, self.weightPartial.pointer)
        let (weightOperand, precision) = (self.weightOperand, self.precision)
        let workers = RowBlocks.run(count: m, threads: threads) { worker, range in
            let dWorker = worker == 0 ? dW : weightPartial + (worker - 1) * k * cout
            let db = partial + worker * cout
            db.update(repeating: 0, count: cout)
            var r = range.lowerBound
            while r < range.upperBound {
                let rows = min(block, range.upperBound - r)
                let g = outputGradient + r * cout
                Kernels.biasGradientRows(g, reluOutput: relu ? output + r * cout : nil, rows: rows, channels: cout,
                                         accumulating: db)
                GEMM.multiply(transA: true, m: k, n: cout, k: rows, a: .fp32(input + r * k), lda: k, b: .fp32(g), ldb: cout,
                              beta: r == range.lowerBound ? 0 : 1, c: dWorker, ldc: cout, precision: precision)
                if let inputGradient {
                    GEMM.multiply(transB: true, m: rows, n: k, k: cout, a: .fp32(g), lda: cout, b: weightOperand, ldb: cout,
                                  c: inputGradient + r * k, ldc: k, precision: precision)
                }
                r += rows
            }
        }
        for worker in 1..<max(workers, 1) {
            Kernels.addInPlace(dW, weightPartial + (worker - 1) * k * cout, count: k * cout)
        }
        Kernels.combinePartials(partial, chunks: workers, count: cout, into: biasGradient)
    }
}
