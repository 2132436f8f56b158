import CBF16
import XCTest
@testable import NINEngine

/// The bf16 rounding of fp32 blocks (`BFloat16.convert`, `nin_bf16_convert`): its AVX-512 path
/// gives the bits of the one-by-one path and of `BFloat16.fromFloat` on every kind of value
/// (ties, subnormals, infinities, NaN payloads, the overflow to infinity), every tail length and a
/// leading dimension wider than the block, whose extra columns it leaves alone. Runs on any
/// processor (bf16 GEMMs need not run here); on one without AVX-512 both paths are the scalar one.
final class BFloat16ConversionTests: XCTestCase {
    /// Bit patterns of every kind: each exponent's edges, ties, and random patterns.
    private func patterns() -> [UInt32] {
        var bits: [UInt32] = [0, 0x8000_0000, 0x0000_0001, 0x0000_8000, 0x0000_8001, 0x0001_8000, 0x007F_FFFF,
                              0x0080_0000, 0x3F80_8000, 0x3F81_8000, 0x3F80_7FFF, 0x3F80_8001, 0xBF80_8000,
                              0x7F7F_7FFF, 0x7F7F_8000, 0x7F7F_FFFF, 0x7F80_0000, 0xFF80_0000, 0x7F80_0001,
                              0x7FC0_0000, 0xFFFF_FFFF, 0x7FBF_FFFF, 0xFF80_8000]
        for exponent in UInt32(0)...255 {
            for low: UInt32 in [0, 0x7FFF, 0x8000, 0x8001, 0x1_8000, 0x7F_FFFF] {
                bits.append(exponent << 23 | low)
                bits.append(0x8000_0000 | exponent << 23 | low)
            }
        }
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<5000 { bits.append(UInt32(truncatingIfNeeded: generator.next())) }
        return bits
    }

    private func convert(_ bits: [UInt32], rows: Int, columns: Int, ld: Int, vectorised: Bool) -> [UInt16] {
        var out = [UInt16](repeating: 0xABCD, count: rows * ld)
        bits.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                if vectorised {
                    s.withMemoryRebound(to: Float.self) {
                        BFloat16.convert($0.baseAddress!, rows: rows, columns: columns, ld: ld, into: d.baseAddress!)
                    }
                } else {
                    nin_bf16_convert_scalar(s.baseAddress!, rows, columns, ld, d.baseAddress!)
                }
            }
        }
        return out
    }

    func testBothPathsMatchFromFloatBitForBit() {
        let bits = patterns()
        let fast = convert(bits, rows: 1, columns: bits.count, ld: bits.count, vectorised: true)
        let scalar = convert(bits, rows: 1, columns: bits.count, ld: bits.count, vectorised: false)
        var mismatches = 0
        for (i, b) in bits.enumerated() {
            let value = Float(bitPattern: b)
            let expected = BFloat16.fromFloat(value)
            if fast[i] != expected || scalar[i] != expected {
                mismatches += 1
                if mismatches <= 5 {
                    XCTFail("0x\(String(b, radix: 16)): fromFloat 0x\(String(expected, radix: 16)), "
                            + "convert 0x\(String(fast[i], radix: 16)), scalar 0x\(String(scalar[i], radix: 16))")
                }
            }
            if value.isNaN { XCTAssertTrue(BFloat16.toFloat(fast[i]).isNaN, "0x\(String(b, radix: 16)) must stay NaN") }
        }
        XCTAssertEqual(mismatches, 0)
        // The overflow and infinity cases the rounding must get right.
        XCTAssertEqual(BFloat16.fromFloat(.greatestFiniteMagnitude), 0x7F80)
        XCTAssertEqual(BFloat16.fromFloat(.infinity), 0x7F80)
        XCTAssertEqual(BFloat16.fromFloat(-.infinity), 0xFF80)
        XCTAssertEqual(BFloat16.fromFloat(Float(bitPattern: 0x0000_8001)), 0x0001, "a subnormal above a tie rounds up")
    }

    /// Every tail length 0…33 (the AVX-512 path takes 16 per step), several rows, a leading
    /// dimension past the block: the columns past `columns` keep their sentinel.
    func testTailsRowsAndLeadingDimension() {
        let bits = patterns()
        for columns in 0...33 {
            for (rows, pad) in [(1, 0), (3, 5), (4, 16)] {
                let ld = columns + pad
                let block = Array(bits.prefix(rows * ld))
                let fast = convert(block, rows: rows, columns: columns, ld: ld, vectorised: true)
                let scalar = convert(block, rows: rows, columns: columns, ld: ld, vectorised: false)
                XCTAssertEqual(fast, scalar, "columns \(columns), rows \(rows), ld \(ld)")
                for r in 0..<rows {
                    for c in 0..<ld {
                        let expected = c < columns ? BFloat16.fromFloat(Float(bitPattern: block[r * ld + c])) : 0xABCD
                        if fast[r * ld + c] != expected {
                            XCTFail("columns \(columns), rows \(rows), ld \(ld): [\(r), \(c)] is 0x\(String(fast[r * ld + c], radix: 16))")
                            return
                        }
                    }
                }
            }
        }
    }

    /// On a processor with AVX-512 (F, BW) the fast path is the one taken, so the tests above
    /// compared two different paths; the record says which ran.
    func testTheVectorisedPathIsTakenWhereAVX512Is() throws {
        #if arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        try XCTSkipIf(flags.isEmpty, "no /proc/cpuinfo")
        let has = flags.contains(" avx512f ") && flags.contains(" avx512bw ")
        XCTAssertEqual(nin_bf16_convert_is_vectorised() == 1, has)
        #else
        XCTAssertEqual(nin_bf16_convert_is_vectorised(), 0)
        #endif
    }
}
