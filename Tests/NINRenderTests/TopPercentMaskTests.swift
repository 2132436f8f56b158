import XCTest
@testable import NINRender

final class TopPercentMaskTests: XCTestCase {
    func testKeepsExactlyCeilingOfPercentOfCount() {
        var generator = SplitMix64(seed: 7)
        for count in [0, 1, 7, 10, 30, 64, 490, 640, 1001] {
            let values = (0..<count).map { _ in Float(generator.nextDouble() * 10 - 5) }
            for percent in [0.0, 1, 10, 12.5, 33.3, 50, 100] {
                let expected = Int((percent * Double(count) / 100 - 1e-9).rounded(.up))
                let mask = topPercentMask(values: values, percent: percent)
                XCTAssertEqual(mask.count, count)
                XCTAssertEqual(mask.filter { $0 }.count, max(0, min(count, expected)), "count \(count), \(percent) %")
                // Every kept value is ≥ every dropped one.
                let kept = zip(values, mask).filter { $0.1 }.map(\.0)
                let dropped = zip(values, mask).filter { !$0.1 }.map(\.0)
                if let lowestKept = kept.min(), let highestDropped = dropped.max() {
                    XCTAssertGreaterThanOrEqual(lowestKept, highestDropped)
                }
            }
        }
        // The paper's setting on a 7×7×10 row and on a 30-value row (0.1 · 30 is 3.0000000000000004 in floating point).
        let ramp490 = (0..<490).map { Float($0) }, ramp30 = (0..<30).map { Float($0) }
        XCTAssertEqual(topPercentMask(values: ramp490, percent: 10).filter { $0 }.count, 49)
        XCTAssertEqual(topPercentMask(values: ramp30, percent: 10).filter { $0 }.count, 3)
        XCTAssertEqual(topPercentCount(count: 8 * 8 * 10, percent: 10), 64)
    }

    /// Issue 13 item 5: a constant map has no hot region, so the top-10 % sheet must light nothing
    /// (breaking the tie by raster order lit a band along the top of every map).
    func testConstantMapKeepsNothing() {
        XCTAssertEqual(topPercentMask(values: [Float](repeating: 1, count: 490), percent: 10).filter { $0 }.count, 0)
        XCTAssertEqual(topPercentMask(values: [Float](repeating: 0, count: 640), percent: 10).filter { $0 }.count, 0)
        XCTAssertEqual(topPercentMask(values: [Float](repeating: 3, count: 10), percent: 100).filter { $0 }.count, 10,
                       "100 % keeps every value, ties included")
    }

    func testTiesStraddlingTheCutAreDroppedWholeAndNaNIsNeverKept() {
        // Four tied maxima and k = 2: the tie does not fit, and nothing is above it.
        let values: [Float] = [0, 5, 1, 5, 5, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(topPercentMask(values: values, percent: 10).filter { $0 }.count, 0)
        // k = 5: the four 5s fit, the 2 (the fifth largest, untied) is kept too.
        XCTAssertEqual(topPercentMask(values: values, percent: 25).enumerated().filter { $0.element }.map(\.offset), [1, 3, 4, 5, 6])
        // Mostly ReLU zeros: only the positive activations survive, though k is larger.
        var relu = [Float](repeating: 0, count: 100); relu[17] = 0.5; relu[60] = 2
        XCTAssertEqual(topPercentMask(values: relu, percent: 10).enumerated().filter { $0.element }.map(\.offset), [17, 60])
        // The result does not depend on the order of the values.
        XCTAssertEqual(topPercentMask(values: values.reversed(), percent: 25), topPercentMask(values: values, percent: 25).reversed())
        let withNaN: [Float] = [.nan, -.infinity, .nan, -1]
        XCTAssertEqual(topPercentMask(values: withNaN, percent: 50), [false, true, false, true])
        XCTAssertEqual(topPercentMask(values: withNaN, percent: 75), [false, true, false, true])
    }
}

/// SplitMix64: a tiny deterministic generator for test data (Steele, Lea, Flood 2014).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
