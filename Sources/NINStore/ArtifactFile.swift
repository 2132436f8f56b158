import Crypto
import Foundation

/// What is on disk at a recorded artifact's path, compared with the SHA-256 the database recorded.
public enum ArtifactFileState: Equatable, Sendable {
    /// The file is there with the recorded SHA-256.
    case matches
    /// No file at the path.
    case missing
    /// A file with another SHA-256 (lowercase hex): not the file this database recorded (another
    /// database's run wrote it, or it was written again after the record, e.g. by a later epoch).
    case differs(found: String)
}

extension ResultsStore {
    /// Lowercase hex SHA-256 of `data` (FIPS 180-4, via swift-crypto): the form of every checksum the store keeps.
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Lowercase hex SHA-256 of a file's bytes, nil if unreadable.
    public static func sha256(ofFile path: String) -> String? {
        FileManager.default.contents(atPath: path).map(sha256Hex)
    }

    /// Compares the file at an artifact's path (resolved by ``resolvedArtifactPath(_:)``) with its recorded SHA-256.
    public func fileState(of artifact: ArtifactRecord) -> ArtifactFileState {
        guard let found = Self.sha256(ofFile: resolvedArtifactPath(artifact.path)) else { return .missing }
        return found == artifact.sha256 ? .matches : .differs(found: found)
    }

    /// The checkpoint artifact recorded at `checkpointPath` for a trial (the newest if several), or nil.
    /// - Throws: A database error.
    public func checkpointArtifact(trialId: String, at checkpointPath: String) throws -> ArtifactRecord? {
        let stored = storedArtifactPath(checkpointPath)
        return try artifacts(trialId: trialId).filter { $0.kind == .checkpoint && $0.path == stored }.last
    }
}
