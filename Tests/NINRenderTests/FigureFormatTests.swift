import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import NINRender

/// One drawing, three files: PNG through libpng, PDF and SVG through Cairo's vector surfaces.
final class FigureFormatTests: XCTestCase {
    let plot = ErrorBarPlot(entries: [
        .init(label: "gap", mean: 31.2, interval: (28.0, 34.3), points: [30, 31, 32.5], reference: 10.41, highlighted: true),
        .init(label: "fc", mean: 33.8, interval: (31.2, 36.4), points: [33, 33.5, 35], reference: 11.59),
        .init(label: "none", mean: nil, interval: nil, points: []),
    ], title: "heads: final test error", yTitle: "test error (%)", caption: "bars, whiskers and dots")

    func testPNGPDFAndSVGHaveTheFigureSize() throws {
        let dir = try makeTemporaryDirectory(self)
        let files = try plot.write(stem: dir.appendingPathComponent("bars"), formats: FigureFormat.allCases)
        XCTAssertEqual(files.map(\.lastPathComponent), ["bars.png", "bars.pdf", "bars.svg"])
        let png = try PNG.read(from: files[0])
        XCTAssertEqual(png.width, plot.size.width)
        XCTAssertEqual(png.height, plot.size.height)
        // The highlighted bar is tab10 blue, the others a light blue.
        XCTAssertGreaterThan(png.countPixels { $0 == RGBA.lineColors[0] }, 44 * 50)
        let pdf = try Data(contentsOf: files[1])
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertTrue(String(decoding: pdf, as: UTF8.self).contains("/MediaBox [ 0 0 \(plot.size.width) \(plot.size.height) ]"))
        let svg = try XMLDocument(contentsOf: files[2])
        let root = try XCTUnwrap(svg.rootElement())
        XCTAssertEqual(root.name, "svg")
        // Cairo writes the size in points and the user space as the viewBox.
        let text = String(decoding: try Data(contentsOf: files[2]), as: UTF8.self)
        XCTAssertTrue(text.contains(#"width="\#(plot.size.width)pt" height="\#(plot.size.height)pt" viewBox="0 0 \#(plot.size.width) \#(plot.size.height)""#))
        XCTAssertTrue(text.contains("<path"), "vector shapes and glyphs")
        // The same figure twice gives the same PDF bytes (no creation date in it).
        let again = dir.appendingPathComponent("again.pdf")
        try plot.write(.pdf, to: again)
        XCTAssertEqual(try Data(contentsOf: again), pdf)
    }

    func testUnwritableFolderThrowsNamingThePath() {
        let url = URL(fileURLWithPath: "/nonexistent-folder-\(UUID().uuidString)/bars.pdf")
        XCTAssertThrowsError(try plot.write(.pdf, to: url)) { error in
            guard case let RenderError.writeFailed(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
    }
}
