import XCTest
@testable import NINEngine

final class GEMMTests: XCTestCase {
    /// Each fp32 kernel (dnnl_sgemm, the matmul primitive, the measured rule) against the naive
    /// triple loop for every transpose combination, odd sizes, padded leading dimensions, alpha
    /// and beta.
    func testFastGEMMMatchesReference() {
        let (m, n, k) = (37, 29, 53)
        let saved = ComputeBackend.gemmSelection
        defer { ComputeBackend.gemmSelection = saved }
        for selection in GEMMSelection.allCases {
        ComputeBackend.gemmSelection = selection
        for transA in [false, true] {
            for transB in [false, true] {
                let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
                let a = gaussianArray((transA ? k : m) * lda, seed: 1)
                let b = gaussianArray((transB ? n : k) * ldb, seed: 2)
                let c0 = gaussianArray(m * ldc, seed: 3)
                var fast = c0, ref = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        fast.withUnsafeMutableBufferPointer { cp in
                            GEMM.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ap.baseAddress!,
                                          lda: lda, b: bp.baseAddress!, ldb: ldb, beta: 0.3, c: cp.baseAddress!, ldc: ldc)
                        }
                        ref.withUnsafeMutableBufferPointer { cp in
                            GEMM.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ap.baseAddress!,
                                           lda: lda, b: bp.baseAddress!, ldb: ldb, beta: 0.3, c: cp.baseAddress!, ldc: ldc)
                        }
                    }
                }
                // Float32 accumulation over k = 53 terms of magnitude ~1: error ≲ 53 · 6e-8 · 8 ≈ 3e-5.
                assertClose(fast, ref, atol: 1e-4, rtol: 1e-5, "\(selection) transA=\(transA) transB=\(transB)")
            }
        }
        }
    }

    /// `ComputeBackend.gemmKernel` follows a forced selection; the measured rule is sgemm.
    func testKernelSelectionIsObeyed() {
        let saved = ComputeBackend.gemmSelection
        defer { ComputeBackend.gemmSelection = saved }
        for (selection, expected) in [(GEMMSelection.measured, GEMMKernel.sgemm), (.sgemm, .sgemm), (.matmul, .matmul)] {
            ComputeBackend.gemmSelection = selection
            XCTAssertEqual(ComputeBackend.gemmKernel, expected)
        }
    }

    /// The limit is the best kernel of its precision, and the kernel comparison covers every
    /// GEMM of every GEMM layer (no input gradient for the first) with positive rates.
    func testLimitAndKernelComparisonCoverTheirKernels() throws {
        let fp32 = EngineBenchmark.limit(precision: .fp32, threads: 1, size: 128, repeats: 1)
        XCTAssertGreaterThanOrEqual(fp32.gflops, fp32.sgemmGFLOPS)
        XCTAssertTrue(["dnnl_sgemm", "matmul f32"].contains(fp32.kernel), fp32.kernel)
        let bf16Runs = ComputeBackend.bf16Unsupported() == nil
        if bf16Runs {
            let bf16 = EngineBenchmark.limit(precision: .bf16, threads: 1, size: 128, repeats: 1)
            XCTAssertEqual(bf16.kernel, "matmul bf16")
            XCTAssertGreaterThan(bf16.gflops, 0)
        }
        var g = SeededGenerator(seed: 1)
        let net = try Network(description: TrainingTests.small, initializer: .he, maxBatch: 4, threads: 2, generator: &g)
        let rows = EngineBenchmark.compareKernels(network: net, batch: 4, threads: 2, rounds: 1, workMACs: 1e5)
        let gemmLayers = net.layers.filter { $0.multiplyAddsPerExample > 0 }
        XCTAssertEqual(rows.count, 3 * gemmLayers.count - 1)
        XCTAssertEqual(Set(rows.map(\.layer)), Set(gemmLayers.map(\.name)))
        XCTAssertFalse(rows.contains { $0.layer == gemmLayers[0].name && $0.pass == "inputGradient" })
        for r in rows {
            XCTAssertTrue(r.sgemmGFLOPS > 0 && r.matmulGFLOPS > 0, "\(r)")
            XCTAssertEqual(r.bf16GFLOPS != nil, bf16Runs)
            XCTAssertEqual(r.rule, ComputeBackend.gemmKernel)
        }
    }

    /// The reference itself against a hand-computed 2×2 product.
    func testReferenceGEMMByHand() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 1, count: 4)
        GEMM.reference(m: 2, n: 2, k: 2, alpha: 1, a: a, lda: 2, b: b, ldb: 2, beta: 1, c: &c, ldc: 2)
        XCTAssertEqual(c, [20, 23, 44, 51])
    }

    /// The provenance names the library and reports the thread count just set, not an earlier one.
    func testProvenanceReportsTheThreadCountItRunsWith() throws {
        #if !os(Linux)
        throw XCTSkip("the provenance checked is oneDNN's, the Linux backend")
        #endif
        defer { ComputeBackend.setThreads(2) }
        for threads in [1, 3] {
            let p = ComputeBackend.provenance(threads: threads)
            #if os(Linux)
            XCTAssertEqual(p.library, "oneDNN")
            XCTAssertTrue(p.version.hasPrefix("2.") || p.version.hasPrefix("3."), p.version)
            XCTAssertFalse(p.isa.isEmpty || p.isa.hasPrefix("isa 0x"), p.isa)
            XCTAssertTrue(p.lapack.contains("OpenBLAS"), p.lapack)
            XCTAssertEqual(p.threads, threads)
            XCTAssertTrue(p.description.contains("threads \(threads)"), p.description)
            #endif
        }
    }
}
