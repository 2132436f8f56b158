import ArgumentParser
import Foundation
import NINStore
import NINStudy

extension NINStudyCommand {
    struct Maps: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a trial's category confidence maps from its saved checkpoint, without retraining.")

        @Argument(help: "A trial id or a unique prefix of one.") var trial: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var data: DataDirOptions
        @Option(help: "Comma-separated test-image indices (default: the first 2 test images of each class).")
        var images: String?
        @Option(help: "The second sheet shows only this top percentage of each row's activations (the paper's Figure 4: 10).")
        var topPercent: Double = 10
        @Option(help: "Output folder (default: maps/NAME/ beside the database NAME.sqlite).") var output: String?
        @OptionGroup var threading: ThreadOptions

        func validate() throws {
            guard topPercent > 0, topPercent <= 100 else { throw ValidationError("--top-percent must be in (0, 100], found \(topPercent)") }
            if let images, images.split(separator: ",").contains(where: { Int($0.trimmingCharacters(in: .whitespaces)).map { $0 < 0 } ?? true }) {
                throw ValidationError("--images: expected comma-separated test-image indices ≥ 0, found \"\(images)\"")
            }
        }

        func run() throws {
            try reportingErrors {
                let store = try openExisting(database.databasePath)
                let record = try store.trial(idPrefix: trial)
                let paths = try TrialMaps.render(record: record, store: store, databasePath: database.databasePath, dataDir: data.dataDir,
                                                 indices: images.map { $0.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! } },
                                                 topPercent: topPercent, output: output, threads: threading.threads)
                for p in paths { print(p) }
            }
        }
    }
}
