// Selection of the top p % of activations, as in the paper's Figure 4 (Lin et al. 2014, §4.7).

/// Marks the largest `percent` % of `values`: exactly `k = ⌈percent · count / 100⌉` elements are
/// `true` (0 when `percent` is 0, all when it is 100).
///
/// Ordering: larger values first; NaN ranks below every number (−∞ included). Ties are broken by
/// index, the earlier element winning, so the result is deterministic and the count is exact even
/// when many values are equal (e.g. a map of ReLU zeros).
///
/// Used for the paper's "top 10 % of activations" variant of the category confidence maps (§4.7,
/// Figure 4), applied to all `h·w·K` activations of one image.
///
/// - Precondition: `percent` is finite and in [0, 100].
public func topPercentMask(values: [Float], percent: Double) -> [Bool] {
    precondition(percent.isFinite && percent >= 0 && percent <= 100,
                 "topPercentMask: percent must be in [0, 100], found \(percent)")
    let k = topPercentCount(count: values.count, percent: percent)
    var mask = [Bool](repeating: false, count: values.count)
    guard k > 0 else { return mask }
    let order = values.indices.sorted { i, j in
        let a = values[i], b = values[j]
        if a.isNaN != b.isNaN { return b.isNaN }        // numbers before NaN
        if !a.isNaN && a != b { return a > b }           // larger first
        return i < j                                     // ties (and NaN vs NaN): earlier index first
    }
    for i in order.prefix(k) { mask[i] = true }
    return mask
}

/// The number of elements `topPercentMask` keeps: `⌈percent · count / 100⌉`, computed so that exact
/// products (10 % of 490 = 49) are not pushed up by floating-point rounding.
public func topPercentCount(count: Int, percent: Double) -> Int {
    let exact = percent * Double(count) / 100
    let k = Int((exact - 1e-9 * max(1, exact)).rounded(.up))
    return min(count, max(0, k))
}
