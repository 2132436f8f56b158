// A 2-D drawing context backed by Cairo (https://www.cairographics.org): antialiased lines and
// text in a real font (DejaVu Sans, Debian `fonts-dejavu-core`), written as PNG, PDF or SVG.

import CCairo
import Foundation

/// The file formats a ``Figure`` can be written as.
public enum FigureFormat: String, CaseIterable, Sendable {
    /// Raster, 1 pixel per layout unit, through libpng (``PNG``).
    case png
    /// Vector PDF (text stays text), 1 point (1/72 in) per layout unit.
    case pdf
    /// Vector SVG, 1 user unit per layout unit.
    case svg
}

/// The weight of a text run.
public enum FontWeight: Sendable { case regular, bold }

/// Where a text run sits relative to the `x` it is drawn at.
public enum TextAnchor: Sendable { case left, center, right }

/// A drawing context: layout units are pixels in a PNG and points in a PDF or SVG; the origin is
/// the top-left corner, y grows downwards.
///
/// Text is set in DejaVu Sans through Cairo's font selection (fontconfig); sizes are in layout
/// units (the em size). Colours are `RGBA` (opaque); shapes are filled or stroked at once.
public final class Canvas {
    let cr: OpaquePointer
    /// The sans-serif family every text run uses.
    static let fontFamily = "DejaVu Sans"

    init(context: OpaquePointer) { cr = context }

    // MARK: - Shapes

    /// Fills the axis-aligned rectangle with corner (x, y) and the given size.
    func fillRect(x: Double, y: Double, width: Double, height: Double, color: RGBA, opacity: Double = 1) {
        setColor(color, opacity: opacity)
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }

    /// Strokes a polyline through `points` (at least 2) with a line `width` units wide; `dash` gives
    /// on/off lengths (empty: solid).
    func strokeLine(_ points: [(x: Double, y: Double)], color: RGBA, width: Double, dash: [Double] = []) {
        guard points.count >= 2 else { return }
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    /// Fills the polygon through `points` (closed automatically).
    func fillPolygon(_ points: [(x: Double, y: Double)], color: RGBA, opacity: Double = 1) {
        guard points.count >= 3 else { return }
        setColor(color, opacity: opacity)
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_close_path(cr)
        cairo_fill(cr)
    }

    /// Fills a circle of `radius` units centred at (x, y).
    func fillCircle(x: Double, y: Double, radius: Double, color: RGBA) {
        setColor(color)
        cairo_new_sub_path(cr)
        cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(cr)
    }

    /// Paints `image` with its top-left corner at (x, y), one image pixel per layout unit, without
    /// smoothing (each pixel stays a crisp square in PNG and PDF alike).
    func drawImage(_ image: RGBAImage, x: Double, y: Double) {
        guard image.width > 0, image.height > 0 else { return }
        let stride = Int(cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, Int32(image.width)))
        var bytes = [UInt8](repeating: 0, count: stride * image.height)
        for row in 0..<image.height {
            for column in 0..<image.width {
                let source = (row * image.width + column) * 4
                let target = row * stride + column * 4
                // CAIRO_FORMAT_RGB24: a native-endian 32-bit 0x00RRGGBB word per pixel.
                let word = UInt32(image.pixels[source]) << 16 | UInt32(image.pixels[source + 1]) << 8 | UInt32(image.pixels[source + 2])
                withUnsafeBytes(of: word) { for i in 0..<4 { bytes[target + i] = $0[i] } }
            }
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            let surface = cairo_image_surface_create_for_data(buffer.baseAddress, CAIRO_FORMAT_RGB24,
                                                              Int32(image.width), Int32(image.height), Int32(stride))
            cairo_save(cr)
            cairo_set_source_surface(cr, surface, x, y)
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
            cairo_rectangle(cr, x, y, Double(image.width), Double(image.height))
            cairo_fill(cr)
            cairo_restore(cr)
            cairo_surface_finish(surface)
            cairo_surface_destroy(surface)
        }
    }

    // MARK: - Text

    /// Draws `text` in one line at `size` units, with `y` the top of the line box (ascent above the
    /// baseline) and `x` the left edge, centre or right edge according to `anchor`.
    public func text(_ text: String, x: Double, y: Double, size: Double, color: RGBA,
                     weight: FontWeight = .regular, anchor: TextAnchor = .left) {
        setFont(size: size, weight: weight)
        var font = cairo_font_extents_t()
        cairo_font_extents(cr, &font)
        let width = advance(text)
        let left: Double
        switch anchor {
        case .left: left = x
        case .center: left = x - width / 2
        case .right: left = x - width
        }
        setColor(color)
        cairo_move_to(cr, left, y + font.ascent)
        cairo_show_text(cr, text)
    }

    /// Draws `text` rotated a quarter turn anticlockwise (reading upwards), centred on (x, y).
    func verticalText(_ text: String, x: Double, y: Double, size: Double, color: RGBA) {
        cairo_save(cr)
        cairo_translate(cr, x, y)
        cairo_rotate(cr, -Double.pi / 2)
        self.text(text, x: 0, y: -size * 0.6, size: size, color: color, anchor: .center)
        cairo_restore(cr)
    }

    /// The advance width of `text` at `size` units, in layout units.
    func textWidth(_ text: String, size: Double, weight: FontWeight = .regular) -> Double {
        setFont(size: size, weight: weight)
        return advance(text)
    }

    /// The height of one line of text at `size` units (ascent + descent), in layout units.
    func lineHeight(size: Double, weight: FontWeight = .regular) -> Double {
        setFont(size: size, weight: weight)
        var font = cairo_font_extents_t()
        cairo_font_extents(cr, &font)
        return font.ascent + font.descent
    }

