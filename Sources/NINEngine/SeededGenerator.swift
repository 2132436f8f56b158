/// The one seeded pseudo-random generator every random draw in nin-study flows from.
///
/// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018),
/// seeded through SplitMix64 so that any 64-bit seed gives a well-mixed state. The whole state
/// is four `UInt64` words: `state` can be saved in a checkpoint and restored, after which the
/// generator continues with exactly the same draws.
///
/// Every derived draw (`nextFloat`, `nextGaussian`, `nextInt(below:)`, `shuffle`) is defined
/// here rather than through the standard library's `random(in:using:)`, whose algorithms may
/// change between Swift versions: the same seed gives the same numbers on every machine.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The four state words of xoshiro256**. Never all zero.
    public private(set) var state: [UInt64]

    /// Creates a generator from a 64-bit seed (SplitMix64 expansion).
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// Restores a generator from saved state words.
    /// - Precondition: four words, not all zero (a programmer error otherwise).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "invalid xoshiro256** state")
        self.state = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = SeededGenerator.rotl(state[3], 45)
        return result
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal draw (mean 0, standard deviation 1), Box–Muller transform.
    /// Uses two uniform draws per call (the second normal of the pair is not cached, so the
    /// generator state alone determines the sequence).
    public mutating func nextGaussian() -> Float {
        let u1 = 1.0 - nextDouble() // (0, 1]
        let u2 = nextDouble()
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire 2019, "Fast random integer
    /// generation in an interval").
    /// - Precondition: `bound > 0`.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let s = UInt64(bound)
        var m = next().multipliedFullWidth(by: s)
        if m.low < s {
            let threshold = (0 &- s) % s
            while m.low < threshold { m = next().multipliedFullWidth(by: s) }
        }
        return Int(m.high)
    }

    /// Shuffles `array` in place (Fisher–Yates, from the last element down).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
