/// A fully connected layer (Dense), optionally with fused ReLU. The input `[N, H, W, C]` is
/// flattened in NHWC order to `[N, H·W·C]`; weights `[H·W·C, D]` (row `(h·W + w)·C + c`), bias
/// `[D]`, output `[N, 1, 1, D]`.
public final class Dense: LinearLayer {
    /// Creates the layer with `outFeatures` outputs.
    public init(name: String, input: FeatureShape, outFeatures: Int, relu: Bool, maxBatch: Int, threads: Int) {
        super.init(name: name, input: input, output: FeatureShape(height: 1, width: 1, channels: outFeatures),
                   rowsPerExample: 1, inFeatures: input.count, relu: relu, maxBatch: maxBatch, threads: threads)
    }

    /// `1 × 1 × outFeatures` from the flattened input: one row of `H·W·C` features per example.
    public static func formula(input: FeatureShape, outFeatures: Int) -> LayerFormula {
        LinearLayer.formula(output: FeatureShape(height: 1, width: 1, channels: outFeatures),
                            rowsPerExample: 1, inFeatures: input.count)
    }
}
