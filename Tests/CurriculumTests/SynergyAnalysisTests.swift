import Foundation
import XCTest
import Curriculum

/// The `positive` synergy form (issue 10) on hand-computed cases, and the planted-score analysis
/// behind `spice analyze` (AUC against scikit-learn, bin purity by hand).
final class SynergyAnalysisTests: XCTestCase {
    func oneHot(_ k: Int, _ c: Int) -> [Float] { (0..<c).map { $0 == k ? 1 : 0 } }

    func scores(_ samples: [(rows: [[Float]], fused: [Float], label: Int32)], _ form: SynergyForm) -> PIDScores {
        let c = samples[0].fused.count
        let m = samples[0].rows.count
        let uni = (0..<m).map { j in samples.flatMap { $0.rows[j] } }
        return PIDScorer.scores(ModalityPredictions(unimodal: uni, fused: samples.flatMap(\.fused), classes: c),
                                labels: samples.map(\.label), synergy: form)
    }

    func testOptionNamesRoundTrip() {
        XCTAssertEqual(SynergyForm.allCases.map(\.optionName), ["paper", "reference", "positive"])
        for f in SynergyForm.allCases { XCTAssertEqual(SynergyForm(optionName: f.optionName), f) }
        XCTAssertNil(SynergyForm(optionName: "referenceCode"))
    }

    /// Fused head worse than the best modality: the paper's S is negative, the positive form 0.
    func testNegativeGainIsClippedToZero() {
        let p: [Float] = [0.7, 0.1, 0.1, 0.1], q: [Float] = [0.4, 0.2, 0.2, 0.2]
        let kl = 0.4 * log(0.4 / 0.7) + 3 * 0.2 * log(0.2 / 0.1)
        let paper = scores([([p, p], q, 0)], .paper), positive = scores([([p, p], q, 0)], .positive)
        XCTAssertEqual(Double(paper.synergy[0]), (0.4 - 0.7) * kl, accuracy: 1e-6)
        XCTAssertEqual(positive.synergy[0], 0)
        // R and U do not depend on the synergy form.
        XCTAssertEqual(paper.redundancy, positive.redundancy)
        XCTAssertEqual(paper.unique, positive.unique)
    }

    /// A positive gain keeps the paper's value: c_multi 0.6 over max c_m 0.5, KL(fused || mean).
    func testPositiveGainEqualsThePaperForm() {
        let a: [Float] = [0.5, 0.3, 0.2], v: [Float] = [0.2, 0.5, 0.3], fused: [Float] = [0.6, 0.2, 0.2]
        let mean = [0.35, 0.4, 0.25]
        let kl = 0.6 * log(0.6 / mean[0]) + 0.2 * log(0.2 / mean[1]) + 0.2 * log(0.2 / mean[2])
        let expected = (0.6 - 0.5) * kl
        let s = scores([([a, v], fused, 0)], .positive).synergy[0]
        XCTAssertEqual(Double(s), expected, accuracy: 1e-6)
        XCTAssertEqual(s, scores([([a, v], fused, 0)], .paper).synergy[0])
        // Uniform modalities, fused one-hot right (C = 4): gain 0.75, KL = log 4 + 3 eps log(4 eps).
        let uni = [Float](repeating: 0.25, count: 4), eps = 1e-8
        let sOneHot = scores([([uni, uni, uni], oneHot(2, 4), 2)], .positive).synergy[0]
        XCTAssertEqual(Double(sOneHot), 0.75 * (log(4) + 3 * eps * log(4 * eps)), accuracy: 1e-5)
    }

    /// The point of the variant: an uncertain sample (uniform modalities, fused a bit less sure)
    /// lands in the S bin under the paper's min-max scaling, and not under the positive form.
    func testUncertainSampleLeavesTheSynergyBin() {
        let uni = [Float](repeating: 0.25, count: 4)
        let sure: [Float] = [0.9, 1 / 30, 1 / 30, 1 / 30]
        let samples: [(rows: [[Float]], fused: [Float], label: Int32)] = [
            ([uni, uni], [0.2, 0.3, 0.25, 0.25], 0),          // uncertain: S slightly negative
            ([sure, sure], [0.5, 1 / 6, 1 / 6, 1 / 6], 0),    // redundant, fused worse: S clearly negative
            ([uni, uni], oneHot(0, 4), 0),                    // synergistic: S largest
        ]
        let paper = NormalisedScores(scores(samples, .paper)), positive = NormalisedScores(scores(samples, .positive))
        // Paper: S of the uncertain sample sits between the redundant minimum and the synergistic
        // maximum, while its R^ is the minimum (0) and U^ is 0 everywhere.
        XCTAssertGreaterThan(paper.synergy[0], 0.1)
        XCTAssertEqual(paper.redundancy[0], 0)
        XCTAssertEqual(StageBins(paper).assignment, [.synergy, .redundancy, .synergy])
        XCTAssertEqual(positive.synergy, [0, 0, 1])
        XCTAssertEqual(StageBins(positive).assignment, [.redundancy, .redundancy, .synergy])
    }

