// Category confidence-map sheets (Lin et al. 2014, §4.7 and Figure 4): one row per test image,
// the input image followed by one colour-mapped map per class.

import Foundation

/// Which per-class spatial maps a sheet shows; the sheet's header states it in words.
public enum MapKind: String, Sendable, CaseIterable {
    /// The K feature maps of the last mlpconv layer of a global-average-pooling head, one per class
    /// (their spatial means are the class scores; paper §3.2 and §4.7).
    case gapClassMaps
    /// For a fully connected head with no hidden layer: the contribution of each spatial position
    /// to each class score, `Σ_c W[k, (y, x, c)] · a[y, x, c]`, which sums (plus the bias) to the score.
    case fcLinearContribution

    /// The header line naming the kind of map.
    public var headline: String {
        switch self {
        case .gapClassMaps:
            return "GAP category confidence maps (last mlpconv layer)"
        case .fcLinearContribution:
            return "FC head: per-position contribution to each class score (linear decomposition)"
        }
    }
}

/// A sheet of category confidence maps: one row per test image; in each row the input image, then
/// the K class maps upscaled bilinearly to `cellSize × cellSize` and coloured with viridis.
///
/// Reading the sheet:
/// - **One colour scale per row**: the row's smallest finite map value is viridis' first colour
///   (#440154) and its largest the last (#FDE725), so the K maps of one image are comparable. A row
///   whose values are all equal is drawn in the first colour. Non-finite values are grey (#808080).
/// - **Ground-truth class**: its cell has a red outline (`RGBA.groundTruthOutline`, #E41A1C), 3 px
///   wide, 1 px outside the cell.
/// - **Predicted class**: an orange right triangle (`RGBA.predictedMarker`, #FF7F00, bordered white)
///   in the top-right corner of its cell, a quarter of the cell wide.
/// - **Top-p % variant** (`topPercent` set; the paper's Figure 4 uses 10): only the largest p % of
///   the row's `mapHeight·mapWidth·K` activations keep their colour (exactly `⌈p·count/100⌉`, see
///   `topPercentMask`); the others are dimmed to 25 % brightness.
/// - Left of each row: the row number, "true: X", "pred: Y" (orange when wrong) and the row's scale.
public struct ConfidenceMapSheet {
    public let images: [[Float]]
    public let imageHeight: Int, imageWidth: Int, imageChannels: Int
    public let maps: [Float]
    public let mapHeight: Int, mapWidth: Int
    public let classNames: [String]
    public let trueLabels: [Int]
    public let predicted: [Int]
    public let kind: MapKind
    public let topPercent: Double?
    public let title: String
    /// Side of each square cell in pixels.
    public let cellSize: Int

    /// Number of rows (images).
    public var rowCount: Int { images.count }
    /// Number of classes K.
    public var classCount: Int { classNames.count }

    // Layout, in pixels.
    static let margin = 12
    static let gap = 8
    private let labelColumnWidth: Int
    private let headerHeight: Int
    private let font = BitmapFont.standard

