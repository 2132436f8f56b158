import Foundation
import XCTest
@testable import NINExport

/// The safetensors layout (huggingface/safetensors `docs/source/index.mdx`): u64 little-endian
/// header length, a JSON header padded with spaces to 8 bytes, tensors at their offsets.
final class SafetensorsTests: XCTestCase {
    let tensors = [TorchTensor(name: "0.weight", shape: [2, 1, 1, 3], values: [1, -2, 0.5, .infinity, -0.0, 3e-38]),
                   TorchTensor(name: "0.bias", shape: [2], values: [7, 8]),
                   TorchTensor(name: "4.weight", shape: [1, 1], values: [Float.pi])]

    func testHeaderIsPaddedJSONWithContiguousOffsetsAndLittleEndianData() throws {
        let data = Safetensors.encode(tensors, metadata: ["trial_id": "abc", "modules": "[]"])
        let bytes = [UInt8](data)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0, "the header is padded to a multiple of 8")
        XCTAssertEqual(bytes.count, 8 + n + (6 + 2 + 1) * 4)
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["trial_id": "abc", "modules": "[]"])
        // Offsets in the order given, back to back from 0.
        let entry = { (name: String) in header[name] as? [String: Any] }
        XCTAssertEqual(entry("0.weight")?["data_offsets"] as? [Int], [0, 24])
        XCTAssertEqual(entry("0.bias")?["data_offsets"] as? [Int], [24, 32])
        XCTAssertEqual(entry("4.weight")?["data_offsets"] as? [Int], [32, 36])
        XCTAssertEqual(entry("0.weight")?["shape"] as? [Int], [2, 1, 1, 3])
        XCTAssertEqual(entry("0.bias")?["dtype"] as? String, "F32")
        // -2.0f is 0xC0000000: little-endian bytes 00 00 00 C0 at 4..<8 of the data.
        XCTAssertEqual(Array(bytes[(8 + n + 4)..<(8 + n + 8)]), [0, 0, 0, 0xC0])
        let text = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{") && text.drop { $0 != "}" }.count >= 1, text)
        XCTAssertEqual(text.reversed().drop { $0 == " " }.first, "}", "only spaces after the JSON")
    }

    func testRoundTripKeepsOrderShapesAndBits() throws {
        let decoded = try Safetensors.decode(Safetensors.encode(tensors, metadata: ["k": "v"]))
        XCTAssertEqual(decoded.tensors.map(\.name), tensors.map(\.name))
        XCTAssertEqual(decoded.tensors.map(\.shape), tensors.map(\.shape))
        XCTAssertEqual(decoded.tensors.map { $0.values.map(\.bitPattern) }, tensors.map { $0.values.map(\.bitPattern) })
        XCTAssertEqual(decoded.metadata, ["k": "v"])
        // The same input gives the same bytes (sorted header keys).
        XCTAssertEqual(Safetensors.encode(tensors, metadata: ["b": "1", "a": "2"]), Safetensors.encode(tensors, metadata: ["a": "2", "b": "1"]))
    }

    func testBadFilesNameWhatIsWrong() throws {
        let good = Safetensors.encode(tensors, metadata: [:])
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter than the 8-byte header length"),
            (good.prefix(20), "beyond the file's 20 bytes"),
            (good.dropLast(4), "4.weight: data_offsets [32, 36] do not hold shape [1, 1] within the file"),
            (Data([4, 0, 0, 0, 0, 0, 0, 0]) + Data("[1] ".utf8), "the header is not a JSON object"),
        ]
        for (data, expected) in cases {
            XCTAssertThrowsError(try Safetensors.decode(data)) {
                XCTAssertTrue("\($0)".contains(expected), "\($0)")
            }
        }
        var header = Data(#"{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let f16 = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) } + header + Data([0, 0])
        XCTAssertThrowsError(try Safetensors.decode(f16)) { XCTAssertEqual("\($0)", "not a safetensors file of float32 tensors: x: dtype F16, expected F32") }
    }
}
