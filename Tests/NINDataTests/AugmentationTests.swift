import Foundation
import XCTest
@testable import NINData
import NINEngine

final class AugmentationTests: XCTestCase {
    /// B images of H×W×2 whose pixel (y, x, c) encodes its own position: 1 + y·W + x + 1000·c.
    static func positions(count: Int, h: Int = 8, w: Int = 10) -> Tensor {
        var t = Tensor(zeros: [count, h, w, 2])
        for i in 0..<count { for y in 0..<h { for x in 0..<w { for c in 0..<2 {
            t.data[((i * h + y) * w + x) * 2 + c] = Float(1 + y * w + x + 1000 * c)
        } } } }
        return t
    }

    func testTranslationStaysWithinThePaddingAndCoversIt() {
        let (h, w, p) = (8, 10, 3)
        var batch = Self.positions(count: 300, h: h, w: w)
        var g = SeededGenerator(seed: 11)
        Augmentation(translate: p).apply(to: &batch, generator: &g)
        var seen = Set<[Int]>()
        for i in 0..<300 {
            var shift: [Int]?
            for y in 0..<h { for x in 0..<w {
                let base = ((i * h + y) * w + x) * 2
                let v = Int(batch.data[base])
                if v == 0 { XCTAssertEqual(batch.data[base + 1], 0); continue } // zero padding
                XCTAssertEqual(Int(batch.data[base + 1]), v + 1000, "channels move together")
                let (sy, sx) = ((v - 1) / w, (v - 1) % w)
                let s = [sy - y, sx - x]
                if let known = shift { XCTAssertEqual(s, known, "one shift per image") } else { shift = s }
            } }
            guard let s = shift else { XCTFail("image \(i) entirely padding"); continue }
            XCTAssertTrue(abs(s[0]) <= p && abs(s[1]) <= p, "shift \(s) beyond padding \(p)")
            // Pixels shifted out of the image are zero: exactly |dy|·W + |dx|·H − |dy||dx| of them.
            let zeros = (0..<(h * w)).filter { batch.data[(i * h * w + $0) * 2] == 0 }.count
            XCTAssertEqual(zeros, abs(s[0]) * w + abs(s[1]) * h - abs(s[0]) * abs(s[1]))
            seen.insert(s)
        }
        XCTAssertEqual(seen.count, 49, "all (2p+1)² crop offsets occur over 300 images")
    }

    func testFlipMirrorsAboutHalfTheImages() {
        let original = Self.positions(count: 400, h: 4, w: 6)
        var batch = original
        var g = SeededGenerator(seed: 12)
        Augmentation(translate: 0, horizontalFlip: true).apply(to: &batch, generator: &g)
        var flipped = 0
        let size = 4 * 6 * 2
        for i in 0..<400 {
            let out = Array(batch.data[(i * size)..<((i + 1) * size)])
            let src = Array(original.data[(i * size)..<((i + 1) * size)])
            var mirror = src
            for y in 0..<4 { for x in 0..<6 { for c in 0..<2 { mirror[(y * 6 + x) * 2 + c] = src[(y * 6 + 5 - x) * 2 + c] } } }
            if out == mirror { flipped += 1 } else { XCTAssertEqual(out, src, "image \(i) neither kept nor mirrored") }
        }
        XCTAssertTrue((160...240).contains(flipped), "\(flipped) of 400 flipped")
    }

    func testSameSeedSameAugmentation() {
        let aug = Augmentation(translate: 2, horizontalFlip: true)
        var a = Self.positions(count: 20), b = a, c = a
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5), g3 = SeededGenerator(seed: 6)
        aug.apply(to: &a, generator: &g1)
        aug.apply(to: &b, generator: &g2)
        aug.apply(to: &c, generator: &g3)
        XCTAssertEqual(a, b)
        XCTAssertEqual(g1, g2, "same number of draws")
        XCTAssertNotEqual(a, c)
    }

    func testFlipRefusedOnDigitDatasetsUnlessOverridden() throws {
        let flip = Augmentation(translate: 2, horizontalFlip: true)
        for name in [DatasetName.mnist, .fashionMNIST] {
            let message = Fixtures.message { try flip.validate(for: name) }
            XCTAssertMentions(message, "augmentation refused for \(name.rawValue)", "horizontal flip", "override")
            XCTAssertNoThrow(try flip.validate(for: name, allowFlipOnDigits: true))
        }
        XCTAssertNoThrow(try flip.validate(for: .cifar10))
        XCTAssertNoThrow(try Augmentation(translate: 2).validate(for: .mnist))
        XCTAssertMentions(Fixtures.message { try Augmentation(translate: 40).validate(for: .cifar10) },
                          "translate", "0..<32", "40")
    }
}
