import XCTest
import Foundation
import CHDF5
@testable import Data

/// A fresh temporary directory per test, removed afterwards.
class TemporaryDirectoryTestCase: XCTestCase {
    private(set) var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "spice-data-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

extension XCTestCase {
    /// Asserts that `body` throws a DataError whose description names every string in `mentions`.
    @discardableResult
    func assertDataError<T>(_ body: @autoclosure () throws -> T, mentions: [String], sample: Int? = nil,
                            file: StaticString = #filePath, line: UInt = #line) -> DataError? {
        do {
            _ = try body()
            XCTFail("expected a DataError mentioning \(mentions)", file: file, line: line)
            return nil
        } catch let e as DataError {
            for m in mentions {
                XCTAssertTrue(e.description.contains(m), "'\(e.description)' does not mention '\(m)'", file: file, line: line)
            }
            if let sample { XCTAssertEqual(e.sample, sample, "wrong sample in '\(e.description)'", file: file, line: line) }
            return e
        } catch {
            XCTFail("expected a DataError, got \(error)", file: file, line: line)
            return nil
        }
    }
}