    func testAUCHandComputed() {
        // sklearn's docstring example: 3 of the 4 positive-negative pairs are ordered right.
        XCTAssertEqual(rocAUC(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true])!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(rocAUC(scores: [1, 2, 3], positives: [false, true, true])!, 1)
        XCTAssertEqual(rocAUC(scores: [3, 2, 1], positives: [false, true, true])!, 0)
        // All tied: every pair counts one half.
        XCTAssertEqual(rocAUC(scores: [5, 5, 5, 5], positives: [true, false, false, true])!, 0.5)
        // One tie between a positive and a negative: pairs (p1>n1, p1=n2 -> 1/2, p2<n1, p2<n2) = 1.5 / 4.
        XCTAssertEqual(rocAUC(scores: [2, 1, 0, 2], positives: [true, false, true, false])!, 1.5 / 4, accuracy: 1e-12)
        XCTAssertNil(rocAUC(scores: [1, 2], positives: [true, true]))
        XCTAssertNil(rocAUC(scores: [1, 2], positives: [false, false]))
        XCTAssertNil(rocAUC(scores: [], positives: []))
    }

    func testAUCMatchesScikitLearn() throws {
        let fixture = try CurriculumFixture("auc")
        XCTAssertEqual(fixture.cases.count, 5)
        for c in fixture.cases {
            let positives = (c["positives"] as! [Bool])
            let auc = try XCTUnwrap(rocAUC(scores: c.floats("scores"), positives: positives))
            XCTAssertEqual(auc, c.double("auc"), accuracy: 1e-12, c.name)
        }
    }

    func testPlantedComponents() {
        XCTAssertEqual(plantedComponent(kindName: "redundant"), .redundancy)
        XCTAssertEqual(plantedComponent(kindName: "unique-audio"), .unique)
        XCTAssertEqual(plantedComponent(kindName: "unique-visual"), .unique)
        XCTAssertEqual(plantedComponent(kindName: "synergistic"), .synergy)
        XCTAssertNil(plantedComponent(kindName: "invalid(7)"))
        XCTAssertNil(plantedComponent(kindName: ""))
    }

    /// 6 samples, kinds R R U U S S; bins R U U S S S -> purity R 1, U 1/2, S 2/3; recall R 1/2, U 1/2, S 1.
    func testBinPurityAndRecallByHand() {
        let kinds: [PIDComponent?] = [.redundancy, .redundancy, .unique, .unique, .synergy, .synergy]
        let bins: [PIDComponent] = [.redundancy, .unique, .unique, .synergy, .synergy, .synergy]
        let raw = PIDScores(redundancy: [6, 5, 4, 3, 2, 1], unique: [1, 2, 6, 5, 3, 4], synergy: [0, 0, 0, 1, 2, 2])
        let r = PlantedScoreAnalysis(raw: raw, bins: bins, kinds: kinds)
        XCTAssertEqual(r.binSizes, [1, 2, 3])
        XCTAssertEqual(r.kindCounts, [2, 2, 2])
        XCTAssertEqual(r.purity[0]!, 1); XCTAssertEqual(r.purity[1]!, 0.5); XCTAssertEqual(r.purity[2]!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(r.recall[0]!, 0.5); XCTAssertEqual(r.recall[1]!, 0.5); XCTAssertEqual(r.recall[2]!, 1)
        XCTAssertEqual(r.agreement, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(r.auc[0]!, 1)                     // both redundant samples have the top R
        XCTAssertEqual(r.auc[1]!, 1)                     // unique: 6, 5 above 1, 2, 3, 4
        XCTAssertEqual(r.auc[2]!, (4 * 1.0 + 4 * 1.0) / 8)  // synergy 2, 2 above 0, 0, 0, 1
        XCTAssertEqual(r.baseRates.map { ($0 * 3).rounded() }, [1, 1, 1])
        // An empty bin has no purity; the bins from normalised scores are StageBins'.
        let n = NormalisedScores(raw)
        let fromScores = PlantedScoreAnalysis(raw: raw, normalised: n, kinds: kinds)
        XCTAssertEqual(fromScores.binSizes, StageBins(n).sizes)
        let none = PlantedScoreAnalysis(raw: raw, bins: Array(repeating: .redundancy, count: 6), kinds: kinds)
        XCTAssertNil(none.purity[1]); XCTAssertNil(none.purity[2])
        XCTAssertEqual(none.purity[0]!, 1.0 / 3, accuracy: 1e-12)
    }
}
