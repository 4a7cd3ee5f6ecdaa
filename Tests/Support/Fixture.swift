import Foundation
import Tensor

/// A PyTorch golden fixture (Tests/Fixtures/golden/<name>.json + .bin, see Tests/Fixtures/README.md).
public struct Fixture {
    public let name: String
    public let meta: [String: Double]
    private let tensors: [String: (shape: [Int], values: [Float])]

    public static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden")
    }

    public init(_ name: String) throws {
        self.name = name
        let json = try Data(contentsOf: Fixture.directory.appendingPathComponent(name + ".json"))
        let bin = try Data(contentsOf: Fixture.directory.appendingPathComponent(name + ".bin"))
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
              let list = root["tensors"] as? [[String: Any]] else { throw FixtureError.malformed(name) }
        meta = (root["meta"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        let floats: [Float] = bin.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var t: [String: (shape: [Int], values: [Float])] = [:]
        for e in list {
            guard let n = e["name"] as? String, let shape = e["shape"] as? [Int], let off = e["offset"] as? Int
            else { throw FixtureError.malformed(name) }
            let count = shape.reduce(1, *)
            guard off + count <= floats.count else { throw FixtureError.malformed(name) }
            t[n] = (shape, Array(floats[off..<(off + count)]))
        }
        tensors = t
    }

    public var names: [String] { Array(tensors.keys) }

    public func has(_ key: String) -> Bool { tensors[key] != nil }

    public func values(_ key: String) -> [Float] {
        guard let v = tensors[key] else { fatalError("fixture \(name) has no tensor \(key)") }
        return v.values
    }

    public func shape(_ key: String) -> [Int] {
        guard let v = tensors[key] else { fatalError("fixture \(name) has no tensor \(key)") }
        return v.shape
    }

    public func tensor(_ key: String) -> Tensor { Tensor(shape: shape(key), values: values(key)) }

    public func labels(_ key: String = "labels") -> [Int32] { values(key).map { Int32($0) } }

    public func int(_ key: String) -> Int { Int(meta[key] ?? .nan) }
}

public enum FixtureError: Error { case malformed(String) }

/// max |a - b| / max(max |b|, floor): a relative error over the whole tensor, so entries that
/// are tiny by cancellation do not dominate.
public func relativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var num: Float = 0, den: Float = floor
    for i in 0..<a.count {
        num = max(num, abs(a[i] - b[i]))
        den = max(den, abs(b[i]))
    }
    return num / den
}
