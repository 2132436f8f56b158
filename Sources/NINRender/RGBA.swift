// An 8-bit sRGB colour with alpha, and the fixed colours the renderers use.

/// An 8-bit-per-channel sRGB colour with straight (non-premultiplied) alpha.
public struct RGBA: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public var a: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }

    /// Creates a colour from a 24-bit `0xRRGGBB` literal, fully opaque.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    /// Linear interpolation in 8-bit sRGB: `self·(1−t) + other·t`, `t` clamped to [0, 1], rounded.
    public func mixed(with other: RGBA, _ t: Float) -> RGBA {
        let u = t.isNaN ? 0 : min(max(t, 0), 1)
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8((Float(x) * (1 - u) + Float(y) * u).rounded())
        }
        return RGBA(mix(r, other.r), mix(g, other.g), mix(b, other.b), mix(a, other.a))
    }

    public var description: String {
        let hex = [r, g, b].map { byte -> String in
            let s = String(byte, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined()
        return a == 255 ? "#\(hex)" : "#\(hex) alpha \(a)"
    }

    public static let white = RGBA(255, 255, 255)
    static let black = RGBA(0, 0, 0)
    /// Body text on sheets and plots (#202020).
    public static let text = RGBA(hex: 0x202020)
    /// Secondary text, such as axis tick labels (#505050).
    static let mutedText = RGBA(hex: 0x505050)
    /// Light grid lines in plots (#E3E3E3).
    public static let grid = RGBA(hex: 0xE3E3E3)
    /// Outline of the ground-truth class cell on confidence-map sheets (#E41A1C, red).
    static let groundTruthOutline = RGBA(hex: 0xE41A1C)
    /// Fill of the predicted-class marker (a triangle in the cell's top-left corner) (#FF7F00, orange).
    static let predictedMarker = RGBA(hex: 0xFF7F00)
    /// Border drawn around the predicted-class marker so it reads on any map colour (#FFFFFF).
    static let predictedMarkerBorder = RGBA(hex: 0xFFFFFF)
    /// Colour for non-finite map values (NaN, ±∞), as matplotlib's "bad" colour (#808080).
    static let nonFinite = RGBA(hex: 0x808080)

    /// Fixed line palette for plots: matplotlib's "tab10" qualitative colours, in order.
    ///
    /// Series `i` uses `lineColors[i % 10]`; beyond ten series the colours repeat.
    static let lineColors: [RGBA] = [
        RGBA(hex: 0x1F77B4), RGBA(hex: 0xFF7F0E), RGBA(hex: 0x2CA02C), RGBA(hex: 0xD62728),
        RGBA(hex: 0x9467BD), RGBA(hex: 0x8C564B), RGBA(hex: 0xE377C2), RGBA(hex: 0x7F7F7F),
        RGBA(hex: 0xBCBD22), RGBA(hex: 0x17BECF),
    ]
}
