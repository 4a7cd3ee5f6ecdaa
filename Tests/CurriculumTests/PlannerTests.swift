import XCTest
import Tensor
import Curriculum

final class PlannerTests: XCTestCase {
    let schedule = CurriculumSchedule(warmupEpochs: 2, curriculumEpochs: 9, refreshInterval: 2)

    func scores(_ n: Int, seed: UInt64) -> NormalisedScores {
        var rng = SeededRandom(seed: seed)
        return NormalisedScores(PIDScores(redundancy: (0..<n).map { _ in rng.uniform() }, unique: (0..<n).map { _ in rng.uniform() },
                                          synergy: (0..<n).map { _ in rng.uniform() }))
    }

    func testWarmupAndConventionalAreSeededShuffles() {
        var p = CurriculumPlanner(count: 40, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: 7)
        p.setModelScores(scores(40, seed: 1))
        XCTAssertEqual(p.order(epoch: 1).indices, shuffledOrder(count: 40, seed: 7, epoch: 1))
        XCTAssertEqual(p.order(epoch: 1).phase, .warmup)
        // Same stream as Training's EpochPlan.shuffled: SeededRandom(seed:, stream: 0xE90C, epoch).
        var rng = SeededRandom(seed: 7, stream: 0xE90C, 1)
        XCTAssertEqual(shuffledOrder(count: 40, seed: 7, epoch: 1), rng.permutation(40))
        let c = CurriculumPlanner(count: 40, method: .conventional, schedule: schedule, seed: 7)
        XCTAssertFalse((0..<11).contains { c.needsScoring(before: $0) })
        XCTAssertEqual(c.order(epoch: 5).indices, shuffledOrder(count: 40, seed: 7, epoch: 5))
    }

    func testSpiceERedrawEveryEpochOrReuseUntilRefresh() {
        let s = scores(200, seed: 2)
        var paper = CurriculumPlanner(count: 200, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: 3)
        var reference = CurriculumPlanner(count: 200, method: .spiceE(redraw: .atRefresh), schedule: schedule, seed: 3)
        XCTAssertEqual((0..<11).filter { paper.needsScoring(before: $0) }, [2, 4, 6, 8, 10])
        paper.setModelScores(s); reference.setModelScores(s)
        XCTAssertNotEqual(paper.order(epoch: 2).indices, paper.order(epoch: 3).indices)
        XCTAssertEqual(reference.order(epoch: 2).indices, reference.order(epoch: 3).indices, "reused until the next refresh")
        XCTAssertEqual(reference.order(epoch: 3).drawnAt, 2)
        XCTAssertEqual(reference.order(epoch: 2).indices, paper.order(epoch: 2).indices, "both draw the same at a refresh")
        // Stage U starts at epoch 5 (curriculum epoch 3) between refreshes: new weights, new order.
        XCTAssertEqual(reference.order(epoch: 5).phase, .stage(.unique))
        XCTAssertEqual(reference.order(epoch: 5).drawnAt, 5)
        XCTAssertEqual(Set(reference.order(epoch: 5).indices).count, 200)
    }

    /// Stage R puts high-P_R samples early; stage U puts high-P_U samples late.
    func testSpiceEOrdersFollowTheStageWeights() {
        let s = scores(2000, seed: 5)
        var p = CurriculumPlanner(count: 2000, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: 1)
        p.setModelScores(s)
        func meanPosition(_ order: [Int], _ keep: (Int) -> Bool) -> Double {
            let pos = order.enumerated().filter { keep($0.element) }.map { Double($0.offset) }
            return pos.reduce(0, +) / Double(pos.count)
        }
        let pr = s.shares(.redundancy), pu = s.shares(.unique)
        let r = p.order(epoch: 2).indices, u = p.order(epoch: 6).indices
        XCTAssertEqual(p.order(epoch: 6).phase, .stage(.unique))
        XCTAssertLessThan(meanPosition(r) { pr[$0] > 0.5 }, meanPosition(r) { pr[$0] < 0.2 })
        XCTAssertGreaterThan(meanPosition(u) { pu[$0] > 0.5 }, meanPosition(u) { pu[$0] < 0.2 })
        XCTAssertEqual(p.weights(epoch: 6), s.stageWeights(.unique))
        XCTAssertNil(p.weights(epoch: 0))
    }

