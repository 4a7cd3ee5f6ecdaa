import XCTest
import Tensor
import Curriculum

final class WeightedOrderTests: XCTestCase {
    func isPermutation(_ order: [Int], _ n: Int) -> Bool { order.count == n && Set(order).count == n && order.allSatisfy { (0..<n).contains($0) } }

    func testPermutationSeededAndZeroWeightsLast() {
        var rng = SeededRandom(seed: 11)
        let weights: [Float] = (0..<500).map { i in i % 5 == 0 ? 0 : rng.uniform() + 1e-3 }
        let zeros = Set((0..<500).filter { $0 % 5 == 0 })
        let a = WeightedOrder.draw(weights: weights, seed: 1, epoch: 3)
        XCTAssertTrue(isPermutation(a, 500))
        XCTAssertEqual(a, WeightedOrder.draw(weights: weights, seed: 1, epoch: 3), "same seed and epoch, same order")
        let b = WeightedOrder.draw(weights: weights, seed: 2, epoch: 3)
        XCTAssertNotEqual(a, b, "another seed, another order")
        XCTAssertNotEqual(a, WeightedOrder.draw(weights: weights, seed: 1, epoch: 4), "another epoch, another order")
        XCTAssertEqual(Set(a.suffix(100)), zeros, "zero weights go last")
        XCTAssertNotEqual(Array(a.suffix(100)), Array(b.suffix(100)), "zero weights in seeded random order")
        XCTAssertNotEqual(Array(a.suffix(100)), Array(a.suffix(100)).sorted())
        XCTAssertTrue(isPermutation(WeightedOrder.draw(weights: [0, 0, 0], seed: 1, epoch: 0), 3))
        XCTAssertEqual(WeightedOrder.draw(weights: [], seed: 1, epoch: 0), [])
    }

    func testExtremeWeightsStayOrdered() {
        // 1e-30 against 1: the heavy sample is first with probability 1 - 1e-30.
        for e in 0..<50 { XCTAssertEqual(WeightedOrder.draw(weights: [1e-30, 1], seed: 5, epoch: e), [1, 0]) }
    }

    /// First position: P(i) = w_i / sum w. Second position given first = j: w_i / (sum w - w_j).
    /// Seeded, so the outcome is fixed; the bound is the chi-square 0.999 quantile, which a correct
    /// sampler exceeds with probability 0.001 over seeds (and this seed passes).
    func testFirstAndSecondPositionFrequencies() {
        let w: [Float] = [1, 2, 3, 4, 0, 10]
        let total = w.reduce(0, +)
        let trials = 20_000
        var first = [Int](repeating: 0, count: w.count)
        var secondAfterHeavy = [Int](repeating: 0, count: w.count), heavyFirst = 0
        var rng = SeededRandom(seed: 99)
        for _ in 0..<trials {
            let o = WeightedOrder.draw(weights: w, rng: &rng)
            first[o[0]] += 1
            if o[0] == 5 { heavyFirst += 1; secondAfterHeavy[o[1]] += 1 }
        }
        XCTAssertEqual(first[4], 0, "a zero weight is never first")
        var chi2 = 0.0
        for i in 0..<w.count where w[i] > 0 {
            let e = Double(trials) * Double(w[i] / total)
            chi2 += (Double(first[i]) - e) * (Double(first[i]) - e) / e
        }
        XCTAssertLessThan(chi2, 18.47, "first position: chi-square, 4 dof, 0.999 quantile 18.47")
        var chi2b = 0.0
        for i in 0..<5 where w[i] > 0 {
            let e = Double(heavyFirst) * Double(w[i] / (total - w[5]))
            chi2b += (Double(secondAfterHeavy[i]) - e) * (Double(secondAfterHeavy[i]) - e) / e
        }
        XCTAssertLessThan(chi2b, 16.27, "second position given the heaviest first: chi-square, 3 dof, 0.999 quantile 16.27")
        XCTAssertEqual(Double(heavyFirst) / Double(trials), 0.5, accuracy: 0.015, "P(first = heaviest) = 10/20, 4 sigma")
    }
}
