import Foundation
import GRDB
import XCTest

@testable import NINStore

/// A settable clock so tests control every timestamp the store writes.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var now: Date {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    func advance(by seconds: TimeInterval) {
        lock.lock(); defer { lock.unlock() }
        current += seconds
    }
}

/// A deterministic 64-hex-digit trial id (SplitMix64 over `seed`), shaped like a SHA-256.
func hexId(_ seed: UInt64) -> String {
    var state = seed &+ 0x1234_5678
    var digits = ""
    for _ in 0..<4 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let chunk = String(z, radix: 16)
        digits += String(repeating: "0", count: 16 - chunk.count) + chunk
    }
    return digits
}

/// A new empty folder under the system temporary folder, removed at the end of the test.
func makeTemporaryFolder(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("nin-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

let testHost = "test-host"
let testDatasetIdentity = hexId(9_999)

func sampleEnvironment(threads: Int = 2) -> EnvironmentRecord {
    EnvironmentRecord(host: testHost, cpuModel: "Test CPU @ 2.0GHz", cores: 2, threads: threads,
                      os: "Debian GNU/Linux 12", swiftVersion: "6.3.1", blas: "OpenBLAS 0.3.21",
                      ninStudyVersion: "0.1.0", gitCommit: "a011684")
}

func sampleDatasetFiles() -> [DatasetFileRecord] {
    [
        DatasetFileRecord(file: "cifar-10-batches-bin/data_batch_1.bin", bytes: 30_730_000, sha256: hexId(1_001)),
        DatasetFileRecord(file: "cifar-10-batches-bin/test_batch.bin", bytes: 30_730_000, sha256: hexId(1_002)),
    ]
}

/// A trial of the Table-5-style sweep with the given swept values.
func sampleTrial(id: String, head: String, depth: Int, seed: Int64, epochs: Int = 3) -> TrialRecord {
    let widths = ["192", "192-160", "192-160-96", "192-160-96-96"][min(depth, 3)]
    let config = #"{"dataset":"cifar10","depth":\#(depth),"epochs":\#(epochs),"head":"\#(head)","seed":\#(seed)}"#
    let swept = #"{"model.depth":\#(depth),"model.head":"\#(head)","seed":\#(seed)}"#
    return TrialRecord(id: id, configJSON: config, sweptJSON: swept, dataset: "cifar10", head: head, depth: depth,
                       widths: widths, widthMultiplier: 1.0, dropout: head == "fc" ? 0 : 0.5, seed: seed,
                       epochsPlanned: epochs, parameterCount: 966_986 + Int64(depth) * 1000,
                       multiplyAdds: 222_500_000 + Int64(depth) * 1_000_000)
}

func sampleParams(head: String, depth: Int, seed: Int64) -> [String: String] {
    ["model.head": "\"\(head)\"", "model.depth": "\(depth)", "seed": "\(seed)"]
}

/// Deterministic per-epoch test accuracy (%) of a sample trial: rises with the epoch, GAP best.
func sampleTestAccuracy(head: String, depth: Int, seed: Int64, epoch: Int) -> Double {
    let headBonus: Double = ["gap": 3.0, "fc-dropout": 2.0, "fc": 1.0][head] ?? 0
    let epochPart: Double = 5 * Double(epoch)
    let depthPart: Double = 0.5 * Double(depth)
    let seedPart: Double = 0.25 * Double(seed % 3)
    return 60 + epochPart + headBonus + depthPart + seedPart
}

/// Builds a small realistic database: study `table5-gap-vs-fc-cifar10` (3 heads × 2 depths × 3 seeds, finished,
/// 3 epochs each), one failed and one running trial, and study `depth-sweep` sharing two trials.
/// Returns the ids of the finished trials.
@discardableResult
func populate(_ store: ResultsStore, clock: TestClock) throws -> [String] {
    try store.upsertStudy(name: "table5-gap-vs-fc-cifar10", description: "GAP vs FC heads, tiny budget",
                          definitionJSON: #"{"name":"table5-gap-vs-fc-cifar10"}"#, definitionSHA256: hexId(500))
    try store.upsertStudy(name: "depth-sweep", description: "micro-network depth",
                          definitionJSON: #"{"name":"depth-sweep"}"#, definitionSHA256: hexId(501))
    let environmentId = try store.registerEnvironment(sampleEnvironment())
    try store.registerDataset(identity: testDatasetIdentity, name: "cifar10", files: sampleDatasetFiles())
    var finished: [String] = []
    var n: UInt64 = 0
    for head in ["gap", "fc", "fc-dropout"] {
        for depth in [1, 2] {
            for seed: Int64 in [1, 2, 3] {
                n += 1
                let id = hexId(n)
                try store.upsertTrial(sampleTrial(id: id, head: head, depth: depth, seed: seed),
                                      params: sampleParams(head: head, depth: depth, seed: seed), study: "table5-gap-vs-fc-cifar10")
                if head == "gap" && seed == 1 {
                    try store.upsertTrial(sampleTrial(id: id, head: head, depth: depth, seed: seed),
                                          params: sampleParams(head: head, depth: depth, seed: seed),
                                          study: "depth-sweep")
                }
                _ = try store.claimTrial(id, owner: ClaimOwner(host: testHost, pid: 4242, bootId: nil, processStartTicks: nil),
                    environmentId: environmentId, datasetIdentity: testDatasetIdentity, retryFailed: false)
                for epoch in 1...3 {
                    clock.advance(by: 10 * Double(depth) + Double(seed))
                    let accuracy = sampleTestAccuracy(head: head, depth: depth, seed: seed, epoch: epoch)
                    try store.recordEpoch(EpochRecord(
                        trialId: id, epoch: epoch, trainLoss: 2.0 / Double(epoch), trainAccuracy: accuracy + 5,
                        valLoss: nil, valAccuracy: nil, testLoss: 2.2 / Double(epoch), testAccuracy: accuracy,
                        learningRate: 0.1, wallSeconds: 10 * Double(depth) + Double(seed),
                        imagesPerSecond: 500 - 100 * Double(depth)))
                }
                try store.addArtifact(trialId: id, kind: .checkpoint, path: "results/checkpoints/\(id).ckpt",
                                      sha256: hexId(n + 100), bytes: 3_900_000)
                try store.markFinished(trialId: id)
                finished.append(id)
            }
        }
    }
    let failedId = hexId(77)
    try store.upsertTrial(sampleTrial(id: failedId, head: "fc", depth: 3, seed: 1),
                          params: sampleParams(head: "fc", depth: 3, seed: 1), study: "table5-gap-vs-fc-cifar10")
    _ = try store.claimTrial(failedId, owner: ClaimOwner(host: testHost, pid: 4243, bootId: nil, processStartTicks: nil),
        environmentId: environmentId, datasetIdentity: testDatasetIdentity, retryFailed: false)
    try store.recordEpoch(EpochRecord(trialId: failedId, epoch: 1, trainLoss: .nan, trainAccuracy: 10,
                                      testLoss: .nan, testAccuracy: 10, learningRate: 0.1, wallSeconds: 12,
                                      imagesPerSecond: 300))
    try store.markFailed(trialId: failedId, reason: "training loss became NaN in epoch 1")

    let runningId = hexId(78)
    try store.upsertTrial(sampleTrial(id: runningId, head: "gap", depth: 3, seed: 1),
                          params: sampleParams(head: "gap", depth: 3, seed: 1), study: "depth-sweep")
    _ = try store.claimTrial(runningId, owner: ClaimOwner(host: testHost, pid: 4244, bootId: nil, processStartTicks: nil),
        environmentId: environmentId, datasetIdentity: testDatasetIdentity, retryFailed: false)
    return finished
}
