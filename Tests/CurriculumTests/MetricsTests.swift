import Foundation
import XCTest
import Curriculum

/// Metrics against scikit-learn 1.9 (Tests/Fixtures/curriculum/make_metrics.py): random heads,
/// tied scores, perfect and worst predictions, classes without positives, absent classes.
final class MetricsTests: XCTestCase {
    func testMetricsMatchSklearn() throws {
        for c in try CurriculumFixture("metrics").cases {
            let labels = c.labels(), k = c.int("classes"), name = c.name
            let scores: [Float], predictions: [Int32]
            if c["kind"] as! String == "logits" {
                let fused = c.floats("fused_logits"), uni = c.floatRows("unimodal_logits")
                let report = ClassificationReport(fusedLogits: fused, unimodalLogits: uni, labels: labels, classes: k)
                XCTAssertEqual(report.accuracy, c.double("accuracy"), accuracy: 1e-12, name)
                XCTAssertEqual(report.meanAveragePrecision, c.double("map_zero"), accuracy: 1e-9, name)
                XCTAssertEqual(report.macroF1, c.double("f1_present"), accuracy: 1e-12, name)
                XCTAssertEqual(report.modalityAccuracy, c.doubles("modality_accuracy"), name)
                let summed = sumArrays([fused] + uni)
                scores = softmaxRows(summed, classes: k)
                predictions = Metrics.argmaxRows(summed, classes: k)
            } else {
                scores = c.floats("scores")
                predictions = c.labels("predictions")
            }
            XCTAssertEqual(Metrics.accuracy(predictions: predictions, labels: labels), c.double("accuracy"), accuracy: 1e-12, name)
            XCTAssertEqual(Metrics.meanAveragePrecision(scores: scores, labels: labels, classes: k),
                           c.double("map_zero"), accuracy: 1e-9, "\(name) mAP, no-positive class = 0")
            XCTAssertEqual(Metrics.meanAveragePrecision(scores: scores, labels: labels, classes: k, noPositive: .excluded),
                           c.double("map_excluded"), accuracy: 1e-9, "\(name) mAP, no-positive class excluded")
            XCTAssertEqual(Metrics.macroF1(predictions: predictions, labels: labels, classes: k),
                           c.double("f1_present"), accuracy: 1e-12, "\(name) F1 over present classes")
            XCTAssertEqual(Metrics.macroF1(predictions: predictions, labels: labels, classes: k, over: .all, zeroDivision: 0),
                           c.double("f1_all_zero"), accuracy: 1e-12, "\(name) F1 over all classes, zero_division 0")
            XCTAssertEqual(Metrics.macroF1(predictions: predictions, labels: labels, classes: k, over: .all, zeroDivision: 1),
                           c.double("f1_all_one"), accuracy: 1e-12, "\(name) F1 over all classes, zero_division 1")
            let perClass = c["ap_per_class"] as! [Any]
            for cls in 0..<k {
                let ap = Metrics.averagePrecision(scores: (0..<labels.count).map { scores[$0 * k + cls] },
                                                  positives: labels.map { Int($0) == cls })
                if let e = perClass[cls] as? NSNumber { XCTAssertEqual(ap ?? -1, e.doubleValue, accuracy: 1e-9, "\(name) AP[\(cls)]") } else { XCTAssertNil(ap) }
            }
        }
    }

    func testArgmaxTakesTheFirstMaximum() {
        XCTAssertEqual(Metrics.argmaxRows([1, 3, 3, 0, 0, 0], classes: 3), [1, 0])
    }
}
