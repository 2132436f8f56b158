// One panel of a 2-D plot: a linear scale on each axis, "nice" ticks, grid, axis titles.

import Foundation

/// A linear axis from `lower` to `upper` with ticks every `step` (1, 2 or 5 × 10ⁿ).
public struct PlotAxis: Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var step: Double

    /// An axis that covers `values` (non-finite ones ignored) and, with `includeZero`, 0, rounded
    /// out to multiples of a nice step about a fifth of the span, with headroom above the largest
    /// value. An empty or constant input still gives a non-empty axis.
    public static func covering(_ values: [Double], includeZero: Bool) -> PlotAxis {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if includeZero { lo = min(0, lo) }
        let step = niceStep((max(hi, lo + 1e-12) - lo) / 5)
        lo = (lo / step).rounded(.down) * step
        var upper = (hi / step).rounded(.up) * step
        if upper <= lo { upper = lo + step }
        if upper - hi < 0.02 * (upper - lo) { upper += step }   // headroom above the highest point
        return PlotAxis(lower: lo, upper: upper, step: step)
    }

    /// The tick positions: multiples of `step` from `lower` to `upper`.
    public var ticks: [Double] {
        var out: [Double] = []
        var tick = (lower / step).rounded(.up) * step
        while tick <= upper + step * 1e-6 {
            out.append(tick)
            tick += step
        }
        return out
    }

    /// A tick label with just enough decimals for multiples of `step`.
    public func label(_ value: Double) -> String {
        String(format: "%.\(Self.decimals(for: step))f", abs(value) < step * 1e-9 ? 0 : value)
    }

    /// The "nice" step (1, 2 or 5 × 10ⁿ) nearest above `raw`; 1 for non-positive or non-finite input.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let exponent = (log10(raw)).rounded(.down)
        let base = pow(10, exponent)
        let fraction = raw / base
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * base
    }

    /// Decimal places needed to print multiples of `step` exactly (0 for steps ≥ 1).
    public static func decimals(for step: Double) -> Int {
        max(0, Int((-log10(step) - 1e-9).rounded(.up)))
    }
}

/// A rectangular plot area (inside the axes) with an x and a y axis, in layout units.
struct PlotPanel {
    var x: Double, y: Double, width: Double, height: Double
    var xAxis: PlotAxis
    var yAxis: PlotAxis

    func px(_ v: Double) -> Double { x + (v - xAxis.lower) / (xAxis.upper - xAxis.lower) * width }
    func py(_ v: Double) -> Double { y + height - (v - yAxis.lower) / (yAxis.upper - yAxis.lower) * height }

    /// Grid, ticks with labels, the two axis lines and the axis titles. `xLabels` replaces the
    /// numeric x tick labels (for categorical axes: position → label).
    func drawFrame(on canvas: Canvas, xTitle: String, yTitle: String, xLabels: [(Double, String)]? = nil) {
        let tickSize = 11.0
        for tick in yAxis.ticks {
            let ty = py(tick).rounded()
            canvas.fillRect(x: x, y: ty, width: width, height: 1, color: .grid)
            canvas.fillRect(x: x - 5, y: ty, width: 5, height: 1, color: .text)
            canvas.text(yAxis.label(tick), x: x - 8, y: ty - 7, size: tickSize, color: .mutedText, anchor: .right)
        }
        let xTicks = xLabels ?? xAxis.ticks.map { ($0, xAxis.label($0)) }
        for (value, label) in xTicks {
            let tx = px(value).rounded()
            if xLabels == nil { canvas.fillRect(x: tx, y: y, width: 1, height: height, color: .grid) }
            canvas.fillRect(x: tx, y: y + height, width: 1, height: 5, color: .text)
            canvas.text(label, x: tx, y: y + height + 7, size: tickSize, color: .mutedText, anchor: .center)
        }
        canvas.fillRect(x: x - 1, y: y, width: 1, height: height + 1, color: .text)
        canvas.fillRect(x: x - 1, y: y + height, width: width + 1, height: 1, color: .text)
        canvas.text(xTitle, x: x + width / 2, y: y + height + 24, size: 12, color: .text, anchor: .center)
        canvas.verticalText(yTitle, x: x - 46, y: y + height / 2, size: 12, color: .text)
    }
}
