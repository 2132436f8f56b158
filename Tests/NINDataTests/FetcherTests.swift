import Foundation
import XCTest
@testable import NINData
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (loopback only) serving fixed files, for fetch tests.
/// One thread; each connection gets one response and is closed; it stops on `stop()`, after
/// 64 connections, or after 60 s.
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let files: [String: Data]
    private let lock = NSLock()
    private var running = true
    private var paths: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    /// Requested paths so far.
    var requests: [String] { lock.lock(); defer { lock.unlock() }; return paths }

    init(files: [String: Data]) throws {
        self.files = files
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DatasetError.io(path: "socket", operation: "create", reason: "errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw DatasetError.io(path: "127.0.0.1", operation: "listen on", reason: "errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in serve() }
    }

    private func isRunning() -> Bool { lock.lock(); defer { lock.unlock() }; return running }

    private func serve() {
        let deadline = Date().addingTimeInterval(60)
        var connections = 0
        while isRunning(), connections < 64, Date() < deadline {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            connections += 1
            handle(client)
            close(client)
        }
        finished.signal()
    }

    private func handle(_ client: Int32) {
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536, !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            request.append(contentsOf: buffer[0..<n])
        }
        let line = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        let path = parts.count > 1 ? String(parts[1]) : ""
        lock.lock(); paths.append(path); lock.unlock()
        let body = files[path]
        var head = body == nil ? "HTTP/1.1 404 Not Found\r\n" : "HTTP/1.1 200 OK\r\n"
        head += "Content-Length: \((body ?? Data()).count)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        var response = Data(head.utf8)
        response.append(body ?? Data())
        response.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(client, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                sent += n
            }
        }
    }

    func stop() {
        lock.lock(); running = false; lock.unlock()
        _ = finished.wait(timeout: .now() + 5)
        close(listener)
    }
}

final class FetcherTests: XCTestCase {
    /// Generated stand-ins for the four official IDX .gz files, and their MD5s.
    static func idxFiles() -> [String: Data] {
        [
            "train-images-idx3-ubyte.gz": Gzip.compress(Fixtures.idxImages(n: 12)),
            "train-labels-idx1-ubyte.gz": Gzip.compress(Fixtures.idxLabels(Fixtures.labels(12))),
            "t10k-images-idx3-ubyte.gz": Gzip.compress(Fixtures.idxImages(n: 5)),
            "t10k-labels-idx1-ubyte.gz": Gzip.compress(Fixtures.idxLabels(Fixtures.labels(5))),
        ]
    }

    static func md5s(_ files: [String: Data]) -> [String: String] { files.mapValues(Digests.md5) }

