import XCTest
@testable import NINRender

/// Tick labels stay readable for any magnitude, a loss spanning decades gets a log axis, and
/// ±1 std bands stay inside their quantity's domain (issue 21: a diverged seed at 6.3 × 10³⁵ nats).
final class PlotAxisTests: XCTestCase {
    func testTickLabelsAreFixedPointOrScientific() {
        // Ordinary axes keep their fixed-point labels.
        let percent = PlotAxis.covering([12.5, 47], includeZero: true)
        XCTAssertEqual(percent.ticks.map(percent.label), ["0", "10", "20", "30", "40", "50"])
        XCTAssertEqual(PlotAxis(lower: 0, upper: 2, step: 0.5).label(1.5), "1.5")
        // A linear axis up to 6.3e35: "m×10ⁿ", never 36 digits.
        let huge = PlotAxis.covering([2.3, 6.3e35], includeZero: true)
        let labels = huge.ticks.map(huge.label)
        XCTAssertEqual(labels.first, "0")
        XCTAssertTrue(labels.contains("2×10³⁵"), "\(labels)")
        XCTAssertTrue(labels.allSatisfy { $0.count <= 7 }, "\(labels)")
        XCTAssertEqual(PlotAxis.scientific(1e35, step: 1e35), "1×10³⁵")
        XCTAssertEqual(PlotAxis.scientific(2.5e6, step: 5e5), "2.5×10⁶")
        XCTAssertEqual(PlotAxis.scientific(-4e6, step: 2e6), "-4×10⁶")
        // Tiny steps: "5×10⁻⁴".
        let tiny = PlotAxis(lower: 0, upper: 0.002, step: 0.0005)
        XCTAssertEqual(tiny.ticks.map(tiny.label), ["0", "5×10⁻⁴", "1.0×10⁻³", "1.5×10⁻³", "2.0×10⁻³"])
        XCTAssertEqual(PlotAxis.superscript(-12), "⁻¹²")
    }

