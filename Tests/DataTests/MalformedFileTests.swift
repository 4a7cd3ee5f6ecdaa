import XCTest
import TestSupport
import Foundation
import CHDF5
import Tensor
@testable import Data

/// Every malformed file gives one DataError naming the file, the dataset and (when it is about
/// one sample) the sample index — never a crash or a silent skip.
final class MalformedFileTests: TemporaryDirectoryTestCase {
    /// A valid 6-sample file (labels i % 3) at `name`, then `edit` applied to it.
    func malformed(_ name: String, _ edit: (hid_t) throws -> Void) throws -> String {
        let p = path(name)
        try Fixtures.write(p, n: 6, classes: 3)
        try RawHDF5.edit(p, edit)
        return p
    }

    func testMissingLabelDataset() throws {
        let p = try malformed("nolabel.h5") { RawHDF5.delete($0, "label") }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'label'", "missing"])
    }

    func testMissingModalityDataset() throws {
        let p = try malformed("novisual.h5") { RawHDF5.delete($0, "visual") }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'visual'", "missing"])
    }

    func testSampleCountMismatchBetweenDatasets() throws {
        let p = try malformed("mismatch.h5") { f in
            try RawHDF5.putUInt8(f, "visual", dims: [5, 2, 3, 4, 5], [UInt8](repeating: 1, count: 5 * 120))
        }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'visual'", "5 samples", "'audio' has 6"])
        let q = try malformed("labelcount.h5") { try RawHDF5.putInt32($0, "label", dims: [7], [0, 1, 2, 0, 1, 2, 0]) }
        assertDataError(try HDF5Dataset(path: q), mentions: [q, "'label'", "[7]"])
    }

    func testNegativeLabel() throws {
        let p = try malformed("neg.h5") { try RawHDF5.putInt32($0, "label", dims: [6], [0, 1, 2, -1, 0, 1]) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'label'", "sample 3", "-1"], sample: 3)
    }

    func testLabelNotBelowClasses() throws {
        let p = try malformed("big.h5") { try RawHDF5.putInt32($0, "label", dims: [6], [0, 1, 2, 0, 3, 1]) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'label'", "sample 4", "[0, 3)"], sample: 4)
    }

    func testNaNInAudioIsFoundLazilyAtGather() throws {
        let p = try malformed("nan.h5") { RawHDF5.poke($0, "audio", sample: 4, offset: 7, value: .nan) }
        let d = try HDF5Dataset(path: p)   // opening does not scan the samples
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        XCTAssertEqual(try d.gather([0, 1, 2, 3, 5], into: inputs, epoch: 0, training: true), [0, 1, 2, 0, 2])
        assertDataError(try d.gather([2, 4], into: inputs, epoch: 0, training: true), mentions: [p, "'audio'", "sample 4", "nan"], sample: 4)
        let q = try malformed("inf.h5") { RawHDF5.poke($0, "audio", sample: 0, offset: 0, value: -.infinity) }
        assertDataError(try HDF5Dataset(path: q).gather([0], into: inputs, epoch: 0, training: false), mentions: [q, "'audio'", "inf"], sample: 0)
    }

    func testWrongRank() throws {
        let p = try malformed("rank.h5") { try RawHDF5.putFloat32($0, "audio", dims: [6, 12], [Float](repeating: 0, count: 72)) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'audio'", "rank 2"])
        let q = try malformed("rank2.h5") { try RawHDF5.putInt32($0, "label", dims: [6, 1], [0, 1, 2, 0, 1, 2]) }
        assertDataError(try HDF5Dataset(path: q), mentions: [q, "'label'", "rank 2"])
    }

    func testUnsupportedDtypes() throws {
        let p = try malformed("dtype.h5") { try RawHDF5.putInt32($0, "audio", dims: [6, 1, 3, 4], [Int32](repeating: 0, count: 72)) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'audio'", "int32"])
        let q = try malformed("dtype2.h5") { try RawHDF5.putFloat32($0, "visual", dims: [6, 2, 3, 4, 5], [Float](repeating: 0, count: 720)) }
        assertDataError(try HDF5Dataset(path: q), mentions: [q, "'visual'", "float32", "uint8"])
        let r = try malformed("dtype3.h5") { try RawHDF5.putFloat32($0, "label", dims: [6], [0, 1, 2, 0, 1, 2]) }
        assertDataError(try HDF5Dataset(path: r), mentions: [r, "'label'", "float32"])
    }

    func testVisualChannelsNotThree() throws {
        let p = try malformed("rgba.h5") { try RawHDF5.putUInt8($0, "visual", dims: [6, 2, 4, 4, 5], [UInt8](repeating: 0, count: 6 * 160)) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'visual'", "4 channels"])
    }

    func testMissingRootAttribute() throws {
        let p = try malformed("noclasses.h5") { RawHDF5.deleteAttribute($0, "classes") }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'classes'", "missing", "root group"])
        let q = try malformed("nomodalities.h5") { RawHDF5.deleteAttribute($0, "modalities") }
        assertDataError(try HDF5Dataset(path: q), mentions: [q, "'modalities'"])
    }

    func testUnsupportedFormatVersionAndBadClassNames() throws {
        let p = try malformed("v9.h5") { try H5.writeAttribute($0, "format_version", int: 9, file: "test") }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "format_version 9"])
        let q = try malformed("names.h5") { try H5.writeAttribute($0, "class_names", strings: ["a", "b"], scalar: false, file: "test") }
        assertDataError(try HDF5Dataset(path: q), mentions: [q, "class_names", "2 names for 3 classes"])
    }

    func testKindOutOfRange() throws {
        let p = try malformed("kind.h5") { f in
            RawHDF5.delete(f, "kind")
            try RawHDF5.putUInt8(f, "kind", dims: [6], [0, 1, 2, 3, 4, 0])
        }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'kind'", "sample 4", "[0, 3]"], sample: 4)
    }

    func testDuplicateIds() throws {
        let p = try malformed("dupids.h5") { RawHDF5.putVariableStrings($0, "id", ["a", "b", "c", "b", "e", "f"]) }
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "'id'", "duplicate id 'b'", "sample 1"], sample: 3)
    }

    func testNotAnHDF5File() throws {
        let p = path("text.h5")
        try "label,audio\n1,2\n".write(toFile: p, atomically: true, encoding: .utf8)
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "not an HDF5 file"])
    }

    func testMissingFile() throws {
        let p = path("absent.h5")
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "no such file"])
    }

    func testZeroByteFile() throws {
        let p = path("empty.h5")
        FileManager.default.createFile(atPath: p, contents: Data())
        assertDataError(try HDF5Dataset(path: p), mentions: [p, "0 bytes"])
    }

    func testTruncatedFile() throws {
        let good = path("good.h5"), p = path("truncated.h5")
        try Fixtures.write(good, n: 6)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: p))
        let e = assertDataError(try HDF5Dataset(path: p), mentions: [p])
        XCTAssertNotNil(e)
    }

    func testGatherOfAnIndexOutOfRange() throws {
        let p = path("ok.h5")
        try Fixtures.write(p, n: 6)
        let d = try HDF5Dataset(path: p)
        assertDataError(try d.gather([1, 6], into: [Tensor(shape: [0]), Tensor(shape: [0])], epoch: 0, training: false),
                        mentions: [p, "sample 6"], sample: 6)
    }
}
