import Foundation

/// Where a dataset was found and in which layout.
public struct DatasetLocation: Codable, Equatable, Sendable {
    /// The on-disk layouts the readers accept.
    public enum Layout: String, Codable, Sendable {
        /// A folder holding the four IDX files (raw or `.gz`, official or dotted names).
        case idxFolder
        /// The unpacked CIFAR-10 binary folder (`cifar-10-batches-bin/`).
        case cifarFolder
        /// The official archive `cifar-10-binary.tar.gz`, read without unpacking.
        case cifarArchive
    }

    /// Which dataset.
    public var dataset: DatasetName
    /// The layout found.
    public var layout: Layout
    /// The folder (or, for `.cifarArchive`, the archive file).
    public var path: String
    /// Which search root it was found under.
    public var origin: DataLocator.Origin
    /// The files the reader will read, full paths (IDX: train images, train labels, test images,
    /// test labels; CIFAR folder: the six batches, then `batches.meta.txt` if present).
    public var files: [String]
}

/// Checksum status of one file in a `DataReport`.
public struct FileReport: Codable, Equatable, Sendable {
    /// How a file compares with the known checksums.
    public enum Status: String, Codable, Sendable {
        /// Not hashed (`list`).
        case notChecked
        /// The file's MD5 equals the officially distributed file's.
        case matchesOfficialFile
        /// The file differs (recompressed or uncompressed) but its decompressed content's MD5
        /// equals the official content's.
        case matchesOfficialContent
        /// A known checksum exists and does not match.
        case mismatch
        /// No known checksum applies: verified structurally only.
        case unknown
    }

    /// Full path of the file.
    public var path: String
    /// Size in bytes.
    public var bytes: Int
    /// SHA-256 (hex), when hashed.
    public var sha256: String?
    /// MD5 (hex), when hashed.
    var md5: String?
    /// Comparison with the known checksums.
    public var status: Status
    /// A one-line human explanation of `status`.
    public var detail: String
}

/// What `DataLocator.list` / `verify` found for one dataset.
public struct DataReport: Codable, Equatable, Sendable {
    /// Which dataset.
    public var dataset: DatasetName
    /// Where it was found, or nil when absent.
    public var location: DatasetLocation?
    /// Per-file sizes (and, for `verify`, digests and checksum status).
    public var files: [FileReport]
    /// Problems found (missing files, checksum mismatches, structural errors); empty when fine.
    public var problems: [String]
    /// For `verify`: the combined identity hash of the files read (nil for `list` or on error).
    public var identity: String?

    /// Found, and no problems.
    public var isOK: Bool { location != nil && problems.isEmpty }
}

/// Finds datasets on disk and loads them.
///
/// Search order: the `--data-dir` argument, then `NIN_DATA_DIR`, then the per-user cache
/// (`$XDG_CACHE_HOME/nin-study/data`, else `~/.cache/nin-study/data`), then the system folder
/// `/usr/share/datasets` (where Debian's `dataset-fashion-mnist` installs
/// `fashion-mnist/`). Under each root the accepted layouts are:
/// - MNIST: `mnist/`, or the root itself holding the four files;
/// - Fashion-MNIST: `fashion-mnist/`;
/// - CIFAR-10: `cifar-10-batches-bin/`, `cifar-10-binary.tar.gz`, or the root itself holding
///   the batch files.
/// IDX files are accepted raw or gzip-compressed, under the official or the dotted names.
/// A dedicated folder that exists but lacks a file is an error (`missingFile`), not a reason to
/// look elsewhere.
public struct DataLocator: Sendable {
    /// Which search root a dataset was found under.
    public enum Origin: String, Codable, Sendable { case argument, environment, userCache, system }

    /// A folder searched for datasets.
    public struct SearchRoot: Codable, Equatable, Sendable {
        public var path: String
        public var origin: Origin
    }

    /// Environment used for `NIN_DATA_DIR`, `XDG_CACHE_HOME` and `HOME`.
    public var environment: [String: String]
    /// The system dataset folder (Debian's `/usr/share/datasets`); nil to skip it.
    var systemDirectory: String?
    /// Records every CIFAR-10 batch must hold: the official 10,000 (tests use small fixtures).
    var cifarRecordsPerBatch: Int

