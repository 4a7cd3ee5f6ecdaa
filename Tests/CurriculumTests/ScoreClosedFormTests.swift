import Foundation
import XCTest
import Curriculum

/// Degenerate inputs whose scores have closed forms (eps = 1e-8 is the KL clamp).
final class ScoreClosedFormTests: XCTestCase {
    let eps = 1e-8

    func oneHot(_ k: Int, _ c: Int) -> [Float] { (0..<c).map { $0 == k ? 1 : 0 } }

    /// One sample: M unimodal rows and a fused row.
    func score(_ rows: [[Float]], _ fused: [Float], label: Int32, _ form: SynergyForm = .paper) -> (Double, Double, Double) {
        let s = PIDScorer.scores(ModalityPredictions(unimodal: rows, fused: fused, classes: fused.count),
                                 labels: [label], synergy: form)
        return (Double(s.redundancy[0]), Double(s.unique[0]), Double(s.synergy[0]))
    }

    func testIdenticalDistributionsHaveNoDivergence() {
        let p: [Float] = [0.1, 0.6, 0.2, 0.1]
        for m in [2, 3] {
            for form in SynergyForm.allCases {
                let (r, u, s) = score(Array(repeating: p, count: m), p, label: 1, form)
                XCTAssertEqual(r, pow(0.6, Double(m)), accuracy: 1e-6, "R = prod c when D = 0 (M = \(m))")
                XCTAssertEqual(u, 0, accuracy: 1e-7)
                XCTAssertEqual(s, 0, accuracy: 1e-7)
            }
        }
    }

    func testOneHotCorrectEverywhereIsPureRedundancy() {
        for m in [2, 3] {
            let (r, u, s) = score(Array(repeating: oneHot(2, 5), count: m), oneHot(2, 5), label: 2)
            XCTAssertEqual(r, 1, accuracy: 1e-6); XCTAssertEqual(u, 0, accuracy: 1e-7); XCTAssertEqual(s, 0, accuracy: 1e-7)
        }
    }

    func testUniformEverywhere() {
        let c = 6
        let uni = [Float](repeating: 1 / Float(c), count: c)
        for m in [2, 3] {
            let (r, u, s) = score(Array(repeating: uni, count: m), uni, label: 0)
            XCTAssertEqual(r, pow(1 / Double(c), Double(m)), accuracy: 1e-7)
            XCTAssertEqual(u, 0, accuracy: 1e-7); XCTAssertEqual(s, 0, accuracy: 1e-7)
        }
    }

    /// Modality 0 one-hot right, the others one-hot on the same wrong class: D_0 = (1 - eps) log(1/eps),
    /// so U = 1 - eps^(1 - eps) (about 1), R = 0, and the fused head gains nothing over modality 0.
    func testOneModalityRightIsPureUnique() {
        for m in [2, 3] {
            let rows = [oneHot(0, 4)] + Array(repeating: oneHot(1, 4), count: m - 1)
            let (r, u, s) = score(rows, oneHot(0, 4), label: 0)
            XCTAssertEqual(r, 0)
            XCTAssertEqual(u, 1 - pow(eps, 1 - eps), accuracy: 1e-6)
            XCTAssertEqual(s, 0, accuracy: 1e-7)
        }
    }

    /// Uniform unimodal rows, fused one-hot right: gain 1 - 1/C; paper KL(onehot || uniform) =
    /// log C + (C - 1) eps log(eps C); reference (M = 2) KL(uniform || onehot) = ((C - 1)/C) log(1/(C eps)).
    func testFusedRightAloneIsPureSynergy() {
        let c = 4, cd = 4.0
        let uni = [Float](repeating: 0.25, count: c)
        let gain = 1 - 1 / cd
        let klPaper = log(cd) + (cd - 1) * eps * log(eps * cd)
        let klReference = (cd - 1) / cd * log(1 / (cd * eps))
        for m in [2, 3] {
            let rows = Array(repeating: uni, count: m)
            let (r, u, sPaper) = score(rows, oneHot(3, c), label: 3, .paper)
            XCTAssertEqual(r, pow(0.25, Double(m)), accuracy: 1e-7)
            XCTAssertEqual(u, 0, accuracy: 1e-7)
            XCTAssertEqual(sPaper, gain * klPaper, accuracy: 1e-5)
            let (_, _, sRef) = score(rows, oneHot(3, c), label: 3, .referenceCode)
            // For M >= 3 the reference code keeps the paper's KL direction inside 1 - exp(-.).
            XCTAssertEqual(sRef, gain * (1 - exp(-(m == 2 ? klReference : klPaper))), accuracy: 1e-6, "M = \(m)")
        }
    }

    /// A fused head worse than the best modality makes S negative.
    func testSynergyIsSignedByTheFusionGain() {
        let p: [Float] = [0.7, 0.1, 0.1, 0.1], q: [Float] = [0.4, 0.2, 0.2, 0.2]
        let (_, _, s) = score([p, p], q, label: 0)
        let kl = 0.4 * log(0.4 / 0.7) + 3 * 0.2 * log(0.2 / 0.1)
        XCTAssertEqual(s, (0.4 - 0.7) * kl, accuracy: 1e-6)
    }

    func testLogitsInputIsSoftmaxed() {
        let logits: [Float] = [1, 2, 3, 1000, 1000, 1000]
        XCTAssertEqual(softmaxRows(logits, classes: 3)[3], 1 / 3, accuracy: 1e-7)
        let p = ModalityPredictions(unimodalLogits: [logits, logits], fusedLogits: logits, classes: 3)
        let direct = ModalityPredictions(unimodal: [softmaxRows(logits, classes: 3), softmaxRows(logits, classes: 3)],
                                         fused: softmaxRows(logits, classes: 3), classes: 3)
        XCTAssertEqual(PIDScorer.scores(p, labels: [2, 0]), PIDScorer.scores(direct, labels: [2, 0]))
    }
}
