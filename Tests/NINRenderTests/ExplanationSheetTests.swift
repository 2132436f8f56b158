import XCTest
@testable import NINRender

final class ExplanationSheetTests: XCTestCase {
    func testExplanationRendersItsTextInTheBodyArea() throws {
        let dir = try makeTemporaryDirectory(self)
        let text = "Category confidence maps are defined for GAP heads; this trial's FC head has hidden layers, so no per-class spatial maps exist."
        let sheet = ExplanationSheet(title: "cifar10-fc / trial 7: no category maps", lines: [text, "See the GAP trial's sheet."])
        let image = try roundTrip(sheet.render(), name: "explanation.png", in: dir)
        let body = sheet.bodyArea
        XCTAssertLessThanOrEqual(body.y + body.height, image.height)
        // Body text: ink in the body area, and every line of it starts at the left margin.
        let ink = image.countPixels(x: body.x, y: body.y, width: body.width, height: body.height) { $0 == .text }
        XCTAssertGreaterThan(ink, 1000)
        // The first glyph of the body ("C" at scale 2) matches the font's bitmap.
        let font = BitmapFont.standard
        for py in 0..<14 {
            for px in 0..<10 {
                XCTAssertEqual(image.pixel(x: body.x + px, y: body.y + py) == .text,
                               font.isInked("C", column: px / 2, row: py / 2), "(\(px), \(py))")
            }
        }
        // Title ink above the body; nothing drawn in the right margin.
        XCTAssertGreaterThan(image.countPixels(x: 0, y: 0, width: image.width, height: body.y) { $0 == .text }, 200)
        XCTAssertEqual(image.countPixels(x: image.width - 16, y: 0, width: 16, height: image.height) { $0 != .white }, 0)
        try keepSample(image, name: "sample-explanation.png")
    }

    func testLongerTextMakesATallerSheet() {
        let short = ExplanationSheet(title: "t", lines: ["one line"]).render()
        let long = ExplanationSheet(title: "t", lines: [String(repeating: "word ", count: 80)]).render()
        XCTAssertEqual(short.width, long.width)
        XCTAssertGreaterThan(long.height, short.height + 4 * 18)
    }
}
