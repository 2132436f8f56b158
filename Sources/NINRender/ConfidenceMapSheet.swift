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
/// the K class maps upscaled bilinearly to `cellSize × cellSize` and coloured with viridis. Drawn
/// with Cairo (text in DejaVu Sans), written as PNG and PDF through ``Figure``.
///
/// Reading the sheet:
/// - **One colour scale per row**: the row's smallest finite map value is viridis' first colour
///   (#440154) and its largest the last (#FDE725), so the K maps of one image are comparable. A row
///   whose values are all equal is drawn in the first colour.
/// - **Non-finite values** (NaN, ±∞) are grey (#808080); a cell holding any carries a "NaN/Inf"
///   mark and the legend explains the grey.
/// - **Ground-truth class**: its cell has a red outline (`RGBA.groundTruthOutline`, #E41A1C), 3 px
///   wide, 1 px outside the cell.
/// - **Predicted class**: an orange right triangle (`RGBA.predictedMarker`, #FF7F00, bordered white)
///   in the top-right corner of its cell, a quarter of the cell wide. A row whose class scores are
///   not finite has no prediction: no marker, and its label says "pred: none (NaN scores)".
/// - **Top-p % variant** (`topPercent` set; the paper's Figure 4 uses 10): only the largest p % of
///   the row's `mapHeight·mapWidth·K` activations keep their colour (at most `⌈p·count/100⌉`; ties
///   at the cut are dropped whole, so a constant map keeps nothing, see `topPercentMask`); the
///   others are dimmed to 25 % brightness.
/// - Left of each row: the row number, "true: X", "pred: Y" (orange when wrong) and the row's scale.
public struct ConfidenceMapSheet: Figure {
    public let images: [[Float]]
    public let imageHeight: Int, imageWidth: Int, imageChannels: Int
    public let maps: [Float]
    public let mapHeight: Int, mapWidth: Int
    public let classNames: [String]
    public let trueLabels: [Int]
    /// The predicted class of each row; nil when the row's class scores are not finite.
    public let predicted: [Int?]
    public let kind: MapKind
    public let topPercent: Double?
    public let title: String
    /// Side of each square cell in pixels.
    let cellSize: Int

    /// Number of rows (images).
    var rowCount: Int { images.count }
    /// Number of classes K.
    public var classCount: Int { classNames.count }

    // Layout, in pixels (PNG) or points (PDF).
    static let margin = 12
    static let gap = 8
    static let titleSize = 18.0
    static let textSize = 12.0
    private let labelSize: Double
    private let labelColumnWidth: Int
    private let headerHeight: Int
    private let titleWidth: Int

    /// Creates a sheet.
    ///
    /// - Parameters:
    ///   - images: N images, each `[imageHeight, imageWidth, imageChannels]` (HWC) with display-ready
    ///     values in [0, 1] (values outside are clamped); `imageChannels` is 1 (grayscale) or 3 (RGB).
    ///   - maps: `[N, mapHeight, mapWidth, K]` (NHWC) map values, any real scale.
    ///   - classNames: K class names, the column headers.
    ///   - trueLabels: N class indices in `0..<K`.
    ///   - predicted: N class indices in `0..<K`, nil for a row without a prediction (NaN scores).
    ///   - kind: which maps these are (stated in the header).
    ///   - topPercent: nil to show all activations, or p in (0, 100] to show only the top p % per row.
    ///   - title: the sheet's first line.
    ///   - cellSize: side of each square cell in pixels (≥ 16).
    /// - Throws: `RenderError.shapeMismatch` when array sizes disagree with the stated shapes,
    ///   `RenderError.invalidValue` for a label outside `0..<K`, a channel count other than 1 or 3,
    ///   a `topPercent` outside (0, 100], or a non-positive size.
    public init(images: [[Float]], imageHeight: Int, imageWidth: Int, imageChannels: Int,
                maps: [Float], mapHeight: Int, mapWidth: Int, classNames: [String],
                trueLabels: [Int], predicted: [Int?], kind: MapKind, topPercent: Double?,
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
        if let (i, bad) = trueLabels.enumerated().first(where: { !(0..<k).contains($0.element) }) {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet trueLabels[\(i)]", expected: "a class index in 0..<\(k)",
                                           found: "\(bad)")
        }
        if let (i, bad) = predicted.enumerated().first(where: { $0.element.map { !(0..<k).contains($0) } ?? false }) {
            throw RenderError.invalidValue(what: "ConfidenceMapSheet predicted[\(i)]", expected: "a class index in 0..<\(k) or nil",
                                           found: "\(bad!)")
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

        // Five label lines must fit beside a cell.
        let labelSize = min(11, Double(cellSize + Self.gap) / 6)
        self.labelSize = labelSize
        let description = Self.shownDescription(topPercent: topPercent)
        (labelColumnWidth, titleWidth) = Canvas.measuring { canvas in
            var widest = canvas.textWidth("max -0.000e+00", size: labelSize)
            for row in 0..<n {
                for line in Self.labelLines(row: row, trueLabels: trueLabels, predicted: predicted,
                                            classNames: classNames, range: (0, 0)) {
                    widest = max(widest, canvas.textWidth(line, size: labelSize))
                }
            }
            let texts = [canvas.textWidth(title, size: Self.titleSize, weight: .bold),
                         canvas.textWidth(kind.headline, size: Self.textSize),
                         canvas.textWidth(description, size: Self.textSize)]
            return (Int(widest.rounded(.up)), Int(texts.max()!.rounded(.up)))
        }
        // Header: title, kind, shown-what line, legend, column headers.
        headerHeight = Self.margin + 24 + 17 + 17 + 8 + 16 + 10 + 16
    }

