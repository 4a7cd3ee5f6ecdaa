import XCTest
import Curriculum

final class SummaryDumpTests: XCTestCase {
    func testSummaryMatchesNumpyConventions() {
        let s = ValueSummary([4, 1, 3, 2], quantiles: [0, 0.25, 0.5, 1])
        XCTAssertEqual(s.min, 1); XCTAssertEqual(s.max, 4); XCTAssertEqual(s.mean, 2.5)
        XCTAssertEqual(s.std, 1.25.squareRoot(), accuracy: 1e-12, "population std, numpy's default")
        XCTAssertEqual(s.quantiles.map(\.value), [1, 1.75, 2.5, 4], "numpy linear interpolation")
        XCTAssertTrue(ValueSummary([]).description.contains("n=0"))
        let w = WeightSummary([1, 1, 0, 2])
        XCTAssertEqual(w.zeros, 1)
        XCTAssertEqual(w.effectiveSampleSize, 16.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(WeightSummary([1, 1, 1]).effectiveSampleSize, 3, accuracy: 1e-12)
    }

    func testReportAndCSVDump() {
        let p = ModalityPredictions(unimodal: [[0.9, 0.1, 0.5, 0.5, 0.2, 0.8], [0.8, 0.2, 0.1, 0.9, 0.5, 0.5]],
                                    fused: [0.95, 0.05, 0.5, 0.5, 0.9, 0.1], classes: 2)
        let labels: [Int32] = [0, 1, 0]
        let (raw, details) = PIDScorer.scoresWithDetails(p, labels: labels)
        let n = NormalisedScores(raw)
        let report = ScoreReport(raw: raw, normalised: n)
        XCTAssertEqual(report.binSizes.reduce(0, +), 3)
        XCTAssertTrue(report.description.contains("bins R="))
        let csv = ScoreDump.csv(details: details, scores: raw, normalised: n, labels: labels, sampleIDs: ["a", "b,c", "d"],
                                phase: .stage(.unique), order: [2, 0])
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "id,label,c_1,c_2,c_multi,D_1,D_2,D_syn,R,U,S,R_hat,U_hat,S_hat,P_R,P_U,P_S,bin,stage,position")
        XCTAssertTrue(lines[1].hasPrefix("a,0,0.9,0.8,0.95,"))
        XCTAssertTrue(lines[1].hasSuffix(",stage U,1"))
        XCTAssertTrue(lines[2].hasPrefix("\"b,c\",1,"), "ids with commas are quoted")
        XCTAssertTrue(lines[2].hasSuffix(",-1"), "not in the order")
        XCTAssertTrue(lines[3].hasSuffix(",0"))
    }
}
