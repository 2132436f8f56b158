import Foundation
import XCTest
@testable import NINRender

/// A fresh temporary directory, removed when the test case finishes.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("NINRenderTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `image` as PNG into `directory` and reads it back through libpng.
func roundTrip(_ image: RGBAImage, name: String, in directory: URL) throws -> RGBAImage {
    let url = directory.appendingPathComponent(name)
    try PNG.write(image, to: url)
    return try PNG.read(from: url)
}

/// When NINRENDER_SAMPLE_DIR is set, also keeps a copy of a rendered sample there for inspection.
func keepSample(_ image: RGBAImage, name: String) throws {
    guard let dir = ProcessInfo.processInfo.environment["NINRENDER_SAMPLE_DIR"] else { return }
    try PNG.write(image, to: URL(fileURLWithPath: dir).appendingPathComponent(name))
}

/// A deterministic 2-D Gaussian blob centred at (cy, cx) on an h×w grid, values in (0, peak].
func gaussianBlob(height: Int, width: Int, cy: Float, cx: Float, sigma: Float, peak: Float) -> [Float] {
    var out = [Float](repeating: 0, count: height * width)
    for y in 0..<height {
        for x in 0..<width {
            let d2 = (Float(y) - cy) * (Float(y) - cy) + (Float(x) - cx) * (Float(x) - cx)
            out[y * width + x] = peak * exp(-d2 / (2 * sigma * sigma))
        }
    }
    return out
}
