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
        let ink = image.countPixels(x: body.x, y: body.y, width: body.width, height: body.height) { $0 != .white }
        XCTAssertGreaterThan(ink, 1000)
        // The body's first line starts at the left margin: ink in its first 12 px.
        XCTAssertGreaterThan(image.countPixels(x: body.x, y: body.y, width: 12, height: 20) { $0 != .white }, 10)
        // Title ink above the body; nothing drawn in the right margin.
        XCTAssertGreaterThan(image.countPixels(x: 0, y: 0, width: image.width, height: body.y) { $0 != .white }, 200)
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
