import Foundation
import Tensor

/// The safetensors file format (what PyTorch users load with `safetensors.torch.load_file`):
/// 8-byte little-endian header length, a JSON header mapping each name to dtype, shape and byte
/// offsets, then the raw little-endian data. We write F32 tensors and I64 scalars
/// (BatchNorm's num_batches_tracked) so `load_state_dict(strict=True)` accepts the result.
public enum SafeTensors {
    public enum Value: Equatable {
        case float32(shape: [Int], values: [Float])
        case int64(shape: [Int], values: [Int64])

        public var shape: [Int] {
            switch self { case let .float32(s, _), let .int64(s, _): return s }
        }
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Serialises `entries` in the given order (safetensors readers sort by offset, not name).
    public static func encode(_ entries: [(String, Value)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for (name, value) in entries {
            let begin = body.count
            let dtype: String
            switch value {
            case let .float32(shape, values):
                precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
                values.withUnsafeBufferPointer { body.append($0) }
                dtype = "F32"
            case let .int64(shape, values):
                precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
                values.withUnsafeBufferPointer { body.append($0) }
                dtype = "I64"
            }
            header[name] = ["dtype": dtype, "shape": value.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    /// Parses a safetensors blob; every structural problem is a `FormatError` naming what is wrong.
    public static func decode(_ data: Data, source: String = "safetensors data") throws -> (tensors: [String: Value], metadata: [String: String]) {
        func fail(_ s: String) -> FormatError { FormatError(description: "\(source): \(s)") }
        guard data.count >= 8 else { throw fail("too short to be a safetensors file (\(data.count) bytes)") }
        let n = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard n <= UInt64(data.count - 8) else { throw fail("header length \(n) exceeds the file (truncated?)") }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else { throw fail("header is not a JSON object") }
        let base = 8 + Int(n)
        var tensors: [String: Value] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" { metadata = entry as? [String: String] ?? [:]; continue }
            guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String, let shape = e["shape"] as? [Int],
                  let offs = e["data_offsets"] as? [Int], offs.count == 2, offs[0] >= 0, offs[0] <= offs[1] else {
                throw fail("malformed header entry for '\(name)'")
            }
            guard base + offs[1] <= data.count else { throw fail("'\(name)' extends past the end of the file (truncated?)") }
            let bytes = data.subdata(in: (base + offs[0])..<(base + offs[1]))
            let count = shape.reduce(1, *)
            switch dtype {
            case "F32":
                guard bytes.count == count * 4 else { throw fail("'\(name)': \(bytes.count) bytes for F32 shape \(shape)") }
                tensors[name] = .float32(shape: shape, values: bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
            case "I64":
                guard bytes.count == count * 8 else { throw fail("'\(name)': \(bytes.count) bytes for I64 shape \(shape)") }
                tensors[name] = .int64(shape: shape, values: bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) })
            default:
                throw fail("'\(name)' has dtype \(dtype); only F32 and I64 are supported")
            }
        }
        return (tensors, metadata)
    }
}

extension Module {
    /// Parameters, buffers and BatchNorm counters under their PyTorch state_dict names.
    public func stateDictEntries() -> [(String, SafeTensors.Value)] {
        let s = namedState()
        var out: [(String, SafeTensors.Value)] = s.tensors.map { ($0.name, .float32(shape: $0.tensor.shape, values: $0.tensor.array)) }
        for (name, count) in batchNormCounters() { out.append((name, .int64(shape: [], values: [Int64(count)]))) }
        return out
    }

    /// Loads values saved by `stateDictEntries` (or by PyTorch). Names and shapes must match this
    /// module exactly; any difference is an error listing what differs.
    public func loadStateDict(_ tensors: [String: SafeTensors.Value], source: String) throws {
        let s = namedState()
        let ours = Dictionary(uniqueKeysWithValues: s.tensors.map { ($0.name, $0.tensor) })
        let floatKeys = Set(tensors.compactMap { k, v -> String? in if case .float32 = v { return k } else { return nil } })
        let missing = Set(ours.keys).subtracting(floatKeys).sorted(), extra = floatKeys.subtracting(ours.keys).sorted()
        if !missing.isEmpty || !extra.isEmpty {
            throw SafeTensors.FormatError(description: "\(source) does not match this model: "
                + (missing.isEmpty ? "" : "missing \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " (+\(missing.count - 5) more)" : ""); ")
                + (extra.isEmpty ? "" : "unexpected \(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? " (+\(extra.count - 5) more)" : "")"))
        }
        for (name, t) in ours {
            guard case let .float32(shape, values) = tensors[name]! else { continue }
            guard shape == t.shape else {
                throw SafeTensors.FormatError(description: "\(source): '\(name)' has shape \(shape), this model has \(t.shape)")
            }
            t.copy(from: values)
        }
        for (name, bn) in batchNormLayers() {
            if case let .int64(_, v)? = tensors[name + "num_batches_tracked"], let c = v.first { bn.batchesTracked = Int(c) }
        }
    }

    func batchNormCounters() -> [(String, Int)] {
        batchNormLayers().map { ($0.0 + "num_batches_tracked", $0.1.batchesTracked) }
    }
}

/// Modules that contain BatchNorm layers list them with their name prefixes.
public protocol HasBatchNorms {
    func batchNormLayers(prefix: String) -> [(String, BatchNorm2dLayer)]
}

extension Module {
    func batchNormLayers() -> [(String, BatchNorm2dLayer)] {
        (self as? HasBatchNorms)?.batchNormLayers(prefix: "") ?? []
    }
}
