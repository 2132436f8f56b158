import Crypto
import Foundation
import NINEngine

/// Pixel preprocessing, fitted on the training split only and then applied to every split.
///
/// - `none`: pixels as decoded (0–255).
/// - `scale`: pixels / 255.
/// - `meanStd`: per channel, subtract the training mean and divide by the training standard
///   deviation (population, over all training pixels of that channel).
/// - `gcnZCA`: the paper's CIFAR-10 setup (Lin et al. 2014 §4.2, following Goodfellow et al.
///   2013's maxout code, pylearn2): global contrast normalisation per image, then ZCA whitening
///   fitted on the training split with `filterBias` added to the covariance eigenvalues.
public enum Preprocessing: Codable, Equatable, Hashable, Sendable {
    case none
    case scale
    case meanStd
    case gcnZCA(scale: Float = 55, filterBias: Float = 0.1)

    /// A stable key naming the preprocessing and its parameters (used in cache file names).
    public var key: String {
        switch self {
        case .none: return "none"
        case .scale: return "scale"
        case .meanStd: return "meanstd"
        case let .gcnZCA(scale, bias): return "gcn-zca-s\(scale)-b\(bias)"
        }
    }

    /// Fits the preprocessing on a training split.
    /// - Parameter training: `[N, H, W, C]` NHWC images (0–255); not modified.
    /// - Returns: the fitted transform, to `apply` to every split.
    /// - Throws: `DatasetError.invalidArgument` (empty split, GCN scale ≤ 0, filter bias ≤ 0:
    ///   GCN makes the covariance singular, so only a positive bias can whiten), `DatasetError.lapack`.
    public func fit(on training: LabeledImages) throws -> FittedPreprocessing {
        guard training.count > 0 else {
            throw DatasetError.invalidArgument(name: "training split", expected: "at least one image", found: "0")
        }
        var fitted = FittedPreprocessing(preprocessing: self,
                                         imageShape: [training.height, training.width, training.channels])
        switch self {
        case .none, .scale:
            break
        case .meanStd:
            (fitted.channelMean, fitted.channelStd) = PreprocessingKernels.channelMeanStd(training.images)
        case let .gcnZCA(scale, filterBias):
            guard scale > 0 else {
                throw DatasetError.invalidArgument(name: "GCN scale", expected: "> 0", found: "\(scale)")
            }
            guard filterBias > 0, filterBias.isFinite else {
                throw DatasetError.invalidArgument(name: "ZCA filter bias", expected: PreprocessingKernels.filterBiasBound,
                                                   found: "\(filterBias)")
            }
            (fitted.zcaMean, fitted.zcaMatrix) = try PreprocessingKernels.fitZCA(training.images, gcnScale: scale,
                                                                                 filterBias: filterBias)
        }
        return fitted
    }

    /// Fits, or loads the transform fitted earlier on the same data, from an on-disk cache.
    ///
    /// The cache file `<cacheDirectory>/preprocessing-<key>-<identity>-<fingerprint>.bin` is
    /// keyed by the preprocessing parameters, the dataset identity's combined hash and a
    /// SHA-256 fingerprint of the training split actually used (so a validation split or a
    /// subset gets its own entry). It is written atomically (temporary file, then rename). A
    /// cache file that is unreadable or does not match is refitted and overwritten. Only
    /// `gcnZCA` is cached (the others fit in milliseconds).
    /// - Returns: the fitted transform; `loadedFromCache` tells which path was taken.
    /// - Throws: as `fit(on:)`, plus `DatasetError.io` when the cache cannot be written.
    public func fit(on training: LabeledImages, identity: DatasetIdentity,
                    cacheDirectory: String) throws -> FittedPreprocessing {
        guard case .gcnZCA = self else { return try fit(on: training) }
        let path = cachePath(for: training, identity: identity, cacheDirectory: cacheDirectory)
        if FileManager.default.fileExists(atPath: path),
           var cached = try? FittedPreprocessing.read(from: path),
           cached.preprocessing == self,
           cached.imageShape == [training.height, training.width, training.channels] {
            cached.loadedFromCache = true
            return cached
        }
        let fitted = try fit(on: training)
        try fitted.write(to: path)
        return fitted
    }

