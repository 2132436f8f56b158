import Foundation

/// The safetensors file format (huggingface/safetensors): an 8-byte little-endian header
/// length N, N bytes of JSON `{"name": {"dtype": "F32", "shape": […], "data_offsets": [b, e]},
/// …, "__metadata__": {string: string}}` padded with spaces to a multiple of 8, then the tensors'
/// bytes, little-endian, each at its offsets relative to the end of the header.
public enum Safetensors {
    /// Encodes float32 tensors (in the given order) with string metadata.
    public static func encode(_ tensors: [TorchTensor], metadata: [String: String]) -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        // Sorted keys: the same trial gives the same bytes.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.reserveCapacity(out.count + offset)
        for t in tensors { out.append(littleEndianBytes(of: t.values)) }
        return out
    }

    /// Decodes a file `encode` wrote (or any safetensors file of F32 tensors): the tensors in
    /// offset order and the metadata.
    /// - Throws: `ExportError.badSafetensors` naming what is wrong (a short file, a header that is
    ///   not JSON, another dtype, offsets that do not fit the shape or the file).
    public static func decode(_ data: Data) throws -> (tensors: [TorchTensor], metadata: [String: String]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw ExportError.badSafetensors("\(bytes.count) bytes, shorter than the 8-byte header length") }
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard n <= bytes.count - 8 else { throw ExportError.badSafetensors("header length \(n) beyond the file's \(bytes.count) bytes") }
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any] else {
            throw ExportError.badSafetensors("the header is not a JSON object")
        }
        let body = 8 + n
        var metadata: [String: String] = [:]
        var tensors: [(Int, TorchTensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw ExportError.badSafetensors("__metadata__ is not a string-to-string object") }
                metadata = m
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw ExportError.badSafetensors("\(name): expected {dtype, shape, data_offsets}")
            }
            guard dtype == "F32" else { throw ExportError.badSafetensors("\(name): dtype \(dtype), expected F32") }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * 4, offsets[0] >= 0, body + offsets[1] <= bytes.count else {
                throw ExportError.badSafetensors("\(name): data_offsets \(offsets) do not hold shape \(shape) within the file")
            }
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let at = body + offsets[0] + 4 * i
                values[i] = Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
            }
            tensors.append((offsets[0], TorchTensor(name: name, shape: shape, values: values)))
        }
        return (tensors.sorted { $0.0 < $1.0 }.map(\.1), metadata)
    }
}

/// The bytes of `values` as little-endian IEEE float32, the byte order of both export formats.
func littleEndianBytes(of values: [Float]) -> Data {
    #if _endian(little)
    return values.withUnsafeBytes { Data($0) }
    #else
    var out = Data(capacity: values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
    return out
    #endif
}