    /// The explanation of what is shown, as written in the header's third line.
    var shownDescription: String { Self.shownDescription(topPercent: topPercent) }

    static func shownDescription(topPercent: Double?) -> String {
        if let p = topPercent {
            return "Only the top \(formatPercent(p)) % of each row's activations shown (paper Fig. 4; ties at the cut dropped); the rest dimmed. One colour scale per row."
        }
        return "All activations shown. One colour scale per row (row min to row max)."
    }

    /// Whether any map value is NaN or ±∞ (the legend then explains the grey).
    var hasNonFiniteValues: Bool { maps.contains { !$0.isFinite } }

    /// Top-left corner of a cell: `column` 0 is the input image, `column` k + 1 is class k's map.
    func cellOrigin(row: Int, column: Int) -> (x: Int, y: Int) {
        let x = Self.margin + labelColumnWidth + Self.gap + column * (cellSize + Self.gap)
        let y = headerHeight + row * (cellSize + Self.gap)
        return (x, y)
    }

    /// The sheet's size in pixels.
    public var size: (width: Int, height: Int) {
        let gridWidth = cellOrigin(row: 0, column: classCount + 1).x - Self.gap + Self.margin
        let width = max(gridWidth, titleWidth + 2 * Self.margin, 560)
        let height = cellOrigin(row: rowCount, column: 0).y - Self.gap + Self.margin + (rowCount == 0 ? 20 : 0)
        return (width, height)
    }

    /// Draws the sheet.
    public func draw(on canvas: Canvas) {
        drawHeader(on: canvas)
        if rowCount == 0 {
            canvas.text("(no images)", x: Double(Self.margin), y: Double(headerHeight), size: Self.textSize, color: .mutedText)
        }
        let perImage = mapHeight * mapWidth * classCount
        for row in 0..<rowCount {
            let rowValues = Array(maps[(row * perImage)..<((row + 1) * perImage)])
            drawRow(row, values: rowValues, on: canvas)
        }
    }

    // MARK: - Drawing

    private func drawHeader(on canvas: Canvas) {
        var y = Double(Self.margin)
        let left = Double(Self.margin)
        canvas.text(title, x: left, y: y, size: Self.titleSize, color: .text, weight: .bold)
        y += 24
        canvas.text(kind.headline, x: left, y: y, size: Self.textSize, color: .text)
        y += 17
        canvas.text(shownDescription, x: left, y: y, size: Self.textSize, color: .mutedText)
        y += 17 + 8
        // Legend: colour bar, ground-truth outline sample, predicted marker sample, non-finite grey.
        let legendText = 11.0, textY = y + 1
        var x = left
        canvas.text("row min", x: x, y: textY, size: legendText, color: .mutedText)
        x += canvas.textWidth("row min", size: legendText) + 4
        for i in 0..<128 {
            canvas.fillRect(x: x + Double(i), y: y, width: 1, height: 14, color: ColorMap.viridis.rgba(at: Float(i) / 127))
        }
        x += 128 + 4
        canvas.text("row max", x: x, y: textY, size: legendText, color: .mutedText)
        x = (x + canvas.textWidth("row max", size: legendText) + 16).rounded()
        canvas.fillRect(x: x + 3, y: y + 2, width: 10, height: 10, color: RGBA(hex: 0xF0F0F0))
        outline(x: Int(x), y: Int(y) - 1, width: 16, height: 16, on: canvas)
        x += 22
        canvas.text("ground truth", x: x, y: textY, size: legendText, color: .text)
        x = (x + canvas.textWidth("ground truth", size: legendText) + 16).rounded()
        canvas.fillRect(x: x, y: y, width: 14, height: 14, color: RGBA(hex: 0x3B528B))
        drawPredictedMarker(cellX: x, cellY: y, side: 14, on: canvas)
        x += 20
        canvas.text("predicted", x: x, y: textY, size: legendText, color: .text)
        x += canvas.textWidth("predicted", size: legendText) + 16
        if hasNonFiniteValues {
            canvas.fillRect(x: x, y: y, width: 14, height: 14, color: .nonFinite)
            x += 20
            canvas.text("NaN or ±Inf value", x: x, y: textY, size: legendText, color: .text)
        }
        // Column headers, centred over the cells.
        let headers = ["input"] + classNames
        for (column, name) in headers.enumerated() {
            let origin = cellOrigin(row: 0, column: column)
            let text = canvas.truncated(name, size: 11, maxWidth: Double(cellSize + Self.gap - 2))
            canvas.text(text, x: Double(origin.x) + Double(cellSize) / 2, y: Double(origin.y) - 17, size: 11, color: .text, anchor: .center)
        }
    }

