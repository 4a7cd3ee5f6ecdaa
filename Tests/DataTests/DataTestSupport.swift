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

/// Small deterministic files for the reader tests.
enum Fixtures {
    static let audio = ModalitySpec.spectrogram("audio", channels: 1, height: 3, width: 4)
    static let visual = ModalitySpec.frames("visual", frames: 2, height: 4, width: 5)

    static func audioValues(_ i: Int) -> [Float] { (0..<audio.sampleCount).map { Float(i * 100 + $0) * 0.25 - 3 } }
    static func visualValues(_ i: Int) -> [UInt8] { (0..<visual.sampleCount).map { UInt8((i * 37 + $0 * 7) % 256) } }

    /// `n` samples, labels i % classes, ids "s<i>", kinds i % 4, ratings [i/n, 1 - i/n].
    @discardableResult
    static func write(_ path: String, n: Int = 6, classes: Int = 3, audio: ModalitySpec = audio, visual: ModalitySpec = visual,
                      audioValues: (Int) -> [Float] = audioValues, visualValues: (Int) -> [UInt8] = visualValues) throws -> HDF5Writer {
        let header = DatasetHeader(modalities: [audio, visual], classes: classes, classNames: (0..<classes).map { "c\($0)" },
                                   preprocessing: "test recipe: 16 kHz, 25 fps", storesIds: true, storesKinds: true, storesRatings: true)
        let w = try HDF5Writer(path: path, header: header)
        for i in 0..<n {
            try w.append(label: i % classes, values: [.float(audioValues(i)), .bytes(visualValues(i))], id: "s\(i)",
                         kind: UInt8(i % 4), ratings: [Float(i) / Float(n), 1 - Float(i) / Float(n)])
        }
        try w.finish()
        return w
    }
}

/// Raw HDF5 edits for building malformed files (through the module's internal helpers).
enum RawHDF5 {
    static func edit(_ path: String, _ body: (hid_t) throws -> Void) throws {
        try withHDF5 {
            let f = H5Fopen(path, chdf5_acc_rdwr(), h5Default)
            guard f >= 0 else { throw DataError(file: path, "test: cannot open for editing") }
            defer { H5Fclose(f) }
            try body(f)
        }
    }

    static func delete(_ f: hid_t, _ name: String) {
        precondition(H5Ldelete(f, name, h5Default) >= 0, "cannot delete \(name)")
    }

    static func deleteAttribute(_ obj: hid_t, _ name: String) {
        precondition(H5Adelete(obj, name) >= 0, "cannot delete attribute \(name)")
    }

    /// Replaces (or creates) dataset `name` with int32 values of shape `dims`.
    static func putInt32(_ f: hid_t, _ name: String, dims: [Int], _ values: [Int32]) throws {
        if H5.linkExists(f, name) { delete(f, name) }
        try values.withUnsafeBytes {
            try H5.writeDataset(f, name, fileType: chdf5_std_i32le(), memType: chdf5_native_int32(), dims: dims, data: $0.baseAddress!, file: "test")
        }
    }

    static func putFloat32(_ f: hid_t, _ name: String, dims: [Int], _ values: [Float]) throws {
        if H5.linkExists(f, name) { delete(f, name) }
        try values.withUnsafeBytes {
            try H5.writeDataset(f, name, fileType: chdf5_ieee_f32le(), memType: chdf5_native_float(), dims: dims, data: $0.baseAddress!, file: "test")
        }
    }

    static func putUInt8(_ f: hid_t, _ name: String, dims: [Int], _ values: [UInt8]) throws {
        if H5.linkExists(f, name) { delete(f, name) }
        try values.withUnsafeBytes {
            try H5.writeDataset(f, name, fileType: chdf5_std_u8le(), memType: chdf5_native_uint8(), dims: dims, data: $0.baseAddress!, file: "test")
        }
    }

    /// Writes one float into an existing float32 dataset at flat element offset `offset`.
    static func poke(_ f: hid_t, _ name: String, sample: Int, offset: Int, value: Float) {
        let ds = H5Dopen2(f, name, h5Default)
        precondition(ds >= 0)
        defer { H5Dclose(ds) }
        let dims = H5.dims(ofDataset: ds)
        let fs = H5Dget_space(ds)
        defer { H5Sclose(fs) }
        var coord = [hsize_t](repeating: 0, count: dims.count)
        coord[0] = hsize_t(sample)
        var rest = offset
        for d in stride(from: dims.count - 1, through: 1, by: -1) { coord[d] = hsize_t(rest % dims[d]); rest /= dims[d] }
        H5Sselect_elements(fs, H5S_SELECT_SET, 1, coord)
        var one = [hsize_t(1)]
        let ms = H5Screate_simple(1, &one, nil)
        defer { H5Sclose(ms) }
        var v = value
        precondition(H5Dwrite(ds, chdf5_native_float(), ms, fs, h5Default, &v) >= 0)
    }

    /// A variable-length string dataset (as h5py writes by default).
    static func putVariableStrings(_ f: hid_t, _ name: String, _ strings: [String]) {
        if H5.linkExists(f, name) { delete(f, name) }
        let t = H5Tcopy(chdf5_c_s1())
        H5Tset_size(t, chdf5_t_variable())
        H5Tset_cset(t, H5T_CSET_UTF8)
        defer { H5Tclose(t) }
        var dims = [hsize_t(strings.count)]
        let s = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(s) }
        let ds = H5Dcreate2(f, name, t, s, h5Default, h5Default, h5Default)
        precondition(ds >= 0)
        defer { H5Dclose(ds) }
        let cstrings = strings.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        var ptrs = cstrings.map { UnsafePointer($0) }
        precondition(H5Dwrite(ds, t, h5All, h5All, h5Default, &ptrs) >= 0)
    }
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
