// Learning curves of a study: test error and training loss against epoch, one line per trial.

import Foundation

/// A per-study learning-curve image with two panels, test error (%) against epoch and training loss
/// against epoch, one line per trial, with axes, numeric ticks, axis titles and a legend.
///
/// - Colours: series `i` uses `RGBA.lineColors[i % 10]` (matplotlib's tab10); beyond ten series
///   the colours repeat.
/// - Missing values (`nil`, NaN or ±∞) break a line; a point with no finite neighbour is drawn as a
///   5×5 square marker, so single-epoch series are visible. Series with at most 30 points also get
///   3×3 markers on every point.
/// - Axes: x spans the epochs of all series (±1 around a single epoch); y runs from
///   `min(0, smallest value)` up to a "nice" bound (1, 2 or 5 × 10ⁿ steps) above the largest finite
///   value. A panel without finite values says "no data".
public struct LearningCurvePlot {
    /// One trial's curve.
    public struct Series: Sendable {
        /// The legend label (e.g. the trial id and its varied hyperparameters).
        public let label: String
        /// Epoch numbers of the measurements (typically 1, 2, …).
        public let epochs: [Int]
        /// Test error in percent per epoch; `nil` where not measured.
        public let testError: [Double?]
        /// Mean training loss per epoch (cross-entropy, nats); NaN where missing.
        public let trainLoss: [Double]

        /// Creates a series.
        ///
        /// - Throws: `RenderError.shapeMismatch` unless `epochs`, `testError` and `trainLoss` have equal lengths.
        public init(label: String, epochs: [Int], testError: [Double?], trainLoss: [Double]) throws {
            guard testError.count == epochs.count, trainLoss.count == epochs.count else {
                throw RenderError.shapeMismatch(what: "LearningCurvePlot.Series \"\(label)\"",
                                                expected: "\(epochs.count) test-error and training-loss values (one per epoch)",
                                                found: "\(testError.count) test-error and \(trainLoss.count) training-loss values")
            }
            self.label = label
            self.epochs = epochs
            self.testError = testError
            self.trainLoss = trainLoss
        }
    }

    public let series: [Series]
    public let title: String

    static let margin = 16
    static let plotWidth = 380
    static let plotHeight = 260
    static let plotLeftPad = 56      // room for y tick labels
    static let panelGap = 40
    static let plotTop = 16 + 16 + 24  // margin, title (scale 2) and panel titles
    private let font = BitmapFont.standard

    public init(series: [Series], title: String) {
        self.series = series
        self.title = title
    }

    /// The plot area (inside the axes) of panel 0 (test error) or 1 (training loss), in pixels.
    public func plotArea(panel: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        precondition(panel == 0 || panel == 1, "LearningCurvePlot.plotArea: panel must be 0 or 1")
        let x = Self.margin + Self.plotLeftPad + panel * (Self.plotLeftPad + Self.plotWidth + Self.panelGap)
        return (x, Self.plotTop, Self.plotWidth, Self.plotHeight)
    }

    /// The legend's top edge in pixels.
    public var legendTop: Int { Self.plotTop + Self.plotHeight + 40 }

    /// The image width in pixels.
    public var width: Int {
        let area = plotArea(panel: 1)
        return area.x + area.width + Self.margin + 8
    }

    /// Legend entries laid out left to right, wrapping: (x, y) of each entry's swatch.
    public func legendPositions() -> [(x: Int, y: Int)] {
        var out: [(x: Int, y: Int)] = []
        var x = Self.margin, y = legendTop
        for s in series {
            let w = 24 + font.measure(text: s.label).width + 20
            if x > Self.margin && x + w > width - Self.margin {
                x = Self.margin
                y += 14
            }
            out.append((x, y))
            x += w
        }
        return out
    }

    /// Renders the plot.
    public func render() -> RGBAImage {
        let positions = legendPositions()
        let height = (positions.last?.y ?? legendTop) + 14 + Self.margin
        var image = RGBAImage(width: width, height: height, fill: .white)
        image.draw(text: title, at: (Self.margin, Self.margin), color: .text, scale: 2)

        let allEpochs = series.flatMap(\.epochs)
        let xRange: (Double, Double) = {
            guard let lo = allEpochs.min(), let hi = allEpochs.max() else { return (0, 1) }
            // 2 % padding on each side keeps end-point markers clear of the axes.
            let (a, b) = lo == hi ? (Double(lo - 1), Double(hi + 1)) : (Double(lo), Double(hi))
            return (a - 0.02 * (b - a), b + 0.02 * (b - a))
        }()
        let errors: [[Double?]] = series.map(\.testError)
        let losses: [[Double?]] = series.map { $0.trainLoss.map { Optional($0) } }
        drawPanel(0, yTitle: "test error (%)", values: errors, xRange: xRange, into: &image)
        drawPanel(1, yTitle: "training loss", values: losses, xRange: xRange, into: &image)

        // Legend.
        if series.isEmpty {
            image.draw(text: "(no trials)", at: (Self.margin, legendTop + 2), color: .mutedText)
        }
        for (i, s) in series.enumerated() {
            let (x, y) = positions[i]
            let color = RGBA.lineColors[i % RGBA.lineColors.count]
            image.fillRect(x: x, y: y + 4, width: 18, height: 3, color: color)
            image.fillRect(x: x + 7, y: y + 3, width: 5, height: 5, color: color)
            image.draw(text: s.label, at: (x + 24, y + 2), color: .text)
        }
        return image
    }