    /// `text` shortened with "…" so that it fits in `maxWidth` units.
    public func truncated(_ text: String, size: Double, maxWidth: Double, weight: FontWeight = .regular) -> String {
        if textWidth(text, size: size, weight: weight) <= maxWidth { return text }
        var characters = Array(text)
        while !characters.isEmpty {
            characters.removeLast()
            let candidate = String(characters) + "…"
            if textWidth(candidate, size: size, weight: weight) <= maxWidth { return candidate }
        }
        return ""
    }

    /// Splits `text` into lines at spaces (a word longer than the width gets a line of its own)
    /// so that each line fits in `maxWidth` units; explicit newlines are kept.
    public func wrapped(_ text: String, size: Double, maxWidth: Double, weight: FontWeight = .regular) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                let candidate = line.isEmpty ? String(word) : line + " " + word
                if line.isEmpty || textWidth(candidate, size: size, weight: weight) <= maxWidth {
                    line = candidate
                } else {
                    lines.append(line)
                    line = String(word)
                }
            }
            lines.append(line)
        }
        return lines
    }

    // MARK: - State

    private func setColor(_ color: RGBA, opacity: Double = 1) {
        cairo_set_source_rgba(cr, Double(color.r) / 255, Double(color.g) / 255, Double(color.b) / 255, opacity)
    }

    private func setFont(size: Double, weight: FontWeight) {
        cairo_select_font_face(cr, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               weight == .bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    private func advance(_ text: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    // MARK: - Surfaces

    /// Runs `body` with a canvas on a scratch surface, for measuring text before a layout is fixed.
    public static func measuring<T>(_ body: (Canvas) -> T) -> T {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1)!
        let context = cairo_create(surface)!
        defer { cairo_destroy(context); cairo_surface_destroy(surface) }
        return body(Canvas(context: context))
    }

    /// Draws onto a white `width × height` raster and returns its pixels (opaque RGBA).
    /// - Precondition: both sizes are at least 1.
    static func raster(width: Int, height: Int, draw: (Canvas) -> Void) -> RGBAImage {
        precondition(width >= 1 && height >= 1, "Canvas.raster: size \(width)×\(height)")
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        let context = cairo_create(surface)!
        defer { cairo_destroy(context); cairo_surface_destroy(surface) }
        cairo_set_source_rgb(context, 1, 1, 1)
        cairo_paint(context)
        draw(Canvas(context: context))
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var image = RGBAImage(width: width, height: height)
        for row in 0..<height {
            for column in 0..<width {
                var word: UInt32 = 0
                withUnsafeMutableBytes(of: &word) { out in
                    for i in 0..<4 { out[i] = data[row * stride + column * 4 + i] }
                }
                image.setPixel(x: column, y: row, RGBA(UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)))
            }
        }
        return image
    }

    /// Draws onto a white `width × height` vector page and writes it to `url` as PDF or SVG
    /// (through a temporary file and a rename, so a reader never sees a half-written file).
    /// - Throws: `RenderError.writeFailed` when Cairo cannot write the file.
    static func writeVector(_ format: FigureFormat, width: Int, height: Int, to url: URL,
                                   draw: (Canvas) -> Void) throws {
        precondition(format != .png, "Canvas.writeVector: PNG is a raster format")
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        let surface: OpaquePointer = format == .pdf
            ? cairo_pdf_surface_create(temporary.path, Double(width), Double(height))
            : cairo_svg_surface_create(temporary.path, Double(width), Double(height))
        if format == .pdf {
            // No creation date: the same figure gives the same bytes.
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "")
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "nin-study")
        }
        let context = cairo_create(surface)!
        cairo_set_source_rgb(context, 1, 1, 1)
        cairo_paint(context)
        draw(Canvas(context: context))
        cairo_show_page(context)
        cairo_destroy(context)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            try? FileManager.default.removeItem(at: temporary)
            throw RenderError.writeFailed(path: url.path, message: String(cString: cairo_status_to_string(status)))
        }
        do {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw RenderError.writeFailed(path: url.path, message: "\(error)")
        }
    }
}

/// Something drawn on a ``Canvas`` of a fixed size, written as PNG, PDF or SVG.
public protocol Figure {
    /// The figure's size in layout units (pixels in PNG, points in PDF/SVG).
    var size: (width: Int, height: Int) { get }
    /// Draws the figure; the canvas is white and exactly `size`.
    func draw(on canvas: Canvas)
}

extension Figure {
    /// The figure as a raster, one pixel per layout unit.
    public func render() -> RGBAImage {
        let (width, height) = size
        return Canvas.raster(width: width, height: height, draw: draw(on:))
    }

    /// Writes the figure to `url` in `format` (the extension of `url` is the caller's choice).
    /// - Throws: `RenderError.writeFailed` / `.encodeFailed`.
    public func write(_ format: FigureFormat, to url: URL) throws {
        switch format {
        case .png: try PNG.write(render(), to: url)
        case .pdf, .svg:
            let (width, height) = size
            try Canvas.writeVector(format, width: width, height: height, to: url, draw: draw(on:))
        }
    }

    /// Writes the figure as `<stem>.<format>` for each format, e.g. `learning-curves.png` and
    /// `learning-curves.pdf`. - Returns: the files written, in `formats` order.
    /// - Throws: `RenderError.writeFailed` / `.encodeFailed`.
    public func write(stem: URL, formats: [FigureFormat]) throws -> [URL] {
        try formats.map { format in
            let url = stem.appendingPathExtension(format.rawValue)
            try write(format, to: url)
            return url
        }
    }
}