    /// The cache file path `fit(on:identity:cacheDirectory:)` uses.
    func cachePath(for training: LabeledImages, identity: DatasetIdentity, cacheDirectory: String) -> String {
        var sha = SHA256()
        withUnsafeBytes(of: Int64(training.count).littleEndian) { sha.update(bufferPointer: $0) }
        training.images.shape.forEach { s in withUnsafeBytes(of: Int64(s).littleEndian) { sha.update(bufferPointer: $0) } }
        training.labels.withUnsafeBytes { sha.update(bufferPointer: $0) }
        training.images.data.withUnsafeBytes { sha.update(bufferPointer: $0) }
        let fingerprint = String(Digests.hex(sha.finalize()).prefix(16))
        let name = "preprocessing-\(key)-\(identity.combined.prefix(16))-\(fingerprint).bin"
        return (cacheDirectory as NSString).appendingPathComponent(name)
    }
}

/// A preprocessing fitted on a training split: the statistics needed to transform any split.
public struct FittedPreprocessing: Sendable {
    /// What was fitted.
    public var preprocessing: Preprocessing
    /// Image shape `[H, W, C]` it was fitted on.
    public var imageShape: [Int]
    /// `meanStd`: per-channel training mean (C values, pixel units 0–255).
    public var channelMean: [Float] = []
    /// `meanStd`: per-channel training standard deviation (C values; 1 where it is below 1e-8).
    public var channelStd: [Float] = []
    /// `gcnZCA`: mean of the GCN-normalised training images (D = H·W·C values, NHWC order).
    public var zcaMean: [Float] = []
    /// `gcnZCA`: the symmetric whitening matrix P = V diag(1/√(λ + filterBias)) Vᵀ, D×D row-major.
    public var zcaMatrix: [Float] = []
    /// True when this transform was read from the on-disk cache rather than fitted now.
    public var loadedFromCache = false

    init(preprocessing: Preprocessing, imageShape: [Int]) {
        self.preprocessing = preprocessing
        self.imageShape = imageShape
    }

    /// Transforms a split in place (no second copy of the dataset is made; GCN+ZCA works
    /// through a scratch buffer of 1,024 images).
    /// - Parameter split: `[N, H, W, C]` NHWC images as decoded (0–255).
    /// - Throws: `DatasetError.invalidArgument` when the image shape differs from the one fitted.
    public func apply(to split: inout LabeledImages) throws {
        try apply(to: &split.images)
    }

    /// Transforms an image tensor `[N, H, W, C]` (NHWC) in place.
    /// - Throws: `DatasetError.invalidArgument` when `[H, W, C]` differs from `imageShape`.
    public func apply(to images: inout Tensor) throws {
        guard images.shape.count == 4, Array(images.shape.dropFirst()) == imageShape else {
            throw DatasetError.invalidArgument(name: "image shape for \(preprocessing.key)",
                                               expected: "[N, \(imageShape.map(String.init).joined(separator: ", "))]",
                                               found: "\(images.shape)")
        }
        switch preprocessing {
        case .none:
            break
        case .scale:
            images.data.withUnsafeMutableBufferPointer { x in
                for i in 0..<x.count { x[i] *= 1.0 / 255.0 }
            }
        case .meanStd:
            let c = imageShape[2]
            let inverse = channelStd.map { 1 / $0 }
            images.data.withUnsafeMutableBufferPointer { x in
                var i = 0
                while i < x.count {
                    for k in 0..<c { x[i + k] = (x[i + k] - channelMean[k]) * inverse[k] }
                    i += c
                }
            }
        case let .gcnZCA(scale, _):
            PreprocessingKernels.applyZCA(&images, gcnScale: scale, mean: zcaMean, matrix: zcaMatrix)
        }
    }
}