    /// - Parameters:
    ///   - environment: process environment (injectable for tests).
    ///   - systemDirectory: the system dataset folder, `/usr/share/datasets` by default.
    ///   - cifarRecordsPerBatch: records per CIFAR-10 batch, the official 10,000 by default.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                systemDirectory: String? = "/usr/share/datasets",
                cifarRecordsPerBatch: Int = CIFAR10Reader.officialRecordsPerBatch) {
        self.environment = environment
        self.systemDirectory = systemDirectory
        self.cifarRecordsPerBatch = cifarRecordsPerBatch
    }

    /// The per-user cache folder for nin-study: `$XDG_CACHE_HOME/nin-study` or
    /// `~/.cache/nin-study` (fitted preprocessing transforms are cached here too).
    public var userCacheDirectory: String {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return (xdg as NSString).appendingPathComponent("nin-study")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ((home as NSString).appendingPathComponent(".cache") as NSString).appendingPathComponent("nin-study")
    }

    /// The per-user data folder: `userCacheDirectory/data`.
    var userDataDirectory: String { (userCacheDirectory as NSString).appendingPathComponent("data") }

    /// The roots searched, in order.
    func searchRoots(dataDir: String?) -> [SearchRoot] {
        var roots: [SearchRoot] = []
        if let d = dataDir, !d.isEmpty { roots.append(SearchRoot(path: d, origin: .argument)) }
        if let e = environment["NIN_DATA_DIR"], !e.isEmpty { roots.append(SearchRoot(path: e, origin: .environment)) }
        roots.append(SearchRoot(path: userDataDirectory, origin: .userCache))
        if let s = systemDirectory { roots.append(SearchRoot(path: s, origin: .system)) }
        return roots
    }

    /// Where `fetch` writes: the first of `--data-dir`, `NIN_DATA_DIR`, the per-user data folder.
    func downloadDirectory(dataDir: String?) -> String {
        searchRoots(dataDir: dataDir).first { $0.origin != .system }!.path
    }

    /// Finds a dataset.
    /// - Throws: `DatasetError.missingFile` for an incomplete dedicated folder,
    ///   `DatasetError.datasetNotFound` (listing every place searched and what to place where)
    ///   when absent.
    public func locate(_ name: DatasetName, dataDir: String?) throws -> DatasetLocation {
        var searched: [String] = []
        let fm = FileManager.default
        func isDir(_ p: String) -> Bool {
            var d: ObjCBool = false
            return fm.fileExists(atPath: p, isDirectory: &d) && d.boolValue
        }
        for root in searchRoots(dataDir: dataDir) {
            let folder = (root.path as NSString).appendingPathComponent(name.folderName)
            switch name {
            case .mnist, .fashionMNIST:
                var candidates = [(folder, true)]
                if name == .mnist && root.origin != .system { candidates.append((root.path, false)) }
                for (dir, dedicated) in candidates {
                    searched.append(dir)
                    guard isDir(dir) else { continue }
                    let found = name.officialFiles.map { file in
                        file.acceptedNames.map { (dir as NSString).appendingPathComponent($0) }
                            .first { fm.fileExists(atPath: $0) }
                    }
                    if found.allSatisfy({ $0 != nil }) {
                        return DatasetLocation(dataset: name, layout: .idxFolder, path: dir, origin: root.origin,
                                               files: found.map { $0! })
                    }
                    if dedicated, found.contains(where: { $0 != nil }),
                       let missing = zip(name.officialFiles, found).first(where: { $0.1 == nil })?.0 {
                        let taken = Set(name.officialFiles.flatMap(\.acceptedNames))
                        throw DatasetError.missingFile(path: (dir as NSString).appendingPathComponent(missing.name),
                                                       expected: "one of \(missing.acceptedNames.joined(separator: ", "))"
                                                           + Self.nearMissHint(in: dir, for: missing.acceptedNames, taken: taken))
                    }
                }
            case .cifar10:
                let batches = CIFAR10Reader.trainBatchNames + [CIFAR10Reader.testBatchName]
                for (dir, dedicated) in [(folder, true), (root.path, false)] {
                    searched.append(dir)
                    guard isDir(dir) else { continue }
                    let paths = batches.map { (dir as NSString).appendingPathComponent($0) }
                    let present = paths.map { fm.fileExists(atPath: $0) }
                    if present.allSatisfy({ $0 }) {
                        let meta = (dir as NSString).appendingPathComponent(CIFAR10Reader.metaName)
                        return DatasetLocation(dataset: name, layout: .cifarFolder, path: dir, origin: root.origin,
                                               files: paths + (fm.fileExists(atPath: meta) ? [meta] : []))
                    }
                    if dedicated, let i = present.firstIndex(of: false), present.contains(true) {
                        throw DatasetError.missingFile(path: paths[i], expected: "a CIFAR-10 batch of 3,073-byte records"
                                                           + Self.nearMissHint(in: dir, for: [batches[i]], taken: Set(batches)))
                    }
                }
                let archive = (root.path as NSString).appendingPathComponent("cifar-10-binary.tar.gz")
                searched.append(archive)
                if fm.fileExists(atPath: archive) {
                    return DatasetLocation(dataset: name, layout: .cifarArchive, path: archive, origin: root.origin,
                                           files: [archive])
                }
            }
        }
        throw DatasetError.datasetNotFound(dataset: name.rawValue, searched: searched,
                                           hint: placementHint(name, dataDir: dataDir))
    }

    /// For a missing-file error: files in `folder` whose names are near misses of `wanted` (a
    /// browser's " (1)" suffix, another case, a stray character), compared on lowercase letters
    /// and digits with an edit distance of at most 2; names in `taken` (other expected files) are
    /// never suggested. Empty when there is none.
    static func nearMissHint(in folder: String, for wanted: [String], taken: Set<String>) -> String {
        func key(_ name: String) -> [Character] { Array(name.lowercased().filter { $0.isLetter || $0.isNumber }) }
        let targets = wanted.map(key)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let near = entries.sorted().filter { entry in
            !taken.contains(entry) && targets.contains { editDistance(key(entry), $0, atMost: 2) <= 2 }
        }
        guard !near.isEmpty else { return "" }
        return "; found \(near.map { "\"\($0)\"" }.joined(separator: ", ")) there: rename it to \(wanted[0]) if it is that file"
    }

    /// Levenshtein distance of two strings, or `atMost + 1` once it is certain to exceed `atMost`.
    static func editDistance(_ a: [Character], _ b: [Character], atMost limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            if current.min()! > limit { return limit + 1 }
            previous = current
        }
        return previous[b.count]
    }

    /// "Run fetch, or place these files there" — the hint used in not-found and offline errors.
    func placementHint(_ name: DatasetName, dataDir: String?) -> String {
        let target = downloadDirectory(dataDir: dataDir)
        let files = name.officialFiles.map(\.name).joined(separator: ", ")
        let place = name == .cifar10
            ? "place \(files) in \(target) (or its unpacked cifar-10-batches-bin/ folder there)"
            : "place \(files) in \((target as NSString).appendingPathComponent(name.folderName))"
        return "Run `nin-study data fetch \(name.rawValue)`, or \(place)."
    }

    /// Locates and decodes a dataset.
    /// - Parameters:
    ///   - name: which dataset.
    ///   - dataDir: the `--data-dir` argument, searched first when given.
    /// - Returns: train and test splits as `[N, H, W, C]` NHWC Float32 (0–255), class names,
    ///   and the identity (SHA-256 per file read, combined hash).
    /// - Throws: any `DatasetError` from locating or reading.
    public func load(_ name: DatasetName, dataDir: String?) throws -> Dataset {
        try Self.load(try locate(name, dataDir: dataDir), cifarRecordsPerBatch: cifarRecordsPerBatch)
    }

    /// Decodes a dataset at a known location.
    /// - Parameter cifarRecordsPerBatch: records every CIFAR-10 batch must hold (official 10,000).
    /// - Throws: any reader `DatasetError`.
    public static func load(_ location: DatasetLocation,
                            cifarRecordsPerBatch: Int = CIFAR10Reader.officialRecordsPerBatch) throws -> Dataset {
        switch location.layout {
        case .idxFolder:
            let f = location.files
            let k = location.dataset.classCount
            let (train, trainDigests) = try IDXReader.readSplit(images: f[0], labels: f[1], classCount: k)
            let (test, testDigests) = try IDXReader.readSplit(images: f[2], labels: f[3], classCount: k)
            let shape = location.dataset.imageShape
            for (split, path) in [(train, f[0]), (test, f[2])] where [split.height, split.width, split.channels] != shape {
                throw DatasetError.badHeader(path: path, field: "image size", expected: "\(shape[0])×\(shape[1])",
                                             found: "\(split.height)×\(split.width)")
            }
            return Dataset(name: location.dataset, classNames: location.dataset.classNames, train: train, test: test,
                           identity: DatasetIdentity(files: trainDigests + testDigests))
        case .cifarFolder:
            return try CIFAR10Reader.readFolder(location.path, recordsPerBatch: cifarRecordsPerBatch)
        case .cifarArchive:
            return try CIFAR10Reader.readArchive(location.path, recordsPerBatch: cifarRecordsPerBatch)
        }
    }

    /// What is found where, with file sizes (no hashing, fast).
    /// - Returns: one report per dataset; absent datasets have `location == nil` and a problem
    ///   saying where they were looked for.
    public func list(dataDir: String?) -> [DataReport] {
        DatasetName.allCases.map { name in
            do {
                let location = try locate(name, dataDir: dataDir)
                let files = location.files.map { path in
                    FileReport(path: path, bytes: Self.size(path), sha256: nil, md5: nil, status: .notChecked,
                               detail: "not hashed; `data verify` checks it")
                }
                return DataReport(dataset: name, location: location, files: files, problems: [], identity: nil)
            } catch {
                return DataReport(dataset: name, location: nil, files: [], problems: ["\(error)"], identity: nil)
            }
        }
    }

    /// Verifies datasets: sizes, SHA-256 and MD5 of every file, comparison with the known
    /// checksums, and a full structural decode (magic numbers, sizes, counts, label ranges).
    /// - Returns: one report per requested dataset; failures are listed in `problems`.
    public func verify(_ names: [DatasetName] = DatasetName.allCases, dataDir: String?) -> [DataReport] {
        names.map { name in
            let location: DatasetLocation
            do { location = try locate(name, dataDir: dataDir) } catch {
                return DataReport(dataset: name, location: nil, files: [], problems: ["\(error)"], identity: nil)
            }
            var problems: [String] = []
            var files: [FileReport] = []
            for path in location.files {
                do {
                    let report = try Self.checkFile(path, dataset: name)
                    if report.status == .mismatch { problems.append("\(path): \(report.detail)") }
                    files.append(report)
                } catch {
                    problems.append("\(error)")
                }
            }
            var identity: String?
            do { identity = try Self.load(location, cifarRecordsPerBatch: cifarRecordsPerBatch).identity.combined } catch {
                problems.append("\(error)")
            }
            return DataReport(dataset: name, location: location, files: files, problems: problems, identity: identity)
        }
    }

    /// The files of a dataset whose content is known to differ from the official release (a
    /// published content checksum that does not match), one "path: what differs" line each.
    /// Files without a published checksum are not reported. Unreadable files are reported as such.
    /// Cost: one read of every file (and a decompression of a gzip file whose bytes differ).
    public func officialContentMismatches(_ name: DatasetName, dataDir: String?) -> [String] {
        guard let location = try? locate(name, dataDir: dataDir) else { return [] }
        return location.files.compactMap { path in
            do {
                let report = try Self.checkFile(path, dataset: name)
                return report.status == .mismatch ? "\(path): \(report.detail)" : nil
            } catch {
                return "\(path): \(error)"
            }
        }
    }

    /// Hashes one file and compares it with the known checksums of the official file it stands for.
    static func checkFile(_ path: String, dataset: DatasetName) throws -> FileReport {
        let (bytes, sha, md5) = try Digests.file(path)
        let base = (path as NSString).lastPathComponent
        guard let official = dataset.officialFiles.first(where: { $0.acceptedNames.contains(base) }) else {
            return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .unknown,
                              detail: "no published checksum for this file; verified structurally")
        }
        if let known = official.md5, known == md5 {
            return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .matchesOfficialFile,
                              detail: "MD5 matches the official \(official.name)")
        }
        if let knownContent = official.contentMD5 {
            let data = try FileChunks.readAll(path)
            let content = try IDXReader.content(data, path: path)
            let contentMD5 = Digests.md5(content)
            if contentMD5 == knownContent {
                return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .matchesOfficialContent,
                                  detail: "decompressed content MD5 matches the official \(official.rawName)")
            }
            return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .mismatch,
                              detail: "content MD5 expected \(knownContent), found \(contentMD5)")
        }
        if base == official.name, official.role == .archive, let known = official.md5 {
            return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .mismatch,
                              detail: "MD5 expected \(known), found \(md5)")
        }
        return FileReport(path: path, bytes: bytes, sha256: sha, md5: md5, status: .unknown,
                          detail: "differs from the official \(official.name) (recompressed?); no known checksum of "
                              + "its content; verified structurally")
    }

    /// Size of the file a path names, following symbolic links (0 when absent).
    static func size(_ path: String) -> Int { FileChunks.size(path) ?? 0 }
}
