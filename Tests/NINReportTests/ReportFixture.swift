import Foundation
import XCTest
@testable import NINStore
@testable import NINStudy

/// A results database built with the project's own store: study `heads` sweeps `model.head` over
/// GAP, FC and FC + dropout on CIFAR-10 with seeds 1–3, 4 epochs each.
///
/// Final test errors (%): gap 30.0, 31.0, 32.5 · fc 33.0, 33.5, 35.0 · fc-dropout 31.0, 32.4, and
/// seed 3 failed ("loss is NaN at epoch 2"). Epoch test errors are the final + 12, 6, 2, 0, so
/// every curve is still falling at its end.
enum ReportFixture {
    static let study = "heads"
    static let finalErrors: [String: [Int64: Double]] = [
        "gap": [1: 30.0, 2: 31.0, 3: 32.5],
        "fc": [1: 33.0, 2: 33.5, 3: 35.0],
        "fc-dropout": [1: 31.0, 2: 32.4],
    ]
    static let failureReason = "loss is NaN at epoch 2"

    static func id(_ head: String, _ seed: Int64) -> String {
        let h = ["gap": 1, "fc": 2, "fc-dropout": 3][head]!
        return "\(h)\(seed)" + String(repeating: "a", count: 62)
    }

    /// The stored configuration of one trial: resolved by NINStudy from a study file, as `run`
    /// stores it (the CIFAR-10 NIN preset, 4 epochs at learning rate 0.02).
    static func config(head: String, seed: Int64) throws -> String {
        let study = #"{"name": "heads", "dataset": {"name": "cifar10"}, "model": {"head": "\#(head)"}, "seeds": [\#(seed)], "training": {"epochs": 4, "learningRate": 0.02}}"#
        return try StudyDefinition(data: Data(study.utf8), file: "heads.json").trials[0].config.canonicalJSON
    }

    /// Creates the database at `path`. With `mixedEnvironments`, seed 3 of gap and fc ran with 1
    /// thread and oneDNN capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`) on another host; the others with
    /// 2 threads and avx512_core_bf16.
    static func build(at path: String, mixedEnvironments: Bool = false) throws {
        let store = try ResultsStore(path: path)
        let definition = #"{"name":"heads","description":"GAP vs FC vs FC + dropout","dataset":{"name":"cifar10"},"seeds":[1,2,3],"sweep":{"model.head":["gap","fc","fc-dropout"]}}"#
        try store.upsertStudy(name: study, description: "GAP vs FC vs FC + dropout on CIFAR-10 (fixture)",
                              definitionJSON: definition, definitionSHA256: String(repeating: "ab", count: 32))
        let environment = try store.registerEnvironment(EnvironmentRecord(
            host: "fixture-host", cpuModel: "Fixture CPU", cores: 2, threads: 2, os: "Debian GNU/Linux 12",
            swiftVersion: "6.3.1", blas: "oneDNN 2.6.3 ISA avx512_core_bf16, OpenMP threads 2; LAPACK: OpenBLAS 0.3.21",
            ninStudyVersion: "0.1.0", gitCommit: "1f726b2"))
        let avx2 = try store.registerEnvironment(EnvironmentRecord(
            host: "fixture-node-2", cpuModel: "Fixture CPU", cores: 2, threads: 1, os: "Debian GNU/Linux 12",
            swiftVersion: "6.3.1", blas: "oneDNN 2.6.3 ISA avx2, OpenMP threads 1; LAPACK: OpenBLAS 0.3.21",
            ninStudyVersion: "0.1.0", gitCommit: "1f726b2"))
        let identity = String(repeating: "5e", count: 32)
        try store.registerDataset(identity: identity, name: "cifar10", files: [
            DatasetFileRecord(file: "cifar-10-batches-bin/data_batch_1.bin", bytes: 30_730_000, sha256: String(repeating: "c1", count: 32)),
            DatasetFileRecord(file: "cifar-10-batches-bin/test_batch.bin", bytes: 30_730_000, sha256: String(repeating: "d2", count: 32)),
        ])
        for head in ["gap", "fc", "fc-dropout"] {
            for seed: Int64 in [1, 2, 3] {
                let id = id(head, seed)
                try store.upsertTrial(TrialRecord(id: id, configJSON: try config(head: head, seed: seed),
                                                  sweptJSON: #"{"model.head":"\#(head)","seed":\#(seed)}"#, dataset: "cifar10",
                                                  head: head, depth: 2, widths: "80-48/96-96/96-10", widthMultiplier: 1,
                                                  dropout: 0, seed: seed, epochsPlanned: 4, parameterCount: 500_000,
                                                  multiplyAdds: 55_625_000),
                                      params: ["model.head": "\"\(head)\"", "seed": "\(seed)"], study: study)
                let other = mixedEnvironments && seed == 3 && head != "fc-dropout"
                _ = try store.claimTrial(id, owner: ClaimOwner(host: other ? "fixture-node-2" : "fixture-host", pid: 1, bootId: nil, processStartTicks: nil),
                    environmentId: other ? avx2 : environment, datasetIdentity: identity, retryFailed: false)
                guard let final = finalErrors[head]?[seed] else {
                    try store.recordEpoch(EpochRecord(trialId: id, epoch: 1, trainLoss: 2.1, trainAccuracy: 20, testLoss: 2.0,
                                                      testAccuracy: 25, learningRate: 0.02, wallSeconds: 90, imagesPerSecond: 555))
                    try store.markFailed(trialId: id, reason: failureReason)
                    continue
                }
                for (epoch, extra) in [12.0, 6, 2, 0].enumerated() {
                    let error = final + extra
                    try store.recordEpoch(EpochRecord(trialId: id, epoch: epoch + 1, trainLoss: 1.6 - 0.2 * Double(epoch) + 0.01 * Double(seed),
                                                      trainAccuracy: 100 - error - 5, testLoss: error / 30, testAccuracy: 100 - error,
                                                      learningRate: 0.02, wallSeconds: 90, imagesPerSecond: 555))
                }
                try store.markFinished(trialId: id)
            }
        }
    }

    /// A fresh temporary folder, removed when the test ends.
    static func temporaryFolder(_ testCase: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nin-report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Runs a program to completion. - Returns: exit status, standard output, standard error.
func runProcess(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    group.wait()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
