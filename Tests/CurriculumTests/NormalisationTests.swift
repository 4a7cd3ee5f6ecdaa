import XCTest
import Tensor
import Curriculum

final class NormalisationTests: XCTestCase {
    func randomScores(_ n: Int, seed: UInt64) -> PIDScores {
        var rng = SeededRandom(seed: seed)
        return PIDScores(redundancy: (0..<n).map { _ in rng.uniform() }, unique: (0..<n).map { _ in rng.uniform() * 0.3 },
                         synergy: (0..<n).map { _ in rng.normal() })
    }

    func testMinMaxMapsToUnitIntervalAndConstantColumnsToZero() {
        XCTAssertEqual(minMaxNormalised([2, 4, 3, 2]), [0, 1, 0.5, 0])
        XCTAssertEqual(minMaxNormalised([0.7, 0.7, 0.7]), [0, 0, 0])
        XCTAssertEqual(minMaxNormalised([5]), [0])
        XCTAssertEqual(minMaxNormalised([]), [])
        let n = NormalisedScores(PIDScores(redundancy: [1, 2], unique: [3, 3], synergy: [-1, 1]))
        XCTAssertEqual(n.unique, [0, 0])
        XCTAssertEqual(n.synergy, [0, 1])
    }

    /// The distributed path concatenates shards before normalising: equal to normalising the whole.
    /// Shard-wise normalisation with merged ranges (an allreduce alternative) gives the same too.
    func testShardsNormaliseLikeTheWhole() {
        let whole = randomScores(1000, seed: 3)
        let cuts = [0, 1, 250, 251, 600, 1000]
        let shards = (0..<(cuts.count - 1)).map { k in
            let r = cuts[k]..<cuts[k + 1]
            return PIDScores(redundancy: Array(whole.redundancy[r]), unique: Array(whole.unique[r]), synergy: Array(whole.synergy[r]))
        }
        XCTAssertEqual(PIDScores.concatenating(shards), whole)
        XCTAssertEqual(NormalisedScores(PIDScores.concatenating(shards)), NormalisedScores(whole))
        // Gathering interleaved rank buffers is the interleaving of the concatenation.
        XCTAssertEqual(PIDScores(interleaved: shards.flatMap(\.interleaved)), whole)
        // Range merging: each shard normalised with the global range.
        let range = shards.map { MinMaxRange($0.synergy) }.reduce(MinMaxRange.empty) { $0.merging($1) }
        XCTAssertEqual(shards.flatMap { range.normalise($0.synergy) }, NormalisedScores(whole).synergy)
    }

    func testAssemblingScatteredShards() {
        let whole = randomScores(10, seed: 4)
        let a = [7, 0, 3, 9, 2], b = [1, 8, 6, 5, 4]
        func pick(_ idx: [Int]) -> PIDScores {
            PIDScores(redundancy: idx.map { whole.redundancy[$0] }, unique: idx.map { whole.unique[$0] },
                      synergy: idx.map { whole.synergy[$0] })
        }
        XCTAssertEqual(PIDScores.assembling(count: 10, parts: [(a, pick(a)), (b, pick(b))]), whole)
    }

    func testSharesAndStageWeights() {
        let n = NormalisedScores(redundancy: [1, 0, 0.5, 0], unique: [0, 1, 0.25, 0], synergy: [0, 0, 0.25, 0])
        let pr = n.shares(.redundancy), pu = n.shares(.unique), ps = n.shares(.synergy)
        XCTAssertEqual(pr[0], 1, accuracy: 1e-7)
        XCTAssertEqual(pr[2], 0.5, accuracy: 1e-7); XCTAssertEqual(pu[2], 0.25, accuracy: 1e-7)
        // A sample scoring 0 everywhere has all shares 0 (the 1e-8 keeps the division finite).
        XCTAssertEqual([pr[3], pu[3], ps[3]], [0, 0, 0])
        XCTAssertEqual(n.stageWeights(.redundancy), pr)
        XCTAssertEqual(n.stageWeights(.unique), pu.map { 1 - $0 })
        XCTAssertEqual(n.stageWeights(.synergy), ps.map { 1 - $0 })
    }
}
