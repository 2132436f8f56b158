// Selection of the top p % of activations, as in the paper's Figure 4 (Lin et al. 2014, §4.7).

/// Marks the largest `percent` % of `values`: at most `k = ⌈percent · count / 100⌉` elements are
/// `true` (none when `percent` is 0, every finite one when it is 100).
///
/// Ties: with `t` the k-th largest value, every value above `t` is kept, and the values equal to
/// `t` are kept only when all of them fit within `k`. A tie that straddles the cut is dropped as a
/// whole, so fewer than `k` may be kept: a constant map keeps nothing (it has no hot region), and a
/// map of mostly ReLU zeros keeps only its positive activations. Nothing depends on the order of
/// the values, so no spurious band appears where a tie would otherwise be broken by raster order.
/// NaN is never kept.
///
/// Used for the paper's "top 10 % of activations" variant of the category confidence maps (§4.7,
/// Figure 4), applied to all `h·w·K` activations of one image.
///
/// - Precondition: `percent` is finite and in [0, 100].
func topPercentMask(values: [Float], percent: Double) -> [Bool] {
    precondition(percent.isFinite && percent >= 0 && percent <= 100,
                 "topPercentMask: percent must be in [0, 100], found \(percent)")
    let k = topPercentCount(count: values.count, percent: percent)
    let ranked = values.filter { !$0.isNaN }.sorted(by: >)
    guard k > 0, !ranked.isEmpty else { return [Bool](repeating: false, count: values.count) }
    let threshold = ranked[min(k, ranked.count) - 1]
    let atOrAbove = ranked.prefix { $0 >= threshold }.count
    let keepTies = atOrAbove <= k
    return values.map { $0 > threshold || (keepTies && $0 == threshold) }
}

/// The largest number of elements `topPercentMask` keeps: `⌈percent · count / 100⌉`, computed so
/// that exact products (10 % of 490 = 49) are not pushed up by floating-point rounding.
func topPercentCount(count: Int, percent: Double) -> Int {
    let exact = percent * Double(count) / 100
    let k = Int((exact - 1e-9 * max(1, exact)).rounded(.up))
    return min(count, max(0, k))
}
