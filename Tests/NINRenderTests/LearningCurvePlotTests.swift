import XCTest
@testable import NINRender

final class LearningCurvePlotTests: XCTestCase {
    func series(_ count: Int, epochs: Int) throws -> [LearningCurvePlot.Series] {
        try (0..<count).map { i in
            let e = Array(1...epochs)
            return try LearningCurvePlot.Series(
                label: "trial \(i + 1): lr=\(0.1 / Double(i + 1))",
                epochs: e,
                testError: e.map { Double(60 - 4 * i) * exp(-Double($0) / 6) + 10 },
                trainLoss: e.map { 2.3 * exp(-Double($0) / (4 + Double(i))) + 0.05 })
        }
    }

    func testAxesLegendAndLineColoursArePresent() throws {
        let dir = try makeTemporaryDirectory(self)
        let plot = LearningCurvePlot(series: try series(3, epochs: 20), title: "study cifar10-heads")
        let image = try roundTrip(plot.render(), name: "curves.png", in: dir)
        XCTAssertEqual(image.width, plot.width)
        for panel in 0..<2 {
            let area = plot.plotArea(panel: panel)
            // Left axis and bottom axis are solid text-coloured lines.
            XCTAssertEqual(image.countPixels(x: area.x - 1, y: area.y, width: 1, height: area.height + 1) { $0 == .text },
                           area.height + 1)
            XCTAssertEqual(image.countPixels(x: area.x - 1, y: area.y + area.height, width: area.width + 1, height: 1) { $0 == .text },
                           area.width + 1)
            // Tick labels left of the axis and under it.
            XCTAssertGreaterThan(image.countPixels(x: area.x - 40, y: area.y - 4, width: 34, height: area.height + 8) { $0 != .white }, 50)
            XCTAssertGreaterThan(image.countPixels(x: area.x - 8, y: area.y + area.height + 6, width: area.width + 16, height: 14) { $0 != .white }, 50)
            // Each series' colour draws a line across the panel (≥ one pixel per x column on average,
            // allowing for antialiased edges).
            for i in 0..<3 {
                let color = RGBA.lineColors[i]
                XCTAssertGreaterThan(image.countPixels(x: area.x, y: area.y, width: area.width, height: area.height) { near($0, color) },
                                     area.width, "series \(i) in panel \(panel)")
            }
        }
        // Legend: a swatch in each series' colour at its position, and label text next to it.
        for (i, p) in plot.legendPositions().enumerated() {
            XCTAssertEqual(image.pixel(x: p.x + 1, y: p.y + 7), RGBA.lineColors[i])
            XCTAssertGreaterThan(image.countPixels(x: p.x + 28, y: p.y, width: 60, height: 14) { $0 != .white }, 20)
        }
        try keepSample(image, name: "sample-curves.png")
    }

    func testSingleEpochSeriesDrawsAPointMarker() throws {
        let plot = LearningCurvePlot(series: [try .init(label: "one", epochs: [1], testError: [42], trainLoss: [2.0])], title: "single")
        let image = plot.render()
        for panel in 0..<2 {
            let area = plot.plotArea(panel: panel)
            // A single point at x = middle of [0, 2]: a 5×5 marker.
            XCTAssertEqual(image.countPixels(x: area.x, y: area.y, width: area.width, height: area.height) { $0 == RGBA.lineColors[0] }, 25)
            let cx = area.x + Int((Double(area.width - 1) / 2).rounded())
            XCTAssertGreaterThan(image.countPixels(x: cx - 2, y: area.y, width: 5, height: area.height) { $0 == RGBA.lineColors[0] }, 0)
        }
    }

    func testMissingValuesBreakLinesAndEmptyInputSaysNoData() throws {
        let gappy = try LearningCurvePlot.Series(label: "gappy", epochs: [1, 2, 3, 4, 5],
                                                 testError: [50, nil, 30, nil, 20], trainLoss: [2, .nan, 1, .infinity, 0.5])
        let plot = LearningCurvePlot(series: [gappy], title: "gaps")
        let image = plot.render()
        let area = plot.plotArea(panel: 0)
        // Three isolated points: three 5×5 markers and no connecting line.
        XCTAssertEqual(image.countPixels(x: area.x, y: area.y, width: area.width, height: area.height) { $0 == RGBA.lineColors[0] }, 75)
        // The same in the training-loss panel, whose gaps are NaN and +∞ (not nil).
        let lossArea = plot.plotArea(panel: 1)
        XCTAssertEqual(image.countPixels(x: lossArea.x, y: lossArea.y, width: lossArea.width, height: lossArea.height) { $0 == RGBA.lineColors[0] }, 75)

        let empty = LearningCurvePlot(series: [], title: "empty").render()
        let emptyPlot = LearningCurvePlot(series: [], title: "empty")
        let a = emptyPlot.plotArea(panel: 1)
        XCTAssertGreaterThan(empty.countPixels(x: a.x, y: a.y, width: a.width, height: a.height) { $0 != .white && $0 != .grid }, 50, "no data note")
        // No series colour in the panels (tab10's grey excluded: antialiased grey text can hit it).
        let seriesColors = RGBA.lineColors.filter { $0 != RGBA(hex: 0x7F7F7F) }
        for panel in 0..<2 {
            let area = emptyPlot.plotArea(panel: panel)
            XCTAssertEqual(empty.countPixels(x: area.x, y: area.y, width: area.width, height: area.height) { seriesColors.contains($0) }, 0)
        }

        XCTAssertThrowsError(try LearningCurvePlot.Series(label: "bad", epochs: [1, 2], testError: [1], trainLoss: [1, 2])) { error in
            guard case let RenderError.shapeMismatch(what, _, found) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("bad"))
            XCTAssertTrue(found.contains("1 test-error"))
        }
    }

    func testDeterministicAndNiceTicks() throws {
        let a = try PNG.encode(LearningCurvePlot(series: try series(4, epochs: 12), title: "d").render())
        let b = try PNG.encode(LearningCurvePlot(series: try series(4, epochs: 12), title: "d").render())
        XCTAssertEqual(a, b)
        XCTAssertEqual(PlotAxis.niceStep(13), 20)
        XCTAssertEqual(PlotAxis.niceStep(0.46), 0.5)
        XCTAssertEqual(PlotAxis.niceStep(1), 1)
        XCTAssertEqual(PlotAxis.decimals(for: 0.5), 1)
        XCTAssertEqual(PlotAxis.decimals(for: 0.1), 1)
        XCTAssertEqual(PlotAxis.decimals(for: 0.05), 2)
        XCTAssertEqual(PlotAxis.decimals(for: 20), 0)
    }
}

/// Whether two colours differ by at most `tolerance` in every channel.
func near(_ a: RGBA, _ b: RGBA, tolerance: Int = 24) -> Bool {
    abs(Int(a.r) - Int(b.r)) <= tolerance && abs(Int(a.g) - Int(b.g)) <= tolerance && abs(Int(a.b) - Int(b.b)) <= tolerance
}
