import XCTest
import TestSupport
import Foundation
import Tensor
@testable import Data

final class HDF5RoundTripTests: TemporaryDirectoryTestCase {
    func testWriterToReaderRoundTrip() throws {
        let p = path("rt.h5")
        try Fixtures.write(p, n: 6, classes: 3)
        let d = try HDF5Dataset(path: p)
        XCTAssertEqual(d.formatVersion, DataFormat.version)
        XCTAssertEqual(d.count, 6)
        XCTAssertEqual(d.classes, 3)
        XCTAssertEqual(d.classNames, ["c0", "c1", "c2"])
        XCTAssertEqual(d.preprocessing, "test recipe: 16 kHz, 25 fps")
        XCTAssertEqual(d.modalities.map(\.spec), [Fixtures.audio, Fixtures.visual])
        XCTAssertEqual(d.modalities[1].mean, DataFormat.imagenetMean)
        XCTAssertEqual(d.modalities[1].std, DataFormat.imagenetStd)
        XCTAssertEqual(d.labels, [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(d.kinds, [0, 1, 2, 3, 0, 1])
        XCTAssertEqual(d.ratings?.count, 12)
        XCTAssertEqual(d.ratings?[2], Float(1) / 6)
        XCTAssertEqual(d.ratings?[3], 1 - Float(1) / 6)
        XCTAssertEqual(try d.ids(), (0..<6).map { "s\($0)" })
        XCTAssertEqual(d.shapes, [InMemoryDataset.ModalityShape(name: "audio", channels: 1, height: 3, width: 4),
                                  InMemoryDataset.ModalityShape(name: "visual", frames: 2, channels: 3, height: 4, width: 5)])
        for i in 0..<6 {
            XCTAssertEqual(try d.storedSample(i, modality: 0), Fixtures.audioValues(i))
            XCTAssertEqual(try d.storedSample(i, modality: 1), Fixtures.visualValues(i).map(Float.init))
        }

        // Evaluation at the stored size: audio as stored, frames only normalised.
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        let labels = try d.gather([4, 1], into: inputs, epoch: 0, training: false)
        XCTAssertEqual(labels, [1, 1])
        XCTAssertEqual(inputs[0].shape, [2, 1, 3, 4])
        XCTAssertEqual(inputs[1].shape, [4, 3, 4, 5])
        XCTAssertEqual(Array(inputs[0].array[0..<12]), Fixtures.audioValues(4))
        XCTAssertEqual(Array(inputs[0].array[12..<24]), Fixtures.audioValues(1))
        let raw = Fixtures.visualValues(1), plane = 20
        for j in 0..<raw.count {
            let c = (j / plane) % 3
            let expected = (Float(raw[j]) / 255 - DataFormat.imagenetMean[c]) / DataFormat.imagenetStd[c]
            XCTAssertEqual(inputs[1][2 * 60 + j], expected, accuracy: 1e-5)
        }
    }

    func testFloat16AudioRoundTrip() throws {
        let p = path("half.h5")
        let audio = ModalitySpec.spectrogram("audio", channels: 2, height: 3, width: 4, storage: .float16)
        // Values exactly representable in float16 come back exactly.
        try Fixtures.write(p, n: 3, audio: audio, audioValues: { i in (0..<24).map { Float(i * 24 + $0) * 0.5 - 10 } })
        let d = try HDF5Dataset(path: p)
        XCTAssertEqual(d.modalities[0].spec.storage, .float16)
        XCTAssertEqual(d.shapes[0], InMemoryDataset.ModalityShape(name: "audio", channels: 2, height: 3, width: 4))
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try d.gather([2, 0], into: inputs, epoch: 0, training: true)
        XCTAssertEqual(Array(inputs[0].array[0..<24]), (0..<24).map { Float(48 + $0) * 0.5 - 10 })
        XCTAssertEqual(Array(inputs[0].array[24..<48]), (0..<24).map { Float($0) * 0.5 - 10 })
        // Not representable: rounded to the nearest float16.
        let q = path("half2.h5")
        try Fixtures.write(q, n: 1, audio: audio, audioValues: { _ in [Float](repeating: 0.1, count: 24) })
        XCTAssertEqual(try HDF5Dataset(path: q).storedSample(0, modality: 0), [Float](repeating: Float(Float16(0.1)), count: 24))
    }

    func testThreeModalitiesAndVariableLengthIds() throws {
        let p = path("three.h5")
        let specs = [ModalitySpec.spectrogram("audio", height: 2, width: 2), .frames("visual", height: 2, width: 2),
                     .spectrogram("depth", channels: 2, height: 1, width: 3)]
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: specs, classes: 4, storesKinds: true))
        for i in 0..<5 {
            try w.append(label: 3 - i % 4, values: [.float([Float](repeating: Float(i), count: 4)), .bytes([UInt8](repeating: UInt8(i), count: 12)),
                                                    .float([Float](repeating: -Float(i), count: 6))], kind: UInt8(i % 5))
        }
        try w.finish()
        try RawHDF5.edit(p) { RawHDF5.putVariableStrings($0, "id", ["a", "bb", "ccc", "", "é"]) }
        let d = try HDF5Dataset(path: p)
        XCTAssertEqual(d.modalities.map(\.spec.name), ["audio", "visual", "depth"])
        XCTAssertEqual(d.kinds, [0, 1, 2, 3, 4])
        XCTAssertNil(d.ratings)
        XCTAssertNil(d.classNames)
        XCTAssertEqual(d.preprocessing, "")
        XCTAssertEqual(try d.ids(), ["a", "bb", "ccc", "", "é"])
        let inputs = (0..<3).map { _ in Tensor(shape: [0]) }
        XCTAssertEqual(try d.gather([4, 0], into: inputs, epoch: 1, training: false), [3, 3])
        XCTAssertEqual(inputs[2].shape, [2, 2, 1, 3])
        XCTAssertEqual(inputs[2].array, [Float](repeating: -4, count: 6) + [Float](repeating: 0, count: 6))
    }

