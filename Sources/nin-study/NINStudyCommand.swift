import ArgumentParser
import Foundation
import NINStudy

/// `nin-study`: the command-line tool.
struct NINStudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nin-study",
        abstract: "A reproducible benchmark harness for Network In Network (Lin, Chen, Yan, ICLR 2014).",
        discussion: "Run a study (a sweep over micro-network depth, 1×1 widths and head type), query results/results.sqlite with SQL, open the confidence-map PNGs.",
        version: ninStudyVersion,
        subcommands: [Run.self, VerifyTrial.self, List.self, Show.self, Maps.self, Export.self, Report.self, Merge.self, Slurm.self, Bench.self, DataCommand.self, Schema.self])
}

/// Turns library errors into one clear message and a non-zero exit status.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    }
}
