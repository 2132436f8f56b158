import Foundation
import Crypto

/// Lowercase hex SHA-256 of `data` (FIPS 180-4, via swift-crypto).
func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