    /// Creates a sheet.
    ///
    /// - Parameters:
    ///   - images: N images, each `[imageHeight, imageWidth, imageChannels]` (HWC) with display-ready
    ///     values in [0, 1] (values outside are clamped); `imageChannels` is 1 (grayscale) or 3 (RGB).
    ///   - maps: `[N, mapHeight, mapWidth, K]` (NHWC) map values, any real scale.
    ///   - classNames: K class names, the column headers.
    ///   - trueLabels, predicted: N class indices in `0..<K`.
    ///   - kind: which maps these are (stated in the header).
    ///   - topPercent: nil to show all activations, or p in (0, 100] to show only the top p % per row.
    ///   - title: the sheet's first line.
    ///   - cellSize: side of each square cell in pixels (≥ 16).
    /// - Throws: `RenderError.shapeMismatch` when array sizes disagree with the stated shapes,
    ///   `RenderError.invalidValue` for a label outside `0..<K`, a channel count other than 1 or 3,
    ///   a `topPercent` outside (0, 100], or a non-positive size.
    public init(images: [[Float]], imageHeight: Int, imageWidth: Int, imageChannels: Int,
                maps: [Float], mapHeight: Int, mapWidth: Int, classNames: [String],
                trueLabels: [Int], predicted: [Int], kind: MapKind, topPercent: Double?,
                title: String, cellSize: Int = 64) throws {
        let n = images.count, k = classNames.count
        guard imageHeight >= 1, imageWidth >= 1, mapHeight >= 1, mapWidth >= 1 else {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet sizes", expected: "image and map sizes ≥ 1",
                                           found: "image \(imageHeight)×\(imageWidth), map \(mapHeight)×\(mapWidth)")
        }
        guard imageChannels == 1 || imageChannels == 3 else {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet imageChannels", expected: "1 or 3",
                                           found: "\(imageChannels)")
        }
        guard k >= 1 else {
            throw RenderError.shapeMismatch(what: "ConfidenceMapSheet classNames", expected: "at least 1 class", found: "0")
        }
        guard cellSize >= 16 else {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet cellSize", expected: "≥ 16 pixels", found: "\(cellSize)")
        }
        for (i, image) in images.enumerated() where image.count != imageHeight * imageWidth * imageChannels {
            throw RenderError.shapeMismatch(what: "ConfidenceMapSheet images[\(i)]",
                                            expected: "\(imageHeight)×\(imageWidth)×\(imageChannels) = \(imageHeight * imageWidth * imageChannels) values",
                                            found: "\(image.count)")
        }
        guard maps.count == n * mapHeight * mapWidth * k else {
            throw RenderError.shapeMismatch(what: "ConfidenceMapSheet maps [N, h, w, K]",
                                            expected: "[\(n), \(mapHeight), \(mapWidth), \(k)] = \(n * mapHeight * mapWidth * k) values",
                                            found: "\(maps.count)")
        }
        guard trueLabels.count == n, predicted.count == n else {
            throw RenderError.shapeMismatch(what: "ConfidenceMapSheet labels", expected: "\(n) true and \(n) predicted",
                                            found: "\(trueLabels.count) true and \(predicted.count) predicted")
        }
        for (name, labels) in [("trueLabels", trueLabels), ("predicted", predicted)] {
            if let (i, bad) = labels.enumerated().first(where: { !(0..<k).contains($0.element) }) {
                throw RenderError.invalidValue(what: "ConfidenceMapSheet \(name)[\(i)]", expected: "a class index in 0..<\(k)",
                                               found: "\(bad)")
            }
        }
        if let p = topPercent, !(p.isFinite && p > 0 && p <= 100) {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet topPercent", expected: "nil or a percentage in (0, 100]",
                                           found: "\(p)")
        }
        self.images = images
        self.imageHeight = imageHeight; self.imageWidth = imageWidth; self.imageChannels = imageChannels
        self.maps = maps
        self.mapHeight = mapHeight; self.mapWidth = mapWidth
        self.classNames = classNames
        self.trueLabels = trueLabels; self.predicted = predicted
        self.kind = kind; self.topPercent = topPercent; self.title = title
        self.cellSize = cellSize

        // Label column: wide enough for every row's label lines.
        var widest = font.measure(text: "true: ").width
        for row in 0..<n {
            for line in ConfidenceMapSheet.labelLines(row: row, trueLabels: trueLabels, predicted: predicted,
                                                      classNames: classNames, range: (0, 0)) {
                widest = max(widest, font.measure(text: line).width)
            }
        }
        widest = max(widest, font.measure(text: "max -0.000e+00").width)
        labelColumnWidth = widest
        // Header: title (scale 2), kind, shown-what line, legend, column headers.
        headerHeight = ConfidenceMapSheet.margin + 16 + 4 + 9 + 9 + 6 + 14 + 8 + 9 + 6
    }

    /// The explanation of what is shown, as written in the header's second line.
    public var shownDescription: String {
        if let p = topPercent {
            return "Only the top \(ConfidenceMapSheet.formatPercent(p)) % of each row's activations shown (paper Fig. 4); the rest dimmed. One colour scale per row."
        }
        return "All activations shown. One colour scale per row (row min to row max)."
    }

    /// Top-left corner of a cell: `column` 0 is the input image, `column` k + 1 is class k's map.
    public func cellOrigin(row: Int, column: Int) -> (x: Int, y: Int) {
        let x = Self.margin + labelColumnWidth + Self.gap + column * (cellSize + Self.gap)
        let y = headerHeight + row * (cellSize + Self.gap)
        return (x, y)
    }

    /// The sheet's size in pixels.
    public var size: (width: Int, height: Int) {
        let gridWidth = cellOrigin(row: 0, column: classCount + 1).x - Self.gap + Self.margin
        let texts = [title].map { font.measure(text: $0, scale: 2).width } +
            [kind.headline, shownDescription].map { font.measure(text: $0).width }
        let width = max(gridWidth, (texts.max() ?? 0) + 2 * Self.margin, 360)
        let height = cellOrigin(row: rowCount, column: 0).y - Self.gap + Self.margin + (rowCount == 0 ? 20 : 0)
        return (width, height)
    }

    /// Renders the sheet.
    public func render() -> RGBAImage {
        let (width, height) = size
        var image = RGBAImage(width: width, height: height, fill: .white)
        drawHeader(into: &image)
        if rowCount == 0 {
            image.draw(text: "(no images)", at: (Self.margin, headerHeight), color: .mutedText)
        }
        let perImage = mapHeight * mapWidth * classCount
        for row in 0..<rowCount {
            let rowValues = Array(maps[(row * perImage)..<((row + 1) * perImage)])
            drawRow(row, values: rowValues, into: &image)
        }
        return image
    }

    // MARK: - Drawing

    private func drawHeader(into image: inout RGBAImage) {
        var y = Self.margin
        image.draw(text: title, at: (Self.margin, y), color: .text, scale: 2)
        y += 16 + 4
        image.draw(text: kind.headline, at: (Self.margin, y), color: .text)
        y += 9
        image.draw(text: shownDescription, at: (Self.margin, y), color: .mutedText)
        y += 9 + 6
        // Legend: colour bar, ground-truth outline sample, predicted marker sample.
        var x = Self.margin
        image.draw(text: "row min", at: (x, y + 3), color: .mutedText)
        x += font.measure(text: "row min").width + 4
        for i in 0..<128 {
            let c = ColorMap.viridis.rgba(at: Float(i) / 127)
            image.fillRect(x: x + i, y: y, width: 1, height: 12, color: c)
        }
        x += 128 + 4
        image.draw(text: "row max", at: (x, y + 3), color: .mutedText)
        x += font.measure(text: "row max").width + 16
        image.fillRect(x: x + 3, y: y + 1, width: 10, height: 10, color: RGBA(hex: 0xF0F0F0))
        image.outlineRect(x: x, y: y - 2, width: 16, height: 16, color: .groundTruthOutline, thickness: 3)
        x += 20
        image.draw(text: "ground truth", at: (x, y + 3), color: .text)
        x += font.measure(text: "ground truth").width + 16
        image.fillRect(x: x, y: y, width: 12, height: 12, color: RGBA(hex: 0x3B528B))
        drawPredictedMarker(cellX: x, cellY: y, side: 12, into: &image)
        x += 16
        image.draw(text: "predicted", at: (x, y + 3), color: .text)
        y += 14 + 8
        // Column headers, centred over the cells.
        let headers = ["input"] + classNames
        for (column, name) in headers.enumerated() {
            let text = font.truncate(text: name, maxWidth: cellSize + Self.gap - 2)
            let w = font.measure(text: text).width
            let origin = cellOrigin(row: 0, column: column)
            image.draw(text: text, at: (origin.x + (cellSize - w) / 2, y), color: .text)
        }
    }

    private func drawRow(_ row: Int, values: [Float], into image: inout RGBAImage) {
        let k = classCount
        let finite = values.filter { $0.isFinite }
        let lo = finite.min() ?? 0, hi = finite.max() ?? 0
        let span = hi - lo
        let keep = topPercent.map { topPercentMask(values: values, percent: $0) }

        // Labels.
        let labelOrigin = cellOrigin(row: row, column: 0)
        let lines = Self.labelLines(row: row, trueLabels: trueLabels, predicted: predicted,
                                    classNames: classNames, range: (lo, hi))
        for (i, line) in lines.enumerated() {
            let wrong = i == 2 && trueLabels[row] != predicted[row]
            let color: RGBA = i == 0 || i >= 3 ? .mutedText : (wrong ? RGBA(hex: 0xC05000) : .text)
            image.draw(text: line, at: (Self.margin, labelOrigin.y + 2 + i * 10), color: color)
        }

        // Input image, nearest-neighbour upscaled.
        let pixels = Resample.nearest(images[row], height: imageHeight, width: imageWidth, channels: imageChannels,
                                      outHeight: cellSize, outWidth: cellSize)
        for y in 0..<cellSize {
            for x in 0..<cellSize {
                let base = (y * cellSize + x) * imageChannels
                func byte(_ v: Float) -> UInt8 { v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded()) }
                let color = imageChannels == 1
                    ? RGBA(byte(pixels[base]), byte(pixels[base]), byte(pixels[base]))
                    : RGBA(byte(pixels[base]), byte(pixels[base + 1]), byte(pixels[base + 2]))
                image.setPixel(x: labelOrigin.x + x, y: labelOrigin.y + y, color)
            }
        }

        // Class maps.
        for c in 0..<k {
            var map = [Float](repeating: 0, count: mapHeight * mapWidth)
            var alphaSource = [Float](repeating: 1, count: mapHeight * mapWidth)
            for p in 0..<(mapHeight * mapWidth) {
                map[p] = values[p * k + c]
                if let keep { alphaSource[p] = keep[p * k + c] ? 1 : 0 }
            }
            let upscaled = Resample.bilinear(map, height: mapHeight, width: mapWidth, outHeight: cellSize, outWidth: cellSize)
            let alpha = keep == nil ? nil
                : Resample.bilinear(alphaSource, height: mapHeight, width: mapWidth, outHeight: cellSize, outWidth: cellSize)
            let origin = cellOrigin(row: row, column: c + 1)
            for y in 0..<cellSize {
                for x in 0..<cellSize {
                    let v = upscaled[y * cellSize + x]
                    var color: RGBA
                    if !v.isFinite {
                        color = .nonFinite
                    } else {
                        color = ColorMap.viridis.rgba(at: span > 0 ? (v - lo) / span : 0)
                    }
                    if let alpha {
                        let a = alpha[y * cellSize + x]
                        color = color.mixed(with: .black, 0.75).mixed(with: color, a)
                    }
                    image.setPixel(x: origin.x + x, y: origin.y + y, color)
                }
            }
            if c == predicted[row] {
                drawPredictedMarker(cellX: origin.x, cellY: origin.y, side: cellSize, into: &image)
            }
            if c == trueLabels[row] {
                image.outlineRect(x: origin.x - 4, y: origin.y - 4, width: cellSize + 8, height: cellSize + 8,
                                  color: .groundTruthOutline, thickness: 3)
            }
        }
    }

    /// The predicted-class marker: a right triangle in the top-right corner of a `side × side` cell,
    /// legs `side / 4` long, orange with a 2 px white border along its hypotenuse.
    private func drawPredictedMarker(cellX: Int, cellY: Int, side: Int, into image: inout RGBAImage) {
        let leg = max(4, side / 4)
        let right = cellX + side      // the cell's right edge (pixel centres lie at +0.5)
        image.fillTriangle((right, cellY), (right - leg - 3, cellY), (right, cellY + leg + 3), color: .predictedMarkerBorder)
        image.fillTriangle((right, cellY), (right - leg, cellY), (right, cellY + leg), color: .predictedMarker)
    }

    static func labelLines(row: Int, trueLabels: [Int], predicted: [Int], classNames: [String],
                           range: (Float, Float)) -> [String] {
        ["#\(row + 1)",
         "true: \(classNames[trueLabels[row]])",
         "pred: \(classNames[predicted[row]])",
         "max \(formatValue(range.1))",
         "min \(formatValue(range.0))"]
    }

    static func formatValue(_ v: Float) -> String {
        String(format: "%.3g", Double(v))
    }

    static func formatPercent(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(format: "%g", p)
    }
}
