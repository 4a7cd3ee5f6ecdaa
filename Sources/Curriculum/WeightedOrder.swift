import Foundation
import Tensor

/// Weighted sampling without replacement of a whole permutation (SPICE-E, BSS).
///
/// Each sample with weight w > 0 gets the key E / w with E ~ Exp(1), and samples are taken in
/// ascending key order. The minimum of independent exponentials with rates w_i is sample i with
/// probability w_i / sum w, and by memorylessness the rest of the order is again such a race
/// among the remaining samples: the order is exactly the sequential draw without replacement.
/// Zero weights never win a race; they go last, in seeded random order.
public enum WeightedOrder {
    /// Weights must be finite and >= 0.
    public static func draw(weights: [Float], rng: inout SeededRandom) -> [Int] {
        precondition(weights.count <= Int(Int32.max), "too many samples for 32-bit indices")
        var keyed = [Keyed]()
        keyed.reserveCapacity(weights.count)
        var zeros = [Int]()
        for (i, w) in weights.enumerated() {
            precondition(w.isFinite && w >= 0, "sampling weight \(w) of sample \(i) is not finite and >= 0")
            // u in (0, 1] with 53 bits, so E = -log(u) is finite.
            let u = Double((rng.next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
            // u == 1 gives -0.0, whose bit pattern would sort last in the radix sort: + 0 makes it +0.0.
            if w > 0 { keyed.append(Keyed(key: -Foundation.log(u) / Double(w) + 0.0, index: Int32(i))) } else { zeros.append(i) }
        }
        // Ascending key, exact ties broken by index: a stable radix sort of the keys' bit patterns
        // (non-negative doubles order like their bits) over samples listed in index order.
        var order = radixOrder(keyed)
        shuffle(&zeros, &rng)
        order.append(contentsOf: zeros)
        return order
    }

    /// The indices of `keyed` (given in increasing index order, keys finite and >= 0) sorted by
    /// (key, index): LSD radix sort on the 64-bit patterns, 11 bits per pass, passes in which every
    /// key has the same digit skipped. O(N); equal to the comparison sort (tested).
    static func radixOrder(_ keyed: [Keyed]) -> [Int] {
        let n = keyed.count
        guard n > 1 else { return keyed.map { Int($0.index) } }
        let bits = 11, radix = 1 << bits, passes = (64 + bits - 1) / bits
        var a = [UInt64](repeating: 0, count: n), ai = [Int32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: passes * radix)
        for k in 0..<n {
            let b = keyed[k].key.bitPattern
            a[k] = b; ai[k] = keyed[k].index
            for p in 0..<passes { counts[p * radix + Int((b >> UInt64(p * bits)) & UInt64(radix - 1))] += 1 }
        }
        var b = [UInt64](repeating: 0, count: n), bi = [Int32](repeating: 0, count: n)
        var offsets = [Int](repeating: 0, count: radix)
        for p in 0..<passes {
            let base = p * radix
            // All keys share this digit: the pass would not move anything.
            if counts[base + Int((a[0] >> UInt64(p * bits)) & UInt64(radix - 1))] == n { continue }
            var sum = 0
            for d in 0..<radix { offsets[d] = sum; sum += counts[base + d] }
            a.withUnsafeBufferPointer { src in ai.withUnsafeBufferPointer { srcI in
                b.withUnsafeMutableBufferPointer { dst in bi.withUnsafeMutableBufferPointer { dstI in
                    offsets.withUnsafeMutableBufferPointer { off in
                        for k in 0..<n {
                            let d = Int((src[k] >> UInt64(p * bits)) & UInt64(radix - 1))
                            let at = off[d]
                            dst[at] = src[k]; dstI[at] = srcI[k]
                            off[d] = at + 1
                        }
                    }
                }}
            }}
            swap(&a, &b); swap(&ai, &bi)
        }
        return ai.map { Int($0) }
    }

    public static func draw(weights: [Float], seed: UInt64, epoch: Int, stream: CurriculumStream = .spiceE) -> [Int] {
        var rng = stream.generator(seed: seed, epoch: epoch)
        return draw(weights: weights, rng: &rng)
    }

    struct Keyed { var key: Double; var index: Int32 }
}