extension FittedPreprocessing: Equatable {
    /// Equal statistics and preprocessing (`loadedFromCache` is ignored).
    public static func == (a: FittedPreprocessing, b: FittedPreprocessing) -> Bool {
        a.preprocessing == b.preprocessing && a.imageShape == b.imageShape && a.channelMean == b.channelMean
            && a.channelStd == b.channelStd && a.zcaMean == b.zcaMean && a.zcaMatrix == b.zcaMatrix
    }
}

// MARK: - Cache file format

extension FittedPreprocessing {
    private static let magic = Data("NINPREP1".utf8)

    private struct Header: Codable {
        var preprocessing: Preprocessing
        var imageShape: [Int]
        var counts: [Int]     // channelMean, channelStd, zcaMean, zcaMatrix
        var payloadSHA256: String
    }

    /// Serialises the transform: magic `NINPREP1`, a little-endian UInt32 header length, a JSON
    /// header (preprocessing, shape, array lengths, SHA-256 of the payload), then the Float32
    /// arrays little-endian.
    public func serialized() -> Data {
        var payload = Data()
        for array in [channelMean, channelStd, zcaMean, zcaMatrix] {
            array.withUnsafeBytes { payload.append(contentsOf: $0) }
        }
        let header = Header(preprocessing: preprocessing, imageShape: imageShape,
                            counts: [channelMean.count, channelStd.count, zcaMean.count, zcaMatrix.count],
                            payloadSHA256: Digests.sha256(payload))
        let json = try! JSONEncoder().encode(header) // a plain struct of numbers and strings cannot fail
        var out = Self.magic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(payload)
        return out
    }

    /// Decodes `serialized()` output.
    /// - Parameter path: named in errors.
    /// - Throws: `DatasetError.badCache` on wrong magic, a bad header, wrong sizes or a payload
    ///   whose SHA-256 differs.
    public init(serialized data: Data, path: String) throws {
        let data = Data(data) // rebase indices to 0
        guard data.count >= 12, data.prefix(8) == Self.magic else {
            throw DatasetError.badCache(path: path, reason: "wrong magic: expected NINPREP1")
        }
        let length = Int(UInt32(data[8]) | UInt32(data[9]) << 8 | UInt32(data[10]) << 16 | UInt32(data[11]) << 24)
        guard data.count >= 12 + length,
              let header = try? JSONDecoder().decode(Header.self, from: data[12..<(12 + length)]),
              header.counts.count == 4 else {
            throw DatasetError.badCache(path: path, reason: "unreadable header")
        }
        let payload = data[(12 + length)...]
        let expected = header.counts.reduce(0, +) * 4
        guard payload.count == expected else {
            throw DatasetError.badCache(path: path, reason: "payload expected \(expected) bytes, found \(payload.count)")
        }
        let sha = Digests.sha256(payload)
        guard sha == header.payloadSHA256 else {
            throw DatasetError.badCache(path: path, reason: "payload SHA-256 expected \(header.payloadSHA256), found \(sha)")
        }
        var arrays: [[Float]] = []
        var offset = payload.startIndex
        for n in header.counts {
            var a = [Float](repeating: 0, count: n)
            a.withUnsafeMutableBytes { dst in _ = payload[offset..<(offset + 4 * n)].copyBytes(to: dst) }
            arrays.append(a)
            offset += 4 * n
        }
        self.init(preprocessing: header.preprocessing, imageShape: header.imageShape)
        (channelMean, channelStd, zcaMean, zcaMatrix) = (arrays[0], arrays[1], arrays[2], arrays[3])
    }

    /// Reads a cached transform.
    /// - Throws: `DatasetError.missingFile`, `.io`, `.badCache`.
    public static func read(from path: String) throws -> FittedPreprocessing {
        try FittedPreprocessing(serialized: try FileChunks.readAll(path, expected: "a cached preprocessing transform"),
                                path: path)
    }

    /// Writes the transform atomically (temporary file in the same folder, then rename),
    /// creating the folder if needed.
    /// - Throws: `DatasetError.io`.
    public func write(to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try serialized().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DatasetError.io(path: path, operation: "write", reason: "\(error.localizedDescription)")
        }
    }
}

// MARK: - Kernels

