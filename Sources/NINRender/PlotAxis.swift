// The scale of one plot axis: linear with "nice" steps, or base-10 logarithmic, and its tick labels.

import Foundation

/// How data values map to positions along an axis.
public enum AxisScale: Equatable, Sendable {
    /// Position proportional to the value.
    case linear
    /// Position proportional to log₁₀ of the value (positive values only).
    case log10
}

/// An axis from `lower` to `upper` with ticks every `step`.
///
/// Linear: ticks at multiples of `step` (1, 2 or 5 × 10ⁿ). Logarithmic: `lower` and `upper` are
/// powers of ten and `step` is the number of decades between ticks, ticks at 10^(k · step).
public struct PlotAxis: Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var step: Double
    public var scale: AxisScale

    /// Ticks of magnitude at or above this (or non-zero steps below `scientificBelow`) are labelled
    /// in scientific notation ("2×10³⁵"): a fixed-point label would be wider than a panel's margin.
    static let scientificAbove = 1e6
    /// Steps smaller than this are labelled in scientific notation ("5×10⁻⁴").
    static let scientificBelow = 1e-3
    /// The ratio of the largest to the smallest positive value from which a loss axis is drawn
    /// logarithmic: three decades (a healthy loss curve spans one to three, a diverged one dozens).
    static let logScaleRatio = 1e3

    public init(lower: Double, upper: Double, step: Double, scale: AxisScale = .linear) {
        self.lower = lower; self.upper = upper; self.step = step; self.scale = scale
    }

    /// A linear axis that covers `values` (non-finite ones ignored) and, with `includeZero`, 0,
    /// rounded out to multiples of a nice step about a fifth of the span, with headroom above the
    /// largest value. An empty or constant input still gives a non-empty axis.
    static func covering(_ values: [Double], includeZero: Bool) -> PlotAxis {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if includeZero { lo = min(0, lo) }
        let step = niceStep((max(hi, lo + 1e-12) - lo) / 5)
        lo = (lo / step).rounded(.down) * step
        var upper = (hi / step).rounded(.up) * step
        if upper <= lo { upper = lo + step }
        if upper - hi < 0.02 * (upper - lo) { upper += step }   // headroom above the highest point
        return PlotAxis(lower: lo, upper: upper, step: step)
    }

    /// A logarithmic axis covering the positive finite `values` (others ignored), from the power
    /// of ten at or below the smallest to the one above the largest, with at most about 6 ticks
    /// (every 1, 2, 5, 10, … decades).
    static func logCovering(_ values: [Double]) -> PlotAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let a = log10(positive.min() ?? 1).rounded(.down)
        var b = log10(positive.max() ?? 10).rounded(.up)
        if b <= a { b = a + 1 }
        let step = max(1, niceStep((b - a) / 6).rounded(.up))
        return PlotAxis(lower: pow(10, a), upper: pow(10, b), step: step, scale: .log10)
    }

    /// Whether `values` (positive finite ones) span enough decades for a logarithmic loss axis
    /// (`logScaleRatio`).
    static func spansDecades(_ values: [Double]) -> Bool {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let lo = positive.min(), let hi = positive.max() else { return false }
        return hi / lo >= logScaleRatio
    }

    /// Where `value` sits between `lower` (0) and `upper` (1); outside [0, 1] beyond the ends, and
    /// −∞ for a non-positive value on a logarithmic axis.
    public func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .log10:
            guard value > 0 else { return -.infinity }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// The tick positions: multiples of `step` from `lower` to `upper` (linear), or every `step`
    /// decades (logarithmic).
    public var ticks: [Double] {
        var out: [Double] = []
        switch scale {
        case .linear:
            var tick = (lower / step).rounded(.up) * step
            while tick <= upper + step * 1e-6 {
                out.append(tick)
                tick += step
            }
        case .log10:
            let a = log10(lower), b = log10(upper)
            var k = (a / step - 1e-9).rounded(.up)
            while k * step <= b + 1e-9 {
                out.append(pow(10, k * step))
                k += 1
            }
        }
        return out
    }

    /// A tick label: fixed point with just enough decimals for multiples of `step`; scientific
    /// ("2×10³⁵", "5×10⁻⁴") for large magnitudes or tiny steps; "10ⁿ" on a logarithmic axis
    /// ("1" and "10" for 10⁰ and 10¹).
    public func label(_ value: Double) -> String {
        switch scale {
        case .log10:
            let e = Int(log10(value).rounded())
            return e == 0 ? "1" : e == 1 ? "10" : "10" + Self.superscript(e)
        case .linear:
            let v = abs(value) < step * 1e-9 ? 0 : value
            let magnitude = max(abs(lower), abs(upper))
            if magnitude >= Self.scientificAbove || step < Self.scientificBelow {
                return v == 0 ? "0" : Self.scientific(v, step: step)
            }
            return String(format: "%.\(Self.decimals(for: step))f", v)
        }
    }

    /// `value` as "m×10ᵉ" with 1 ≤ |m| < 10 and just enough decimals in m for multiples of `step`
    /// (at most 3).
    static func scientific(_ value: Double, step: Double) -> String {
        var e = Int(log10(abs(value)).rounded(.down))
        var mantissa = value / pow(10, Double(e))
        let digits = min(3, decimals(for: step / pow(10, Double(e))))
        if abs((mantissa * pow(10, Double(digits))).rounded()) >= 10 * pow(10, Double(digits)) { e += 1; mantissa /= 10 }
        return String(format: "%.\(digits)f", mantissa) + "×10" + superscript(e)
    }

    /// An integer in Unicode superscript digits, e.g. 35 → "³⁵", −4 → "⁻⁴" (DejaVu Sans has them).
    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return (n < 0 ? "⁻" : "") + String(abs(n)).map { digits[Int(String($0))!] }
    }

    /// The "nice" step (1, 2 or 5 × 10ⁿ) nearest above `raw`; 1 for non-positive or non-finite input.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let exponent = (log10(raw)).rounded(.down)
        let base = pow(10, exponent)
        let fraction = raw / base
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * base
    }

    /// Decimal places needed to print multiples of `step` exactly (0 for steps ≥ 1).
    static func decimals(for step: Double) -> Int {
        max(0, Int((-log10(step) - 1e-9).rounded(.up)))
    }
}
