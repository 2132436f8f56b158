// Drawing primitives on RGBAImage: fill, rectangles, lines, triangles, blitting.
// All primitives replace pixels (no blending) and clip to the image bounds.

extension RGBAImage {
    /// Fills the whole image with `color`.
    public mutating func fill(_ color: RGBA) {
        fillRect(x: 0, y: 0, width: width, height: height, color: color)
    }

    /// Fills the axis-aligned rectangle with top-left corner (x, y) and size `width × height` pixels.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBA) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        pixels.withUnsafeMutableBufferPointer { buffer in
            for py in y0..<y1 {
                var i = 4 * (py * width + x0)
                for _ in x0..<x1 {
                    buffer[i] = color.r; buffer[i + 1] = color.g; buffer[i + 2] = color.b; buffer[i + 3] = color.a
                    i += 4
                }
            }
        }
    }

    /// Draws the outline of a rectangle: a band `thickness` pixels wide lying *inside* the rectangle
    /// with top-left corner (x, y) and size `width × height`.
    public mutating func outlineRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBA, thickness: Int = 1) {
        let t = max(1, thickness)
        fillRect(x: x, y: y, width: w, height: t, color: color)                 // top
        fillRect(x: x, y: y + h - t, width: w, height: t, color: color)         // bottom
        fillRect(x: x, y: y + t, width: t, height: h - 2 * t, color: color)     // left
        fillRect(x: x + w - t, y: y + t, width: t, height: h - 2 * t, color: color) // right
    }

    /// Draws a straight line from (x0, y0) to (x1, y1), both ends included (Bresenham's algorithm),
    /// stamping a `thickness × thickness` square centred on each point.
    public mutating func line(from p0: (x: Int, y: Int), to p1: (x: Int, y: Int), color: RGBA, thickness: Int = 1) {
        let t = max(1, thickness)
        let offset = (t - 1) / 2
        var x = p0.x, y = p0.y
        let dx = abs(p1.x - p0.x), dy = -abs(p1.y - p0.y)
        let sx = p0.x < p1.x ? 1 : -1, sy = p0.y < p1.y ? 1 : -1
        var err = dx + dy
        while true {
            if t == 1 { setPixel(x: x, y: y, color) } else { fillRect(x: x - offset, y: y - offset, width: t, height: t, color: color) }
            if x == p1.x && y == p1.y { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Fills the triangle with the given vertices: every pixel whose centre lies inside or on an edge.
    public mutating func fillTriangle(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), _ c: (x: Int, y: Int), color: RGBA) {
        let minX = max(0, min(a.x, b.x, c.x)), maxX = min(width - 1, max(a.x, b.x, c.x))
        let minY = max(0, min(a.y, b.y, c.y)), maxY = min(height - 1, max(a.y, b.y, c.y))
        guard minX <= maxX, minY <= maxY else { return }
        // Edge functions evaluated at pixel centres, in doubled coordinates to stay in integers.
        func edge(_ p: (x: Int, y: Int), _ q: (x: Int, y: Int), _ px: Int, _ py: Int) -> Int {
            (2 * q.x - 2 * p.x) * (py - 2 * p.y) - (2 * q.y - 2 * p.y) * (px - 2 * p.x)
        }
        for py in minY...maxY {
            for px in minX...maxX {
                let cx = 2 * px + 1, cy = 2 * py + 1
                let e0 = edge(a, b, cx, cy), e1 = edge(b, c, cx, cy), e2 = edge(c, a, cx, cy)
                if (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0) {
                    setPixel(x: px, y: py, color)
                }
            }
        }
    }

    /// Copies `source` into this image with its top-left corner at (x, y), replacing pixels; parts
    /// falling outside this image are clipped.
    public mutating func blit(_ source: RGBAImage, x: Int, y: Int) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + source.width), y1 = min(height, y + source.height)
        guard x0 < x1, y0 < y1 else { return }
        let rowBytes = 4 * (x1 - x0)
        pixels.withUnsafeMutableBufferPointer { dst in
            source.pixels.withUnsafeBufferPointer { src in
                for py in y0..<y1 {
                    let d = 4 * (py * width + x0)
                    let s = 4 * ((py - y) * source.width + (x0 - x))
                    for k in 0..<rowBytes { dst[d + k] = src[s + k] }
                }
            }
        }
    }
}
