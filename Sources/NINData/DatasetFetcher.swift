import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One file handled by `DatasetFetcher.fetch`.
public struct FetchedFile: Codable, Equatable, Sendable {
    /// Official file name.
    public var name: String
    /// Where it now is.
    public var path: String
    /// Where it came from (nil when it was already present and valid).
    public var url: String?
    /// Size in bytes.
    public var bytes: Int
    /// MD5 (hex) verified against the known checksum.
    var md5: String
    /// SHA-256 (hex), for the records.
    public var sha256: String
    /// True when a valid copy was already present and nothing was downloaded.
    public var alreadyPresent: Bool
}

/// What `DatasetFetcher.fetch` did.
public struct FetchReport: Codable, Equatable, Sendable {
    public var dataset: DatasetName
    /// The folder the files were written to.
    public var directory: String
    public var files: [FetchedFile]
}

/// Downloads a dataset's official files, verifying each against its known MD5 (or, for a
/// recompressed gzip copy, its decompressed content against the official content's MD5).
///
/// Each file is downloaded to a temporary name in the destination folder
/// (`.<name>.part-<pid>`), its MD5 checked, and only then renamed to its final name, so an
/// interrupted or corrupted download never looks complete. A file already present with the
/// right checksum is not downloaded again. The first file that cannot be downloaded from any
/// of its locations stops the fetch with `DatasetError.downloadFailed`, whose message says which
/// files to place where (the offline path).
///
/// Transport: `http(s)://` through Foundation's `URLSession` (FoundationNetworking, libcurl, on
/// Linux); `file://` is copied directly, because swift-corelibs-foundation's URLSession does not
/// support file URLs (it answers NSURLErrorUnsupportedURL).
///
/// Destination: `<download directory>/mnist/`, `<…>/fashion-mnist/`, and for CIFAR-10 the
/// archive `<…>/cifar-10-binary.tar.gz` itself (read directly, never unpacked), where the
/// download directory is `DataLocator.downloadDirectory(dataDir:)`.
public struct DatasetFetcher {
    /// Supplies the download directory and the placement hint.
    var locator: DataLocator
    /// Replaces the official base URLs when set (tests: `file://…/` or `http://127.0.0.1:port/`).
    public var baseURL: String?
    /// Replaces known MD5s by file name when set (tests serving fixtures).
    var knownMD5: [String: String]
    /// Seconds a request may stay idle before failing.
    public var timeout: TimeInterval

    public init(locator: DataLocator = DataLocator(), baseURL: String? = nil, knownMD5: [String: String] = [:],
                timeout: TimeInterval = 30) {
        self.locator = locator
        self.baseURL = baseURL
        self.knownMD5 = knownMD5
        self.timeout = timeout
    }

    /// The folder `fetch` writes `name`'s files to.
    public func destination(for name: DatasetName, dataDir: String?) -> String {
        let root = locator.downloadDirectory(dataDir: dataDir)
        return name == .cifar10 ? root : (root as NSString).appendingPathComponent(name.folderName)
    }

