import Foundation
import NINStore
import NINEngine

/// `nin-study maps`: renders a stored trial's confidence maps from its checkpoint.
public enum TrialMaps {
    /// Renders the sheets; nothing is recorded (the `maps` command opens the database read-only:
    /// the database holds the files `run` produced).
    /// - Returns: the paths written.
    /// - Throws: `MapsError` (no checkpoint, a checkpoint whose SHA-256 differs from the recorded one, unreadable configuration, an image index out of range,
    ///   dataset files whose SHA-256 differ from those the trial recorded), `DatasetError`,
    ///   `CheckpointError`, `RenderError`, `StoreError`.
    public static func render(record: TrialRecord, store: ResultsStore, databasePath: String, dataDir: String?,
                              indices: [Int]?, topPercent: Double, output: String?, threads: Int) throws -> [String] {
        let recorded = try RecordedTrial.load(record: record, store: store, databasePath: databasePath)
        let (config, saved) = (recorded.config, recorded.saved)
        var options = RunOptions()
        options.databasePath = databasePath
        let params = try store.params(trialId: record.id)
        let swept = params.keys.sorted().compactMap { k in (try? JSONValue.parse(Data(params[k]!.utf8), file: k)).map { (path: k, value: $0) } }
        let trial = Trial(config: config, swept: swept)
        let images = try MapImages.load(config.dataset, dataDir: dataDir, cacheDirectory: options.cache, indices: indices) { identity in
            try recorded.checkDataset(identity, store: store)
        }
        // The trained weights only: the network is built for the images drawn and restored from
        // the checkpoint (the optimizer and generator state it also holds are not needed).
        var generator = SeededGenerator(seed: 0)
        var optimizer = SGD()
        let network = try Network(description: recorded.modelDescription,
                                  initializer: .he, maxBatch: max(1, min(images.indices.count, config.training.batchSize)),
                                  threads: threads, generator: &generator)
        try network.restore(from: saved.checkpoint, optimizer: &optimizer, generator: &generator)
        let study = try store.studies(containingTrial: record.id).first ?? "trials"
        var paths: [String] = []
        for (_, path) in try MapRenderer.renderTrial(network: network, trial: trial, images: images, study: study,
                                                       folder: output ?? options.maps, topPercent: topPercent) {
            paths.append(path)
        }
        return paths
    }
}
