// A plain text sheet, rendered where a picture would mislead (e.g. class maps for an FC head
// with hidden layers, which do not exist as such).

/// A sheet that states something in words: a title and word-wrapped paragraphs, drawn with Cairo.
///
/// Used in place of a confidence-map sheet when no per-class spatial maps exist, e.g. "Category
/// confidence maps are defined for GAP heads; this trial's FC head has hidden layers, so no
/// per-class spatial maps exist." The caller supplies the text.
public struct ExplanationSheet: Figure {
    public let title: String
    public let lines: [String]
    /// Width in pixels (points in PDF); paragraphs wrap to fit.
    public let width: Int

    static let margin = 16
    static let titleSize = 20.0
    static let bodySize = 15.0
    static let lineStep = 1.35

    /// Creates a sheet with `title` and one paragraph per element of `lines`, `width` pixels wide (≥ 200).
    public init(title: String, lines: [String], width: Int = 760) {
        precondition(width >= 200, "ExplanationSheet: width \(width) < 200")
        self.title = title
        self.lines = lines
        self.width = width
    }

    private var textWidth: Double { Double(width - 2 * Self.margin) }

    /// The title and body after word wrapping.
    private func wrapped(_ canvas: Canvas) -> (title: [String], body: [String]) {
        (canvas.wrapped(title, size: Self.titleSize, maxWidth: textWidth, weight: .bold),
         lines.flatMap { canvas.wrapped($0, size: Self.bodySize, maxWidth: textWidth) + [""] }.dropLast())
    }

    /// The body's top-left corner and size in pixels (the area the paragraphs are drawn in).
    var bodyArea: (x: Int, y: Int, width: Int, height: Int) {
        let (title, body) = Canvas.measuring(wrapped)
        let y = Self.margin + Int((Double(title.count) * Self.titleSize * Self.lineStep).rounded(.up)) + 16
        return (Self.margin, y, width - 2 * Self.margin, Int((Double(body.count) * Self.bodySize * Self.lineStep).rounded(.up)))
    }

    public var size: (width: Int, height: Int) {
        let body = bodyArea
        return (width, body.y + body.height + Self.margin)
    }

    /// Draws the sheet: a title, a rule and the wrapped paragraphs.
    public func draw(on canvas: Canvas) {
        let (title, body) = wrapped(canvas)
        let area = bodyArea
        for (i, line) in title.enumerated() {
            canvas.text(line, x: Double(Self.margin), y: Double(Self.margin) + Double(i) * Self.titleSize * Self.lineStep,
                        size: Self.titleSize, color: .text, weight: .bold)
        }
        canvas.fillRect(x: Double(Self.margin), y: Double(area.y - 9), width: textWidth, height: 1, color: .grid)
        for (i, line) in body.enumerated() {
            canvas.text(line, x: Double(area.x), y: Double(area.y) + Double(i) * Self.bodySize * Self.lineStep,
                        size: Self.bodySize, color: .text)
        }
    }
}
