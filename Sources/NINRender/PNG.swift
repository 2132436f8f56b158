// PNG encoding and decoding through libpng's simplified API (png_image_*), libpng ≥ 1.6.
// Spec: PNG (Third Edition), W3C; libpng manual, "Simplified API".

import CPNG
import Foundation

/// PNG input and output for `RGBAImage`, through libpng's simplified API.
///
/// Images whose alpha is 255 everywhere are written as 8-bit RGB, others as 8-bit RGBA. The
/// simplified writer emits no time stamp and no text chunks, so identical images give
/// byte-identical files (for a given libpng and zlib build).
public enum PNG {
    /// Encodes `image` as PNG bytes in memory (`png_image_write_to_memory`).
    ///
    /// - Throws: `RenderError.encodeFailed` with libpng's message if libpng refuses the image.
    public static func encode(_ image: RGBAImage) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw RenderError.encodeFailed(message: "image is \(image.width)×\(image.height); PNG needs at least 1×1")
        }
        let rgb = image.isOpaque ? dropAlpha(image) : nil
        var png = makeHeader(image, rgb: rgb != nil)
        let source = rgb ?? image.pixels
        let stride = Int32(image.width * (rgb != nil ? 3 : 4))
        var size = 0
        let sized = source.withUnsafeBytes { buffer in
            png_image_write_to_memory(&png, nil, &size, 0, buffer.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else {
            defer { png_image_free(&png) }
            throw RenderError.encodeFailed(message: message(of: png))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var png2 = makeHeader(image, rgb: rgb != nil)
        let written = bytes.withUnsafeMutableBytes { out in
            source.withUnsafeBytes { buffer in
                png_image_write_to_memory(&png2, out.baseAddress, &size, 0, buffer.baseAddress, stride, nil)
            }
        }
        guard written != 0 else {
            defer { png_image_free(&png2) }
            throw RenderError.encodeFailed(message: message(of: png2))
        }
        return Array(bytes.prefix(size))
    }

    /// Writes `image` to `url` atomically: libpng writes a temporary file in the same directory
    /// (`png_image_write_to_file`), which is then renamed over `url`. Missing parent directories
    /// are created.
    ///
    /// - Throws: `RenderError.writeFailed` with the path and the cause (libpng's message or the
    ///   file-system error).
    public static func write(_ image: RGBAImage, to url: URL) throws {
        let path = url.path
        guard image.width > 0, image.height > 0 else {
            throw RenderError.writeFailed(path: path, message: "image is \(image.width)×\(image.height); PNG needs at least 1×1")
        }
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RenderError.writeFailed(path: path, message: "cannot create directory \(directory.path): \(error)")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let rgb = image.isOpaque ? dropAlpha(image) : nil
        var png = makeHeader(image, rgb: rgb != nil)
        let stride = Int32(image.width * (rgb != nil ? 3 : 4))
        let ok = (rgb ?? image.pixels).withUnsafeBytes { buffer in
            png_image_write_to_file(&png, temporary, 0, buffer.baseAddress, stride, nil)
        }
        guard ok != 0 else {
            let text = message(of: png)
            png_image_free(&png)
            unlink(temporary)
            throw RenderError.writeFailed(path: path, message: text)
        }
        if rename(temporary, path) != 0 {
            let text = String(cString: strerror(errno))
            unlink(temporary)
            throw RenderError.writeFailed(path: path, message: "rename from \(temporary) failed: \(text)")
        }
    }

    /// Reads the PNG at `url` and converts it to 8-bit RGBA (`png_image_begin_read_from_file`,
    /// `png_image_finish_read`); grayscale, palette and 16-bit files are converted by libpng.
    ///
    /// - Throws: `RenderError.readFailed` with the path and libpng's message.
    public static func read(from url: URL) throws -> RGBAImage {
        let path = url.path
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&png, path) != 0 else {
            let text = message(of: png)
            png_image_free(&png)
            throw RenderError.readFailed(path: path, message: text)
        }
        png.format = formatRGBA
        let width = Int(png.width), height = Int(png.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let ok = pixels.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&png, nil, buffer.baseAddress, Int32(width * 4), nil)
        }
        guard ok != 0 else {
            let text = message(of: png)
            png_image_free(&png)
            throw RenderError.readFailed(path: path, message: text)
        }
        return try RGBAImage(width: width, height: height, pixels: pixels)
    }

    // MARK: - Helpers

    /// `PNG_FORMAT_RGB` (`PNG_FORMAT_FLAG_COLOR`), spelled out: the macro is not imported as a constant.
    private static let formatRGB = UInt32(PNG_FORMAT_FLAG_COLOR)
    /// `PNG_FORMAT_RGBA` (`PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA`), spelled out for the same reason.
    private static let formatRGBA = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

    private static func makeHeader(_ image: RGBAImage, rgb: Bool) -> png_image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = rgb ? formatRGB : formatRGBA
        return png
    }

    private static func dropAlpha(_ image: RGBAImage) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var s = 0, d = 0
                while s < src.count {
                    dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    s += 4; d += 3
                }
            }
        }
        return out
    }

    /// libpng's error or warning text from the `message` field of a `png_image`.
    private static func message(of png: png_image) -> String {
        var copy = png.message
        let text = withUnsafeBytes(of: &copy) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported failure without a message" : text
    }
}