    /// A tick step is 1, 2 or 5 times a power of ten: the smallest such step at least the raw one
    /// (the mutation record found no test of the 2).
    func testNiceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        for (raw, nice) in [(0.13, 0.2), (1.7, 2.0), (2.0, 2.0), (3.0, 5.0), (7.2, 10.0), (1.0, 1.0), (0.0004, 0.0005), (1.2e35, 2e35)] {
            XCTAssertEqual(PlotAxis.niceStep(raw), nice, accuracy: nice * 1e-12, "\(raw)")
        }
        let axis = PlotAxis.covering([0, 9], includeZero: true)
        XCTAssertEqual(axis.ticks, [0, 2, 4, 6, 8, 10])
    }

    func testLogAxisForValuesSpanningDecades() {
        XCTAssertFalse(PlotAxis.spansDecades([2.3, 1.2, 0.4, 0.05]))
        XCTAssertTrue(PlotAxis.spansDecades([2.3, 0.9, 6.3e35]))
        let axis = PlotAxis.logCovering([0.31, 2.3, 6.3e35])
        XCTAssertEqual(axis.scale, .log10)
        XCTAssertEqual(axis.lower, 0.1)
        XCTAssertEqual(axis.upper, 1e36, accuracy: 1e22)
        XCTAssertEqual(axis.step, 10, "37 decades: a tick every 10")
        XCTAssertEqual(axis.ticks.map(axis.label), ["1", "10¹⁰", "10²⁰", "10³⁰"])
        XCTAssertEqual(axis.fraction(0.1), 0)
        XCTAssertEqual(axis.fraction(1e36), 1, accuracy: 1e-12)
        XCTAssertEqual(axis.fraction(0), -.infinity)
        let small = PlotAxis.logCovering([0.002, 0.4, 2.3])
        XCTAssertEqual(small.ticks.map(small.label), ["10⁻³", "10⁻²", "10⁻¹", "1", "10"])
    }

    func testBandsAreClippedToTheDomain() {
        let loss = LearningCurvePlot.band(value: 0.4, spread: 1.1, domain: LearningCurvePlot.lossDomain)
        XCTAssertEqual(loss.lower, 0)
        XCTAssertEqual(loss.upper, 1.5, accuracy: 1e-12)
        let error = LearningCurvePlot.band(value: 96, spread: 8, domain: LearningCurvePlot.testErrorDomain)
        XCTAssertEqual(error.lower, 88)
        XCTAssertEqual(error.upper, 100)
        let inside = LearningCurvePlot.band(value: 30, spread: 2, domain: LearningCurvePlot.testErrorDomain)
        XCTAssertEqual(inside.lower, 28)
        XCTAssertEqual(inside.upper, 32)
        // A panel's axis follows the clipped band: it starts at 0, not below.
        let plot = LearningCurvePlot(series: [], title: "")
        let axis = plot.yAxis(values: [[0.4, 0.3]], spreads: [[1.1, 0.9]], domain: LearningCurvePlot.lossDomain, allowLog: true)
        XCTAssertEqual(axis.lower, 0)
        XCTAssertEqual(axis.scale, .linear)
    }

    /// A 95 % interval of a test error over few seeds can reach below 0 %: the whisker is cut at
    /// the domain (no cap there) and the axis starts at 0.
    func testErrorBarWhiskersAreCutToTheDomain() throws {
        let plot = ErrorBarPlot(entries: [.init(label: "0.05", mean: 41.5, interval: (-17.74, 100.74), points: [12, 69, 43.5])],
                                title: "t", yTitle: "test error (%)", caption: "", domain: LearningCurvePlot.testErrorDomain)
        let w = plot.whisker((-17.74, 100.74))
        XCTAssertEqual(w.lower, 0)
        XCTAssertEqual(w.upper, 100)
        XCTAssertTrue(w.lowerCut && w.upperCut)
        XCTAssertFalse(plot.whisker((20, 60)).lowerCut)
        XCTAssertEqual(plot.yAxis.lower, 0)
        XCTAssertEqual(ErrorBarPlot(entries: plot.entries, title: "t", yTitle: "", caption: "").yAxis.lower, -50, "without a domain the axis follows the interval")
        XCTAssertNoThrow(try PNG.encode(plot.render()))
    }

    /// One diverged seed (6.3 × 10³⁵ nats) beside healthy ones: the loss panel is logarithmic with
    /// short labels that stay in their margin (nothing drawn between the panels), and no band
    /// crosses the bottom of either panel.
    func testDivergedSeedDrawsOnALogAxisWithReadableLabels() throws {
        let epochs = [1, 2, 3, 4]
        let healthy = try LearningCurvePlot.Series(label: "lr=0.05 (n = 3)", epochs: epochs, testError: [40, 25, 18, 15],
                                                   trainLoss: [1.9, 0.9, 0.5, 0.35], testErrorSpread: [3, 2, 1.5, 1],
                                                   trainLossSpread: [0.3, 0.2, 0.5, 0.6])
        let exploded = try LearningCurvePlot.Series(label: "lr=0.3 (n = 3)", epochs: epochs, testError: [88, 89, 90, 90],
                                                    trainLoss: [2.1, 3e12, 2.1e35, 2.1e35], testErrorSpread: [4, 12, 14, 14],
                                                    trainLossSpread: [0.2, 5.2e12, 3.6e35, 3.6e35])
        let plot = LearningCurvePlot(series: [healthy, exploded], title: "lr: learning curves")
        let lossAxis = plot.yAxis(values: [healthy.trainLoss, exploded.trainLoss].map { $0.map(Optional.init) },
                                  spreads: [healthy.trainLossSpread, exploded.trainLossSpread],
                                  domain: LearningCurvePlot.lossDomain, allowLog: true)
        XCTAssertEqual(lossAxis.scale, .log10)
        let labels = lossAxis.ticks.map(lossAxis.label)
        XCTAssertTrue(labels.allSatisfy { $0.count <= 5 }, "\(labels)")
        let widest = Canvas.measuring { c in labels.map { c.textWidth($0, size: 11) }.max() ?? 0 }
        XCTAssertLessThan(widest, Double(LearningCurvePlot.plotLeftPad - 24), "labels fit left of the axis, beside the axis title")

        let image = plot.render()
        let left = plot.plotArea(panel: 0), right = plot.plotArea(panel: 1)
        // Between panel 0's right edge and the start of panel 1's label margin: white.
        let gapX = left.x + left.width + 2, gapWidth = right.x - LearningCurvePlot.plotLeftPad - gapX
        XCTAssertGreaterThan(gapWidth, 20)
        XCTAssertEqual(image.countPixels(x: gapX, y: left.y - 4, width: gapWidth, height: left.height + 30) { $0 != .white }, 0,
                       "tick labels spill across into the neighbouring panel")
        // Bands stay inside the panels: nothing in a series colour below either x axis.
        for area in [left, right] {
            for color in RGBA.lineColors.prefix(2) {
                XCTAssertEqual(image.countPixels(x: area.x, y: area.y + area.height + 1, width: area.width, height: 30) { near($0, color, tolerance: 60) }, 0)
            }
        }
        // Both series are drawn in the loss panel.
        for color in RGBA.lineColors.prefix(2) {
            XCTAssertGreaterThan(image.countPixels(x: right.x, y: right.y, width: right.width, height: right.height) { near($0, color, tolerance: 60) }, 100)
        }
        try keepSample(image, name: "sample-diverged-curves.png")
    }
}
