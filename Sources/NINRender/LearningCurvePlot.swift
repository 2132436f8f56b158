// Learning curves: test error and training loss against epoch, one line per trial or per level of
// a swept value (the mean over seeds with a band), drawn with Cairo.

import Foundation

/// A learning-curve figure with two panels, test error (%) against epoch and training loss against
/// epoch, one line per series, with axes, numeric ticks, axis titles and a legend.
///
/// - Colours: series `i` uses `RGBA.lineColors[i % 10]` (matplotlib's tab10); beyond ten series
///   the colours repeat.
/// - Bands: a series with a spread (e.g. one sample standard deviation over seeds) is drawn as its
///   line over a translucent band from `value − spread` to `value + spread`, clipped to the
///   quantity's domain (test error 0…100 %, training loss ≥ 0; see `band(value:spread:domain:)`).
/// - Missing values (`nil`, NaN or ±∞) break a line; a point with no finite neighbour is drawn as a
///   5×5 square marker, so single-epoch series are visible. Series with at most 30 points also get
///   3×3 markers on every point.
/// - Axes: x spans the epochs of all series (±1 around a single epoch); y runs from
///   `min(0, smallest value)` up to a "nice" bound (1, 2 or 5 × 10ⁿ steps) above the largest finite
///   value (bands included). The training-loss axis is logarithmic (ticks 10ⁿ) when its positive
///   values span `PlotAxis.logScaleRatio` or more (a diverged seed beside healthy ones); large tick
///   values are labelled in scientific notation. A panel without finite values says "no data".
public struct LearningCurvePlot: Figure {
    /// One curve: a trial, or the mean over the seeds of one level.
    public struct Series: Sendable {
        /// The legend label (e.g. the trial id and its varied hyperparameters).
        public let label: String
        /// Epoch numbers of the measurements (typically 1, 2, …).
        public let epochs: [Int]
        /// Test error in percent per epoch; `nil` where not measured.
        public let testError: [Double?]
        /// Mean training loss per epoch (cross-entropy, nats); NaN where missing.
        public let trainLoss: [Double]
        /// Half-width of the band around `testError` per epoch (percentage points); nil: no band.
        public let testErrorSpread: [Double?]?
        /// Half-width of the band around `trainLoss` per epoch (nats); nil: no band.
        public let trainLossSpread: [Double?]?

        /// Creates a series.
        ///
        /// - Throws: `RenderError.shapeMismatch` unless `epochs`, `testError`, `trainLoss` and the
        ///   spreads given have equal lengths.
        public init(label: String, epochs: [Int], testError: [Double?], trainLoss: [Double],
                    testErrorSpread: [Double?]? = nil, trainLossSpread: [Double?]? = nil) throws {
            let counts = [testError.count, trainLoss.count] + [testErrorSpread?.count, trainLossSpread?.count].compactMap { $0 }
            guard counts.allSatisfy({ $0 == epochs.count }) else {
                throw RenderError.shapeMismatch(what: "LearningCurvePlot.Series \"\(label)\"",
                                                expected: "\(epochs.count) test-error and training-loss values (one per epoch)",
                                                found: "\(testError.count) test-error and \(trainLoss.count) training-loss values"
                                                    + (testErrorSpread == nil && trainLossSpread == nil ? ""
                                                       : ", \(testErrorSpread?.count ?? 0) and \(trainLossSpread?.count ?? 0) spreads"))
            }
            self.label = label
            self.epochs = epochs
            self.testError = testError
            self.trainLoss = trainLoss
            self.testErrorSpread = testErrorSpread
            self.trainLossSpread = trainLossSpread
        }
    }

    public let series: [Series]
    public let title: String

    static let margin = 16
    static let plotWidth = 380
    static let plotHeight = 260
    static let plotLeftPad = 64      // room for y tick labels and the y title
    static let panelGap = 40
    static let plotTop = 16 + 28 + 12  // margin, title, gap
    static let legendText = 12.0
    static let legendRow = 18

    public init(series: [Series], title: String) {
        self.series = series
        self.title = title
    }

    /// The plot area (inside the axes) of panel 0 (test error) or 1 (training loss), in pixels.
    func plotArea(panel: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        precondition(panel == 0 || panel == 1, "LearningCurvePlot.plotArea: panel must be 0 or 1")
        let x = Self.margin + Self.plotLeftPad + panel * (Self.plotLeftPad + Self.plotWidth + Self.panelGap)
        return (x, Self.plotTop, Self.plotWidth, Self.plotHeight)
    }

