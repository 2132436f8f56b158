import XCTest
@testable import NINRender

/// The colour map and the resampling the sheets use.
final class ColorMapAndResampleTests: XCTestCase {

    func testViridisEndpointsAndMidpoint() {
        let viridis = ColorMap.viridis
        XCTAssertEqual(viridis.table.count, 256)
        XCTAssertEqual(viridis.rgba(at: 0).description, "#440154")
        XCTAssertEqual(viridis.rgba(at: 1).description, "#FDE725")
        XCTAssertEqual(viridis.table[128].description, "#21918C")
        let c = viridis.color(at: 1)
        XCTAssertEqual([c.r, c.g, c.b], [0xFD, 0xE7, 0x25])
        XCTAssertEqual(viridis.rgba(at: -3), viridis.rgba(at: 0))
        XCTAssertEqual(viridis.rgba(at: 7), viridis.rgba(at: 1))
        XCTAssertEqual(viridis.index(at: 0.5), 128)
        XCTAssertEqual(viridis.index(at: .nan), 0)
        // The table is a smooth path: neighbouring entries differ by at most a few levels per channel.
        for i in 1..<256 {
            let a = viridis.table[i - 1], b = viridis.table[i]
            XCTAssertLessThanOrEqual(max(abs(Int(a.r) - Int(b.r)), abs(Int(a.g) - Int(b.g)), abs(Int(a.b) - Int(b.b))), 3)
        }
        // Lightness rises monotonically (viridis is sequential): compare Rec. 709 luma of the endpoints and middle.
        func luma(_ c: RGBA) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }
        XCTAssertLessThan(luma(viridis.table[0]), luma(viridis.table[128]))
        XCTAssertLessThan(luma(viridis.table[128]), luma(viridis.table[255]))
    }

    func testBilinearMatchesHalfPixelFormula() {
        // 2×2 → 4×4: source coordinates −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
        let out = Resample.bilinear([0, 4, 8, 12], height: 2, width: 2, outHeight: 4, outWidth: 4)
        let weights: [Float] = [0, 0.25, 0.75, 1]
        for y in 0..<4 {
            for x in 0..<4 {
                let expected = 8 * weights[y] + 4 * weights[x]
                XCTAssertEqual(out[y * 4 + x], expected, accuracy: 1e-6, "(\(x), \(y))")
            }
        }
        // A constant map stays constant; a 1×1 map fills the output.
        XCTAssertEqual(Set(Resample.bilinear([3, 3, 3, 3, 3, 3], height: 2, width: 3, outHeight: 5, outWidth: 7)), [3])
        XCTAssertEqual(Resample.bilinear([2.5], height: 1, width: 1, outHeight: 3, outWidth: 2), [2.5, 2.5, 2.5, 2.5, 2.5, 2.5])
    }

    func testNearestReplicatesBlocksPerChannel() {
        // 2×2×2 HWC → 4×4×2: each source pixel becomes a 2×2 block.
        let src: [Float] = [1, -1, 2, -2, 3, -3, 4, -4]
        let out = Resample.nearest(src, height: 2, width: 2, channels: 2, outHeight: 4, outWidth: 4)
        for y in 0..<4 {
            for x in 0..<4 {
                let s = (y / 2) * 2 + x / 2
                XCTAssertEqual(out[(y * 4 + x) * 2], src[s * 2])
                XCTAssertEqual(out[(y * 4 + x) * 2 + 1], src[s * 2 + 1])
            }
        }
    }
}
