import Foundation
import XCTest
@testable import NINData
import NINEngine

final class SplitAndBatchTests: XCTestCase {
    /// n images of 2×2×1 whose pixels all equal the image index; label = index % 3.
    static func indexed(_ n: Int) -> LabeledImages {
        LabeledImages(images: Tensor(shape: [n, 2, 2, 1], data: (0..<n).flatMap { Array(repeating: Float($0), count: 4) }),
                      labels: (0..<n).map { Int32($0 % 3) })
    }

    func testValidationSplitHoldsOutTheLastImages() throws {
        let (train, validation) = try Self.indexed(10).validationSplit(last: 3)
        XCTAssertEqual(train.count, 7)
        XCTAssertEqual(validation.count, 3)
        XCTAssertEqual(validation.images.data.first, 7)
        XCTAssertEqual(train.images.data.last, 6)
        XCTAssertEqual(validation.labels, [1, 2, 0])
        XCTAssertMentions(Fixtures.message { _ = try Self.indexed(10).validationSplit(last: 10) },
                          "validation size", "1..<10", "found 10")
    }

    func testSubsets() throws {
        let data = Self.indexed(20)
        XCTAssertEqual(try data.firstN(4).images.data, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
        let stratified = try data.perClass(2, classCount: 3)
        XCTAssertEqual(stratified.labelCounts(classCount: 3), [2, 2, 2])
        XCTAssertEqual(stratified.images.data.enumerated().filter { $0.offset % 4 == 0 }.map(\.element), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try data.perClass(2, classCount: 3), stratified, "deterministic")
        XCTAssertMentions(Fixtures.message { _ = try data.perClass(7, classCount: 3) }, "images per class", "class 2 has 6")
        XCTAssertMentions(Fixtures.message { _ = try data.firstN(21) }, "subset size", "1...20", "21")
    }

    func testSamplerIsDeterministicAndCoversEveryExampleOnce() {
        let sampler = MiniBatchSampler(count: 10, batchSize: 4)
        func batches(_ s: MiniBatchSampler, seed: UInt64) -> [[Int]] {
            var g = SeededGenerator(seed: seed)
            return s.batches(generator: &g)
        }
        let a = batches(sampler, seed: 42)
        XCTAssertEqual(a, batches(sampler, seed: 42))
        XCTAssertNotEqual(a, batches(sampler, seed: 43))
        XCTAssertEqual(a.map(\.count), [4, 4, 2], "last partial batch kept by default")
        XCTAssertEqual(a.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(sampler.batchesPerEpoch, 3)

        let dropping = MiniBatchSampler(count: 10, batchSize: 4, dropLast: true)
        XCTAssertEqual(batches(dropping, seed: 42).map(\.count), [4, 4])
        XCTAssertEqual(dropping.batchesPerEpoch, 2)
        XCTAssertEqual(batches(MiniBatchSampler(count: 5, batchSize: 2, shuffle: false), seed: 1),
                       [[0, 1], [2, 3], [4]])
    }

    func testSamplerResumesFromSavedGeneratorState() throws {
        let sampler = MiniBatchSampler(count: 50, batchSize: 8)
        var g = SeededGenerator(seed: 9)
        var uninterrupted: [[[Int]]] = []
        var savedState: [UInt64] = []
        for epoch in 0..<3 {
            if epoch == 2 { savedState = g.state }
            uninterrupted.append(sampler.batches(generator: &g))
        }
        // A resumed run restores the generator saved at the start of epoch 2 (e.g. from JSON).
        let json = try JSONEncoder().encode(SeededGenerator(state: savedState))
        var restored = try JSONDecoder().decode(SeededGenerator.self, from: json)
        XCTAssertEqual(sampler.batches(generator: &restored), uninterrupted[2])
        XCTAssertNotEqual(uninterrupted[0], uninterrupted[1])
    }

    func testGatherCopiesSelectedImagesIntoTheBuffer() {
        let data = Self.indexed(10)
        var batch = MiniBatch(capacity: 4, height: 2, width: 2, channels: 1)
        batch.gather([9, 2, 5, 0], from: data)
        XCTAssertEqual(batch.images.shape, [4, 2, 2, 1])
        XCTAssertEqual(batch.images.data, [9, 9, 9, 9, 2, 2, 2, 2, 5, 5, 5, 5, 0, 0, 0, 0])
        XCTAssertEqual(batch.labels, [0, 2, 2, 0])
        batch.gather([7, 1], from: data) // last partial batch
        XCTAssertEqual(batch.images.shape, [2, 2, 2, 1])
        XCTAssertEqual(batch.images.data, [7, 7, 7, 7, 1, 1, 1, 1])
        XCTAssertEqual(batch.labels, [1, 1])
        batch.gather([3, 4, 6, 8], from: data)
        XCTAssertEqual(batch.count, 4)
        XCTAssertEqual(batch.images.data.count, 16)
        XCTAssertEqual(batch.images.data[12], 8)
    }
}
