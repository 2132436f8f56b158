import Foundation
import NINEngine

/// Writes a small, learnable MNIST-format dataset (raw IDX files) into `<root>/mnist/`:
/// class c is a bright 6×6 square at a position determined by c, plus seeded noise. Exactly
/// balanced classes, so a network that predicts one constant class scores exactly 10 %.
enum SyntheticDigits {
    static func write(to root: URL, train: Int = 200, test: Int = 100, seed: UInt64 = 7) throws {
        let dir = root.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var g = SeededGenerator(seed: seed)
        func images(_ n: Int) -> (Data, Data) {
            var img = Data([0, 0, 8, 3]); img.append(be(n)); img.append(be(28)); img.append(be(28))
            var lab = Data([0, 0, 8, 1]); lab.append(be(n))
            for i in 0..<n {
                let c = i % 10
                let (cy, cx) = (4 + (c / 5) * 12, 2 + (c % 5) * 5)
                var px = [UInt8](repeating: 0, count: 784)
                for y in 0..<28 { for x in 0..<28 { px[y * 28 + x] = UInt8(g.nextInt(below: 40)) } }
                for y in cy..<(cy + 6) { for x in cx..<(cx + 6) { px[y * 28 + x] = UInt8(200 + g.nextInt(below: 56)) } }
                img.append(contentsOf: px)
                lab.append(UInt8(c))
            }
            return (img, lab)
        }
        let (trI, trL) = images(train), (teI, teL) = images(test)
        try trI.write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
        try trL.write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        try teI.write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try teL.write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    static func be(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).bigEndian) { Data($0) } }

    /// A tiny study on the synthetic data: a two-block mlpconv network, `extra` JSON appended.
    /// (The class is the square's position, which an FC head learns in a few dozen steps; a
    /// GAP head is position-invariant by design and learns it only slowly.)
    static func study(name: String = "tiny", epochs: Int = 3, head: String = "fc", augmentation: String = "{}", extra: String = "") -> Data {
        Data("""
        {"name": "\(name)", "description": "synthetic test study",
         "dataset": {"name": "mnist", "preprocessing": "scale", "augmentation": \(augmentation)},
         "model": {"preset": "custom", "head": "\(head)", "finalReLU": false,
                   "blocks": [{"channels": 8, "kernel": 5, "pad": 2, "widths": [8], "pool": {"kind": "max", "size": 3, "stride": 2}, "dropout": 0.25},
                              {"channels": 8, "kernel": 3, "pad": 1, "widths": [10]}]},
         "training": {"epochs": \(epochs), "batchSize": 10, "learningRate": 0.05, "failAtChanceAfterEpoch": 0}\(extra.isEmpty ? "" : ", " + extra)}
        """.utf8)
    }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nin-study-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
