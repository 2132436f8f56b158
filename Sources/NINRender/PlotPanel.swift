// One panel of a 2-D plot: a scale on each axis (PlotAxis), grid, ticks, axis titles.

import Foundation

/// A rectangular plot area (inside the axes) with an x and a y axis, in layout units.
struct PlotPanel {
    var x: Double, y: Double, width: Double, height: Double
    var xAxis: PlotAxis
    var yAxis: PlotAxis

    func px(_ v: Double) -> Double { x + xAxis.fraction(v) * width }
    func py(_ v: Double) -> Double { y + height - yAxis.fraction(v) * height }

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
