// Colour maps: a 256-entry lookup table from a scalar in [0, 1] to an sRGB colour.

/// A 256-entry colour lookup table for scalar fields, such as category confidence maps.
///
/// `t` in [0, 1] selects entry `min(255, ⌊256·t⌋)` (matplotlib's `ListedColormap` convention), so
/// `t = 0` gives the first entry and `t = 1` the last.
public struct ColorMap: Sendable {
    /// The 256 entries as 8-bit sRGB.
    public let table: [RGBA]

    /// Creates a colour map from exactly 256 colours.
    ///
    /// - Precondition: `table.count == 256`.
    public init(table: [RGBA]) {
        precondition(table.count == 256, "ColorMap needs 256 entries, found \(table.count)")
        self.table = table
    }

    /// matplotlib's viridis (perceptually uniform, colour-blind friendly): #440154 at 0, #21918C at
    /// 0.5, #FDE725 at 1. Entries are the published data points rounded to 8 bits.
    static let viridis = ColorMap(table: viridisData.map { r, g, b in
        RGBA(UInt8((r * 255).rounded()), UInt8((g * 255).rounded()), UInt8((b * 255).rounded()))
    })

    /// The table index for `t`: `min(255, ⌊256·t⌋)` with `t` clamped to [0, 1]; NaN gives 0.
    public func index(at t: Float) -> Int {
        guard !t.isNaN else { return 0 }
        let clamped = min(max(t, 0), 1)
        return min(255, Int(clamped * 256))
    }

    /// The colour for `t` in [0, 1] (values outside are clamped; NaN maps to the first entry).
    public func color(at t: Float) -> (r: UInt8, g: UInt8, b: UInt8) {
        let c = table[index(at: t)]
        return (c.r, c.g, c.b)
    }

    /// The colour for `t` as an opaque `RGBA`.
    func rgba(at t: Float) -> RGBA {
        table[index(at: t)]
    }
}