    // MARK: - Panels

    private func drawPanel(_ panel: Int, yTitle: String, values: [[Double?]], xRange: (Double, Double),
                           into image: inout RGBAImage) {
        let area = plotArea(panel: panel)
        let finite = values.flatMap { $0.compactMap { $0 }.filter(\.isFinite) }
        var yLo = min(0, finite.min() ?? 0)
        let yMax = finite.max() ?? 1
        let yStep = Self.niceStep((max(yMax, yLo + 1e-12) - yLo) / 5)
        yLo = (yLo / yStep).rounded(.down) * yStep
        var yHi = (yMax / yStep).rounded(.up) * yStep
        if yHi <= yLo { yHi = yLo + yStep }
        if yHi - yMax < 0.02 * (yHi - yLo) { yHi += yStep }   // headroom above the highest point
        let xStep = max(1, Self.niceStep((xRange.1 - xRange.0) / 6).rounded(.up))

        func px(_ x: Double) -> Int {
            area.x + Int(((x - xRange.0) / (xRange.1 - xRange.0) * Double(area.width - 1)).rounded())
        }
        func py(_ y: Double) -> Int {
            area.y + area.height - 1 - Int(((y - yLo) / (yHi - yLo) * Double(area.height - 1)).rounded())
        }

        // Grid and ticks.
        let yDecimals = Self.decimals(for: yStep)
        var tick = yLo
        while tick <= yHi + yStep * 1e-6 {
            let y = py(tick)
            image.fillRect(x: area.x, y: y, width: area.width, height: 1, color: .grid)
            image.fillRect(x: area.x - 5, y: y, width: 5, height: 1, color: .text)
            let label = String(format: "%.\(yDecimals)f", tick)
            let w = font.measure(text: label).width
            image.draw(text: label, at: (area.x - 8 - w, y - 3), color: .mutedText)
            tick += yStep
        }
        var xTick = (xRange.0 / xStep).rounded(.up) * xStep
        while xTick <= xRange.1 + 1e-9 {
            let x = px(xTick)
            image.fillRect(x: x, y: area.y, width: 1, height: area.height, color: .grid)
            image.fillRect(x: x, y: area.y + area.height, width: 1, height: 5, color: .text)
            let label = String(Int(xTick))
            let w = font.measure(text: label).width
            image.draw(text: label, at: (x - w / 2, area.y + area.height + 8), color: .mutedText)
            xTick += xStep
        }
        // Axis titles: y above the axis, x centred below the tick labels.
        image.draw(text: yTitle, at: (area.x - 8, area.y - 14), color: .text)
        let xTitle = "epoch"
        image.draw(text: xTitle, at: (area.x + (area.width - font.measure(text: xTitle).width) / 2,
                                      area.y + area.height + 20), color: .text)
        if finite.isEmpty {
            let note = "no data"
            let size = font.measure(text: note, scale: 2)
            image.draw(text: note, at: (area.x + (area.width - size.width) / 2, area.y + (area.height - size.height) / 2),
                       color: .mutedText, scale: 2)
        }

        // Lines.
        for (i, s) in series.enumerated() {
            let color = RGBA.lineColors[i % RGBA.lineColors.count]
            let ys = values[i]
            func point(_ j: Int) -> (x: Int, y: Int)? {
                guard let v = ys[j], v.isFinite else { return nil }
                return (px(Double(s.epochs[j])), py(v))
            }
            let smallSeries = ys.count <= 30
            for j in ys.indices {
                guard let p = point(j) else { continue }
                let previous = j > 0 ? point(j - 1) : nil
                let next = j + 1 < ys.count ? point(j + 1) : nil
                if let previous {
                    image.line(from: previous, to: p, color: color, thickness: 2)
                }
                if previous == nil && next == nil {
                    image.fillRect(x: p.x - 2, y: p.y - 2, width: 5, height: 5, color: color)
                } else if smallSeries {
                    image.fillRect(x: p.x - 1, y: p.y - 1, width: 3, height: 3, color: color)
                }
            }
        }
        // Axes: left and bottom, 1 px, drawn over the grid and the lines.
        image.fillRect(x: area.x - 1, y: area.y, width: 1, height: area.height + 1, color: .text)
        image.fillRect(x: area.x - 1, y: area.y + area.height, width: area.width + 1, height: 1, color: .text)
    }

    /// The "nice" step (1, 2 or 5 × 10ⁿ) nearest above `raw`; 1 for non-positive or non-finite input.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let exponent = (log10(raw)).rounded(.down)
        let base = pow(10, exponent)
        let fraction = raw / base
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * base
    }

    /// Decimal places needed to print multiples of `step` exactly (0 for steps ≥ 1).
    static func decimals(for step: Double) -> Int {
        max(0, Int((-log10(step) - 1e-9).rounded(.up)))
    }
}
