// Resampling of small single-channel maps and HWC images to display size.

/// Resampling of row-major single-channel maps to a larger display size.
enum Resample {
    /// Bilinear resampling of an `[height, width]` row-major map to `[outHeight, outWidth]`.
    ///
    /// Pixel centres are aligned (`align_corners = false` in PyTorch, OpenCV's `INTER_LINEAR`):
    /// output pixel `i` samples source coordinate `(i + 0.5)·height/outHeight − 0.5`, clamped to
    /// `[0, height − 1]`, so the outermost output pixels repeat the edge values exactly.
    ///
    /// - Precondition: `values.count == height · width`, all sizes ≥ 1.
    static func bilinear(_ values: [Float], height: Int, width: Int,
                                outHeight: Int, outWidth: Int) -> [Float] {
        precondition(height >= 1 && width >= 1 && outHeight >= 1 && outWidth >= 1,
                     "Resample.bilinear: sizes must be ≥ 1")
        precondition(values.count == height * width,
                     "Resample.bilinear: \(values.count) values for a \(height)×\(width) map")
        let ys = samplePositions(source: height, output: outHeight)
        let xs = samplePositions(source: width, output: outWidth)
        var out = [Float](repeating: 0, count: outHeight * outWidth)
        for oy in 0..<outHeight {
            let (y0, y1, fy) = ys[oy]
            for ox in 0..<outWidth {
                let (x0, x1, fx) = xs[ox]
                // a + (b − a)·f keeps constant regions exactly constant (no rounding drift).
                let v00 = values[y0 * width + x0], v01 = values[y0 * width + x1]
                let v10 = values[y1 * width + x0], v11 = values[y1 * width + x1]
                let top = fx == 0 ? v00 : v00 + (v01 - v00) * fx
                let bottom = fx == 0 ? v10 : v10 + (v11 - v10) * fx
                out[oy * outWidth + ox] = fy == 0 ? top : top + (bottom - top) * fy
            }
        }
        return out
    }

    /// Nearest-neighbour resampling of an `[height, width, channels]` (HWC) row-major image to
    /// `[outHeight, outWidth, channels]`: output pixel `i` takes source pixel `⌊(i + 0.5)·height/outHeight⌋`.
    ///
    /// - Precondition: `values.count == height · width · channels`, all sizes ≥ 1.
    public static func nearest(_ values: [Float], height: Int, width: Int, channels: Int,
                               outHeight: Int, outWidth: Int) -> [Float] {
        precondition(height >= 1 && width >= 1 && channels >= 1 && outHeight >= 1 && outWidth >= 1,
                     "Resample.nearest: sizes must be ≥ 1")
        precondition(values.count == height * width * channels,
                     "Resample.nearest: \(values.count) values for a \(height)×\(width)×\(channels) image")
        var out = [Float](repeating: 0, count: outHeight * outWidth * channels)
        for oy in 0..<outHeight {
            let sy = min(height - 1, (2 * oy + 1) * height / (2 * outHeight))
            for ox in 0..<outWidth {
                let sx = min(width - 1, (2 * ox + 1) * width / (2 * outWidth))
                for c in 0..<channels {
                    out[(oy * outWidth + ox) * channels + c] = values[(sy * width + sx) * channels + c]
                }
            }
        }
        return out
    }

    /// For each output index: the two source indices to blend and the weight of the second.
    private static func samplePositions(source: Int, output: Int) -> [(Int, Int, Float)] {
        let ratio = Double(source) / Double(output)
        return (0..<output).map { i in
            let s = min(max((Double(i) + 0.5) * ratio - 0.5, 0), Double(source - 1))
            let lower = Int(s.rounded(.down))
            let upper = min(lower + 1, source - 1)
            return (lower, upper, Float(s - Double(lower)))
        }
    }
}