    /// Downloads (or confirms) every official file of a dataset.
    /// - Parameters:
    ///   - name: which dataset.
    ///   - dataDir: the `--data-dir` argument (destination root when given).
    ///   - progress: called with one line per file (for the command-line layer).
    /// - Returns: what was downloaded or already present, with digests.
    /// - Throws: `DatasetError.downloadFailed` (offline, refused, HTTP error; names the files to
    ///   place and the folder), `.checksumMismatch` (the download is deleted, no final file is
    ///   left), `.io`.
    public func fetch(_ name: DatasetName, dataDir: String?, progress: ((String) -> Void)? = nil) throws -> FetchReport {
        let directory = destination(for: name, dataDir: dataDir)
        let createdFolder = !FileManager.default.fileExists(atPath: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.io(path: directory, operation: "create folder", reason: error.localizedDescription)
        }
        var fetched: [FetchedFile] = []
        // A fetch that fails (offline) leaves no empty folder it made behind.
        defer {
            if createdFolder, (try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        for file in name.officialFiles {
            let finalPath = (directory as NSString).appendingPathComponent(file.name)
            guard let expected = knownMD5[file.name] ?? file.md5 else {
                preconditionFailure("every official file has a known MD5")
            }
            if FileManager.default.fileExists(atPath: finalPath),
               let digest = try? Digests.file(finalPath), try acceptable(finalPath, digest: digest, file: file, expected: expected) {
                progress?("\(file.name): already present and verified (\(finalPath))")
                fetched.append(FetchedFile(name: file.name, path: finalPath, url: nil, bytes: digest.bytes,
                                           md5: digest.md5, sha256: digest.sha256, alreadyPresent: true))
                continue
            }
            let urls = (baseURL.map { [$0] } ?? file.baseURLs).map { base in
                (base.hasSuffix("/") ? base : base + "/") + file.name
            }
            let part = (directory as NSString).appendingPathComponent(".\(file.name).part-\(getpid())")
            var failure: DatasetError?
            var done = false
            for url in urls {
                try? FileManager.default.removeItem(atPath: part)
                do {
                    try download(url, to: part)
                } catch let error as DatasetError {
                    failure = error
                    continue
                }
                let digest = try Digests.file(part)
                guard try acceptable(part, digest: digest, file: file, expected: expected) else {
                    try? FileManager.default.removeItem(atPath: part)
                    failure = .checksumMismatch(path: url, algorithm: "MD5", expected: expected, found: digest.md5)
                    continue
                }
                guard rename(part, finalPath) == 0 else {
                    let reason = String(cString: strerror(errno))
                    try? FileManager.default.removeItem(atPath: part)
                    throw DatasetError.io(path: finalPath, operation: "rename \(part) to", reason: reason)
                }
                let how = digest.md5 == expected ? "MD5 verified" : "recompressed, content MD5 of the official \(file.rawName) verified"
                progress?("\(file.name): downloaded from \(url), \(how) (\(finalPath))")
                fetched.append(FetchedFile(name: file.name, path: finalPath, url: url, bytes: digest.bytes,
                                           md5: digest.md5, sha256: digest.sha256, alreadyPresent: false))
                done = true
                break
            }
            if !done {
                switch failure {
                case let .downloadFailed(url, reason, _, _)?:
                    throw DatasetError.downloadFailed(url: url, reason: reason,
                                                      placeFiles: name.officialFiles.map(\.name), directory: directory)
                case let other?:
                    throw other
                case nil:
                    throw DatasetError.downloadFailed(url: file.name, reason: "no download location",
                                                      placeFiles: name.officialFiles.map(\.name), directory: directory)
                }
            }
        }
        return FetchReport(dataset: name, directory: directory, files: fetched)
    }

    /// Whether a downloaded (or present) file is the official one: its MD5 is the official
    /// file's, or — for a gzip file with a published content checksum, and unless a test
    /// overrides the known MD5 — its decompressed content's MD5 is the official content's (a
    /// recompressed copy such as the shared MNIST folder, which `data verify` rates the same way).
    /// - Throws: `DatasetError.badGzip` / `.io` from decompressing a file that is not the official one.
    func acceptable(_ path: String, digest: (bytes: Int, sha256: String, md5: String), file: OfficialFile,
                    expected: String) throws -> Bool {
        if digest.md5 == expected { return true }
        guard knownMD5[file.name] == nil, let content = file.contentMD5 else { return false }
        let data = try FileChunks.readAll(path)
        guard Gzip.isGzip(data) else { return false }
        return (try? Digests.md5(Gzip.decompress(data, path: path))) == content
    }

    /// Downloads one URL to `path`.
    /// - Throws: `DatasetError.downloadFailed` (placement filled in by the caller).
    func download(_ urlString: String, to path: String) throws {
        guard let url = URL(string: urlString) else {
            throw DatasetError.downloadFailed(url: urlString, reason: "not a valid URL", placeFiles: [], directory: "")
        }
        if url.isFileURL {
            do {
                try FileManager.default.copyItem(atPath: url.path, toPath: path)
            } catch {
                throw DatasetError.downloadFailed(url: urlString, reason: "cannot copy: \(error.localizedDescription)",
                                                  placeFiles: [], directory: "")
            }
            return
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = DownloadOutcome()
        let task = session.downloadTask(with: url) { location, response, error in
            defer { semaphore.signal() }
            if let error = error {
                outcome.failure = (error as NSError).localizedDescription
                return
            }
            if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                outcome.failure = "HTTP status \(http.statusCode)"
                return
            }
            guard let location = location else { outcome.failure = "no data received"; return }
            do {
                try FileManager.default.moveItem(atPath: location.path, toPath: path)
            } catch {
                outcome.failure = "cannot store the download: \(error.localizedDescription)"
            }
        }
        task.resume()
        semaphore.wait()
        if let failure = outcome.failure {
            throw DatasetError.downloadFailed(url: urlString, reason: failure, placeFiles: [], directory: "")
        }
    }
}

/// The result of one URLSession download, written by its completion handler before the
/// semaphore is signalled and read only after the wait (the semaphore orders the accesses).
private final class DownloadOutcome: @unchecked Sendable {
    var failure: String?
}
