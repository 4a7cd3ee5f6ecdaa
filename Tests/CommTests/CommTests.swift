import XCTest
import Comm

final class BFloat16Tests: XCTestCase {
    func testRoundsToNearestEvenAndKeepsSpecials() {
        XCTAssertEqual(BFloat16.toFloat(BFloat16.from(1.0)), 1.0)
        XCTAssertEqual(BFloat16.toFloat(BFloat16.from(-2.5)), -2.5)
        // 1 + 2^-8 lies exactly between two bfloat16 values (1 and 1 + 2^-7): ties go to even (1).
        XCTAssertEqual(BFloat16.toFloat(BFloat16.from(1 + 1.0 / 256)), 1.0)
        XCTAssertEqual(BFloat16.toFloat(BFloat16.from(1 + 3.0 / 256)), 1 + 4.0 / 256)
        XCTAssertTrue(BFloat16.toFloat(BFloat16.from(.nan)).isNaN)
        XCTAssertEqual(BFloat16.toFloat(BFloat16.from(.infinity)), .infinity)
        for x: Float in [3.14159, -1e-20, 6.02e23, 0.1] {
            XCTAssertEqual(BFloat16.toFloat(BFloat16.from(x)), x, accuracy: abs(x) / 128)
        }
    }
}

/// Collectives in a one-rank world (MPI singleton): the data paths and argument plumbing, with
/// the multi-rank behaviour covered by the mpirun tests.
final class SingletonCollectiveTests: XCTestCase {
    func testCollectivesOnOneRank() {
        let c = Communicator.world()
        XCTAssertEqual(c.size, 1)
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.allreduce([1.5, 2.5] as [Double]), [1.5, 2.5])
        XCTAssertEqual(c.allreduce(Int64(7), op: .max), 7)
        XCTAssertEqual(c.gatherv([Int32(3), 4, 5]), [3, 4, 5])
        XCTAssertEqual(c.scatterv([[Float(1), 2]]), [1, 2])
        var v: [Int64] = [9, 8]
        c.broadcast(&v)
        XCTAssertEqual(v, [9, 8])
        var f: [Float] = [1, 2, 3]
        let pending = f.withUnsafeMutableBufferPointer { c.startAllreduce($0.baseAddress!, count: 3) }
        pending.wait()
        XCTAssertTrue(pending.isDone)
        XCTAssertEqual(f, [1, 2, 3])
    }
}
