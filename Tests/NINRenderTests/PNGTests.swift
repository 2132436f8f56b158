import CPNG
import Foundation
import XCTest
@testable import NINRender

final class PNGTests: XCTestCase {
    /// An image with a distinct colour at every pixel, so any row/column mix-up shows.
    private func gradientImage(width: Int, height: Int, alpha: Bool) -> RGBAImage {
        var image = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image.setPixel(x: x, y: y, RGBA(UInt8(x * 7 % 256), UInt8(y * 11 % 256), UInt8((x * y) % 256),
                                                alpha ? UInt8((x + y) % 256) : 255))
            }
        }
        return image
    }

    func testRoundTripOpaqueImageWritesRGBAndReadsBackIdentical() throws {
        let dir = try makeTemporaryDirectory(self)
        let image = gradientImage(width: 37, height: 23, alpha: false)
        let back = try roundTrip(image, name: "rgb.png", in: dir)
        XCTAssertEqual(back.width, 37)
        XCTAssertEqual(back.height, 23)
        XCTAssertEqual(back, image)
        // Colour type byte of IHDR (offset 25): 2 = truecolour RGB, bit depth (offset 24) 8.
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("rgb.png")))
        XCTAssertEqual(Array(bytes.prefix(8)), [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature")
        XCTAssertEqual(bytes[24], 8)
        XCTAssertEqual(bytes[25], 2)
    }

    func testRoundTripTranslucentImageWritesRGBA() throws {
        let dir = try makeTemporaryDirectory(self)
        let image = gradientImage(width: 16, height: 9, alpha: true)
        XCTAssertFalse(image.isOpaque)
        let back = try roundTrip(image, name: "rgba.png", in: dir)
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("rgba.png")))
        XCTAssertEqual(bytes[25], 6, "colour type 6 = RGBA")
        // libpng's simplified reader un-premultiplies nothing for RGBA8 in, RGBA8 out: exact.
        XCTAssertEqual(back, image)
    }

    func testEncodeMatchesFileAndIsDeterministic() throws {
        let dir = try makeTemporaryDirectory(self)
        let image = gradientImage(width: 40, height: 30, alpha: false)
        let first = try PNG.encode(image)
        let second = try PNG.encode(image)
        XCTAssertEqual(first, second)
        let url = dir.appendingPathComponent("a.png")
        try PNG.write(image, to: url)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), first)
        // No tIME or text chunks.
        let text = String(decoding: first, as: UTF8.self)
        for chunk in ["tIME", "tEXt", "zTXt", "iTXt"] {
            XCTAssertFalse(text.contains(chunk), "unexpected \(chunk) chunk")
        }
    }

    func testWriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("nested/deeper/out.png")
        try PNG.write(gradientImage(width: 8, height: 8, alpha: false), to: url)
        try PNG.write(gradientImage(width: 5, height: 3, alpha: false), to: url)   // replaces
        let back = try PNG.read(from: url)
        XCTAssertEqual(back.width, 5)
        XCTAssertEqual(back.height, 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        XCTAssertEqual(names, ["out.png"])
    }

    func testReadingMissingOrCorruptFileThrowsWithPath() throws {
        let dir = try makeTemporaryDirectory(self)
        let missing = dir.appendingPathComponent("missing.png")
        XCTAssertThrowsError(try PNG.read(from: missing)) { error in
            guard case let RenderError.readFailed(path, _) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertEqual(path, missing.path)
        }
        let corrupt = dir.appendingPathComponent("corrupt.png")
        try Data("this is not a PNG file at all".utf8).write(to: corrupt)
        XCTAssertThrowsError(try PNG.read(from: corrupt)) { error in
            guard case let RenderError.readFailed(path, message) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertEqual(path, corrupt.path)
            XCTAssertFalse(message.isEmpty)
        }
    }

    func testWritingIntoAFileAsDirectoryThrowsWithPath() throws {
        let dir = try makeTemporaryDirectory(self)
        let blocker = dir.appendingPathComponent("blocker")
        try Data([1, 2, 3]).write(to: blocker)
        let url = blocker.appendingPathComponent("out.png")
        XCTAssertThrowsError(try PNG.write(RGBAImage(width: 2, height: 2), to: url)) { error in
            guard case let RenderError.writeFailed(path, _) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertEqual(path, url.path)
        }
        XCTAssertThrowsError(try PNG.encode(RGBAImage(width: 0, height: 4)))
    }

    func testPixelInitialiserChecksByteCount() {
        XCTAssertThrowsError(try RGBAImage(width: 3, height: 2, pixels: [UInt8](repeating: 0, count: 23))) { error in
            XCTAssertEqual(error as? RenderError,
                           .shapeMismatch(what: "RGBAImage pixels for 3×2", expected: "24 bytes", found: "23 bytes"))
        }
    }
}
