// A small built-in bitmap font (5×7 glyphs, printable ASCII), so rendering needs no font files.

/// A fixed-width bitmap font: 5×7-pixel glyphs for printable ASCII 32–126, drawn in a 6×9 cell
/// (one column of spacing, two rows of line spacing). The descender letters g, p, q, y sit
/// ``descent`` rows lower in the cell, reaching into the line spacing. Characters outside that range
/// draw as `?`.
///
/// All sizes scale by an integer factor `scale`: a glyph pixel becomes a `scale × scale` block.
public struct BitmapFont: Sendable {
    /// Glyph width in font pixels.
    public let glyphWidth = 5
    /// Glyph height in font pixels.
    public let glyphHeight = 7
    /// Horizontal advance per character in font pixels (glyph width plus one column of spacing).
    public let advance = 6
    /// Distance between baselines of consecutive lines in font pixels.
    public let lineHeight = 9
    /// How many font pixels the descender letters (g, p, q, y) are drawn below the glyph box.
    public let descent = 2
    /// The letters drawn ``descent`` rows lower.
    public static let descenderLetters: Set<Character> = ["g", "p", "q", "y"]

    /// Ink masks per character: `glyphs[c][row]` has bit `4 − column` set where column (0 = left) is inked.
    private let glyphs: [Character: [UInt8]]

    /// The built-in font.
    public static let standard = BitmapFont()

    private init() {
        var table: [Character: [UInt8]] = [:]
        for (character, pattern) in BitmapFont.standardGlyphRows {
            let rows = pattern.split(separator: " ")
            precondition(rows.count == 7 && rows.allSatisfy { $0.count == 5 },
                         "BitmapFont: malformed glyph for \(character)")
            table[character] = rows.map { row in
                row.reduce(UInt8(0)) { bits, ch in (bits << 1) | (ch == "#" ? 1 : 0) }
            }
        }
        precondition(table.count == 95, "BitmapFont: expected 95 glyphs (ASCII 32–126), found \(table.count)")
        glyphs = table
    }

    /// The glyph drawn for `character`: the character's own for printable ASCII, otherwise `?`.
    public func glyphCharacter(for character: Character) -> Character {
        glyphs[character] == nil ? "?" : character
    }

    /// Rows (font pixels) by which `character`'s glyph is drawn below the top of the glyph box:
    /// ``descent`` for g, p, q, y, otherwise 0.
    public func verticalOffset(of character: Character) -> Int {
        BitmapFont.descenderLetters.contains(character) ? descent : 0
    }

    /// Whether the glyph of `character` has ink at (column, row), column 0…4 from the left, row 0…6
    /// from the top of the glyph (which is drawn ``verticalOffset(of:)`` rows lower).
    public func isInked(_ character: Character, column: Int, row: Int) -> Bool {
        precondition((0..<glyphWidth).contains(column) && (0..<glyphHeight).contains(row),
                     "BitmapFont.isInked: (\(column), \(row)) outside the 5×7 glyph")
        let rows = glyphs[glyphCharacter(for: character)]!
        return (rows[row] >> UInt8(glyphWidth - 1 - column)) & 1 == 1
    }

    /// The size in pixels of `text` drawn at `scale`: width `advance·scale·(longest line) − scale`
    /// (no trailing spacing column), height `lineHeight·scale·(lines − 1) + glyphHeight·scale`,
    /// plus `descent·scale` when the last line has a descender letter.
    /// Lines are separated by "\n"; the empty string measures 0×0.
    public func measure(text: String, scale: Int = 1) -> (width: Int, height: Int) {
        guard !text.isEmpty else { return (0, 0) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let longest = lines.map(\.count).max() ?? 0
        let width = longest == 0 ? 0 : (advance * longest - 1) * scale
        let hangs = lines.last.map { $0.contains { BitmapFont.descenderLetters.contains($0) } } ?? false
        let height = (lineHeight * (lines.count - 1) + glyphHeight + (hangs ? descent : 0)) * scale
        return (width, height)
    }

    /// Draws `text` into `image` with the top-left corner of its first glyph at `at`; "\n" starts a
    /// new line. Only ink pixels are written (the background shows through).
    public func draw(text: String, at origin: (x: Int, y: Int), color: RGBA, scale: Int = 1,
                     into image: inout RGBAImage) {
        let s = max(1, scale)
        var x = origin.x, y = origin.y
        for character in text {
            if character == "\n" {
                x = origin.x
                y += lineHeight * s
                continue
            }
            let glyph = glyphCharacter(for: character)
            let rows = glyphs[glyph]!
            let top = y + verticalOffset(of: glyph) * s
            for row in 0..<glyphHeight where rows[row] != 0 {
                for column in 0..<glyphWidth where (rows[row] >> UInt8(glyphWidth - 1 - column)) & 1 == 1 {
                    image.fillRect(x: x + column * s, y: top + row * s, width: s, height: s, color: color)
                }
            }
            x += advance * s
        }
    }

    /// Splits `text` into lines no wider than `maxWidth` pixels at `scale`, breaking at spaces;
    /// a single word longer than a line is cut into pieces. Existing "\n" breaks are kept.
    public func wrap(text: String, maxWidth: Int, scale: Int = 1) -> [String] {
        let perLine = max(1, (maxWidth / max(1, scale) + 1) / advance)
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                var piece = String(word)
                while piece.count > perLine {
                    if !line.isEmpty { result.append(line); line = "" }
                    result.append(String(piece.prefix(perLine)))
                    piece = String(piece.dropFirst(perLine))
                }
                if line.isEmpty {
                    line = piece
                } else if line.count + 1 + piece.count <= perLine {
                    line += " " + piece
                } else {
                    result.append(line)
                    line = piece
                }
            }
            result.append(line)
        }
        return result
    }

    /// `text` shortened to at most `maxWidth` pixels at `scale`, ending in "." when cut.
    public func truncate(text: String, maxWidth: Int, scale: Int = 1) -> String {
        let perLine = max(0, (maxWidth / max(1, scale) + 1) / advance)
        guard text.count > perLine else { return text }
        guard perLine > 1 else { return String(text.prefix(perLine)) }
        return String(text.prefix(perLine - 1)) + "."
    }
}

extension RGBAImage {
    /// Draws `text` with `font` (default: the built-in 5×7 font); see `BitmapFont.draw`.
    public mutating func draw(text: String, at origin: (x: Int, y: Int), color: RGBA, scale: Int = 1,
                              font: BitmapFont = .standard) {
        font.draw(text: text, at: origin, color: color, scale: scale, into: &self)
    }
}
