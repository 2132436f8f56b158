/// A 1×1 convolution (one micro-network layer of mlpconv, "cccp" in the Caffe zoo), optionally
/// with fused ReLU: with NHWC data it is one GEMM `[N·H·W, Cin] × [Cin, Cout]`, no im2col
/// (NIN.md; Caffe's 1×1 shortcut). Input `[N, H, W, Cin]`, weights `[Cin, Cout]`, bias
/// `[Cout]`, output `[N, H, W, Cout]`.
public final class Conv1x1: LinearLayer {
    /// Creates the layer with `outChannels` output maps.
    public init(name: String, input: FeatureShape, outChannels: Int, relu: Bool, maxBatch: Int, threads: Int) {
        super.init(name: name, input: input,
                   output: FeatureShape(height: input.height, width: input.width, channels: outChannels),
                   rowsPerExample: input.height * input.width, inFeatures: input.channels,
                   relu: relu, maxBatch: maxBatch, threads: threads)
    }

    /// Same height and width with `outChannels` maps: one row per pixel, `Cin` features each.
    public static func formula(input: FeatureShape, outChannels: Int) -> LayerFormula {
        LinearLayer.formula(output: FeatureShape(height: input.height, width: input.width, channels: outChannels),
                            rowsPerExample: input.height * input.width, inFeatures: input.channels)
    }
}
