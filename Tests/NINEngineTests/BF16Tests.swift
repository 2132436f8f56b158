import XCTest
@testable import NINEngine

/// bf16 mixed precision: the conversion, the bf16 GEMM against the fp32 reference within a
/// derived bound, the layers and `Network.setPrecision`, training that tracks fp32, and bit-exact
/// reruns and resumes in bf16.
final class BF16Tests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(ComputeBackend.bf16Unsupported() != nil, "bf16 cannot run here: \(ComputeBackend.bf16Unsupported() ?? "")")
    }

    /// Round to nearest, ties to even, on hand-picked bit patterns; `convert` agrees with
    /// `fromFloat` on those and on random values; NaN stays NaN, overflow rounds to infinity.
    func testConversionRoundsToNearestEven() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),  // 1
            (0x3F80_8000, 0x3F80),  // 1 + half an ulp: tie, to even (down)
            (0x3F81_8000, 0x3F82),  // tie with an odd last bit: up
            (0x3F80_8001, 0x3F81),  // just above the tie: up
            (0x3F80_7FFF, 0x3F80),  // just below: down
            (0xBF80_8000, 0xBF80),  // negative tie: to even
            (0x7F7F_FFFF, 0x7F80),  // largest float rounds to +infinity
            (0x7F80_0000, 0x7F80),  // +infinity
            (0x0000_0001, 0x0000),  // smallest subnormal rounds to zero
        ]
        var values = cases.map { Float(bitPattern: $0.0) } + gaussianArray(1000, seed: 3, std: 100)
        values.append(.nan)
        var converted = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            converted.withUnsafeMutableBufferPointer { BFloat16.convert(v.baseAddress!, rows: 1, columns: v.count, ld: v.count, into: $0.baseAddress!) }
        }
        for (bits, expected) in cases {
            XCTAssertEqual(BFloat16.fromFloat(Float(bitPattern: bits)), expected, String(bits, radix: 16))
        }
        for i in values.indices.dropLast() {
            XCTAssertEqual(converted[i], BFloat16.fromFloat(values[i]), "\(values[i])")
            // Within half a bf16 ulp: relative error ≤ 2⁻⁸ for normal values.
            if values[i].isFinite, abs(values[i]) > 1e-30, abs(values[i]) < 1e38 {
                XCTAssertLessThanOrEqual(abs(BFloat16.toFloat(converted[i]) - values[i]), abs(values[i]) * 0x1p-8)
            }
        }
        XCTAssertTrue(BFloat16.toFloat(converted.last!).isNaN)
        XCTAssertTrue(BFloat16.toFloat(BFloat16.fromFloat(.nan)).isNaN)
    }

    /// The bf16 GEMM against the fp32 (Double-accumulated) reference, for every transpose, odd
    /// sizes, padded leading dimensions, alpha and beta, and K up to 1,000.
    ///
    /// The bound: bf16 keeps an 8-bit significand (7 stored bits + the implicit one), so rounding
    /// one operand has relative error at most u = 2⁻⁸ (half an ulp of 2⁻⁷). A product of two
    /// rounded operands is exact in fp32 (8 + 8 significand bits) and off from the true product by
    /// at most (2u + u²)·|a·b|. Summing K products in fp32 adds at most about K·2⁻²⁴ relative to
    /// Σ|a·b| (the classic γ_K bound, any order). So each entry satisfies
    /// `|C − C_ref| ≤ |alpha| · (2u + u² + K·2⁻²⁴) · Σ_p |a_ip|·|b_pj|` (+ fp32 rounding of the
    /// beta term), which the test checks entry by entry. Against `referenceBF16` (the same
    /// rounded operands), only the fp32 accumulation term remains. And the bf16 result must
    /// differ from fp32 by more than fp32 rounding somewhere, so the test sees bf16 at all.
    func testBF16GEMMIsWithinTheBoundOfTheFP32Reference() {
        let u = 0x1p-8
        for (m, n, k) in [(37, 29, 53), (64, 10, 1000), (5, 96, 160)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
                    let a = gaussianArray((transA ? k : m) * lda, seed: 1), b = gaussianArray((transB ? n : k) * ldb, seed: 2)
                    let c0 = gaussianArray(m * ldc, seed: 3)
                    let (alpha, beta): (Float, Float) = (0.7, 0.3)
                    var fast = c0, exact = c0, rounded = c0
                    var magnitude = [Double](repeating: 0, count: m * ldc)
                    for i in 0..<m {
                        for j in 0..<n {
                            for p in 0..<k {
                                let av = transA ? a[p * lda + i] : a[i * lda + p], bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                                magnitude[i * ldc + j] += Double(abs(av)) * Double(abs(bv))
                            }
                        }
                    }
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            GEMM.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: .fp32(ap.baseAddress!),
                                          lda: lda, b: .fp32(bp.baseAddress!), ldb: ldb, beta: beta, c: &fast, ldc: ldc, precision: .bf16)
                            GEMM.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                           lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta, c: &exact, ldc: ldc)
                            GEMM.referenceBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                               lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta, c: &rounded, ldc: ldc)
                        }
                    }
                    let accumulation = Double(k) * 0x1p-24
                    var beyondFP32 = false
                    for i in 0..<m {
                        for j in 0..<n {
                            let e = i * ldc + j
                            let betaTerm = 2 * 0x1p-24 * abs(Double(beta) * Double(c0[e])) + 1e-30
                            let bound = Double(alpha) * (2 * u + u * u + accumulation) * magnitude[e] + betaTerm
                            let roundedBound = Double(alpha) * 2 * accumulation * magnitude[e] + betaTerm
                            XCTAssertLessThanOrEqual(abs(Double(fast[e]) - Double(exact[e])), bound,
                                                     "\(m)×\(n)×\(k) tA=\(transA) tB=\(transB) [\(i), \(j)]")
                            XCTAssertLessThanOrEqual(abs(Double(fast[e]) - Double(rounded[e])), roundedBound,
                                                     "against the rounded operands \(m)×\(n)×\(k) [\(i), \(j)]")
                            if abs(Double(fast[e]) - Double(exact[e])) > Double(alpha) * accumulation * magnitude[e] + betaTerm {
                                beyondFP32 = true
                            }
                        }
                        // Columns past n are the caller's and stay untouched.
                        for j in n..<ldc { XCTAssertEqual(fast[i * ldc + j], c0[i * ldc + j]) }
                    }
                    XCTAssertTrue(beyondFP32, "\(m)×\(n)×\(k): the result is as close as fp32 everywhere; were the inputs rounded?")
                }
            }
        }
    }

    /// A weight operand converted once (`.bf16`) gives the same bytes as the same values passed
    /// as fp32 and converted by the GEMM, and a primitive is created once per shape, not per call.
    func testPreconvertedOperandIsBitIdenticalAndPrimitivesAreReused() throws {
        let (m, n, k) = (300, 48, 75)
        let a = gaussianArray(m * k, seed: 4), b = gaussianArray(k * n, seed: 5)
        var b16 = [UInt16](repeating: 0, count: b.count)
        b.withUnsafeBufferPointer { BFloat16.convert($0.baseAddress!, rows: k, columns: n, ld: n, into: &b16) }
        var viaFP32 = [Float](repeating: 0, count: m * n), viaBF16 = viaFP32
        let cache = try XCTUnwrap(MatmulCache.current)
        let before = cache.count
        for _ in 0..<3 {
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    GEMM.multiply(m: m, n: n, k: k, a: .fp32(ap.baseAddress!), lda: k, b: .fp32(bp.baseAddress!), ldb: n,
                                  c: &viaFP32, ldc: n, precision: .bf16)
                }
                b16.withUnsafeBufferPointer { bp in
                    GEMM.multiply(m: m, n: n, k: k, a: .fp32(ap.baseAddress!), lda: k, b: .bf16(bp.baseAddress!), ldb: n,
                                  c: &viaBF16, ldc: n, precision: .bf16)
                }
            }
        }
        XCTAssertEqual(viaFP32, viaBF16)
        XCTAssertEqual(cache.count, before + 1, "one primitive for the shape, whatever its operands and calls")
    }
}
