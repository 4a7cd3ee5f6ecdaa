import XCTest
import Curriculum

/// R, U, S and the derived values against numpy (Tests/Fixtures/curriculum/make_scores.py), for
/// M = 2 and M = 3 with random and degenerate rows (one-hot, uniform, identical, exact zeros).
final class ScoreFixtureTests: XCTestCase {
    // Float logs and float32 storage against float64 references.
    let tol = 2e-5

    func predictions(_ c: [String: Any]) -> ModalityPredictions {
        ModalityPredictions(unimodal: c.floatRows("unimodal"), fused: c.floats("fused"), classes: c.int("classes"))
    }

    func testScoresMatchNumpy() throws {
        for c in try CurriculumFixture("scores").cases {
            let labels = c.labels()
            let (paper, details) = PIDScorer.scoresWithDetails(predictions(c), labels: labels, synergy: .paper)
            let reference = PIDScorer.scores(predictions(c), labels: labels, synergy: .referenceCode)
            let name = c.name
            assertClose(paper.redundancy, c.doubles("R"), tol: tol, "\(name) R")
            assertClose(paper.unique, c.doubles("U"), tol: tol, "\(name) U")
            assertClose(paper.synergy, c.doubles("S_paper"), tol: tol, "\(name) S paper")
            assertClose(reference.synergy, c.doubles("S_reference"), tol: tol, "\(name) S reference")
            XCTAssertEqual(reference.redundancy, paper.redundancy, "\(name): the form only changes S")
            let cm = c["c"] as! [[NSNumber]], d = c["D"] as! [[NSNumber]]
            for m in 0..<c.int("modalities") {
                assertClose(details.confidence[m], cm[m].map(\.doubleValue), tol: 1e-7, "\(name) c_\(m)")
                assertClose(details.divergence[m], d[m].map(\.doubleValue), tol: tol, "\(name) D_\(m)")
            }
            assertClose(details.fusedConfidence, c.doubles("c_multi"), tol: 1e-7, "\(name) c_multi")
            assertClose(details.synergyDivergence, c.doubles("Dsyn_paper"), tol: tol, "\(name) D_syn")
        }
    }

    func testNormalisedScoresSharesAndBinsMatchNumpy() throws {
        for c in try CurriculumFixture("scores").cases {
            let raw = PIDScorer.scores(predictions(c), labels: c.labels())
            let n = NormalisedScores(raw)
            assertClose(n.redundancy, c.doubles("R_hat"), tol: tol, "\(c.name) R^")
            assertClose(n.unique, c.doubles("U_hat"), tol: tol, "\(c.name) U^")
            assertClose(n.synergy, c.doubles("S_hat"), tol: tol, "\(c.name) S^")
            assertClose(n.shares(.redundancy), c.doubles("P_R"), tol: tol, "\(c.name) P_R")
            assertClose(n.shares(.unique), c.doubles("P_U"), tol: tol, "\(c.name) P_U")
            assertClose(n.shares(.synergy), c.doubles("P_S"), tol: tol, "\(c.name) P_S")
            // Bins: compare where numpy's argmax is not a near-tie that float rounding could flip.
            let bins = StageBins(n).assignment, expected = c.ints("bins")
            let hats = [c.doubles("R_hat"), c.doubles("U_hat"), c.doubles("S_hat")]
            for i in 0..<expected.count {
                let v = hats.map { $0[i] }.sorted(by: >)
                if v[0] - v[1] > 1e-4 || v[0] == v[1] { XCTAssertEqual(bins[i].rawValue, expected[i], "\(c.name) bin \(i)") }
            }
        }
    }

    func testBSSMeasuresMatchNumpy() throws {
        for c in try CurriculumFixture("scores").cases {
            let m = BSSMeasures(predictions(c), labels: c.labels())
            assertClose(m.loss, c.doubles("bss_loss"), tol: 1e-6, "\(c.name) loss")
            assertClose(m.similarity, c.doubles("bss_similarity"), tol: 1e-6, "\(c.name) similarity")
            assertClose(m.weights, c.doubles("bss_weights"), tol: 1e-6, "\(c.name) weights")
        }
    }
}
