import NINData
import NINStore

/// How the dataset files read now differ from those a trial recorded: one line per file whose
/// SHA-256 differs, that was recorded and is not read now, or is read now and was not recorded
/// (`t10k-images-idx3-ubyte: recorded 1a2b3c4d5e6f…, found 9f8e7d6c5b4a…`).
enum DatasetFileDifferences {
    static func list(recorded: [DatasetFileRecord], found: DatasetIdentity) -> [String] {
        let expected = Dictionary(recorded.map { ($0.file, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        let now = Dictionary(found.files.map { ($0.name, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        return Set(expected.keys).union(now.keys).sorted().compactMap { name -> String? in
            switch (expected[name], now[name]) {
            case let (e?, f?) where e != f: return "\(name): recorded \(e.prefix(12))…, found \(f.prefix(12))…"
            case (_?, nil): return "\(name): recorded, not read now"
            case (nil, _?): return "\(name): read now, not recorded"
            default: return nil
            }
        }
    }
}