    /// The legend's top edge in pixels.
    var legendTop: Int { Self.plotTop + Self.plotHeight + 48 }

    /// The image width in pixels.
    public var width: Int {
        let area = plotArea(panel: 1)
        return area.x + area.width + Self.margin + 8
    }

    /// Legend entries laid out left to right, wrapping: (x, y) of each entry's swatch.
    func legendPositions() -> [(x: Int, y: Int)] {
        Canvas.measuring { canvas in
            var out: [(x: Int, y: Int)] = []
            var x = Self.margin, y = legendTop
            for s in series {
                let w = 28 + Int(canvas.textWidth(s.label, size: Self.legendText).rounded(.up)) + 20
                if x > Self.margin && x + w > width - Self.margin {
                    x = Self.margin
                    y += Self.legendRow
                }
                out.append((x, y))
                x += w
            }
            return out
        }
    }

    public var size: (width: Int, height: Int) {
        (width, (legendPositions().last?.y ?? legendTop) + Self.legendRow + Self.margin)
    }

    /// Draws the plot.
    public func draw(on canvas: Canvas) {
        canvas.text(title, x: Double(Self.margin), y: Double(Self.margin), size: 17, color: .text, weight: .bold)
        let allEpochs = series.flatMap(\.epochs)
        let xAxis: PlotAxis = {
            guard let lo = allEpochs.min(), let hi = allEpochs.max() else { return PlotAxis(lower: 0, upper: 1, step: 1) }
            // 2 % padding on each side keeps end-point markers clear of the axes.
            let (a, b) = lo == hi ? (Double(lo - 1), Double(hi + 1)) : (Double(lo), Double(hi))
            let step = max(1, PlotAxis.niceStep((b - a) / 6).rounded(.up))
            return PlotAxis(lower: a - 0.02 * (b - a), upper: b + 0.02 * (b - a), step: step)
        }()
        let errors: [[Double?]] = series.map(\.testError)
        let losses: [[Double?]] = series.map { $0.trainLoss.map { Optional($0) } }
        drawPanel(0, yTitle: "test error (%)", values: errors, spreads: series.map(\.testErrorSpread), domain: Self.testErrorDomain,
                  allowLog: false, xAxis: xAxis, on: canvas)
        drawPanel(1, yTitle: "training loss (nats)", values: losses, spreads: series.map(\.trainLossSpread), domain: Self.lossDomain,
                  allowLog: true, xAxis: xAxis, on: canvas)

        // Legend.
        if series.isEmpty {
            canvas.text("(no trials)", x: Double(Self.margin), y: Double(legendTop), size: Self.legendText, color: .mutedText)
        }
        for (i, (s, p)) in zip(series, legendPositions()).enumerated() {
            let color = RGBA.lineColors[i % RGBA.lineColors.count]
            let (x, y) = (Double(p.x), Double(p.y))
            if [s.testErrorSpread, s.trainLossSpread].contains(where: { $0?.contains { $0 != nil } ?? false }) {
                canvas.fillRect(x: x, y: y + 1, width: 22, height: 13, color: color, opacity: 0.18)
            }
            canvas.fillRect(x: x, y: y + 6, width: 22, height: 3, color: color)
            canvas.fillRect(x: x + 9, y: y + 5, width: 5, height: 5, color: color)
            canvas.text(s.label, x: x + 28, y: y, size: Self.legendText, color: .text)
        }
    }

    // MARK: - Bands

    /// Test error's domain, percent.
    public static let testErrorDomain: ClosedRange<Double> = 0...100
    /// A cross-entropy loss's domain, nats.
    static let lossDomain: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude

    /// The band `value ± spread` clipped to `domain`: a standard deviation over seeds says how far
    /// the seeds scatter, not that a loss can be negative or an error above 100 %.
    public static func band(value: Double, spread: Double, domain: ClosedRange<Double>) -> (lower: Double, upper: Double) {
        (min(max(value - spread, domain.lowerBound), domain.upperBound), max(min(value + spread, domain.upperBound), domain.lowerBound))
    }

    // MARK: - Panels

