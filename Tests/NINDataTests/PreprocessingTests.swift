import Foundation
import XCTest
@testable import NINData
import NINEngine

final class PreprocessingTests: XCTestCase {
    /// Correlated synthetic 8×8×3 images (D = 192) around grey 128: pixel j mixes its own normal
    /// draw, its neighbour's and an image-wide one, so the covariance is far from diagonal.
    static func synthetic(count: Int, seed: UInt64) -> LabeledImages {
        var g = SeededGenerator(seed: seed)
        let d = 192
        var data = [Float](repeating: 0, count: count * d)
        for i in 0..<count {
            let common = g.nextGaussian()
            var previous = g.nextGaussian()
            for j in 0..<d {
                let z = g.nextGaussian()
                data[i * d + j] = 128 + 30 * z + 20 * previous + 10 * common + Float(j % 7)
                previous = z
            }
        }
        return LabeledImages(images: Tensor(shape: [count, 8, 8, 3], data: data),
                             labels: (0..<count).map { Int32($0 % 10) })
    }

    /// Per-channel mean and population standard deviation of `[N, H, W, C]` images, in Double
    /// and in two passes (the mean first, then the mean squared deviation from it): a reference
    /// for the one-pass kernel that `fit` uses.
    static func naiveChannelMeanStd(_ images: Tensor) -> (mean: [Double], std: [Double]) {
        let c = images.shape[3], n = images.count / c
        let values = (0..<c).map { k in stride(from: k, to: images.count, by: c).map { Double(images.data[$0]) } }
        let mean = values.map { $0.reduce(0, +) / Double(n) }
        let std = (0..<c).map { k in (values[k].map { ($0 - mean[k]) * ($0 - mean[k]) }.reduce(0, +) / Double(n)).squareRoot() }
        return (mean, std)
    }

    /// Naive GCN in Double (reference for the Float kernel).
    static func naiveGCN(_ row: ArraySlice<Float>, scale: Double) -> [Double] {
        let x = row.map(Double.init)
        let mean = x.reduce(0, +) / Double(x.count)
        let centred = x.map { $0 - mean }
        let norm = centred.map { $0 * $0 }.reduce(0, +).squareRoot() / scale
        return centred.map { $0 / (norm < 1e-8 ? 1 : norm) }
    }

    /// Naive covariance (1/N, centred) of the rows of an N×D matrix, in Double.
    static func covariance(_ rows: [[Double]]) -> [[Double]] {
        let n = Double(rows.count), d = rows[0].count
        var mean = [Double](repeating: 0, count: d)
        for r in rows { for j in 0..<d { mean[j] += r[j] / n } }
        var c = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for r in rows {
            let x = (0..<d).map { r[$0] - mean[$0] }
            for i in 0..<d { let xi = x[i]; for j in i..<d { c[i][j] += xi * x[j] } }
        }
        for i in 0..<d { for j in i..<d { c[i][j] /= n; c[j][i] = c[i][j] } }
        return c
    }

