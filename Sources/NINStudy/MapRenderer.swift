import Foundation
import NINEngine
import NINData
import NINStore
import NINRender

/// Renders a trial's category confidence maps (paper §4.7, Figure 4) and a study's learning
/// curves to PNG files.
///
/// Files: `<folder>/<study>/<trial-id>/confidence-maps.png` (all activations),
/// `confidence-maps-top<p>.png` (only the top p % of each row's activations, the paper's
/// variant), and `<folder>/<study>/learning-curves.png`. Sheets of other test images than the
/// default selection get a suffix naming them (`confidence-maps-images-0-1-2.png`), so they never
/// replace the sheets a run rendered.
public enum MapRenderer {
    /// Renders the sheets of a trained network for the given test images.
    /// - Parameters:
    ///   - testIndices: indices into `data.test` (default: `data.displayIndices`, the first two
    ///     test images of each class).
    ///   - topPercent: the second sheet's top-activation share, percent (the paper's 10).
    /// - Returns: the artifact kind and path of each file written.
    /// - Throws: `RenderError` (shapes, file writes).
    public static func renderTrial(network: Network, trial: Trial, data: PreparedData, study: String, folder: String,
                                   testIndices: [Int]? = nil, topPercent: Double = 10) throws -> [(ArtifactKind, String)] {
        let indices = testIndices ?? data.displayIndices
        let suffix = indices == data.displayIndices ? "" : "-images-" + selectionName(indices)
        let dir = URL(fileURLWithPath: folder).appendingPathComponent(study).appendingPathComponent(trial.id)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let size = data.test.imageSize
        let (h, w, c) = (data.test.height, data.test.width, data.test.channels)
        let images = indices.map { i in
            data.displayIndices.firstIndex(of: i).map { data.displayImages[$0] }
                ?? Array(data.test.images.data[(i * size)..<((i + 1) * size)]).map { $0 / 255 }
        }
        let labels = indices.map { Int(data.test.labels[$0]) }
        let title = "\(study) | trial \(trial.id.prefix(10)) | \(trial.label)"

        // Maps, in chunks of the network's batch capacity.
        var maps: [Float] = [], predicted: [Int] = []
        var mapShape = (0, 0), kind: ConfidenceMaps.Kind = .gapClassMaps
        var start = 0
        while start < indices.count {
            let chunk = Array(indices[start..<min(start + network.maxBatch, indices.count)])
            var input = [Float](); input.reserveCapacity(chunk.count * size)
            for i in chunk { input += data.test.images.data[(i * size)..<((i + 1) * size)] }
            let result = try input.withUnsafeBufferPointer { try network.confidenceMaps(input: $0, batch: chunk.count) }
            kind = result.kind
            if case .unavailable = result.kind { break }
            maps += result.maps.data
            mapShape = (result.maps.shape[1], result.maps.shape[2])
            let k = result.probabilities.shape[1]
            for n in 0..<chunk.count {
                let row = result.probabilities.data[(n * k)..<((n + 1) * k)]
                predicted.append(row.indices.max { row[$0] < row[$1] }! - n * k)
            }
            start += chunk.count
        }

        if case .unavailable(let reason) = kind {
            let url = dir.appendingPathComponent("confidence-maps\(suffix).png")
            let sheet = ExplanationSheet(title: title, lines: [
                "No category confidence maps for this trial (the paper's section 4.7 defines them for GAP heads).",
                reason,
            ])
            try PNG.write(sheet.render(), to: url)
            return [(.confidenceMap, url.path)]
        }
        let mapKind: MapKind = kind == .fcLinearContribution ? .fcLinearContribution : .gapClassMaps
        var written: [(ArtifactKind, String)] = []
        for (p, name, artifact) in [(nil as Double?, "confidence-maps\(suffix).png", ArtifactKind.confidenceMap),
                                    (topPercent, "confidence-maps\(suffix)-top\(Int(topPercent)).png", ArtifactKind.confidenceMapTop)] {
            let sheet = try ConfidenceMapSheet(images: images, imageHeight: h, imageWidth: w, imageChannels: c,
                                               maps: maps, mapHeight: mapShape.0, mapWidth: mapShape.1,
                                               classNames: data.classNames, trueLabels: labels, predicted: predicted,
                                               kind: mapKind, topPercent: p, title: title)
            let url = dir.appendingPathComponent(name)
            try PNG.write(sheet.render(), to: url)
            written.append((artifact, url.path))
        }
        return written
    }

    /// A file-name part for a selection of test images: the indices themselves (`0-1-2`), or for
    /// more than 8 the first 4, the count and an FNV-1a hash of the whole list.
    static func selectionName(_ indices: [Int]) -> String {
        if indices.count <= 8 { return indices.map(String.init).joined(separator: "-") }
        var hash: UInt32 = 2_166_136_261
        for i in indices {
            for byte in String(i).utf8 + [UInt8(ascii: ",")] { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        }
        return indices.prefix(4).map(String.init).joined(separator: "-") + "-and-\(indices.count - 4)-more-"
            + String(format: "%08x", hash)
    }

    /// `renderTrial` for a trainer that just finished.
    public static func renderTrial(trainer: TrialTrainer, data: PreparedData, study: String, folder: String) throws -> [(ArtifactKind, String)] {
        try renderTrial(network: trainer.network, trial: trainer.trial, data: data, study: study, folder: folder)
    }

    /// Renders the study's learning curves (test error and training loss per epoch, one line per
    /// trial) to `<folder>/<study>/learning-curves.png`; nil when no trial has an epoch yet.
    public static func renderLearningCurves(store: ResultsStore, study: String, folder: String) throws -> String? {
        var series: [LearningCurvePlot.Series] = []
        for t in try store.trialSummaries(study: study) {
            let epochs = try store.epochs(trialId: t.trialId)
            guard !epochs.isEmpty else { continue }
            let label = [t.head, t.depth.map { "d\($0)" }, t.widthMultiplier.flatMap { $0 == 1 ? nil : "x\(JSONValue.format($0))" },
                         t.seed.map { "s\($0)" }].compactMap { $0 }.joined(separator: " ")
            series.append(try LearningCurvePlot.Series(label: "\(t.shortId.prefix(6)) \(label)", epochs: epochs.map(\.epoch),
                                                   testError: epochs.map { $0.testAccuracy.map { 100 - $0 } },
                                                   trainLoss: epochs.map { $0.trainLoss ?? .nan }))
        }
        guard !series.isEmpty else { return nil }
        let dir = URL(fileURLWithPath: folder).appendingPathComponent(study)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("learning-curves.png")
        try PNG.write(LearningCurvePlot(series: series, title: "\(study): test error and training loss per epoch").render(), to: url)
        return url.path
    }
}