    func testWriterWritesToTemporaryFileAndRenamesOnFinish() throws {
        let p = path("atomic.h5")
        let header = DatasetHeader(modalities: [Fixtures.audio, Fixtures.visual], classes: 2)
        let w = try HDF5Writer(path: p, header: header)
        try w.append(label: 1, values: [.float(Fixtures.audioValues(0)), .bytes(Fixtures.visualValues(0))])
        XCTAssertFalse(FileManager.default.fileExists(atPath: p))
        XCTAssertTrue(FileManager.default.fileExists(atPath: p + ".tmp"))
        try w.finish()
        XCTAssertTrue(FileManager.default.fileExists(atPath: p))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p + ".tmp"))
        XCTAssertEqual(try HDF5Dataset(path: p).count, 1)

        // Abandoned writers (error, abort, or simply dropped) leave nothing under either name.
        let q = path("abandoned.h5")
        do {
            let w2 = try HDF5Writer(path: q, header: header)
            try w2.append(label: 0, values: [.float(Fixtures.audioValues(0)), .bytes(Fixtures.visualValues(0))])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: q))
        XCTAssertFalse(FileManager.default.fileExists(atPath: q + ".tmp"))
        let w3 = try HDF5Writer(path: q, header: header)
        w3.abort()
        XCTAssertFalse(FileManager.default.fileExists(atPath: q + ".tmp"))
        let w4 = try HDF5Writer(path: q, header: header)
        assertDataError(try w4.finish(), mentions: [q, "no samples"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: q))
        XCTAssertFalse(FileManager.default.fileExists(atPath: q + ".tmp"))
    }

    func testWriterRejectsInvalidSamplesNamingTheSample() throws {
        let p = path("bad.h5")
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [Fixtures.audio, Fixtures.visual], classes: 3))
        let good: [SampleValues] = [.float(Fixtures.audioValues(0)), .bytes(Fixtures.visualValues(0))]
        try w.append(label: 0, values: good)
        assertDataError(try w.append(label: 3, values: good), mentions: [p, "label", "sample 1"], sample: 1)
        assertDataError(try w.append(label: -1, values: good), mentions: [p, "label"], sample: 1)
        var nan = Fixtures.audioValues(0); nan[5] = .nan
        assertDataError(try w.append(label: 0, values: [.float(nan), good[1]]), mentions: [p, "audio", "non-finite"], sample: 1)
        assertDataError(try w.append(label: 0, values: [.float([1, 2]), good[1]]), mentions: [p, "audio"], sample: 1)
        assertDataError(try w.append(label: 0, values: [good[1], good[0]]), mentions: [p, "audio", "wrong type"], sample: 1)
        assertDataError(try w.append(label: 0, values: good, id: "x"), mentions: [p, "id"], sample: 1)
        assertDataError(try HDF5Writer(path: p, header: DatasetHeader(modalities: [Fixtures.audio, .spectrogram("label", height: 1, width: 1)], classes: 2)),
                        mentions: [p, "label", "reserved"])
        assertDataError(try HDF5Writer(path: p, header: DatasetHeader(modalities: [Fixtures.audio, Fixtures.audio], classes: 2)),
                        mentions: [p, "audio", "twice"])
        try w.finish()
        XCTAssertEqual(try HDF5Dataset(path: p).count, 1)
    }

    func testManySamplesGrowTheDatasetsInChunks() throws {
        let p = path("grow.h5")
        let a = ModalitySpec.spectrogram("audio", height: 1, width: 2), v = ModalitySpec.frames("visual", height: 1, width: 1)
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [a, v], classes: 7))
        for i in 0..<100 { try w.append(label: i % 7, values: [.float([Float(i), -Float(i)]), .bytes([UInt8(i), UInt8(i + 1), UInt8(i + 2)])]) }
        try w.finish()
        let d = try HDF5Dataset(path: p)
        XCTAssertEqual(d.count, 100)
        XCTAssertEqual(try d.storedSample(99, modality: 0), [99, -99])
        XCTAssertEqual(try d.storedSample(57, modality: 1), [57, 58, 59])
    }
}
