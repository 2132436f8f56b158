// A plain text sheet, rendered where a picture would mislead (e.g. class maps for an FC head
// with hidden layers, which do not exist as such).

/// A sheet that states something in words: a title and word-wrapped paragraphs.
///
/// Used in place of a confidence-map sheet when no per-class spatial maps exist, e.g. "Category
/// confidence maps are defined for GAP heads; this trial's FC head has hidden layers, so no
/// per-class spatial maps exist." The caller supplies the text.
public struct ExplanationSheet {
    public let title: String
    public let lines: [String]
    /// Image width in pixels; paragraphs wrap to fit.
    public let width: Int

    static let margin = 16
    static let titleScale = 2
    static let bodyScale = 2
    private let font = BitmapFont.standard

    /// Creates a sheet with `title` and one paragraph per element of `lines`, `width` pixels wide (≥ 200).
    public init(title: String, lines: [String], width: Int = 760) {
        precondition(width >= 200, "ExplanationSheet: width \(width) < 200")
        self.title = title
        self.lines = lines
        self.width = width
    }

    /// The body's top-left corner and size in pixels (the area the paragraphs are drawn in).
    public var bodyArea: (x: Int, y: Int, width: Int, height: Int) {
        let x = Self.margin
        let y = Self.margin + font.measure(text: titleLines.joined(separator: "\n"), scale: Self.titleScale).height + 16
        let rows = wrappedBody.count
        let h = rows == 0 ? 0 : (rows - 1) * font.lineHeight * Self.bodyScale + font.glyphHeight * Self.bodyScale
        return (x, y, width - 2 * Self.margin, h)
    }

    /// The title after word wrapping.
    private var titleLines: [String] {
        font.wrap(text: title, maxWidth: width - 2 * Self.margin, scale: Self.titleScale)
    }

    /// The body lines after word wrapping; an empty string separates paragraphs.
    private var wrappedBody: [String] {
        var out: [String] = []
        for (i, paragraph) in lines.enumerated() {
            if i > 0 { out.append("") }
            out += font.wrap(text: paragraph, maxWidth: width - 2 * Self.margin, scale: Self.bodyScale)
        }
        return out
    }

    /// Renders the sheet: white background, a title, a rule and the wrapped paragraphs.
    public func render() -> RGBAImage {
        let body = bodyArea
        let bodyY = body.y
        let height = bodyY + body.height + Self.margin + 8
        var image = RGBAImage(width: width, height: height, fill: .white)
        image.draw(text: titleLines.joined(separator: "\n"), at: (Self.margin, Self.margin), color: .text, scale: Self.titleScale)
        image.fillRect(x: Self.margin, y: bodyY - 9, width: width - 2 * Self.margin, height: 1, color: .grid)
        image.draw(text: wrappedBody.joined(separator: "\n"), at: (body.x, bodyY), color: .text, scale: Self.bodyScale)
        return image
    }
}
