import XCTest
import Foundation
import TestSupport
@testable import Data

/// Multi-sample chunks and the block reader (independent mode; the collective mode is compared
/// with it under mpirun in DistributedTests/ScaleTests).
final class BlockReaderTests: TemporaryDirectoryTestCase {
    func write(_ path: String, n: Int, chunk: Int) throws {
        var header = DatasetHeader(modalities: [Fixtures.audio, Fixtures.visual], classes: 3)
        header.chunkSamples = chunk
        let w = try HDF5Writer(path: path, header: header)
        for i in 0..<n { try w.append(label: i % 3, values: [.float(Fixtures.audioValues(i)), .bytes(Fixtures.visualValues(i))]) }
        try w.finish()
    }

    func testChunkedFilesReadTheSameSamplesEveryWay() throws {
        for chunk in [1, 4, 16] {
            let p = path("c\(chunk).h5")
            try write(p, n: 37, chunk: chunk)
            let ds = try HDF5Dataset(path: p)
            XCTAssertEqual(ds.count, 37)
            let r = try HDF5BlockReader(path: p, mode: .independent)
            XCTAssertEqual(r.chunkSamples, [chunk, chunk])
            XCTAssertEqual(r.sampleBytes(0), Fixtures.audio.sampleCount * 4)
            // A block straddling chunk boundaries.
            var audio = [Float](repeating: -1, count: 11 * Fixtures.audio.sampleCount)
            try audio.withUnsafeMutableBytes { try r.read(modality: 0, start: 13, count: 11, into: $0.baseAddress!) }
            for k in 0..<11 {
                XCTAssertEqual(Array(audio[(k * Fixtures.audio.sampleCount)..<((k + 1) * Fixtures.audio.sampleCount)]),
                               try ds.storedSample(13 + k, modality: 0), "chunk \(chunk) sample \(13 + k)")
            }
            // A sorted batch with runs and gaps.
            let batch = [0, 1, 2, 9, 20, 21, 36]
            var frames = [UInt8](repeating: 0, count: batch.count * Fixtures.visual.sampleCount)
            try frames.withUnsafeMutableBytes { try r.read(modality: 1, sorted: batch, into: $0.baseAddress!) }
            for (k, i) in batch.enumerated() {
                let got = frames[(k * Fixtures.visual.sampleCount)..<((k + 1) * Fixtures.visual.sampleCount)].map { Float($0) }
                XCTAssertEqual(got, try ds.storedSample(i, modality: 1), "chunk \(chunk) sample \(i)")
                XCTAssertEqual(got, Fixtures.visualValues(i).map { Float($0) })
            }
            XCTAssertThrowsError(try frames.withUnsafeMutableBytes { try r.read(modality: 1, sorted: [3, 2], into: $0.baseAddress!) })
            XCTAssertThrowsError(try audio.withUnsafeMutableBytes { try r.read(modality: 0, start: 30, count: 8, into: $0.baseAddress!) })
            try r.read(modality: 0, start: 5, count: 0, into: nil)
            r.close()
        }
    }

    func testChunkSamplesOutOfRangeIsRejected() throws {
        var header = DatasetHeader(modalities: [Fixtures.audio, Fixtures.visual], classes: 3)
        header.chunkSamples = 0
        XCTAssertThrowsError(try HDF5Writer(path: path("bad.h5"), header: header)) {
            XCTAssertTrue("\($0)".contains("chunk samples"), "\($0)")
        }
    }
}
