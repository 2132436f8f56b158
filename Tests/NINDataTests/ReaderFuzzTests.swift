import Foundation
import XCTest
@testable import NINData
import NINEngine

/// Fuzz test of the dataset readers: IDX (raw and gzip), the CIFAR-10 binary folder, and the
/// CIFAR-10 `.tar.gz` archive (gzip + ustar), each fed seeded mutations of a valid small file.
///
/// Every input must end in success with the counts the valid files have (never a silently
/// different count) or in a `DatasetError` whose message names the damaged file; a crash fails
/// the suite, and a case that does not finish within the time limit fails the test (no hang).
/// Cases come from one seeded generator in a fixed order; the loop stops after `maxCases` or
/// `budget` seconds, whichever comes first, and a failure names its case number and seed.
final class ReaderFuzzTests: XCTestCase {
    static let seed: UInt64 = 20_261_201
    static let maxCases = 20_000
    static let budget: TimeInterval = 3

    /// One random damage to a byte string: random bytes overwritten, a 32-bit header field set
    /// to an extreme value, truncation, random bytes appended, a range deleted or repeated, or
    /// the whole content replaced by noise.
    static func mutate(_ data: Data, _ g: inout SeededGenerator) -> Data {
        var bytes = [UInt8](data)
        func randomBytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(g.nextInt(below: 256)) } }
        switch g.nextInt(below: 8) {
        case 0:
            for _ in 0..<(1 + g.nextInt(below: 8)) where !bytes.isEmpty {
                bytes[g.nextInt(below: bytes.count)] = UInt8(g.nextInt(below: 256))
            }
        case 1:
            let extremes: [UInt32] = [0, 1, 2, 9, 10, 255, 2049, 2051, 0x7fff_ffff, 0xffff_ffff, 0x0100_0000]
            let field = extremes[g.nextInt(below: extremes.count)]
            let at = 4 * g.nextInt(below: max(1, min(bytes.count, 160) / 4))
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: field >> (24 - 8 * k)) }
        case 2:
            bytes = Array(bytes.prefix(g.nextInt(below: bytes.count + 1)))
        case 3:
            bytes += randomBytes(1 + g.nextInt(below: 4000))
        case 4:
            if !bytes.isEmpty {
                let start = g.nextInt(below: bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + g.nextInt(below: 3100)))
            }
        case 5:
            if !bytes.isEmpty {
                let start = g.nextInt(below: bytes.count)
                let piece = bytes[start..<min(bytes.count, start + 1 + g.nextInt(below: 3100))]
                bytes.insert(contentsOf: piece, at: g.nextInt(below: bytes.count + 1))
            }
        case 6:
            // Whole units cut or repeated (a CIFAR record, a tar block, an IDX image row): the
            // damage that leaves a plausible size, such as a batch cut to fewer whole records.
            let unit = [3073, 512, 30, 6][g.nextInt(below: 4)]
            let units = bytes.count / unit
            if units > 0 {
                let at = unit * g.nextInt(below: units)
                if g.nextInt(below: 2) == 0 {
                    bytes.removeSubrange(at..<(at + unit))
                } else {
                    bytes.insert(contentsOf: bytes[at..<(at + unit)], at: at)
                }
            }
        default:
            bytes = randomBytes(g.nextInt(below: 2000))
        }
        return Data(bytes)
    }

    func testReadersEndInSuccessOrATypedErrorNamingTheFile() throws {
        let perBatch = 2
        let cifarFiles = Fixtures.cifarFiles(perBatch: perBatch)
        let idxImages = Fixtures.idxImages(n: 5, rows: 6, cols: 5)
        let idxLabels = Fixtures.idxLabels(Fixtures.labels(5))
        let tar = TarWriter.archive(cifarFiles.map { ("cifar-10-batches-bin/" + $0.name, $0.data) })
        let folder = "/fuzz/cifar-10-batches-bin"

        /// Runs one case on the readers' decoding paths (everything after the file's bytes are
        /// read: gzip, IDX headers, batch checks, ustar, records); returns a failure, or nil.
        @Sendable func runCase(_ g: inout SeededGenerator) -> String? {
            let damaged: String
            let result: Result<Void, Error>
            switch g.nextInt(below: 3) {
            case 0: // IDX pair, raw or gzip; one file damaged (before or after compression)
                let gzip = g.nextInt(below: 2) == 1
                let target = g.nextInt(below: 2)
                let afterCompression = gzip && g.nextInt(below: 2) == 1
                var files = [idxImages, idxLabels]
                if !afterCompression { files[target] = Self.mutate(files[target], &g) }
                if gzip { files = files.map { Gzip.compress($0) } }
                if afterCompression { files[target] = Self.mutate(files[target], &g) }
                let paths = ["/fuzz/mnist/train-images-idx3-ubyte", "/fuzz/mnist/train-labels-idx1-ubyte"]
                damaged = paths[target]
                result = Result {
                    let images = try IDXReader.decodeImages(try IDXReader.content(files[0], path: paths[0]), path: paths[0])
                    let labels = try IDXReader.decodeLabels(try IDXReader.content(files[1], path: paths[1]), path: paths[1],
                                                            classCount: 10)
                    guard images.shape == [5, 6, 5, 1], labels.count == 5, labels.allSatisfy({ $0 >= 0 && $0 < 10 }) else {
                        throw FuzzFailure(message: "images \(images.shape), \(labels.count) labels")
                    }
                }
            case 1: // CIFAR-10 folder, one file damaged
                var files = cifarFiles.map { (name: $0.name, path: folder + "/" + $0.name, data: $0.data) }
                let target = g.nextInt(below: files.count)
                files[target].data = Self.mutate(files[target].data, &g)
                damaged = files[target].path
                result = Result {
                    try Self.checkCIFAR(try CIFAR10Reader.decodeFolder(train: Array(files[0..<5]), test: files[5], meta: files[6],
                                                                       recordsPerBatch: perBatch), perBatch)
                }
            default: // CIFAR-10 archive: the tar stream or the gzip bytes damaged, fed in chunks
                (damaged, result) = Self.archiveCase(tar: tar, perBatch: perBatch, &g)
            }
            switch result {
            case .success:
                return nil
            case .failure(let error as DatasetError):
                return error.description.contains(damaged) ? nil : "error does not name \(damaged): \(error)"
            case .failure(let error):
                return "\(error)"
            }
        }

        let outcome = ConcurrentResult<(cases: Int, failures: [String])>()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var g = SeededGenerator(seed: Self.seed)
            var failures: [String] = []
            let start = Date()
            var cases = 0
            while cases < Self.maxCases, Date().timeIntervalSince(start) < Self.budget, failures.count < 10 {
                if let failure = runCase(&g) { failures.append("case \(cases) (seed \(Self.seed)): \(failure)") }
                cases += 1
            }
            outcome.value = (cases, failures)
            done.signal()
        }
        guard done.wait(timeout: .now() + Self.budget + 60) == .success, let (cases, failures) = outcome.value else {
            return XCTFail("a reader did not finish: a hang (seed \(Self.seed))")
        }
        print("ReaderFuzzTests: \(cases) cases, \(failures.count) failures")
        XCTAssertGreaterThan(cases, 100, "enough cases ran in the time budget")
        XCTAssertEqual(failures, [], "\(failures.count) of \(cases) cases failed")
    }

    /// A CIFAR-10 archive whose tar stream or gzip bytes are damaged, fed to the reader in
    /// chunks of a random size: the archive's path and the read's result.
    static func archiveCase(tar: Data, perBatch: Int, _ g: inout SeededGenerator) -> (String, Result<Void, Error>) {
        let archive = "/fuzz/cifar-10-binary.tar.gz"
        let bytes = g.nextInt(below: 2) == 1 ? mutate(Gzip.compress(tar), &g) : Gzip.compress(mutate(tar, &g))
        let chunk = 1 + g.nextInt(below: 8192)
        return (archive, Result {
            let d = try CIFAR10Reader.decodeArchive(path: archive, recordsPerBatch: perBatch) { feed in
                try bytes.withUnsafeBytes { all in
                    for start in stride(from: 0, to: all.count, by: chunk) {
                        try feed(UnsafeRawBufferPointer(rebasing: all[start..<min(all.count, start + chunk)]))
                    }
                }
            }
            try checkCIFAR(d, perBatch)
        })
    }

    /// A CIFAR-10 read accepted from damaged input still has exactly the valid files' counts.
    static func checkCIFAR(_ d: Dataset, _ perBatch: Int) throws {
        guard d.train.count == 5 * perBatch, d.test.count == perBatch, d.classNames.count == 10,
              (d.train.labels + d.test.labels).allSatisfy({ $0 >= 0 && $0 < 10 }) else {
            throw FuzzFailure(message: "accepted with \(d.train.count) training and \(d.test.count) test images")
        }
    }
}

/// A case that was accepted with the wrong counts.
struct FuzzFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { "silently accepted: \(message)" }
}
