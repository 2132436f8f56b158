// Small-sample statistics for seed-to-seed variation: mean, sample standard deviation, Student-t
// confidence intervals, paired and unpaired (Welch) differences of means.

import Foundation

/// Mean, spread and 95 % confidence interval of a handful of values (e.g. one level's test error
/// over its seeds).
public struct SampleSummary: Equatable, Sendable {
    /// The number of values n.
    public let count: Int
    /// The arithmetic mean; nil when n = 0.
    public let mean: Double?
    /// The sample standard deviation `√(Σ(x − x̄)² / (n − 1))`; nil when n < 2.
    let standardDeviation: Double?
    /// The two-sided confidence interval of the mean, `x̄ ± t(1 − α/2, n − 1) · s / √n` (Student);
    /// nil when n < 2.
    public let interval: ConfidenceInterval?

    /// Summarises `values` with a `level` confidence interval (0.95 for 95 %).
    /// - Precondition: every value is finite; `level` is in (0, 1).
    public init(_ values: [Double], level: Double = 0.95) {
        precondition(values.allSatisfy(\.isFinite), "SampleSummary: non-finite value")
        count = values.count
        guard !values.isEmpty else { mean = nil; standardDeviation = nil; interval = nil; return }
        let m = values.reduce(0, +) / Double(values.count)
        mean = m
        guard values.count >= 2 else { standardDeviation = nil; interval = nil; return }
        let s = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        standardDeviation = s
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: Double(values.count - 1)) * s / Double(values.count).squareRoot()
        interval = ConfidenceInterval(lower: m - half, upper: m + half, level: level)
    }
}

/// A two-sided confidence interval `[lower, upper]` at confidence `level` (0.95 for 95 %).
public struct ConfidenceInterval: Equatable, Sendable {
    public let lower: Double
    public let upper: Double
    public let level: Double

    /// Whether the interval contains `value` (ends included).
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
}

/// The difference of two levels' means, `a − b`, with its confidence interval.
public struct MeanDifference: Equatable, Sendable {
    /// How the interval was computed.
    public enum Method: String, Equatable, Sendable {
        /// Paired by seed: the mean of the per-seed differences, a t interval with n − 1 degrees
        /// of freedom (n = number of seeds both levels finished).
        case paired
        /// Independent samples: Welch's t interval with Welch–Satterthwaite degrees of freedom.
        case welch
    }

    public let method: Method
    /// `mean(a) − mean(b)`, or the mean of the paired differences.
    public let estimate: Double
    /// nil when there are too few values (a paired difference needs 2 pairs; Welch needs 2 of each).
    public let interval: ConfidenceInterval?
    /// Number of pairs (paired) or the two sample sizes' smaller one (Welch).
    public let count: Int

    /// The paired difference of `pairs` (a, b) values: the summary of `a − b` per pair.
    /// - Precondition: `pairs` is not empty.
    static func paired(_ pairs: [(a: Double, b: Double)], level: Double = 0.95) -> MeanDifference {
        precondition(!pairs.isEmpty, "MeanDifference.paired: no pairs")
        let summary = SampleSummary(pairs.map { $0.a - $0.b }, level: level)
        return MeanDifference(method: .paired, estimate: summary.mean!, interval: summary.interval, count: pairs.count)
    }

    /// Welch's difference of two independent samples, `mean(a) − mean(b)`.
    /// - Precondition: neither sample is empty.
    static func welch(_ a: [Double], _ b: [Double], level: Double = 0.95) -> MeanDifference {
        let sa = SampleSummary(a, level: level), sb = SampleSummary(b, level: level)
        let estimate = sa.mean! - sb.mean!
        guard let da = sa.standardDeviation, let db = sb.standardDeviation else {
            return MeanDifference(method: .welch, estimate: estimate, interval: nil, count: min(a.count, b.count))
        }
        let va = da * da / Double(a.count), vb = db * db / Double(b.count)
        let se = (va + vb).squareRoot()
        guard se > 0 else {
            return MeanDifference(method: .welch, estimate: estimate,
                                  interval: ConfidenceInterval(lower: estimate, upper: estimate, level: level),
                                  count: min(a.count, b.count))
        }
        let df = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: df) * se
        return MeanDifference(method: .welch, estimate: estimate,
                              interval: ConfidenceInterval(lower: estimate - half, upper: estimate + half, level: level),
                              count: min(a.count, b.count))
    }
}

/// Student's t distribution.
enum StudentT {
    /// The cumulative distribution function `P(T ≤ t)` with `ν` degrees of freedom:
    /// `1 − ½ I_{ν/(ν+t²)}(ν/2, ½)` for t ≥ 0 (I: the regularized incomplete beta function), by symmetry below.
    /// - Precondition: `degreesOfFreedom` > 0.
    static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "StudentT.cdf: degrees of freedom must be > 0")
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The quantile `t` with `P(T ≤ t) = p`, by bisection on `cdf` to 1e-12 relative precision
    /// (e.g. p = 0.975, ν = 2 gives 4.302653; ν = 1, 12.706205).
    /// - Precondition: p in (0, 1); `degreesOfFreedom` > 0.
    static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1, "StudentT.quantile: p must be in (0, 1)")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var lo = 0.0, hi = 1.0
        while cdf(hi, degreesOfFreedom: nu) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, degreesOfFreedom: nu) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return (lo + hi) / 2
    }

    /// The regularized incomplete beta function `I_x(a, b)`, by its continued fraction (modified
    /// Lentz; Numerical Recipes §6.4), using the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` where it
    /// converges faster.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logPowers - logBeta
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            h *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return h
    }
}