    static func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let n = a.count, m = b[0].count, k = b.count
        var out = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        for i in 0..<n { for t in 0..<k { let ait = a[i][t]; if ait == 0 { continue }; for j in 0..<m { out[i][j] += ait * b[t][j] } } }
        return out
    }

    func testGCNZCAWhitensTrainingDataUpToTheFilterBias() throws {
        let train = Self.synthetic(count: 1000, seed: 1)
        let bias: Float = 0.1
        let fitted = try Preprocessing.gcnZCA(scale: 55, filterBias: bias).fit(on: train)
        let d = 192
        XCTAssertEqual(fitted.zcaMatrix.count, d * d)
        let p = (0..<d).map { i in (0..<d).map { j in Double(fitted.zcaMatrix[i * d + j]) } }
        for i in 0..<d { for j in 0..<d { XCTAssertEqual(p[i][j], p[j][i], accuracy: 1e-6) } }

        // Reference: GCN in Double, covariance C; P must satisfy P (C + bI) P = I.
        let gcnRows = (0..<train.count).map { Self.naiveGCN(train.images.data[($0 * d)..<(($0 + 1) * d)], scale: 55) }
        var c = Self.covariance(gcnRows)
        let naiveMean = (0..<d).map { j in gcnRows.map { $0[j] }.reduce(0, +) / Double(train.count) }
        for j in 0..<d { XCTAssertEqual(Double(fitted.zcaMean[j]), naiveMean[j], accuracy: 1e-4) }
        for i in 0..<d { c[i][i] += Double(bias) }
        let identity = Self.multiply(Self.multiply(p, c), p)
        var worst = 0.0
        for i in 0..<d { for j in 0..<d { worst = max(worst, abs(identity[i][j] - (i == j ? 1 : 0))) } }
        XCTAssertLessThan(worst, 2e-3, "P (C + bI) P deviates from I by \(worst)")

        // The whitened training data: covariance = P C P = I − b P² (≈ I except along directions
        // whose variance is comparable to the filter bias; exactly 0 along the constant
        // direction GCN removed).
        var whitened = train
        try fitted.apply(to: &whitened)
        let rows = (0..<whitened.count).map { i in (0..<d).map { Double(whitened.images.data[i * d + $0]) } }
        let cw = Self.covariance(rows)
        let p2 = Self.multiply(p, p)
        worst = 0
        for i in 0..<d {
            XCTAssertLessThanOrEqual(cw[i][i], 1 + 1e-3)
            for j in 0..<d { worst = max(worst, abs(cw[i][j] - ((i == j ? 1 : 0) - Double(bias) * p2[i][j]))) }
        }
        XCTAssertLessThan(worst, 2e-3, "whitened covariance deviates from I − bP² by \(worst)")
        let meanDiagonal = (0..<d).map { cw[$0][$0] }.reduce(0, +) / Double(d)
        XCTAssertGreaterThan(meanDiagonal, 0.95, "most directions are whitened to unit variance")
        let constant = (0..<d).map { i in (0..<d).map { cw[i][$0] }.reduce(0, +) }.reduce(0, +) / Double(d)
        XCTAssertEqual(constant, 0, accuracy: 1e-3, "no variance along the constant direction after GCN")
        let meanAfter = (0..<d).map { j in rows.map { $0[j] }.reduce(0, +) / Double(rows.count) }
        XCTAssertLessThan(meanAfter.map(abs).max()!, 1e-3)
    }

    /// A tiny filter bias (1e-6) whitens: GCN makes the covariance singular, its zero eigenvalue
    /// comes out of the Float32 accumulation slightly negative, and that round-off is clamped
    /// instead of refusing the bias. The transform stays finite and whitens the directions with
    /// real variance. A bias of 0 is refused naming the real bound (> 0).
    func testTinyFilterBiasIsAcceptedAndZeroIsRefusedWithTheRealBound() throws {
        // 60 images of 192 values: the covariance has rank 59 (GCN removes one more direction),
        // so 133 eigenvalues are round-off around 0, some of them below −1e-6.
        let train = Self.synthetic(count: 60, seed: 4)
        let fitted = try Preprocessing.gcnZCA(scale: 55, filterBias: 1e-6).fit(on: train)
        XCTAssertTrue(fitted.zcaMatrix.allSatisfy(\.isFinite))
        var whitened = train
        try fitted.apply(to: &whitened)
        XCTAssertTrue(whitened.images.data.allSatisfy(\.isFinite))
        let d = 192
        let rows = (0..<whitened.count).map { i in (0..<d).map { Double(whitened.images.data[i * d + $0]) } }
        let cw = Self.covariance(rows)
        // Trace of P C P = Σ λ / (λ + b): about 1 per direction with real variance (59).
        let trace = (0..<d).map { cw[$0][$0] }.reduce(0, +)
        XCTAssertEqual(trace, 59, accuracy: 3, "unit variance along the directions with real variance")
        for bias: Float in [0, -1, .nan] {
            XCTAssertThrowsError(try Preprocessing.gcnZCA(scale: 55, filterBias: bias).fit(on: train)) { error in
                XCTAssertMentions("\(error)", "ZCA filter bias", "> 0", "covariance is singular")
            }
        }
    }

    func testTestSplitUsesTrainingStatistics() throws {
        let train = Self.synthetic(count: 400, seed: 2)
        var test = Self.synthetic(count: 50, seed: 3)
        let original = test
        let fitted = try Preprocessing.gcnZCA().fit(on: train)
        try fitted.apply(to: &test)
        let d = 192
        for i in [0, 17, 49] {
            let g = Self.naiveGCN(original.images.data[(i * d)..<((i + 1) * d)], scale: 55)
            for j in stride(from: 0, to: d, by: 5) {
                var expected = 0.0
                for k in 0..<d { expected += (g[k] - Double(fitted.zcaMean[k])) * Double(fitted.zcaMatrix[k * d + j]) }
                XCTAssertEqual(Double(test.images.data[i * d + j]), expected, accuracy: 1e-3)
            }
        }
        // Fitting on the test split would give a different transform: it is not refitted.
        XCTAssertNotEqual(try Preprocessing.gcnZCA().fit(on: original).zcaMean, fitted.zcaMean)
    }

    func testScaleAndMeanStd() throws {
        let train = Self.synthetic(count: 60, seed: 4)
        var scaled = train
        try Preprocessing.scale.fit(on: train).apply(to: &scaled)
        XCTAssertEqual(scaled.images.data[123], train.images.data[123] / 255, accuracy: 1e-6)

        let fitted = try Preprocessing.meanStd.fit(on: train)
        XCTAssertEqual(fitted.channelMean.count, 3)
        // Against a two-pass reference in Double, not the kernel that fit uses.
        let (trainMean, trainStd) = Self.naiveChannelMeanStd(train.images)
        for k in 0..<3 {
            XCTAssertEqual(Double(fitted.channelMean[k]), trainMean[k], accuracy: 1e-4 * trainMean[k])
            XCTAssertEqual(Double(fitted.channelStd[k]), trainStd[k], accuracy: 1e-4 * trainStd[k])
        }
        var normalised = train
        try fitted.apply(to: &normalised)
        let (mean, std) = Self.naiveChannelMeanStd(normalised.images)
        for k in 0..<3 {
            XCTAssertEqual(mean[k], 0, accuracy: 1e-3)
            XCTAssertEqual(std[k], 1, accuracy: 1e-3)
        }
        var test = Self.synthetic(count: 5, seed: 5)
        let raw = test.images.data[7]
        try fitted.apply(to: &test)
        XCTAssertEqual(test.images.data[7], (raw - fitted.channelMean[1]) / fitted.channelStd[1], accuracy: 1e-5)

        var wrong = LabeledImages(images: Tensor(zeros: [1, 4, 4, 3]), labels: [0])
        let message = Fixtures.message { try fitted.apply(to: &wrong) }
        XCTAssertMentions(message, "image shape", "[N, 8, 8, 3]", "[1, 4, 4, 3]")
    }

    func testCacheRoundTripAndRefitOnCorruption() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let train = Self.synthetic(count: 300, seed: 6)
        let identity = DatasetIdentity(files: [FileDigest(name: "x", bytes: 1, sha256: "ab")])
        let zca = Preprocessing.gcnZCA(scale: 55, filterBias: 0.1)
        let first = try zca.fit(on: train, identity: identity, cacheDirectory: dir)
        XCTAssertFalse(first.loadedFromCache)
        let path = zca.cachePath(for: train, identity: identity, cacheDirectory: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertTrue(path.contains(identity.combined.prefix(16)) && path.contains("gcn-zca-s55.0-b0.1"))
        let second = try zca.fit(on: train, identity: identity, cacheDirectory: dir)
        XCTAssertTrue(second.loadedFromCache)
        XCTAssertEqual(second, first)
        XCTAssertEqual(try FittedPreprocessing(serialized: first.serialized(), path: "mem"), first)

        // Another training subset or other parameters get their own entry.
        XCTAssertNotEqual(zca.cachePath(for: try train.firstN(200), identity: identity, cacheDirectory: dir), path)
        XCTAssertNotEqual(Preprocessing.gcnZCA(scale: 55, filterBias: 0.01)
            .cachePath(for: train, identity: identity, cacheDirectory: dir), path)

        // A corrupted cache is detected and refitted.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let message = Fixtures.message { _ = try FittedPreprocessing.read(from: path) }
        XCTAssertMentions(message, "unusable preprocessing cache", path, "payload SHA-256")
        let refitted = try zca.fit(on: train, identity: identity, cacheDirectory: dir)
        XCTAssertFalse(refitted.loadedFromCache)
        XCTAssertEqual(refitted, first)
        XCTAssertEqual(try FittedPreprocessing.read(from: path), first)
    }

    func testPreprocessingNamesAndCodable() throws {
        XCTAssertEqual(Preprocessing(kind: .gcnZCA), .gcnZCA(scale: 55, filterBias: 0.1))
        XCTAssertEqual(Preprocessing(kind: .gcnZCA, gcnScale: 10, zcaFilterBias: 0.5), .gcnZCA(scale: 10, filterBias: 0.5))
        XCTAssertEqual(Preprocessing(kind: .meanStd, gcnScale: 10), .meanStd)
        XCTAssertEqual(Preprocessing.Kind.allCases.map(\.rawValue), ["none", "scale", "meanstd", "gcn-zca"])
        for kind in Preprocessing.Kind.allCases { XCTAssertEqual(Preprocessing(kind: kind).kind, kind) }
        for p in [Preprocessing.none, .scale, .meanStd, .gcnZCA(scale: 10, filterBias: 0.5)] {
            XCTAssertEqual(try JSONDecoder().decode(Preprocessing.self, from: JSONEncoder().encode(p)), p)
        }
    }

    func testSymmetricEigenReconstructsTheMatrix() throws {
        var g = SeededGenerator(seed: 7)
        let n = 12
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(g.nextGaussian()); a[i * n + j] = v; a[j * n + i] = v } }
        let (values, vectors) = try PreprocessingKernels.symmetricEigen(a, n: n)
        XCTAssertEqual(values, values.sorted())
        for i in 0..<n {
            for j in 0..<n {
                let r = (0..<n).map { k in vectors[k * n + i] * values[k] * vectors[k * n + j] }.reduce(0, +)
                XCTAssertEqual(r, a[i * n + j], accuracy: 1e-10)
            }
        }
    }
}
