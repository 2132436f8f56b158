import XCTest
@testable import NINStudy

/// The batch scripts `nin-study slurm` writes (run for real on a Slurm cluster in ClusterTests).
final class SlurmArrayJobTests: XCTestCase {
    func job(tasks: Int = 4, partition: String? = "short", time: String? = "02:00:00", memory: String? = "4G") throws -> SlurmArrayJob {
        try SlurmArrayJob(study: "width-sweep", tasks: tasks, cpusPerTask: 2, partition: partition, time: time, memory: memory,
                          executable: "/shared/bin/nin-study", mergedDatabase: "/shared/results/results.sqlite",
                          dataDir: "/shared/data", fetchMissing: false, workingDirectory: "/shared")
    }

    func testArrayScriptRunsOneShardPerTaskRequeueSafe() throws {
        let j = try job()
        XCTAssertEqual(j.folder, "/shared/results/slurm/width-sweep")
        XCTAssertEqual(j.shardDatabase(3), "/shared/results/slurm/width-sweep/shard-3-of-4.sqlite")
        let script = j.arrayScript
        // One task (one `run` process) per array element, with its cores.
        for line in ["#SBATCH --job-name=nin-width-sweep", "#SBATCH --ntasks=1", "#SBATCH --array=1-4", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=short", "#SBATCH --time=02:00:00",
                     "#SBATCH --mem=4G", "#SBATCH --requeue", "#SBATCH --open-mode=append",
                     "#SBATCH --output=/shared/results/slurm/width-sweep/logs/array-%A_%a.out",
                     #"exec '/shared/bin/nin-study' run '/shared/results/slurm/width-sweep/study.json' --shard "$shard/4" --db '/shared/results/slurm/width-sweep'/"shard-$shard-of-4.sqlite" --threads "${SLURM_CPUS_PER_TASK:-2}" --exclusive --data-dir '/shared/data' --no-fetch"#] {
            XCTAssertTrue(script.contains(line + "\n"), "missing \(line) in\n\(script)")
        }
        let merge = j.mergeScript
        XCTAssertTrue(merge.contains(#"'/shared/bin/nin-study' merge --into '/shared/results/results.sqlite' "${shards[@]}""#), merge)
        XCTAssertTrue(merge.contains("for k in $(seq 1 4); do"), merge)
        XCTAssertFalse(merge.contains("--array"))
        XCTAssertTrue(merge.contains("#SBATCH --ntasks=1\n"), merge)
        // Both are valid bash.
        for text in [script, merge] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nin-slurm-\(UUID().uuidString).sh")
            try Data(text.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (status, output) = try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-n", file.path])
            XCTAssertEqual(status, 0, output)
        }
        XCTAssertFalse(try job(partition: nil, time: nil, memory: nil).arrayScript.contains("--partition"))
        XCTAssertEqual(SlurmArrayJob.quoted("it's"), #"'it'\''s'"#)
    }

    func testValuesSlurmWouldRefuseAreTypedErrors() {
        XCTAssertThrowsError(try job(tasks: 0)) { XCTAssertEqual($0 as? SlurmError, .invalidOption("--tasks", "a number of array tasks ≥ 1", "0")) }
        XCTAssertThrowsError(try job(time: "2h")) { XCTAssertTrue("\($0)".contains("--time: expected HH:MM:SS or D-HH:MM:SS")) }
        XCTAssertNoThrow(try job(time: "1-12:00:00"))
        XCTAssertThrowsError(try job(memory: "lots")) { XCTAssertTrue("\($0)".contains("--mem")) }
        XCTAssertThrowsError(try job(partition: "a b")) { XCTAssertTrue("\($0)".contains("--partition")) }
        XCTAssertThrowsError(try SlurmArrayJob(study: "s", tasks: 2, cpusPerTask: 1, partition: nil, time: nil, memory: nil, executable: "/x",
                                               mergedDatabase: "/my results/r.sqlite", dataDir: nil, fetchMissing: true, workingDirectory: "/")) {
            XCTAssertTrue("\($0)".contains("without spaces"))
        }
    }
}
