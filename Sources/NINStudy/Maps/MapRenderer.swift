import Foundation
import NINEngine
import NINData
import NINStore
import NINRender

/// Renders a trial's category confidence maps (paper §4.7, Figure 4) and a study's learning
/// curves to PNG files, each with a PDF of the same name beside it (for papers; not recorded as an
/// artifact).
///
/// Files: `<folder>/<study>/<trial-id>/confidence-maps.png` (all activations),
/// `confidence-maps-top<p>.png` (only the top p % of each row's activations, the paper's
/// variant), and `<folder>/<study>/learning-curves.png`. Sheets of other test images than the
/// default selection get a suffix naming them (`confidence-maps-images-0-1-2.png`), so they never
/// replace the sheets a run rendered.
enum MapRenderer {
    /// Renders the sheets of a trained network for the given test images.
    /// - Parameters:
    ///   - images: the test images to show (`PreparedData.mapImages()` or `MapImages.load`).
    ///   - topPercent: the second sheet's top-activation share, percent (the paper's 10).
    /// - Returns: the artifact kind and path of each file written.
    /// - Throws: `RenderError` (shapes, file writes).
    static func renderTrial(network: Network, trial: Trial, images: MapImages, study: String, folder: String,
                                   topPercent: Double = 10) throws -> [(ArtifactKind, String)] {
        let indices = images.indices
        let suffix = images.isDefaultSelection ? "" : "-images-" + selectionName(indices)
        let dir = URL(fileURLWithPath: folder).appendingPathComponent(study).appendingPathComponent(trial.id)
        try OutputFolder.create(dir)
        let size = images.shape.count
        let (h, w, c) = (images.shape.height, images.shape.width, images.shape.channels)
        let labels = images.labels
        let title = "\(study) | trial \(trial.id.prefix(10)) | \(trial.label)"

        // Maps, in chunks of the network's batch capacity.
        var maps: [Float] = [], predicted: [Int?] = []
        var mapShape = (0, 0), kind: ConfidenceMaps.Kind = .gapClassMaps
        var start = 0
        while start < indices.count {
            let chunk = start..<min(start + network.maxBatch, indices.count)
            let result = try images.inputs.data.withUnsafeBufferPointer {
                try network.confidenceMaps(input: UnsafeBufferPointer(rebasing: $0[(chunk.lowerBound * size)..<(chunk.upperBound * size)]),
                                       batch: chunk.count)
            }
            kind = result.kind
            if case .unavailable = result.kind { break }
            maps += result.maps.data
            mapShape = (result.maps.shape[1], result.maps.shape[2])
            let k = result.probabilities.shape[1]
            for n in 0..<chunk.count {
                let row = result.probabilities.data[(n * k)..<((n + 1) * k)]
                // Scores that are not finite (a diverged network) give no prediction.
                predicted.append(row.allSatisfy(\.isFinite) ? row.indices.max { row[$0] < row[$1] }! - n * k : nil)
            }
            start += chunk.count
        }

        if case .unavailable(let reason) = kind {
            let url = dir.appendingPathComponent("confidence-maps\(suffix).png")
            let sheet = ExplanationSheet(title: title, lines: [
                "No category confidence maps for this trial (the paper's section 4.7 defines them for GAP heads).",
                reason,
            ])
            try writePNGAndPDF(sheet, to: url)
            return [(.confidenceMap, url.path)]
        }
        let mapKind: MapKind = kind == .fcLinearContribution ? .fcLinearContribution : .gapClassMaps
        var written: [(ArtifactKind, String)] = []
        for (p, name, artifact) in [(nil as Double?, "confidence-maps\(suffix).png", ArtifactKind.confidenceMap),
                                    (topPercent, "confidence-maps\(suffix)-top\(Int(topPercent)).png", ArtifactKind.confidenceMapTop)] {
            let sheet = try ConfidenceMapSheet(images: images.display, imageHeight: h, imageWidth: w, imageChannels: c,
                                               maps: maps, mapHeight: mapShape.0, mapWidth: mapShape.1,
                                               classNames: images.classNames, trueLabels: labels, predicted: predicted,
                                               kind: mapKind, topPercent: p, title: title)
            let url = dir.appendingPathComponent(name)
            try writePNGAndPDF(sheet, to: url)
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

    /// Renders the study's learning curves (test error and training loss per epoch, one line per
    /// trial) to `<folder>/<study>/learning-curves.png`; nil when no trial has an epoch yet.
    static func renderLearningCurves(store: ResultsStore, study: String, folder: String) throws -> String? {
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
        try OutputFolder.create(dir)
        let url = dir.appendingPathComponent("learning-curves.png")
        try writePNGAndPDF(LearningCurvePlot(series: series, title: "\(study): test error and training loss per epoch"), to: url)
        return url.path
    }

    /// Writes `figure` to `url` (a `.png` path) and as PDF beside it (`.pdf`).
    static func writePNGAndPDF(_ figure: some Figure, to url: URL) throws {
        try figure.write(.png, to: url)
        try figure.write(.pdf, to: url.deletingPathExtension().appendingPathExtension("pdf"))
    }
}
