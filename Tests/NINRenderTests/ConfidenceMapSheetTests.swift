import Foundation
import XCTest
@testable import NINRender

final class ConfidenceMapSheetTests: XCTestCase {
    let classes = ["airplane", "automobile", "bird", "cat"]

    /// Two rows of 4×4 maps for K = 4 classes. In row r the shared scale runs from the row minimum
    /// (−1, at map pixel (0, 0) of class 0) to the row maximum (+3, at pixel (3, 3) of class 2);
    /// all other values lie strictly between.
    func syntheticMaps(rows: Int = 2, h: Int = 4, w: Int = 4, k: Int = 4) -> [Float] {
        var maps = [Float](repeating: 0, count: rows * h * w * k)
        for n in 0..<rows {
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<k {
                        maps[((n * h + y) * w + x) * k + c] = Float(c) * 0.1 + Float(x + y) * 0.05 + Float(n)
                    }
                }
            }
            maps[((n * h + 0) * w + 0) * k + 0] = Float(n) - 1
            maps[((n * h + h - 1) * w + w - 1) * k + 2] = Float(n) + 3
        }
        return maps
    }

    func grayImages(_ n: Int, size: Int = 8) -> [[Float]] {
        (0..<n).map { i in (0..<(size * size)).map { Float(($0 + i) % size) / Float(size - 1) } }
    }

    func makeSheet(topPercent: Double? = nil, kind: MapKind = .gapClassMaps) throws -> ConfidenceMapSheet {
        try ConfidenceMapSheet(images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 1,
                               maps: syntheticMaps(), mapHeight: 4, mapWidth: 4, classNames: classes,
                               trueLabels: [1, 3], predicted: [2, 3], kind: kind, topPercent: topPercent,
                               title: "synthetic sheet", cellSize: 32)
    }

    func testDimensionsAndColourScaleEndpointsAfterPNGRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let sheet = try makeSheet()
        let image = try roundTrip(sheet.render(), name: "sheet.png", in: dir)
        XCTAssertEqual(image.width, sheet.size.width)
        XCTAssertEqual(image.height, sheet.size.height)
        let last = sheet.cellOrigin(row: 1, column: classes.count)
        XCTAssertEqual(image.height, last.y + 32 + 12)
        XCTAssertGreaterThanOrEqual(image.width, last.x + 32 + 12)
        for row in 0..<2 {
            // The row minimum sits in class 0's top-left corner: the first viridis colour.
            let c0 = sheet.cellOrigin(row: row, column: 1)
            XCTAssertEqual(image.pixel(x: c0.x, y: c0.y).description, "#440154", "row \(row) min")
            // The row maximum sits in class 2's bottom-right corner: the last viridis colour.
            let c2 = sheet.cellOrigin(row: row, column: 3)
            XCTAssertEqual(image.pixel(x: c2.x + 31, y: c2.y + 31).description, "#FDE725", "row \(row) max")
            // Every map pixel is a viridis colour, and the extremes appear only near those corners.
            for c in 1...classes.count {
                let o = sheet.cellOrigin(row: row, column: c)
                let first = image.countPixels(x: o.x, y: o.y, width: 32, height: 32) { $0 == ColorMap.viridis.table[0] }
                let lastCount = image.countPixels(x: o.x, y: o.y, width: 32, height: 32) { $0 == ColorMap.viridis.table[255] }
                XCTAssertEqual(first > 0, c == 1, "class \(c - 1) min colour")
                XCTAssertEqual(lastCount > 0, c == 3, "class \(c - 1) max colour")
            }
        }
        // The input cell shows the grayscale image: its left column is black (value 0), right white.
        let input = sheet.cellOrigin(row: 0, column: 0)
        XCTAssertEqual(image.pixel(x: input.x, y: input.y + 1), .black)
        XCTAssertEqual(image.pixel(x: input.x + 31, y: input.y + 1), .white)
    }

    func testGroundTruthOutlineAndPredictedMarker() throws {
        let sheet = try makeSheet()
        let image = sheet.render()
        let outline = RGBA.groundTruthOutline
        for (row, truth, pred) in [(0, 1, 2), (1, 3, 3)] {
            for c in 0..<classes.count {
                let o = sheet.cellOrigin(row: row, column: c + 1)
                // The outline band: 3 px wide, 1 px outside the cell, all four sides.
                let samples = [(o.x - 3, o.y + 16), (o.x + 34, o.y + 16), (o.x + 16, o.y - 3), (o.x + 16, o.y + 34)]
                for (x, y) in samples {
                    XCTAssertEqual(image.pixel(x: x, y: y) == outline, c == truth, "row \(row) class \(c) at (\(x), \(y))")
                }
                XCTAssertNotEqual(image.pixel(x: o.x - 1, y: o.y + 16), outline, "1 px gap between outline and cell")
                // The predicted marker: an orange triangle in the top-right corner.
                let markerPixels = image.countPixels(x: o.x, y: o.y, width: 32, height: 32) { $0 == .predictedMarker }
                if c == pred {
                    XCTAssertEqual(image.pixel(x: o.x + 31, y: o.y), .predictedMarker)
                    XCTAssertEqual(image.pixel(x: o.x + 29, y: o.y + 1), .predictedMarker)
                    XCTAssertGreaterThan(markerPixels, 20)
                } else {
                    XCTAssertEqual(markerPixels, 0, "row \(row) class \(c)")
                }
            }
        }
        // The outline colour appears only around the two ground-truth cells (and the legend sample).
        let total = image.countPixels { $0 == outline }
        let perCell = (32 + 8) * (32 + 8) - (32 + 2) * (32 + 2)
        let legendSample = 16 * 16 - 10 * 10
        XCTAssertEqual(total, 2 * perCell + legendSample)
    }

    func testHeaderAndColumnTitlesAreDrawn() throws {
        let sheet = try makeSheet()
        let image = sheet.render()
        func dark(_ p: RGBA) -> Bool { Int(p.r) + Int(p.g) + Int(p.b) < 3 * 110 }
        // Title (bold, 18 px): dark antialiased pixels in the top band, with intermediate greys
        // (antialiasing, which the old bitmap font never produced).
        XCTAssertGreaterThan(image.countPixels(x: 0, y: 12, width: image.width, height: 22, where: dark), 150)
        XCTAssertGreaterThan(image.countPixels(x: 0, y: 12, width: image.width, height: 22) { p in
            p.r == p.g && p.g == p.b && p.r > 60 && p.r < 200 }, 20)
        // Column header "bird" centred above class 2: ink above that cell, none above the gap between cells.
        let bird = sheet.cellOrigin(row: 0, column: 3)
        XCTAssertGreaterThan(image.countPixels(x: bird.x, y: bird.y - 17, width: 32, height: 15, where: dark), 15)
        XCTAssertEqual(image.countPixels(x: bird.x + 33, y: bird.y - 17, width: 6, height: 15, where: dark), 0)
        // Row labels: "true: automobile" etc. left of the input cell.
        let input = sheet.cellOrigin(row: 0, column: 0)
        XCTAssertGreaterThan(image.countPixels(x: 0, y: input.y, width: input.x - 8, height: 32) { $0 != .white }, 60)
    }

    /// Issue 13 item 5: a constant map's top-10 % sheet is dimmed everywhere (no band); NaN maps get
    /// a legend entry; a row with NaN scores has no prediction marker and says so.
    func testConstantMapLightsNothingAndNaNRowsHaveNoPrediction() throws {
        let constant = [Float](repeating: 2, count: 2 * 4 * 4 * 4)
        let sheet = try ConfidenceMapSheet(images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 1,
                                           maps: constant, mapHeight: 4, mapWidth: 4, classNames: classes,
                                           trueLabels: [1, 3], predicted: [2, nil], kind: .gapClassMaps, topPercent: 10,
                                           title: "constant", cellSize: 32)
        let image = sheet.render()
        let dimmed = ColorMap.viridis.table[0].mixed(with: .black, 0.75)
        for row in 0..<2 {
            for c in 1...classes.count {
                let o = sheet.cellOrigin(row: row, column: c)
                // Every pixel except the predicted marker's corner is dimmed: no kept band anywhere.
                XCTAssertEqual(image.countPixels(x: o.x, y: o.y + 12, width: 32, height: 20) { $0 == dimmed }, 32 * 20, "row \(row) class \(c - 1)")
            }
        }
        // Row 1 (predicted nil): no orange marker in any of its cells; its label says why.
        for c in 1...classes.count {
            let o = sheet.cellOrigin(row: 1, column: c)
            XCTAssertEqual(image.countPixels(x: o.x, y: o.y, width: 32, height: 32) { $0 == .predictedMarker }, 0)
        }
        XCTAssertTrue(ConfidenceMapSheet.labelLines(row: 1, trueLabels: [1, 3], predicted: [2, nil], classNames: classes,
                                                    range: (0, 0)).contains("pred: none (NaN scores)"))
        XCTAssertFalse(sheet.hasNonFiniteValues)
        var nanMaps = syntheticMaps()
        for i in 0..<(4 * 4 * 4) { nanMaps[i] = .nan }
        let nanSheet = try ConfidenceMapSheet(images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 1,
                                              maps: nanMaps, mapHeight: 4, mapWidth: 4, classNames: classes,
                                              trueLabels: [1, 3], predicted: [nil, 3], kind: .gapClassMaps, topPercent: nil,
                                              title: "nan", cellSize: 32)
        XCTAssertTrue(nanSheet.hasNonFiniteValues)
        let nanImage = nanSheet.render()
        // The legend shows a grey swatch (14×14) only when some value is not finite.
        let legendBand = (y: 12 + 24 + 17 + 17 + 8, height: 14)
        XCTAssertGreaterThanOrEqual(nanImage.countPixels(x: 0, y: legendBand.y, width: nanImage.width, height: legendBand.height) { $0 == .nonFinite }, 14 * 14)
        XCTAssertLessThan(image.countPixels(x: 0, y: legendBand.y, width: image.width, height: legendBand.height) { $0 == .nonFinite }, 14 * 14)
    }

    func testTopPercentVariantKeepsTopActivationsAndDimsTheRest() throws {
        let sheet = try makeSheet(topPercent: 10)
        let plain = try makeSheet().render()
        let image = sheet.render()
        XCTAssertGreaterThanOrEqual(image.width, plain.width)   // the longer header line may widen it
        XCTAssertEqual(image.height, plain.height)
        // Each row has 4·4·4 = 64 activations; 10 % keeps 7. The row max (class 2, pixel (3, 3)) is
        // among them: its corner keeps its colour. The row min is not: its corner is dimmed to 25 %.
        for row in 0..<2 {
            let c2 = sheet.cellOrigin(row: row, column: 3)
            XCTAssertEqual(image.pixel(x: c2.x + 31, y: c2.y + 31).description, "#FDE725")
            let c0 = sheet.cellOrigin(row: row, column: 1)
            let dimmed = ColorMap.viridis.table[0].mixed(with: .black, 0.75)
            XCTAssertEqual(image.pixel(x: c0.x, y: c0.y), dimmed)
            // Class 0's maps hold only small values: the whole cell is darker than without the mask.
            let darker = image.countPixels(x: c0.x, y: c0.y, width: 32, height: 32) { p in p.g < 60 }
            XCTAssertEqual(darker, 32 * 32)
        }
        XCTAssertTrue(sheet.shownDescription.contains("top 10 %"))
    }

    func testDeterministicBytesAcrossRenders() throws {
        let dir = try makeTemporaryDirectory(self)
        for top in [nil, 10.0] {
            let a = dir.appendingPathComponent("a.png"), b = dir.appendingPathComponent("b.png")
            try PNG.write(try makeSheet(topPercent: top).render(), to: a)
            try PNG.write(try makeSheet(topPercent: top).render(), to: b)
            XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
        }
    }

    func testInconsistentInputsThrowWithContext() {
        XCTAssertThrowsError(try ConfidenceMapSheet(
            images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 1,
            maps: Array(syntheticMaps().dropLast()), mapHeight: 4, mapWidth: 4, classNames: classes,
            trueLabels: [0, 1], predicted: [0, 1], kind: .gapClassMaps, topPercent: nil, title: "t")) { error in
            guard case let RenderError.shapeMismatch(what, expected, found) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("maps"))
            XCTAssertTrue(expected.contains("[2, 4, 4, 4] = 128"))
            XCTAssertEqual(found, "127")
        }
        XCTAssertThrowsError(try ConfidenceMapSheet(
            images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 1,
            maps: syntheticMaps(), mapHeight: 4, mapWidth: 4, classNames: classes,
            trueLabels: [0, 4], predicted: [0, 1], kind: .gapClassMaps, topPercent: nil, title: "t")) { error in
            XCTAssertEqual(error as? RenderError, .invalidValue(what: "ConfidenceMapSheet trueLabels[1]",
                                                               expected: "a class index in 0..<4", found: "4"))
        }
        XCTAssertThrowsError(try ConfidenceMapSheet(
            images: grayImages(2), imageHeight: 8, imageWidth: 8, imageChannels: 2,
            maps: syntheticMaps(), mapHeight: 4, mapWidth: 4, classNames: classes,
            trueLabels: [0, 1], predicted: [0, 1], kind: .gapClassMaps, topPercent: nil, title: "t"))
        XCTAssertThrowsError(try makeSheet(topPercent: 0))
        XCTAssertThrowsError(try makeSheet(topPercent: 150))
    }

    func testEmptySheetAndNonFiniteValuesRender() throws {
        let empty = try ConfidenceMapSheet(images: [], imageHeight: 8, imageWidth: 8, imageChannels: 3, maps: [],
                                           mapHeight: 4, mapWidth: 4, classNames: classes, trueLabels: [], predicted: [],
                                           kind: .fcLinearContribution, topPercent: nil, title: "empty")
        let image = empty.render()
        XCTAssertGreaterThan(image.height, 0)
        XCTAssertGreaterThan(image.countPixels { $0 == .mutedText }, 0)
        var maps = syntheticMaps(rows: 1)
        maps[5 * 4 + 1] = .nan          // class 1 at map pixel (1, 1)
        let sheet = try ConfidenceMapSheet(images: grayImages(1), imageHeight: 8, imageWidth: 8, imageChannels: 1,
                                           maps: maps, mapHeight: 4, mapWidth: 4, classNames: classes,
                                           trueLabels: [0], predicted: [0], kind: .gapClassMaps, topPercent: 10,
                                           title: "nan", cellSize: 32)
        let rendered = sheet.render()
        let o = sheet.cellOrigin(row: 0, column: 2)
        XCTAssertGreaterThan(rendered.countPixels(x: o.x, y: o.y, width: 32, height: 32) {
            $0 == RGBA.nonFinite || $0 == RGBA.nonFinite.mixed(with: .black, 0.75)
        }, 0)
    }

    /// A realistic sheet (CIFAR-like RGB inputs, 8×8 maps with Gaussian blobs, K = 10), rendered in
    /// both variants; with NINRENDER_SAMPLE_DIR set the PNGs are kept for inspection.
    func testSampleSheetWithGaussianBlobs() throws {
        let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        let n = 4, k = 10, h = 8, w = 8
        var images: [[Float]] = []
        var maps = [Float](repeating: 0, count: n * h * w * k)
        for i in 0..<n {
            let centre = (y: Float(2 + i), x: Float(5 - i))
            images.append((0..<(32 * 32 * 3)).map { j in
                let p = j / 3, ch = j % 3
                let y = Float(p / 32) / 4, x = Float(p % 32) / 4
                let d = ((y - centre.y) * (y - centre.y) + (x - centre.x) * (x - centre.x)).squareRoot()
                return ch == 2 ? 0.8 - d / 12 : Float(ch) * 0.3 + max(0, 0.6 - d / 6)
            })
            for c in 0..<k {
                let strength: Float = c == i ? 4 : (c == (i + 3) % k ? 2 : 0.6)
                let blob = gaussianBlob(height: h, width: w, cy: centre.y + Float(c % 3) * 0.3, cx: centre.x, sigma: 1.5,
                                        peak: strength)
                for p in 0..<(h * w) { maps[(i * h * w + p) * k + c] = blob[p] }
            }
        }
        for top in [nil, 10.0] {
            let sheet = try ConfidenceMapSheet(images: images, imageHeight: 32, imageWidth: 32, imageChannels: 3,
                                               maps: maps, mapHeight: h, mapWidth: w, classNames: names,
                                               trueLabels: [0, 1, 2, 5], predicted: [0, 1, 5, 5], kind: .gapClassMaps,
                                               topPercent: top, title: "cifar10-nin / trial 3 (synthetic)")
            let image = sheet.render()
            XCTAssertEqual(image.width, sheet.size.width)
            // Row 0's strongest map (class 0) reaches the top of the colour scale; class 4's weak map does not.
            let bright = Set(ColorMap.viridis.table[240...])
            let strong = sheet.cellOrigin(row: 0, column: 1), weak = sheet.cellOrigin(row: 0, column: 5)
            XCTAssertGreaterThan(image.countPixels(x: strong.x, y: strong.y, width: 64, height: 64) { bright.contains($0) }, 0)
            XCTAssertEqual(image.countPixels(x: weak.x, y: weak.y, width: 64, height: 64) { bright.contains($0) }, 0)
            try keepSample(image, name: top == nil ? "sample-sheet.png" : "sample-sheet-top10.png")
        }
    }
}
