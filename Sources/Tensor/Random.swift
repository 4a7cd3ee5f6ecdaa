/// The project's one random-number source: xoshiro256** seeded through SplitMix64.
///
/// Every random choice (initialisation, sampling, augmentation, synthetic data)
/// draws from a generator derived from the run seed, so one seed fixes a run.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// An independent stream for a named purpose, e.g. `derive(1, epoch)`.
    public init(seed: UInt64, stream: UInt64...) {
        var h = seed
        for x in stream { h = (h ^ x) &* 0x100_0000_01B3 &+ 0x9E37_79B9_7F4A_7C15; h ^= h >> 29 }
        self.init(seed: h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box-Muller in double precision).
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        var u1 = 0.0
        repeat { u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) } while u1 <= 0
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * _log(u1)).squareRoot()
        let th = 2.0 * Double.pi * u2
        spareNormal = Float(r * _sin(th))
        return Float(r * _cos(th))
    }

    /// Uniform integer in 0..<n without modulo bias.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next(upperBound: UInt64(n)))
    }

    /// Fisher-Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) } }
        return p
    }

    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        for i in 0..<t.count { t.data[i] = mean + std * normal() }
    }

    public mutating func fillUniform(_ t: Tensor, low: Float, high: Float) {
        for i in 0..<t.count { t.data[i] = low + (high - low) * uniform() }
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
