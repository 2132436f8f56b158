import Crypto
import Foundation

/// Shard `index` of `count` of a study (`run --shard K/N`, 1-based): the trials it runs are the
/// ones ``assignment(trialId:count:)`` gives to `index`.
///
/// The assignment is rendezvous (highest-random-weight) hashing, Thaler and Ravishankar 1998:
/// a trial goes to the shard with the highest weight SHA-256(`"<trial-id>/<shard>"`). It depends
/// on the trial id and `count` only, so every machine computes the same shards; adding or
/// removing trials of a study moves no other trial, and changing `count` from N to N + 1 moves
/// only the trials the new shard wins (about 1 / (N + 1) of them).
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 1-based shard number, in `1...count`.
    public let index: Int
    /// Number of shards, ≥ 1.
    public let count: Int

    /// - Throws: ``ShardError/invalid(_:)`` unless `1 <= index <= count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(index) else { throw ShardError.invalid("\(index)/\(count)") }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`, e.g. `2/8`.
    /// - Throws: ``ShardError/invalid(_:)`` for anything else, or K outside 1…N.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { throw ShardError.invalid(text) }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether this shard runs the trial with this id.
    public func contains(trialId: String) -> Bool { Self.assignment(trialId: trialId, count: count) == index }

    /// The shard (1…`count`) of a trial id: the one with the highest rendezvous weight (ties,
    /// which need equal 64-bit hash prefixes, go to the lower shard).
    public static func assignment(trialId: String, count: Int) -> Int {
        precondition(count >= 1, "a study has at least one shard")
        var best = 1, bestWeight: UInt64 = 0
        for shard in 1...count {
            let digest = SHA256.hash(data: Data("\(trialId)/\(shard)".utf8))
            let weight = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if shard == 1 || weight > bestWeight { best = shard; bestWeight = weight }
        }
        return best
    }
}

/// A `--shard` value that is not `K/N` with 1 ≤ K ≤ N.
enum ShardError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let text): return "--shard \(text): expected K/N with 1 ≤ K ≤ N, e.g. 2/8"
        }
    }
}
