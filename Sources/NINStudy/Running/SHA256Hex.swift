import Foundation
import NINStore

/// Lowercase hex SHA-256 of `data` (FIPS 180-4): ``ResultsStore/sha256Hex(_:)``.
func sha256Hex(_ data: Data) -> String { ResultsStore.sha256Hex(data) }
