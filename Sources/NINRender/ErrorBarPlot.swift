// Test error per level of a swept value: the mean over seeds with its confidence interval as an
// error bar, the seeds' own values as dots, and the paper's figure where there is one.

/// A figure with one column per level of a swept value (a category on the x axis): a bar for the
/// mean, an error bar for its confidence interval, one dot per seed, and an optional reference
/// value (the paper's number) as a dashed red tick.
///
/// Units are the caller's (test error in percent here); the y axis starts at 0. Whiskers are cut at
/// the ends of `domain` (a confidence interval of a test error can reach below 0 % with few seeds);
/// a cut end has no cap.
public struct ErrorBarPlot: Figure {
    /// One level.
    public struct Entry: Sendable {
        /// The x-axis label (the level's value, e.g. `gap`).
        public let label: String
        /// The mean over seeds; nil when no seed finished.
        public let mean: Double?
        /// The confidence interval's ends; nil when it is not defined (fewer than 2 seeds).
        public let interval: (lower: Double, upper: Double)?
        /// Each seed's value.
        public let points: [Double]
        /// A reference value drawn beside the bar (e.g. the paper's test error), nil for none.
        public let reference: Double?
        /// Drawn in a stronger colour (the best level).
        public let highlighted: Bool

        public init(label: String, mean: Double?, interval: (lower: Double, upper: Double)?, points: [Double],
                    reference: Double? = nil, highlighted: Bool = false) {
            self.label = label; self.mean = mean; self.interval = interval; self.points = points
            self.reference = reference; self.highlighted = highlighted
        }
    }

    public let entries: [Entry]
    public let title: String
    public let yTitle: String
    /// The caption under the plot (what the bars and whiskers mean).
    public let caption: String
    /// The values the quantity can take (test error: 0…100); whiskers are cut at its ends.
    public let domain: ClosedRange<Double>

    static let margin = 16
    static let plotLeft = 80
    static let plotTop = 56
    static let plotHeight = 280
    static let columnWidth = 110

    public init(entries: [Entry], title: String, yTitle: String, caption: String,
                domain: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) {
        self.entries = entries; self.title = title; self.yTitle = yTitle; self.caption = caption; self.domain = domain
    }

    /// The whisker of `interval` cut to `domain`, and whether each end was cut.
    public func whisker(_ interval: (lower: Double, upper: Double)) -> (lower: Double, upper: Double, lowerCut: Bool, upperCut: Bool) {
        let lo = min(max(interval.lower, domain.lowerBound), domain.upperBound)
        let hi = max(min(interval.upper, domain.upperBound), domain.lowerBound)
        return (lo, hi, lo != interval.lower, hi != interval.upper)
    }

    /// The plot area (inside the axes), in layout units.
    var plotArea: (x: Int, y: Int, width: Int, height: Int) {
        (Self.plotLeft, Self.plotTop, max(1, entries.count) * Self.columnWidth, Self.plotHeight)
    }

    public var size: (width: Int, height: Int) {
        let titleWidth = Canvas.measuring { Int($0.textWidth(title, size: 17, weight: .bold).rounded(.up)) }
        let area = plotArea
        return (max(area.x + area.width + Self.margin + 24, titleWidth + 2 * Self.margin, 520),
                area.y + area.height + 50 + 3 * 16 + Self.margin)
    }

    /// The y axis: from 0 over the means, whiskers (cut to `domain`), seeds and references.
    var yAxis: PlotAxis {
        var values: [Double] = []
        for e in entries {
            let w = e.interval.map(whisker)
            values += e.points + [e.mean, w?.lower, w?.upper, e.reference].compactMap { $0 }
        }
        return .covering(values, includeZero: true)
    }

    public func draw(on canvas: Canvas) {
        canvas.text(title, x: Double(Self.margin), y: Double(Self.margin), size: 17, color: .text, weight: .bold)
        let area = plotArea
        let count = Double(max(1, entries.count))
        let panel = PlotPanel(x: Double(area.x), y: Double(area.y), width: Double(area.width), height: Double(area.height),
                              xAxis: PlotAxis(lower: 0, upper: count, step: 1), yAxis: yAxis)
        panel.drawFrame(on: canvas, xTitle: "", yTitle: yTitle,
                        xLabels: entries.enumerated().map { (Double($0.offset) + 0.5, $0.element.label + ($0.element.highlighted ? " (best)" : "")) })
        for (i, e) in entries.enumerated() {
            let centre = panel.px(Double(i) + 0.5)
            let color = e.highlighted ? RGBA.lineColors[0] : RGBA(hex: 0x9DB9D3)
            if let mean = e.mean {
                let top = panel.py(mean), bottom = panel.py(panel.yAxis.lower)
                canvas.fillRect(x: centre - 22, y: top, width: 44, height: bottom - top, color: color)
                canvas.text(String(format: "%.2f", mean), x: centre + 26, y: top - 7, size: 11, color: .text)
            } else {
                canvas.text("no finished seed", x: centre, y: panel.y + panel.height / 2, size: 10, color: .mutedText, anchor: .center)
            }
            if let ci = e.interval.map(whisker) {
                let (lo, hi) = (panel.py(ci.lower), panel.py(ci.upper))
                canvas.strokeLine([(centre, lo), (centre, hi)], color: .text, width: 1.5)
                if !ci.lowerCut { canvas.strokeLine([(centre - 8, lo), (centre + 8, lo)], color: .text, width: 1.5) }
                if !ci.upperCut { canvas.strokeLine([(centre - 8, hi), (centre + 8, hi)], color: .text, width: 1.5) }
            }
            for (j, p) in e.points.enumerated() {
                let jitter = (Double(j) - Double(e.points.count - 1) / 2) * 6
                canvas.fillCircle(x: centre + jitter, y: panel.py(p), radius: 3, color: RGBA(hex: 0x202020))
            }
            if let r = e.reference {
                let y = panel.py(r)
                canvas.strokeLine([(centre - 34, y), (centre + 34, y)], color: .groundTruthOutline, width: 2, dash: [5, 3])
            }
        }
        let captionTop = Double(area.y + area.height + 48)
        let lines = canvas.wrapped(caption, size: 11, maxWidth: Double(size.width - 2 * Self.margin))
        for (i, line) in lines.prefix(3).enumerated() {
            canvas.text(line, x: Double(Self.margin), y: captionTop + Double(i) * 16, size: 11, color: .mutedText)
        }
    }
}
