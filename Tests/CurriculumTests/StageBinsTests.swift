import XCTest
import Curriculum

final class StageBinsTests: XCTestCase {
    func testArgmaxBinsWithTiesToTheEarlierStage() {
        let n = NormalisedScores(redundancy: [0.9, 0.1, 0.2, 1, 0, 0, 0.3],
                                 unique:     [0.1, 0.8, 0.5, 1, 1, 0, 0.3],
                                 synergy:    [0.0, 0.2, 0.9, 0, 1, 0, 0.3])
        let bins = StageBins(n)
        XCTAssertEqual(bins.assignment, [.redundancy, .unique, .synergy, .redundancy, .unique, .redundancy, .redundancy])
        XCTAssertEqual(bins.sizes, [4, 2, 1])
    }

    func testStageSetsGrowRThenRUThenAll() {
        let n = NormalisedScores(redundancy: [1, 0, 0, 1, 0], unique: [0, 1, 0, 0, 0], synergy: [0, 0, 1, 0, 1])
        let bins = StageBins(n)
        XCTAssertEqual(bins.trainingSet(stage: .redundancy).indices, [0, 3])
        XCTAssertEqual(bins.trainingSet(stage: .unique).indices, [0, 1, 3])
        XCTAssertEqual(bins.trainingSet(stage: .synergy).indices, [0, 1, 2, 3, 4])
        let o = bins.order(stage: .unique, seed: 4, epoch: 9)
        XCTAssertEqual(o.indices.sorted(), [0, 1, 3])
        XCTAssertEqual(o, bins.order(stage: .unique, seed: 4, epoch: 9))
        XCTAssertFalse(o.fellBack)
        let big = StageBins(NormalisedScores(redundancy: .init(repeating: 1, count: 50), unique: .init(repeating: 0, count: 50),
                                             synergy: .init(repeating: 0, count: 50)))
        XCTAssertNotEqual(big.order(stage: .redundancy, seed: 4, epoch: 1).indices, big.order(stage: .redundancy, seed: 4, epoch: 2).indices,
                          "reshuffled every epoch")
    }

    func testEmptyBinsFallBackToTheNextNonEmptySet() {
        let noR = StageBins(NormalisedScores(redundancy: [0, 0, 0], unique: [1, 0, 0], synergy: [0, 1, 1]))
        let r = noR.trainingSet(stage: .redundancy)
        XCTAssertEqual(r.indices, [0]); XCTAssertEqual(r.used, .unique); XCTAssertTrue(r.fellBack)
        let onlyS = StageBins(NormalisedScores(redundancy: [0, 0], unique: [0, 0], synergy: [1, 1]))
        XCTAssertEqual(onlyS.trainingSet(stage: .redundancy).indices, [0, 1])
        XCTAssertEqual(onlyS.trainingSet(stage: .redundancy).used, .synergy)
        XCTAssertEqual(onlyS.trainingSet(stage: .unique).used, .synergy)
        // A set smaller than the global batch also falls back when asked to.
        let small = StageBins(NormalisedScores(redundancy: [1, 1, 0, 0, 0], unique: [0, 0, 1, 0, 0], synergy: [0, 0, 0, 1, 1]))
        XCTAssertEqual(small.trainingSet(stage: .redundancy, minimumCount: 3).used, .unique)
        XCTAssertEqual(small.trainingSet(stage: .redundancy, minimumCount: 4).used, .synergy)
        XCTAssertEqual(small.trainingSet(stage: .redundancy, minimumCount: 9).indices.count, 5, "never more than everything")
        XCTAssertEqual(StageBins(NormalisedScores(redundancy: [], unique: [], synergy: [])).trainingSet(stage: .redundancy).indices, [])
    }
}
