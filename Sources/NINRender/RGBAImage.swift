// A row-major RGBA8 raster image: the canvas every renderer draws on.

/// A raster image stored row-major as 8-bit RGBA: pixel (x, y) occupies
/// `pixels[4·(y·width + x) ..< 4·(y·width + x) + 4]` as r, g, b, a.
///
/// The origin is the top-left corner; x grows to the right and y downwards. Drawing helpers
/// (in `RGBAImage+Drawing.swift`) clip to the image silently, so shapes may extend past the edges.
public struct RGBAImage: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Row-major RGBA8 samples, `width · height · 4` bytes.
    public var pixels: [UInt8]

    /// Creates a `width × height` image filled with `color`.
    ///
    /// - Precondition: `width ≥ 0` and `height ≥ 0`.
    public init(width: Int, height: Int, fill color: RGBA = .white) {
        precondition(width >= 0 && height >= 0, "RGBAImage: negative size \(width)×\(height)")
        self.width = width
        self.height = height
        var buffer = [UInt8](repeating: 0, count: width * height * 4)
        for i in stride(from: 0, to: buffer.count, by: 4) {
            buffer[i] = color.r; buffer[i + 1] = color.g; buffer[i + 2] = color.b; buffer[i + 3] = color.a
        }
        self.pixels = buffer
    }

    /// Wraps existing row-major RGBA8 samples.
    ///
    /// - Throws: `RenderError.shapeMismatch` if `pixels.count != width · height · 4`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width >= 0, height >= 0 else {
            throw RenderError.invalidValue(what: "RGBAImage size", expected: "width ≥ 0 and height ≥ 0",
                                           found: "\(width)×\(height)")
        }
        guard pixels.count == width * height * 4 else {
            throw RenderError.shapeMismatch(what: "RGBAImage pixels for \(width)×\(height)",
                                            expected: "\(width * height * 4) bytes", found: "\(pixels.count) bytes")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Whether (x, y) lies inside the image.
    @inlinable
    public func contains(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < width && y < height
    }

    /// The colour at (x, y).
    ///
    /// - Precondition: (x, y) lies inside the image.
    public func pixel(x: Int, y: Int) -> RGBA {
        precondition(contains(x: x, y: y), "RGBAImage.pixel: (\(x), \(y)) outside \(width)×\(height)")
        let i = 4 * (y * width + x)
        return RGBA(pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
    }

    /// Sets the colour at (x, y) (replacing, not blending); points outside the image are ignored.
    @inlinable
    mutating func setPixel(x: Int, y: Int, _ color: RGBA) {
        guard contains(x: x, y: y) else { return }
        let i = 4 * (y * width + x)
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b; pixels[i + 3] = color.a
    }

    /// Whether every pixel has alpha 255 (such an image is written as 8-bit RGB).
    var isOpaque: Bool {
        var i = 3
        while i < pixels.count {
            if pixels[i] != 255 { return false }
            i += 4
        }
        return true
    }

    /// Counts the pixels inside the rectangle (clipped to the image) whose colour satisfies `predicate`.
    func countPixels(x: Int = 0, y: Int = 0, width w: Int? = nil, height h: Int? = nil,
                            where predicate: (RGBA) -> Bool) -> Int {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + (w ?? width)), y1 = min(height, y + (h ?? height))
        var count = 0
        if x0 >= x1 || y0 >= y1 { return 0 }
        for py in y0..<y1 {
            for px in x0..<x1 where predicate(pixel(x: px, y: py)) {
                count += 1
            }
        }
        return count
    }
}