    func testFetchFromFileURLThenLoad() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let mirror = root + "/mirror"
        try FileManager.default.createDirectory(atPath: mirror, withIntermediateDirectories: true)
        let files = Self.idxFiles()
        for (name, data) in files { try data.write(to: URL(fileURLWithPath: mirror + "/" + name)) }
        let locator = DataLocator(environment: [:], systemDirectory: nil)
        let fetcher = DatasetFetcher(locator: locator, baseURL: URL(fileURLWithPath: mirror).absoluteString + "/",
                                     knownMD5: Self.md5s(files))
        var lines: [String] = []
        let report = try fetcher.fetch(.mnist, dataDir: root + "/data") { lines.append($0) }
        XCTAssertEqual(report.directory, root + "/data/mnist")
        XCTAssertEqual(report.files.map(\.alreadyPresent), [false, false, false, false])
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/data/mnist").sorted(),
                       files.keys.sorted(), "no temporary files left")
        let dataset = try locator.load(.mnist, dataDir: root + "/data")
        XCTAssertEqual(dataset.train.count, 12)
        XCTAssertEqual(dataset.identity.files.first { $0.name == "t10k-images-idx3-ubyte.gz" }?.sha256,
                       report.files.first { $0.name == "t10k-images-idx3-ubyte.gz" }?.sha256)
        // A second fetch finds everything present and verified.
        XCTAssertEqual(try fetcher.fetch(.mnist, dataDir: root + "/data").files.map(\.alreadyPresent), [true, true, true, true])
    }

    /// `data fetch --base-url file://…` accepts the shared recompressed MNIST copy, whose content
    /// matches the official files (the rating `data verify` gives it), and says so; a copy with
    /// other content is still refused.
    func testFetchAcceptsARecompressedCopyOfTheOfficialContent() throws {
        guard let shared = Fixtures.sharedData else {
            print("SKIPPED testFetchAcceptsARecompressedCopyOfTheOfficialContent: ../shared/data is absent")
            throw XCTSkip("../shared/data is absent")
        }
        let root = try Fixtures.temporaryDirectory(self)
        let fetcher = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                     baseURL: URL(fileURLWithPath: shared + "/mnist").absoluteString + "/")
        var lines: [String] = []
        let report = try fetcher.fetch(.mnist, dataDir: root + "/data") { lines.append($0) }
        XCTAssertEqual(report.files.count, 4)
        XCTAssertTrue(lines.allSatisfy { $0.contains("content MD5 of the official") }, "\(lines)")
        XCTAssertEqual(try fetcher.fetch(.mnist, dataDir: root + "/data").files.map(\.alreadyPresent), [true, true, true, true])

        let fake = root + "/fake"
        try FileManager.default.createDirectory(atPath: fake, withIntermediateDirectories: true)
        for (name, data) in Self.idxFiles() { try data.write(to: URL(fileURLWithPath: fake + "/" + name)) }
        let refused = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                     baseURL: URL(fileURLWithPath: fake).absoluteString + "/")
        XCTAssertMentions(Fixtures.message { _ = try refused.fetch(.mnist, dataDir: root + "/other") }, "checksum mismatch")
    }

    func testFetchOverLoopbackHTTP() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let files = Self.idxFiles()
        let server = try LoopbackHTTPServer(files: Dictionary(uniqueKeysWithValues: files.map { ("/fm/" + $0.key, $0.value) }))
        defer { server.stop() }
        let fetcher = DatasetFetcher(locator: DataLocator(environment: ["NIN_DATA_DIR": root + "/env"], systemDirectory: nil),
                                     baseURL: "http://127.0.0.1:\(server.port)/fm", knownMD5: Self.md5s(files), timeout: 10)
        let report = try fetcher.fetch(.fashionMNIST, dataDir: nil)
        XCTAssertEqual(report.directory, root + "/env/fashion-mnist")
        XCTAssertEqual(Set(server.requests), Set(files.keys.map { "/fm/" + $0 }))
        for file in report.files {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file.path)), files[file.name])
            XCTAssertEqual(file.url, "http://127.0.0.1:\(server.port)/fm/\(file.name)")
        }
        let dataset = try DataLocator(environment: ["NIN_DATA_DIR": root + "/env"], systemDirectory: nil)
            .load(.fashionMNIST, dataDir: nil)
        XCTAssertEqual(dataset.test.count, 5)
    }

    func testChecksumMismatchLeavesNoFinalFile() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let archive = Fixtures.cifarArchive()
        let server = try LoopbackHTTPServer(files: ["/cifar-10-binary.tar.gz": archive])
        defer { server.stop() }
        // Official MD5 (c32a1d4a…) against a generated archive: must be rejected.
        let fetcher = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                     baseURL: "http://127.0.0.1:\(server.port)/", timeout: 10)
        let message = Fixtures.message { _ = try fetcher.fetch(.cifar10, dataDir: root) }
        XCTAssertMentions(message, "checksum mismatch", "cifar-10-binary.tar.gz", "expected MD5 c32a1d4ab5d03f1284b67883e8d87530",
                          "found \(Digests.md5(archive))")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [], "neither final nor temporary file")
        // With the matching checksum the same download is accepted and readable in place.
        let accepting = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                       baseURL: "http://127.0.0.1:\(server.port)/",
                                       knownMD5: ["cifar-10-binary.tar.gz": Digests.md5(archive)], timeout: 10)
        _ = try accepting.fetch(.cifar10, dataDir: root)
        XCTAssertEqual(try DataLocator(environment: [:], systemDirectory: nil).locate(.cifar10, dataDir: root).layout, .cifarArchive)
    }

    func testOfflineFailsFastSayingWhatToPlaceWhere() throws {
        let root = try Fixtures.temporaryDirectory(self)
        // A loopback port nobody listens on: connection refused, like an offline machine.
        let probe = try LoopbackHTTPServer(files: [:])
        let port = probe.port
        probe.stop()
        let fetcher = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                     baseURL: "http://127.0.0.1:\(port)/", timeout: 5)
        let start = Date()
        let message = Fixtures.message { _ = try fetcher.fetch(.mnist, dataDir: root) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "fails fast")
        XCTAssertMentions(message, "download of http://127.0.0.1:\(port)/train-images-idx3-ubyte.gz failed",
                          "place these files in \(root)/mnist", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/mnist"), "no empty folder left behind")
    }

    func testHTTPErrorStatusIsADownloadFailure() throws {
        let root = try Fixtures.temporaryDirectory(self)
        let server = try LoopbackHTTPServer(files: [:])
        defer { server.stop() }
        let fetcher = DatasetFetcher(locator: DataLocator(environment: [:], systemDirectory: nil),
                                     baseURL: "http://127.0.0.1:\(server.port)/", timeout: 10)
        let message = Fixtures.message { _ = try fetcher.fetch(.cifar10, dataDir: root) }
        XCTAssertMentions(message, "HTTP status 404", "place these files in \(root)", "cifar-10-binary.tar.gz")
    }

    func testOfficialLocationsAndChecksumsAreDeclared() {
        for name in DatasetName.allCases {
            for file in name.officialFiles {
                XCTAssertEqual(file.md5?.count, 32, "\(file.name)")
                XCTAssertFalse(file.baseURLs.isEmpty)
            }
        }
        XCTAssertEqual(DatasetName.cifar10.officialFiles.first?.md5, "c32a1d4ab5d03f1284b67883e8d87530")
        XCTAssertEqual(DatasetName.mnist.officialFiles[0].acceptedNames,
                       ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "train-images.idx3-ubyte",
                        "train-images.idx3-ubyte.gz"])
    }
}