/// The numeric kernels behind `Preprocessing` (internal; tests reach them with @testable).
enum PreprocessingKernels {
    /// Rows processed per GEMM block when fitting and applying ZCA.
    static let blockRows = 1024

    /// Per-channel mean and population standard deviation over all pixels of `[N, H, W, C]`.
    static func channelMeanStd(_ images: Tensor) -> ([Float], [Float]) {
        let c = images.shape[3]
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        images.data.withUnsafeBufferPointer { x in
            var i = 0
            while i < x.count {
                for k in 0..<c { let v = Double(x[i + k]); sum[k] += v; sq[k] += v * v }
                i += c
            }
        }
        let n = Double(images.count / c)
        let mean = sum.map { $0 / n }
        let std = (0..<c).map { k -> Float in
            let s = (max(sq[k] / n - mean[k] * mean[k], 0)).squareRoot()
            return s < 1e-8 ? 1 : Float(s)
        }
        return (mean.map(Float.init), std)
    }

    /// Global contrast normalisation of `rows` images of `d` floats each, in place
    /// (pylearn2 `global_contrast_normalize` with subtract_mean, use_std = False, sqrt_bias 0,
    /// min_divisor 1e-8): x ← (x − mean(x)) · scale / ‖x − mean(x)‖₂.
    static func gcn(_ x: UnsafeMutablePointer<Float>, rows: Int, d: Int, scale: Float) {
        for r in 0..<rows {
            let row = x + r * d
            var sum = 0.0
            for j in 0..<d { sum += Double(row[j]) }
            let mean = Float(sum / Double(d))
            var sq = 0.0
            for j in 0..<d { row[j] -= mean; sq += Double(row[j]) * Double(row[j]) }
            var normalizer = sq.squareRoot() / Double(scale)
            if normalizer < 1e-8 { normalizer = 1 }
            let inv = Float(1 / normalizer)
            for j in 0..<d { row[j] *= inv }
        }
    }

    /// What a ZCA filter bias must be, for errors: GCN removes each image's mean, so the
    /// covariance always has a zero eigenvalue and only a positive bias makes it invertible.
    static let filterBiasBound = "a finite number > 0 (GCN removes each image's mean, so the covariance is singular "
        + "and the bias is what makes it invertible; any positive value works, eigenvalues below it from "
        + "round-off are clamped to it)"

