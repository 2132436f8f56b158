import ArgumentParser
import Foundation
import NINExport
import NINStore

extension ExportFormat: ExpressibleByArgument {}

extension NINStudyCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a finished trial's trained network as ONNX (preprocessing in the graph) or safetensors (PyTorch names).",
            discussion: """
                ONNX: input `images` float32 [N, C, H, W], pixels scaled to [0, 1]; output `logits`. safetensors: the \
                weights of the PyTorch nn.Sequential listed in its `modules` metadata, OIHW. See docs/export.md.
                """)

        @Argument(help: "A trial id or a unique prefix of one.") var trial: String
        @Option(help: "onnx or safetensors.") var format: ExportFormat
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var data: DataDirOptions
        @Option(name: .customLong("out"), help: "The file to write (default: the trial id's first 10 digits . FORMAT, here).")
        var out: String?

        func run() throws {
            try reportingErrors {
                let store = try openExisting(database.databasePath)
                let record = try store.trial(idPrefix: trial)
                print(try TrialExport.write(record: record, store: store, databasePath: database.databasePath,
                                            dataDir: data.dataDir, format: format, output: out))
            }
        }
    }
}