    private func drawRow(_ row: Int, values: [Float], on canvas: Canvas) {
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
            canvas.text(line, x: Double(Self.margin), y: Double(labelOrigin.y) + Double(i) * labelSize * 1.2,
                        size: labelSize, color: color)
        }

        // Input image, nearest-neighbour upscaled.
        let pixels = Resample.nearest(images[row], height: imageHeight, width: imageWidth, channels: imageChannels,
                                      outHeight: cellSize, outWidth: cellSize)
        var input = RGBAImage(width: cellSize, height: cellSize)
        for y in 0..<cellSize {
            for x in 0..<cellSize {
                let base = (y * cellSize + x) * imageChannels
                func byte(_ v: Float) -> UInt8 { v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded()) }
                let color = imageChannels == 1
                    ? RGBA(byte(pixels[base]), byte(pixels[base]), byte(pixels[base]))
                    : RGBA(byte(pixels[base]), byte(pixels[base + 1]), byte(pixels[base + 2]))
                input.setPixel(x: x, y: y, color)
            }
        }
        canvas.drawImage(input, x: Double(labelOrigin.x), y: Double(labelOrigin.y))

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
            var cell = RGBAImage(width: cellSize, height: cellSize)
            for y in 0..<cellSize {
                for x in 0..<cellSize {
                    let v = upscaled[y * cellSize + x]
                    var color: RGBA = v.isFinite ? ColorMap.viridis.rgba(at: span > 0 ? (v - lo) / span : 0) : .nonFinite
                    if let alpha {
                        let a = alpha[y * cellSize + x]
                        color = color.mixed(with: .black, 0.75).mixed(with: color, a)
                    }
                    cell.setPixel(x: x, y: y, color)
                }
            }
            let origin = cellOrigin(row: row, column: c + 1)
            canvas.drawImage(cell, x: Double(origin.x), y: Double(origin.y))
            if map.contains(where: { !$0.isFinite }) {
                let badge = min(10, Double(cellSize) / 5)
                canvas.fillRect(x: Double(origin.x), y: Double(origin.y + cellSize) - badge - 4,
                                width: canvas.textWidth("NaN/Inf", size: badge) + 4, height: badge + 4, color: .white)
                canvas.text("NaN/Inf", x: Double(origin.x) + 2, y: Double(origin.y + cellSize) - badge - 3,
                            size: badge, color: .text)
            }
            if c == predicted[row] {
                drawPredictedMarker(cellX: Double(origin.x), cellY: Double(origin.y), side: Double(cellSize), on: canvas)
            }
            if c == trueLabels[row] {
                outline(x: origin.x - 4, y: origin.y - 4, width: cellSize + 8, height: cellSize + 8, on: canvas)
            }
        }
    }

    /// The ground-truth outline: a 3 px red frame whose outer edge is the given rectangle.
    private func outline(x: Int, y: Int, width: Int, height: Int, on canvas: Canvas) {
        let (x, y, w, h, t) = (Double(x), Double(y), Double(width), Double(height), 3.0)
        let color = RGBA.groundTruthOutline
        canvas.fillRect(x: x, y: y, width: w, height: t, color: color)
        canvas.fillRect(x: x, y: y + h - t, width: w, height: t, color: color)
        canvas.fillRect(x: x, y: y + t, width: t, height: h - 2 * t, color: color)
        canvas.fillRect(x: x + w - t, y: y + t, width: t, height: h - 2 * t, color: color)
    }

    /// The predicted-class marker: a right triangle in the top-right corner of a `side × side` cell,
    /// legs `side / 4` long, orange with a 2 px white border along its hypotenuse.
    private func drawPredictedMarker(cellX: Double, cellY: Double, side: Double, on canvas: Canvas) {
        let leg = max(4, (side / 4).rounded(.down))
        let right = cellX + side
        canvas.fillPolygon([(right, cellY), (right - leg - 3, cellY), (right, cellY + leg + 3)], color: .predictedMarkerBorder)
        canvas.fillPolygon([(right, cellY), (right - leg, cellY), (right, cellY + leg)], color: .predictedMarker)
    }

    static func labelLines(row: Int, trueLabels: [Int], predicted: [Int?], classNames: [String],
                           range: (Float, Float)) -> [String] {
        ["#\(row + 1)",
         "true: \(classNames[trueLabels[row]])",
         predicted[row].map { "pred: \(classNames[$0])" } ?? "pred: none (NaN scores)",
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