    /// The y axis of a panel over `values` with their `spreads` (bands clipped to `domain`):
    /// logarithmic when `allowLog` and the values span `PlotAxis.logScaleRatio`, else linear from 0.
    func yAxis(values: [[Double?]], spreads: [[Double?]?], domain: ClosedRange<Double>, allowLog: Bool) -> PlotAxis {
        var extremes: [Double] = [], centres: [Double] = []
        for (ys, spread) in zip(values, spreads) {
            for (j, v) in ys.enumerated() {
                guard let v, v.isFinite else { continue }
                let band = Self.band(value: v, spread: spread?[j].flatMap { $0.isFinite ? $0 : nil } ?? 0, domain: domain)
                extremes += [band.lower, band.upper]
                centres.append(v)
            }
        }
        if allowLog && PlotAxis.spansDecades(centres) {
            // A band reaching 0 cannot be drawn on a log axis: the axis covers the curves and the
            // bands' upper edges, and a band is cut at the axis's lower end.
            return .logCovering(centres + extremes.filter { $0 > 0 })
        }
        return .covering(extremes, includeZero: true)
    }

    private func drawPanel(_ panel: Int, yTitle: String, values: [[Double?]], spreads: [[Double?]?], domain: ClosedRange<Double>,
                           allowLog: Bool, xAxis: PlotAxis, on canvas: Canvas) {
        let area = plotArea(panel: panel)
        let hasData = values.contains { $0.contains { $0?.isFinite ?? false } }
        let yAxis = yAxis(values: values, spreads: spreads, domain: domain, allowLog: allowLog)
        let panelArea = PlotPanel(x: Double(area.x), y: Double(area.y), width: Double(area.width), height: Double(area.height),
                                  xAxis: xAxis, yAxis: yAxis)
        panelArea.drawFrame(on: canvas, xTitle: "epoch", yTitle: yTitle)
        if !hasData {
            canvas.text("no data", x: panelArea.x + panelArea.width / 2, y: panelArea.y + panelArea.height / 2 - 10,
                        size: 18, color: .mutedText, anchor: .center)
        }

        for (i, s) in series.enumerated() {
            let color = RGBA.lineColors[i % RGBA.lineColors.count]
            let ys = values[i]
            func point(_ j: Int) -> (x: Double, y: Double)? {
                guard let v = ys[j], v.isFinite, yAxis.scale == .linear || v > 0 else { return nil }
                return (panelArea.px(Double(s.epochs[j])), panelArea.py(v))
            }
            // Band: one polygon per run of consecutive epochs with finite value and spread.
            if let spread = spreads[i] {
                var run: [(x: Double, lo: Double, hi: Double)] = []
                func flush() {
                    if run.count >= 2 {
                        canvas.fillPolygon(run.map { ($0.x, $0.hi) } + run.reversed().map { ($0.x, $0.lo) }, color: color, opacity: 0.18)
                    }
                    run = []
                }
                for j in ys.indices {
                    if point(j) != nil, let v = ys[j], let sp = spread[j], sp.isFinite {
                        let band = Self.band(value: v, spread: sp, domain: domain)
                        // On a log axis a band reaching 0 is cut at the axis's lower end.
                        let lower = yAxis.scale == .log10 ? max(band.lower, yAxis.lower) : band.lower
                        run.append((panelArea.px(Double(s.epochs[j])), panelArea.py(lower), panelArea.py(band.upper)))
                    } else { flush() }
                }
                flush()
            }
            var segment: [(x: Double, y: Double)] = []
            for j in ys.indices {
                if let p = point(j) { segment.append(p) } else {
                    canvas.strokeLine(segment, color: color, width: 2)
                    segment = []
                }
            }
            canvas.strokeLine(segment, color: color, width: 2)
            let smallSeries = ys.count <= 30
            for j in ys.indices {
                guard let p = point(j) else { continue }
                let isolated = (j == 0 || point(j - 1) == nil) && (j + 1 == ys.count || point(j + 1) == nil)
                let side: Double = isolated ? 5 : (smallSeries ? 3 : 0)
                guard side > 0 else { continue }
                let (cx, cy) = (p.x.rounded(.down), p.y.rounded(.down))
                canvas.fillRect(x: cx - (side - 1) / 2, y: cy - (side - 1) / 2, width: side, height: side, color: color)
            }
        }
    }
}
