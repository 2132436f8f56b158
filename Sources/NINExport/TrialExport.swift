import Foundation
import NINData
import NINEngine
import NINStore
import NINStudy

/// The file formats `nin-study export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// ONNX (opset 13): the network in inference mode with its preprocessing, NCHW input.
    case onnx
    /// safetensors: the weights under the PyTorch `nn.Sequential`'s state-dict names, OIHW.
    case safetensors

    /// The file name extension, without the dot.
    public var fileExtension: String { rawValue }
}

/// `nin-study export`: a finished trial's trained network read from its checkpoint (SHA-256
/// checked against the record, as `maps` does) and written as ONNX or safetensors.
public enum TrialExport {
    /// The exported file's default name: the trial id's first 10 digits and the format's
    /// extension, in the current folder.
    public static func defaultOutput(trialId: String, format: ExportFormat) -> String {
        "\(trialId.prefix(10)).\(format.fileExtension)"
    }

    /// Exports the trial and returns the path written (through a temporary file and a rename:
    /// nothing partial is left behind).
    /// - Parameters:
    ///   - dataDir: where the trial's dataset is (`--data-dir`): the preprocessing is fitted on
    ///     its training split as in training (GCN + ZCA read from the run cache when there).
    ///   - output: the file to write; nil: `defaultOutput`.
    /// - Throws: `ExportError.unfinished` (a trial not recorded as finished), `.noCheckpoint`,
    ///   `.missingFolder`, `.notAFile`, `.io`; `MapsError.checkpointMismatch`, `.datasetMismatch`;
    ///   `DatasetError` (dataset not found), `CheckpointError`, `StoreError`.
    @discardableResult
    public static func write(record: TrialRecord, store: ResultsStore, databasePath: String, dataDir: String?,
                             format: ExportFormat, output: String?) throws -> String {
        let path = output ?? defaultOutput(trialId: record.id, format: format)
        try ExportFile.checkDestination(path)
        let recorded = try load(record: record, store: store, databasePath: databasePath)
        let (preprocessing, classNames) = try recorded.fittedPreprocessing(store: store, dataDir: dataDir)
        let description = recorded.modelDescription
        let parameters = try trainedParameters(recorded)
        let metadata = ExportMetadata(trialId: record.id, studies: try store.studies(containingTrial: record.id),
                                      dataset: recorded.config.dataset.name.rawValue, classNames: classNames,
                                      preprocessing: preprocessing)
        let data: Data
        switch format {
        case .onnx:
            let exporter = try ONNXExporter(description: description, parameters: parameters, preprocessing: preprocessing)
            data = try exporter.serialized(metadata: metadata.properties(modulesJSON: exporter.sequential.modulesJSON),
                                           producerVersion: ExportMetadata.producerVersion)
        case .safetensors:
            let sequential = try TorchSequential(description: description, parameters: parameters)
            data = Safetensors.encode(sequential.tensors + metadata.preprocessingTensors,
                                      metadata: metadata.properties(modulesJSON: sequential.modulesJSON))
        }
        try ExportFile.write(data, to: path)
        return path
    }

    /// The trial's record and checkpoint, refusing a trial that did not finish.
    /// - Throws: `ExportError.unfinished`, `.noCheckpoint`, as `RecordedTrial.load`.
    static func load(record: TrialRecord, store: ResultsStore, databasePath: String) throws -> RecordedTrial {
        guard record.status == .finished else {
            let epoch = (try? CheckpointStore(databasePath: databasePath).load(trialId: record.id))??.epoch
            throw ExportError.unfinished(trial: record.id, status: record.status.rawValue, epoch: epoch,
                                         epochs: record.epochsPlanned ?? 0)
        }
        do {
            return try RecordedTrial.load(record: record, store: store, databasePath: databasePath)
        } catch MapsError.noCheckpoint(let trial, let path) {
            throw ExportError.noCheckpoint(trial: trial, path: path)
        }
    }

    /// The trained weights and biases (the engine's parameter vector) from the checkpoint.
    /// - Throws: `CheckpointError` when the checkpoint does not fit the trial's network.
    static func trainedParameters(_ recorded: RecordedTrial) throws -> [Float] {
        var generator = SeededGenerator(seed: 0)
        var optimizer = SGD()
        let network = try Network(description: recorded.modelDescription, initializer: .he, maxBatch: 1,
                                  threads: 1, generator: &generator)
        try network.restore(from: recorded.saved.checkpoint, optimizer: &optimizer, generator: &generator)
        return network.parameterValues()
    }
}
