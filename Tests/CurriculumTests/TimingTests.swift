import Foundation
import XCTest
import Tensor
import Curriculum

/// Builds the SPICE-E order and the SPICE-S plan for VGGSound's 182,608 training samples and
/// prints the time (no assertion: debug builds are slow; release numbers are in docs/curriculum.md).
final class TimingTests: XCTestCase {
    func testOrdersForVGGSoundSizePrintTheirTime() {
        let n = 182_608
        var rng = SeededRandom(seed: 1)
        let raw = PIDScores(redundancy: (0..<n).map { _ in rng.uniform() }, unique: (0..<n).map { _ in rng.uniform() * 0.2 },
                            synergy: (0..<n).map { _ in rng.normal() * 0.1 })
        var t = Date()
        let normalised = NormalisedScores(raw)
        let normaliseTime = -t.timeIntervalSinceNow
        t = Date()
        let order = WeightedOrder.draw(weights: normalised.stageWeights(.unique), seed: 1, epoch: 40)
        let spiceETime = -t.timeIntervalSinceNow
        t = Date()
        let set = StageBins(normalised).order(stage: .unique, seed: 1, epoch: 40)
        let spiceSTime = -t.timeIntervalSinceNow
        XCTAssertEqual(order.count, n)
        XCTAssertLessThanOrEqual(set.indices.count, n)
        print(String(format: "curriculum timing, N = %d: normalise %.3f s, SPICE-E order %.3f s, SPICE-S plan %.3f s",
                     n, normaliseTime, spiceETime, spiceSTime))
    }
}
