import Foundation
import GRDB
import XCTest

@testable import NINStore

/// The `trial_summary` and `study_summary` views, and the example queries of docs/results-schema.md.
final class SummaryViewTests: XCTestCase {
    var store: ResultsStore!
    var finished: [String] = []

    override func setUpWithError() throws {
        let clock = TestClock()
        store = try ResultsStore.inMemory(clock: { clock.now })
        finished = try populate(store, clock: clock)
    }

    func testTrialSummaryHasSweptParametersAsColumnsAndTestErrorInPercent() throws {
        let rows = try store.dbWriter.read { db in
            try Row.fetchAll(db, sql: """
                SELECT head, depth, widths, width_multiplier, seed, test_error, test_accuracy, best_test_error,
                       short_id, trial_id, images_per_second, status
                  FROM trial_summary WHERE study = 'table5-gap-vs-fc-cifar10' AND status = 'finished'
                """)
        }
        XCTAssertEqual(rows.count, 18)
        for row in rows {
            let head: String = row["head"], depth: Int = row["depth"], seed: Int64 = row["seed"]
            let expected = sampleTestAccuracy(head: head, depth: depth, seed: seed, epoch: 3)
            XCTAssertEqual(row["test_accuracy"] as Double, expected, accuracy: 1e-9)
            XCTAssertEqual(row["test_error"] as Double, 100 - expected, accuracy: 1e-9)
            // Accuracy rises every epoch in the fixture, so the best epoch is the last.
            XCTAssertEqual(row["best_test_error"] as Double, 100 - expected, accuracy: 1e-9)
            XCTAssertEqual(row["short_id"] as String, String((row["trial_id"] as String).prefix(10)))
            XCTAssertEqual(row["images_per_second"] as Double, 500 - 100 * Double(depth), accuracy: 1e-9)
            XCTAssertEqual(row["widths"] as String, depth == 1 ? "192-160" : "192-160-96")
        }
    }

    func testTrialSummaryRecordsMatchTheTrials() throws {
        let summaries = try store.trialSummaries(study: "table5-gap-vs-fc-cifar10")
        XCTAssertEqual(summaries.count, 19)
        let failed = try XCTUnwrap(summaries.first { $0.status == .failed })
        XCTAssertEqual(failed.failureReason, "training loss became NaN in epoch 1")
        XCTAssertEqual(try XCTUnwrap(failed.testError), 90, accuracy: 1e-9)
        XCTAssertNil(failed.finalTrainLoss, "a NaN loss is stored as NULL")
        for summary in summaries where summary.status == .finished {
            let trial = try XCTUnwrap(store.trial(id: summary.trialId))
            XCTAssertEqual(summary.epochsDone, 3)
            XCTAssertEqual(summary.wallSeconds, trial.wallSeconds)
            XCTAssertEqual(summary.parameterCount, trial.parameterCount)
            XCTAssertEqual(summary.testError.map { 100 - $0 }.map { ($0 * 1e9).rounded() },
                           trial.finalTestAccuracy.map { ($0 * 1e9).rounded() })
        }
        // The running trial belongs to depth-sweep only; no test error yet.
        let depthSweep = try store.trialSummaries(study: "depth-sweep")
        XCTAssertEqual(depthSweep.count, 3)
        XCTAssertNil(depthSweep.first { $0.status == .running }?.testError)
    }

    func testStudySummaryCountsTrialsByStatus() throws {
        let rows = try store.dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM study_summary ORDER BY study")
        }
        XCTAssertEqual(rows.count, 2)
        let depth = rows[0], table5 = rows[1]
        XCTAssertEqual(depth["study"] as String, "depth-sweep")
        XCTAssertEqual(depth["trials"] as Int, 3)
        XCTAssertEqual(depth["finished"] as Int, 2)
        XCTAssertEqual(depth["running"] as Int, 1)
        XCTAssertEqual(table5["trials"] as Int, 19)
        XCTAssertEqual(table5["finished"] as Int, 18)
        XCTAssertEqual(table5["failed"] as Int, 1)
        XCTAssertEqual(table5["pending"] as Int, 0)
        let bestAccuracy = sampleTestAccuracy(head: "gap", depth: 2, seed: 2, epoch: 3)
        XCTAssertEqual(table5["best_test_error"] as Double, 100 - bestAccuracy, accuracy: 1e-9)
    }

    /// Every ```sql block in docs/results-schema.md runs on a populated database and returns rows.
    func testDocumentedExampleQueriesRun() throws {
        let queries = try documentedQueries()
        XCTAssertGreaterThanOrEqual(queries.count, 7, "the schema document promises at least seven example queries")
        for query in queries {
            let rows = try store.dbWriter.read { db in try Row.fetchAll(db, sql: query) }
            XCTAssertFalse(rows.isEmpty, "documented query returned no rows:\n\(query)")
        }
    }

    /// Spot-checks the answers of documented queries against values computed here.
    func testDocumentedQueriesGiveTheRightAnswers() throws {
        let queries = try documentedQueries()
        func query(containing marker: String) throws -> String {
            try XCTUnwrap(queries.first { $0.contains(marker) }, "no documented query contains \(marker)")
        }
        // Mean ± sample std of test error over seeds, per head and depth.
        let rows = try store.dbWriter.read { db in try Row.fetchAll(db, sql: try query(containing: "std_test_error")) }
        XCTAssertEqual(rows.count, 6)
        for row in rows {
            let head: String = row["head"], depth: Int = row["depth"]
            let errors = [Int64(1), 2, 3].map { 100 - sampleTestAccuracy(head: head, depth: depth, seed: $0, epoch: 3) }
            let mean = errors.reduce(0, +) / 3
            let std = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
            XCTAssertEqual(row["seeds"] as Int, 3)
            // The query rounds to hundredths of a percentage point, as the other examples do.
            XCTAssertEqual(row["mean_test_error"] as Double, mean, accuracy: 0.005 + 1e-9)
            XCTAssertEqual(row["std_test_error"] as Double, std, accuracy: 0.005 + 1e-9)
        }
        // Which head wins per depth: GAP in the fixture.
        let winners = try store.dbWriter.read { db in
            try Row.fetchAll(db, sql: try query(containing: "winning_head"))
        }
        XCTAssertEqual(winners.map { $0["depth"] as Int }, [1, 2])
        XCTAssertEqual(winners.map { $0["winning_head"] as String }, ["gap", "gap"])
    }

    private func documentedQueries() throws -> [String] {
        let document = try String(contentsOf: docsURL, encoding: .utf8)
        var queries: [String] = []
        var current: [String]? = nil
        for line in document.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```sql" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                queries.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        // Queries name a trial as '<trial-id-prefix>'; use a real one.
        let example = String(finished[0].prefix(10))
        return queries.map { $0.replacingOccurrences(of: "<trial-id-prefix>", with: example) }
    }
}
