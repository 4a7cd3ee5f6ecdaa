import XCTest
import Curriculum

final class ScheduleTests: XCTestCase {
    func testPaperDefaults() {
        let s = CurriculumSchedule()
        XCTAssertEqual(s.stageLengths, [50, 50, 50])
        XCTAssertEqual(s.totalEpochs, 180)
        XCTAssertEqual(s.phase(0), .warmup); XCTAssertEqual(s.phase(29), .warmup)
        XCTAssertEqual(s.phase(30), .stage(.redundancy)); XCTAssertEqual(s.phase(79), .stage(.redundancy))
        XCTAssertEqual(s.phase(80), .stage(.unique)); XCTAssertEqual(s.phase(130), .stage(.synergy))
        XCTAssertEqual(s.phase(179), .stage(.synergy))
        XCTAssertEqual(s.phase(500), .stage(.synergy), "past the end the curriculum stays in stage S")
        XCTAssertNil(s.curriculumEpoch(29)); XCTAssertEqual(s.curriculumEpoch(30), 0)
        XCTAssertEqual((0..<180).filter { s.refreshesBefore($0) }, Array(stride(from: 30, to: 180, by: 5)))
        XCTAssertEqual(s.lastRefresh(atOrBefore: 34), 30); XCTAssertEqual(s.lastRefresh(atOrBefore: 35), 35)
        XCTAssertNil(s.lastRefresh(atOrBefore: 10))
        XCTAssertEqual(s.epochs(of: .unique), 80..<130)
        XCTAssertEqual(s.segmentStart(33), 30); XCTAssertEqual(s.segmentStart(81), 80)
    }

    func testNoWarmupRefreshesBeforeTheFirstEpoch() {
        let s = CurriculumSchedule(warmupEpochs: 0, curriculumEpochs: 9, refreshInterval: 2)
        XCTAssertEqual(s.phase(0), .stage(.redundancy))
        XCTAssertTrue(s.refreshesBefore(0))
        XCTAssertEqual((0..<9).filter { s.refreshesBefore($0) }, [0, 2, 4, 6, 8])
    }

    func testStagesNotDivisibleGiveLeftoversToLaterStages() {
        XCTAssertEqual(CurriculumSchedule(curriculumEpochs: 10).stageLengths, [3, 3, 4])
        XCTAssertEqual(CurriculumSchedule(curriculumEpochs: 11).stageLengths, [3, 4, 4])
        let two = CurriculumSchedule(warmupEpochs: 1, curriculumEpochs: 2, refreshInterval: 5)
        XCTAssertEqual(two.stageLengths, [0, 1, 1])
        XCTAssertEqual([0, 1, 2].map(two.phase), [.warmup, .stage(.unique), .stage(.synergy)], "an empty stage is skipped")
        let none = CurriculumSchedule(warmupEpochs: 2, curriculumEpochs: 0, refreshInterval: 5)
        XCTAssertEqual(none.phase(7), .warmup, "no curriculum epochs: plain shuffling throughout")
        XCTAssertFalse(none.refreshesBefore(2))
    }

    /// k larger than a stage: refreshes stay on the k grid; a reused order restarts at stage changes.
    func testRefreshIntervalLongerThanAStage() {
        let s = CurriculumSchedule(warmupEpochs: 1, curriculumEpochs: 9, refreshInterval: 7)
        XCTAssertEqual((0..<12).filter { s.refreshesBefore($0) }, [1, 8])
        XCTAssertEqual((1..<12).map { s.segmentStart($0) }, [1, 1, 1, 4, 4, 4, 7, 8, 8, 8, 8])
        XCTAssertEqual(s.lastRefresh(atOrBefore: 7), 1)
        let custom = CurriculumSchedule(warmupEpochs: 0, stageLengths: [2, 0, 3], refreshInterval: 100)
        XCTAssertEqual((0..<5).map(custom.phase), [.stage(.redundancy), .stage(.redundancy), .stage(.synergy), .stage(.synergy), .stage(.synergy)])
    }
}