    /// Fits ZCA on GCN-normalised images (pylearn2 `ZCA.fit` semantics):
    /// μ = mean of the rows, C = (X−μ)ᵀ(X−μ)/N + filterBias·I (covariance by
    /// `ComputeBackend.gram`, blocks of 1,024 rows), C = V Λ Vᵀ (LAPACK `dsyevd`), eigenvalues
    /// below `filterBias` (round-off of the positive semi-definite covariance) clamped to it,
    /// P = V Λ^(−1/2) Vᵀ (`ComputeBackend.gramUpper`, double precision).
    /// - Returns: μ (D floats) and P (D×D row-major).
    static func fitZCA(_ images: Tensor, gcnScale: Float, filterBias: Float) throws -> ([Float], [Float]) {
        let n = images.shape[0]
        let d = images.count / n
        var scratch = [Float](repeating: 0, count: blockRows * d)
        // Pass 1: mean of the GCN-normalised rows.
        var meanAcc = [Double](repeating: 0, count: d)
        images.data.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { s in
                for start in stride(from: 0, to: n, by: blockRows) {
                    let rows = min(blockRows, n - start)
                    s.baseAddress!.update(from: x.baseAddress! + start * d, count: rows * d)
                    gcn(s.baseAddress!, rows: rows, d: d, scale: gcnScale)
                    for r in 0..<rows { for j in 0..<d { meanAcc[j] += Double(s[r * d + j]) } }
                }
            }
        }
        let mean = meanAcc.map { Float($0 / Double(n)) }
        // Pass 2: covariance of the centred rows, accumulated by the backend's rank-k product.
        var cov = [Float](repeating: 0, count: d * d)
        images.data.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { s in
                cov.withUnsafeMutableBufferPointer { c in
                    for start in stride(from: 0, to: n, by: blockRows) {
                        let rows = min(blockRows, n - start)
                        s.baseAddress!.update(from: x.baseAddress! + start * d, count: rows * d)
                        gcn(s.baseAddress!, rows: rows, d: d, scale: gcnScale)
                        for r in 0..<rows { for j in 0..<d { s[r * d + j] -= mean[j] } }
                        ComputeBackend.gram(rows: rows, columns: d, a: s.baseAddress!, beta: start == 0 ? 0 : 1,
                                            c: c.baseAddress!)
                    }
                }
            }
        }
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let v = Double(cov[i * d + j]) / Double(n)
                covariance[i * d + j] = v
                covariance[j * d + i] = v
            }
            covariance[i * d + i] += Double(filterBias)
        }
        cov = []
        var (values, vectors) = try symmetricEigen(covariance, n: d)
        // The covariance is positive semi-definite, so every eigenvalue of C + bias·I is at least
        // the bias: smaller ones are round-off (the Float32 accumulation of a singular C, whose
        // null direction GCN creates) and are clamped to the bias, not refused.
        let bias = Double(filterBias)
        guard bias > 0 else {
            throw DatasetError.invalidArgument(name: "ZCA filter bias", expected: filterBiasBound, found: "\(filterBias)")
        }
        for j in values.indices where values[j] < bias { values[j] = bias }
        // P = Σ_j λ_j^(−1/2) v_j v_jᵀ = Uᵀ U with row j of U = λ_j^(−1/4) v_j.
        var u = vectors
        for j in 0..<d {
            let w = 1 / values[j].squareRoot().squareRoot()
            for i in 0..<d { u[j * d + i] *= w }
        }
        var p = [Double](repeating: 0, count: d * d)
        u.withUnsafeBufferPointer { a in
            p.withUnsafeMutableBufferPointer { ComputeBackend.gramUpper(rows: d, columns: d, a: a.baseAddress!, c: $0.baseAddress!) }
        }
        var matrix = [Float](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                matrix[i * d + j] = Float(p[i * d + j])
                matrix[j * d + i] = Float(p[i * d + j])
            }
        }
        return (mean, matrix)
    }

    /// Symmetric eigendecomposition (`ComputeBackend.symmetricEigen`, LAPACK `dsyevd`).
    /// - Parameter a: n×n symmetric matrix, row-major (both triangles filled).
    /// - Returns: eigenvalues ascending and eigenvectors as rows.
    /// - Throws: `DatasetError.lapack` when LAPACK reports `info ≠ 0`.
    static func symmetricEigen(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        do {
            return try ComputeBackend.symmetricEigen(a, n: n)
        } catch let ComputeBackendError.lapack(routine, info) {
            throw DatasetError.lapack(routine: routine, info: info)
        }
    }

    /// Applies GCN then ZCA to `[N, H, W, C]` in place: x ← (gcn(x) − μ) P, in blocks of
    /// 1,024 images through a scratch buffer and `GEMM.multiply`.
    static func applyZCA(_ images: inout Tensor, gcnScale: Float, mean: [Float], matrix: [Float]) {
        let n = images.shape[0]
        guard n > 0 else { return }
        let d = images.count / n
        var scratch = [Float](repeating: 0, count: min(blockRows, n) * d)
        images.data.withUnsafeMutableBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { s in
                matrix.withUnsafeBufferPointer { p in
                    for start in stride(from: 0, to: n, by: blockRows) {
                        let rows = min(blockRows, n - start)
                        let block = x.baseAddress! + start * d
                        s.baseAddress!.update(from: block, count: rows * d)
                        gcn(s.baseAddress!, rows: rows, d: d, scale: gcnScale)
                        for r in 0..<rows { for j in 0..<d { s[r * d + j] -= mean[j] } }
                        GEMM.multiply(m: rows, n: d, k: d, a: s.baseAddress!, lda: d, b: p.baseAddress!, ldb: d,
                                      c: block, ldc: d)
                    }
                }
            }
        }
    }
}
