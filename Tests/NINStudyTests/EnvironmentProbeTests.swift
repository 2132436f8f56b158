import XCTest
import NINEngine
@testable import NINStudy

/// The environment recorded with a trial names the compute backend as the trial runs it.
final class EnvironmentProbeTests: XCTestCase {
    /// A `--threads 1` run records one thread (it used to record the library's earlier setting,
    /// probed before the thread count was set), and the library, version and ISA.
    func testBackendRecordHasTheTrialsThreadCount() {
        defer { ComputeBackend.setThreads(2) }
        for threads in [1, 2] {
            let blas = EnvironmentProbe.current(threads: threads).blas
            XCTAssertEqual(ComputeBackend.currentThreads, threads)
            #if os(Linux)
            XCTAssertTrue(blas.hasPrefix("oneDNN 2.") || blas.hasPrefix("oneDNN 3."), blas)
            XCTAssertTrue(blas.contains("ISA avx") || blas.contains("ISA sse"), blas)
            XCTAssertTrue(blas.contains("OpenMP threads \(threads),"), blas)
            #endif
        }
    }
}
