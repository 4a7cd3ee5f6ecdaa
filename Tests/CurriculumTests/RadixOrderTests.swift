import XCTest
import Tensor
@testable import Curriculum

/// The O(N) radix sort behind SPICE-E / BSS orders equals the (key, index) comparison sort.
final class RadixOrderTests: XCTestCase {
    func reference(_ keyed: [WeightedOrder.Keyed]) -> [Int] {
        keyed.sorted { $0.key < $1.key || ($0.key == $1.key && $0.index < $1.index) }.map { Int($0.index) }
    }

    func testRadixOrderEqualsTheComparisonSort() {
        var rng = SeededRandom(seed: 42)
        for n in [0, 1, 2, 3, 17, 1000, 50_000] {
            // Keys over many exponents, with exact ties (a small pool of repeated values) and zeros.
            let pool = (0..<max(1, n / 10)).map { _ in Double(rng.uniform()) * pow(10, Double(rng.below(40)) - 20) }
            let keyed = (0..<n).map { i -> WeightedOrder.Keyed in
                let k: Double = i % 7 == 0 ? 0 : (i % 3 == 0 ? pool[rng.below(pool.count)] : -log(Double(rng.uniform()) + 1e-300) / Double(rng.uniform() + 1e-6))
                return WeightedOrder.Keyed(key: k, index: Int32(i))
            }
            XCTAssertEqual(WeightedOrder.radixOrder(keyed), reference(keyed), "n = \(n)")
        }
        // Keys that differ only in the lowest bits, and only in the highest.
        let low = (0..<300).map { WeightedOrder.Keyed(key: Double(bitPattern: 0x3FF0_0000_0000_0000 | UInt64(($0 * 7919) % 64)), index: Int32($0)) }
        XCTAssertEqual(WeightedOrder.radixOrder(low), reference(low))
        let high = (0..<300).map { WeightedOrder.Keyed(key: Double(($0 * 31) % 50) * 1e200, index: Int32($0)) }
        XCTAssertEqual(WeightedOrder.radixOrder(high), reference(high))
    }
}
