import XCTest
import TestSupport
import Foundation
import Tensor
@testable import Data

/// Writes index and epoch into a [B, 1, 1, 2] tensor; can fail on one index and be slow.
private final class ScriptedSource: SampleSource {
    struct Failure: Error, Equatable { let index: Int }
    let count = 1000, classes = 10
    let shapes = [InMemoryDataset.ModalityShape(name: "a", channels: 1, height: 1, width: 2)]
    let failAt: Int?, delay: Double
    private let lock = NSLock()
    private var gathers = 0
    var gathered: Int { lock.lock(); defer { lock.unlock() }; return gathers }

    init(failAt: Int? = nil, delay: Double = 0) { self.failAt = failAt; self.delay = delay }

    func gather(_ indices: ArraySlice<Int>, into inputs: [Tensor], epoch: Int, training: Bool) throws -> [Int32] {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        lock.lock(); gathers += 1; lock.unlock()
        inputs[0].resize([indices.count, 1, 1, 2])
        for (k, i) in indices.enumerated() {
            if i == failAt { throw Failure(index: i) }
            inputs[0][2 * k] = Float(i); inputs[0][2 * k + 1] = Float(epoch)
        }
        return indices.map { Int32($0 % 10) }
    }
}

final class PrefetchingLoaderTests: TemporaryDirectoryTestCase {
    func testBatchesArriveInOrder() throws {
        let batches = [[0, 1], [12, 3, 4], [5], [6, 17]]
        let loader = PrefetchingLoader(source: ScriptedSource(), batches: batches, epoch: 3, training: true)
        let inputs = [Tensor(shape: [0])]
        for b in batches {
            let labels = try XCTUnwrap(try loader.next(into: inputs))
            XCTAssertEqual(labels, b.map { Int32($0 % 10) })
            XCTAssertEqual(inputs[0].shape, [b.count, 1, 1, 2])
            XCTAssertEqual(inputs[0].array, b.flatMap { [Float($0), 3] })
        }
        XCTAssertNil(try loader.next(into: inputs))
        XCTAssertNil(try loader.next(into: inputs))
        XCTAssertGreaterThanOrEqual(loader.waitSeconds, 0)
        XCTAssertEqual(loader.batchCount, 4)
    }

    func testAnErrorIsRethrownAtItsBatch() throws {
        let batches = [[0, 1], [2, 3], [4, 5, 6], [7]]
        let loader = PrefetchingLoader(source: ScriptedSource(failAt: 5), batches: batches, epoch: 0, training: false)
        let inputs = [Tensor(shape: [0])]
        XCTAssertEqual(try loader.next(into: inputs), [0, 1])
        XCTAssertEqual(try loader.next(into: inputs), [2, 3])
        XCTAssertThrowsError(try loader.next(into: inputs)) { XCTAssertEqual($0 as? ScriptedSource.Failure, .init(index: 5)) }
        XCTAssertThrowsError(try loader.next(into: inputs)) { XCTAssertEqual($0 as? ScriptedSource.Failure, .init(index: 5)) }
    }

    func testReadsAheadByTheDepthOnly() throws {
        let source = ScriptedSource()
        let loader = PrefetchingLoader(source: source, batches: (0..<10).map { [$0] }, epoch: 0, training: true, depth: 2)
        let inputs = [Tensor(shape: [0])]
        XCTAssertEqual(try loader.next(into: inputs), [0])
        // While the caller "trains" on batch 0, batches 1 and 2 get assembled, and no more.
        let deadline = Date().addingTimeInterval(2)
        while source.gathered < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(source.gathered, 3)
        // Those batches are ready: no waiting for them.
        XCTAssertEqual(try loader.next(into: inputs), [1])
        XCTAssertLessThan(loader.lastWaitSeconds, 0.01)
    }

    func testWaitTimeIsMeasuredAndDroppingTheLoaderStopsTheThread() throws {
        let source = ScriptedSource(delay: 0.02)
        var loader: PrefetchingLoader? = PrefetchingLoader(source: source, batches: (0..<100).map { [$0] }, epoch: 0, training: true)
        let inputs = [Tensor(shape: [0])]
        XCTAssertEqual(try loader!.next(into: inputs), [0])
        XCTAssertGreaterThan(loader!.waitSeconds, 0.01)
        loader = nil   // cancels and waits for the thread to finish its current batch
        let after = source.gathered
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(source.gathered, after)
        XCTAssertLessThan(after, 10)
    }

    func testPrefetchedHDF5BatchesEqualDirectGathers() throws {
        let p = path("pf.h5")
        try Fixtures.write(p, n: 6)
        let options = HDF5Dataset.Options(frameSize: .init(height: 3, width: 3), seed: 4)
        let direct = try HDF5Dataset(path: p, options: options)
        let batches = [[5, 0], [3, 1], [2, 4]]
        let loader = PrefetchingLoader(source: try HDF5Dataset(path: p, options: options), batches: batches, epoch: 2, training: true)
        let got = [Tensor(shape: [0]), Tensor(shape: [0])], want = [Tensor(shape: [0]), Tensor(shape: [0])]
        for b in batches {
            let labels = try loader.next(into: got)
            XCTAssertEqual(labels, try direct.gather(b[...], into: want, epoch: 2, training: true))
            XCTAssertEqual(got[0].array, want[0].array)
            XCTAssertEqual(got[1].array, want[1].array)
            XCTAssertEqual(got[1].shape, [2 * 2, 3, 3, 3])
        }
        XCTAssertNil(try loader.next(into: got))
    }

    func testAFailingSampleInAnHDF5FileSurfacesWithItsIndex() throws {
        let p = path("pfnan.h5")
        try Fixtures.write(p, n: 6)
        try RawHDF5.edit(p) { RawHDF5.poke($0, "audio", sample: 3, offset: 2, value: .nan) }
        let loader = PrefetchingLoader(source: try HDF5Dataset(path: p), batches: [[0, 1], [2, 3], [4, 5]], epoch: 0, training: true)
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        XCTAssertNotNil(try loader.next(into: inputs))
        assertDataError(try loader.next(into: inputs), mentions: [p, "'audio'", "sample 3"], sample: 3)
    }
}