    func testSpiceSTrainsOnTheStageSets() {
        let s = scores(300, seed: 6)
        var p = CurriculumPlanner(count: 300, method: .spiceS, schedule: schedule, seed: 1)
        p.setModelScores(s)
        let bins = StageBins(s)
        XCTAssertEqual(p.bins(epoch: 2), bins)
        XCTAssertEqual(p.order(epoch: 2).indices.sorted(), bins.trainingSet(stage: .redundancy).indices)
        XCTAssertEqual(p.order(epoch: 6).indices.sorted(), bins.trainingSet(stage: .unique).indices)
        XCTAssertEqual(p.order(epoch: 9).indices.sorted(), Array(0..<300))
        XCTAssertNotEqual(p.order(epoch: 2).indices, p.order(epoch: 3).indices, "shuffled every epoch")
        let empty = NormalisedScores(redundancy: .init(repeating: 0, count: 300), unique: s.unique, synergy: s.synergy)
        p.setModelScores(empty)
        XCTAssertEqual(p.order(epoch: 2).trainingSet, .unique, "an empty R bin trains on R and U")
    }

    func testAnnotatorNeedsNoScoringAndHybridMixes() {
        let a = scores(50, seed: 8), m = scores(50, seed: 9)
        var stat = CurriculumPlanner(count: 50, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: 1, source: .annotator)
        stat.setAnnotatorScores(a)
        XCTAssertFalse((0..<11).contains { stat.needsScoring(before: $0) })
        XCTAssertEqual(stat.effectiveScores(at: 7).scores, a)
        for w in HybridWeighting.allCases {
            var h = CurriculumPlanner(count: 50, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: 1, source: .hybrid(w))
            h.setAnnotatorScores(a); h.setModelScores(m)
            XCTAssertTrue(h.needsScoring(before: 2))
            XCTAssertEqual(h.effectiveScores(at: 2).scores, a, "alpha_0 = 0: annotator only")
            XCTAssertEqual(h.order(epoch: 2).alpha, 0)
            let t = 3, alpha = w.alpha(curriculumEpoch: t, of: 9)
            XCTAssertEqual(h.effectiveScores(at: 2 + t).scores, NormalisedScores.mixing(annotator: a, model: m, alpha: alpha))
        }
        XCTAssertEqual(HybridWeighting.linear.alpha(curriculumEpoch: 3, of: 12), 0.25)
        XCTAssertEqual(HybridWeighting.cosine.alpha(curriculumEpoch: 6, of: 12), 0.5, accuracy: 1e-12)
        XCTAssertEqual(HybridWeighting.cosine.alpha(curriculumEpoch: 12, of: 12), 1, accuracy: 1e-12)
        XCTAssertEqual(NormalisedScores.mixing(annotator: a, model: m, alpha: 1), m)
    }

    /// Annotator votes become per-mode distributions; c_m is the fraction of raters who chose the label.
    func testAnnotatorVotesBecomeDistributions() {
        let p = AnnotatorResponses.predictions(unimodalVotes: [[3, 1, 0, 0, 0, 0], [0, 2, 2, 0, 0, 0]],
                                               fusedVotes: [4, 0, 0, 0, 0, 0], classes: 3)
        XCTAssertEqual(p.unimodal[0], [0.75, 0.25, 0, 1 / 3, 1 / 3, 1 / 3], "a row without votes is uniform")
        XCTAssertEqual(p.unimodal[1], [0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3])
        let (_, d) = PIDScorer.scoresWithDetails(p, labels: [0, 2])
        XCTAssertEqual(d.confidence[0], [0.75, 1 / 3]); XCTAssertEqual(d.confidence[1], [0, 1 / 3])
        let smooth = AnnotatorResponses.predictions(unimodalVotes: [[2, 0], [1, 1]], fusedVotes: [0, 2], classes: 2, smoothing: 1)
        XCTAssertEqual(smooth.unimodal[0], [0.75, 0.25])
    }

    func testBSSWeightsAndRedraws() {
        var rng = SeededRandom(seed: 4)
        let m = BSSMeasures(loss: (0..<100).map { _ in rng.uniform() * 3 }, similarity: (0..<100).map { _ in rng.uniform() })
        let w = m.weights
        XCTAssertEqual(w.min()!, 0.01, accuracy: 0.5); XCTAssertTrue(w.allSatisfy { $0 >= 0.01 - 1e-6 && $0 <= 2.01 + 1e-6 })
        let lossHat = minMaxNormalised(m.loss), simHat = minMaxNormalised(m.similarity)
        XCTAssertEqual(w[17], 1 - (lossHat[17] - simHat[17]) + 0.01, accuracy: 1e-6)
        var p = CurriculumPlanner(count: 100, method: .bss, schedule: schedule, seed: 2)
        XCTAssertTrue(p.needsScoring(before: 2))
        p.setBSSMeasures(m)
        XCTAssertNotEqual(p.order(epoch: 3).indices, p.order(epoch: 4).indices, "redrawn every epoch")
        XCTAssertEqual(p.order(epoch: 3).indices.sorted(), Array(0..<100))
        XCTAssertEqual(p.order(epoch: 3).indices, WeightedOrder.draw(weights: w, seed: 2, epoch: 3, stream: .bss))
    }
}
