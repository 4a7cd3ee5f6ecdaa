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
            if w > 0 { keyed.append(Keyed(key: -Foundation.log(u) / Double(w), index: Int32(i))) } else { zeros.append(i) }
        }
        // The index breaks exact key ties, so the order never depends on the sort's stability.
        keyed.sort { $0.key < $1.key || ($0.key == $1.key && $0.index < $1.index) }
        shuffle(&zeros, &rng)
        var order = [Int]()
        order.reserveCapacity(weights.count)
        for k in keyed { order.append(Int(k.index)) }
        order.append(contentsOf: zeros)
        return order
    }

    public static func draw(weights: [Float], seed: UInt64, epoch: Int, stream: CurriculumStream = .spiceE) -> [Int] {
        var rng = stream.generator(seed: seed, epoch: epoch)
        return draw(weights: weights, rng: &rng)
    }

    struct Keyed { var key: Double; var index: Int32 }
}
