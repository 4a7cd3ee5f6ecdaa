import XCTest
import Curriculum

final class SpearmanTests: XCTestCase {
    func testSpearmanKnownValues() {
        XCTAssertEqual(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        // Ties take average ranks: ranks a = [0, 1.5, 1.5, 3], b = [0, 1, 2, 3] -> rho = 0.9487 (scipy.stats.spearmanr).
        XCTAssertEqual(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 0.9486832980505138, accuracy: 1e-9)
        XCTAssertEqual(spearman([5, 5, 5], [1, 2, 3]), 0)
    }
}
