import XCTest
import Curriculum

final class CurriculumModuleTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(CurriculumModule.self) }
}
