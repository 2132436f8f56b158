import XCTest
@testable import NINRender

final class BitmapFontTests: XCTestCase {
    let font = BitmapFont.standard

    /// Draws each character at `scale`, writes/reads the PNG, and compares every pixel of the glyph
    /// box against the glyph's bitmap definition (`standardGlyphRows`, parsed independently here).
    func testRenderedGlyphsMatchTheirBitmapDefinition() throws {
        let dir = try makeTemporaryDirectory(self)
        for scale in [1, 3] {
            for character in Array("Ag7?~%yq") {
                var image = RGBAImage(width: 8 * scale, height: 11 * scale, fill: .white)
                let top = scale * (1 + font.verticalOffset(of: character))
                image.draw(text: String(character), at: (scale, scale), color: .black, scale: scale)
                let back = try roundTrip(image, name: "glyph.png", in: dir)
                let rows = BitmapFont.standardGlyphRows[character]!.split(separator: " ").map(Array.init)
                for py in 0..<7 * scale {
                    for px in 0..<5 * scale {
                        let inked = rows[py / scale][px / scale] == "#"
                        XCTAssertEqual(back.pixel(x: scale + px, y: top + py), inked ? .black : .white,
                                       "'\(character)' scale \(scale) at (\(px), \(py))")
                        XCTAssertEqual(font.isInked(character, column: px / scale, row: py / scale), inked)
                    }
                }
                // Nothing outside the glyph box.
                let inside = back.countPixels(x: scale, y: top, width: 5 * scale, height: 7 * scale) { $0 == .black }
                XCTAssertEqual(back.countPixels { $0 == .black }, inside)
                XCTAssertGreaterThan(inside, 0)
            }
        }
    }

    func testEveryPrintableASCIICharacterHasADistinctGlyph() {
        var seen: [String: Character] = [:]
        for code in 32...126 {
            let c = Character(UnicodeScalar(UInt8(code)))
            XCTAssertEqual(font.glyphCharacter(for: c), c)
            let key = "\(font.verticalOffset(of: c))" + (0..<7).map { row in (0..<5).map { font.isInked(c, column: $0, row: row) ? "#" : "." }.joined() }.joined()
            if let other = seen[key] { XCTFail("'\(c)' and '\(other)' share a glyph") }
            seen[key] = c
            if c != " " { XCTAssertTrue(key.contains("#"), "'\(c)' has no ink") }
        }
        XCTAssertEqual(font.glyphCharacter(for: "é"), "?")
    }

    func testMeasureMatchesDrawnExtent() {
        let text = "true: cat\npred: dog"
        let size = font.measure(text: text, scale: 2)
        XCTAssertEqual(size.width, (6 * 9 - 1) * 2)
        XCTAssertEqual(size.height, (9 + 7 + 2) * 2)  // "g" hangs below the last line
        var image = RGBAImage(width: 200, height: 60, fill: .white)
        image.draw(text: text, at: (4, 4), color: .black, scale: 2)
        var minX = Int.max, maxX = Int.min, minY = Int.max, maxY = Int.min
        for y in 0..<image.height {
            for x in 0..<image.width where image.pixel(x: x, y: y) == .black {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        XCTAssertGreaterThanOrEqual(minX, 4)
        XCTAssertLessThanOrEqual(maxX, 4 + size.width - 1)
        XCTAssertGreaterThanOrEqual(minY, 4)
        XCTAssertLessThanOrEqual(maxY, 4 + size.height - 1)
        let empty = font.measure(text: "")
        XCTAssertEqual(empty.width, 0)
        XCTAssertEqual(empty.height, 0)
    }

    /// g, p, q, y hang below the baseline that a, 9 and the capitals sit on, so "gap" and "9ap" differ in shape.
    func testDescendersHangBelowTheBaseline() {
        func lowestInkedRow(_ c: Character) -> Int {
            let row = (0..<7).last { row in (0..<5).contains { font.isInked(c, column: $0, row: row) } }!
            return font.verticalOffset(of: c) + row
        }
        for c in Array("gpqy") { XCTAssertEqual(lowestInkedRow(c), 8, "'\(c)'") }
        for c in Array("a9AZbx") { XCTAssertEqual(lowestInkedRow(c), 6, "'\(c)'") }
        XCTAssertEqual(font.measure(text: "ab").height, 7)
        XCTAssertEqual(font.measure(text: "gap").height, 9)
    }

    func testWrapKeepsLinesWithinWidthAndKeepsAllWords() {
        let text = "Category confidence maps are defined for GAP heads; this trial's FC head has hidden layers."
        let lines = font.wrap(text: text, maxWidth: 120)
        XCTAssertGreaterThan(lines.count, 1)
        for line in lines { XCTAssertLessThanOrEqual(font.measure(text: line).width, 120, line) }
        XCTAssertEqual(lines.joined(separator: " "), text)
        // A word longer than a line is cut.
        let cut = font.wrap(text: "abcdefghijklmnop", maxWidth: 29)   // 5 characters per line
        XCTAssertEqual(cut, ["abcde", "fghij", "klmno", "p"])
        XCTAssertEqual(font.truncate(text: "automobile", maxWidth: 35), "autom.")
        XCTAssertEqual(font.truncate(text: "cat", maxWidth: 35), "cat")
    }
}
