import XCTest
@testable import NINReport

/// The statistics against known values (reference quantiles: R's `qt`, scipy.stats.t.ppf).
final class StatisticsTests: XCTestCase {
    func testMeanAndSampleStandardDeviation() {
        let s = SampleSummary([1, 2, 3, 4])
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.mean!, 2.5, accuracy: 1e-12)
        XCTAssertEqual(s.standardDeviation!, 1.2909944487358056, accuracy: 1e-12, "n − 1 in the denominator, not n (1.118)")
        let one = SampleSummary([7])
        XCTAssertEqual(one.mean, 7)
        XCTAssertNil(one.standardDeviation)
        XCTAssertNil(one.interval, "one seed: no interval")
        XCTAssertNil(SampleSummary([]).mean)
    }

    func testStudentTQuantilesForSmallSamples() {
        let known: [(p: Double, df: Double, t: Double)] = [
            (0.975, 1, 12.706204736174698), (0.975, 2, 4.302652729911275), (0.975, 3, 3.182446305284263),
            (0.975, 4, 2.7764451051977987), (0.975, 5, 2.5705818366147395), (0.975, 9, 2.2621571627409915),
            (0.975, 30, 2.0422724563012373), (0.95, 1, 6.313751514675041), (0.995, 2, 9.924843200918276),
        ]
        for k in known {
            XCTAssertEqual(StudentT.quantile(k.p, degreesOfFreedom: k.df), k.t, accuracy: 1e-8 * k.t, "p \(k.p), df \(k.df)")
            XCTAssertEqual(StudentT.quantile(1 - k.p, degreesOfFreedom: k.df), -k.t, accuracy: 1e-8 * k.t)
        }
        // ν = 1 is the Cauchy distribution: P(T ≤ 1) = ½ + atan(1)/π = ¾.
        XCTAssertEqual(StudentT.cdf(1, degreesOfFreedom: 1), 0.75, accuracy: 1e-12)
        XCTAssertEqual(StudentT.cdf(0, degreesOfFreedom: 7), 0.5, accuracy: 1e-15)
    }

    func testConfidenceIntervalOfTheMean() throws {
        // x̄ = 12, s = 2, n = 3: half-width t(0.975, 2) · 2 / √3 = 4.968275.
        let ci = try XCTUnwrap(SampleSummary([10, 12, 14]).interval)
        XCTAssertEqual(ci.lower, 7.031725, accuracy: 1e-6)
        XCTAssertEqual(ci.upper, 16.968275, accuracy: 1e-6)
        XCTAssertEqual(ci.level, 0.95)
    }

    func testPairedDifferenceSeesWhatTheUnpairedOneCannot() throws {
        // Seed-to-seed variation is large, the per-seed difference small and steady.
        let a = [10.5, 11.0, 12.0], b = [11.0, 11.8, 12.4]
        let paired = MeanDifference.paired(Array(zip(a, b)).map { (a: $0.0, b: $0.1) })
        XCTAssertEqual(paired.method, .paired)
        XCTAssertEqual(paired.count, 3)
        XCTAssertEqual(paired.estimate, -0.5666666666666667, accuracy: 1e-12)
        // Differences −0.5, −0.8, −0.4: s = 0.2081666, half-width 4.302653 · s / √3 = 0.5171145.
        let pci = try XCTUnwrap(paired.interval)
        XCTAssertEqual(pci.lower, -1.0837812, accuracy: 1e-6)
        XCTAssertEqual(pci.upper, -0.0495522, accuracy: 1e-6)
        XCTAssertFalse(pci.contains(0), "paired by seed, the difference exceeds the noise")
        let welch = MeanDifference.welch(a, b)
        XCTAssertEqual(welch.estimate, paired.estimate, accuracy: 1e-12)
        XCTAssertTrue(try XCTUnwrap(welch.interval).contains(0), "unpaired, the seed variation hides it")
    }

    func testWelchIntervalWithEqualVariances() throws {
        // Equal sizes and variances: Welch's degrees of freedom are 2(n − 1) = 4; se = √(2/3).
        let d = MeanDifference.welch([1, 2, 3], [4, 5, 6])
        XCTAssertEqual(d.estimate, -3)
        let ci = try XCTUnwrap(d.interval)
        XCTAssertEqual(ci.lower, -3 - 2.7764451051977987 * (2.0 / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(ci.upper, -3 + 2.7764451051977987 * (2.0 / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertNil(MeanDifference.welch([1], [2, 3]).interval, "a single value has no variance")
    }

    func testConvergenceReadsTheLastEpochs() {
        XCTAssertEqual(Convergence(testErrors: [50]), .tooFewEpochs)
        guard case .stillFalling(let slope) = Convergence(testErrors: [60, 50, 44, 40]) else { return XCTFail("still falling") }
        XCTAssertEqual(slope, -5, accuracy: 1e-12, "least-squares slope over 50, 44, 40")
        guard case .levelled = Convergence(testErrors: [60, 20, 10.05, 10.0, 10.02]) else { return XCTFail("levelled") }
        guard case .rising(let up) = Convergence(testErrors: [61, 67.8]) else { return XCTFail("rising") }
        XCTAssertEqual(up, 6.8, accuracy: 1e-9)
        // 1 % of the last value per epoch is the line: 10 → 9.85 → 9.7 falls 0.15 per epoch (1.5 %).
        guard case .stillFalling = Convergence(testErrors: [10, 9.85, 9.7]) else { return XCTFail("1.5 % per epoch") }
    }
}
