import Foundation
import CHDF5
import Data

/// Small deterministic HDF5 files in the project's format, for reader and end-to-end tests.
public enum Fixtures {
    public static let audio = ModalitySpec.spectrogram("audio", channels: 1, height: 3, width: 4)
    public static let visual = ModalitySpec.frames("visual", frames: 2, height: 4, width: 5)

    public static func audioValues(_ i: Int) -> [Float] { (0..<audio.sampleCount).map { Float(i * 100 + $0) * 0.25 - 3 } }
    public static func visualValues(_ i: Int) -> [UInt8] { (0..<visual.sampleCount).map { UInt8((i * 37 + $0 * 7) % 256) } }

    /// `n` samples, labels i % classes, ids "s<i>", kinds i % 4, ratings [i/n, 1 - i/n].
    @discardableResult
    public static func write(_ path: String, n: Int = 6, classes: Int = 3, audio: ModalitySpec = audio, visual: ModalitySpec = visual,
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

/// Raw HDF5 edits (plain C API) for building malformed files.
public enum RawHDF5 {
    static let plist = hid_t(H5P_DEFAULT)
    static let all = hid_t(0)   // H5S_ALL

    public static func edit(_ path: String, _ body: (hid_t) throws -> Void) throws {
        let f = H5Fopen(path, chdf5_acc_rdwr(), plist)
        guard f >= 0 else { throw DataError(file: path, "test: cannot open for editing") }
        defer { H5Fclose(f) }
        try body(f)
    }

    public static func delete(_ f: hid_t, _ name: String) {
        precondition(H5Ldelete(f, name, plist) >= 0, "cannot delete \(name)")
    }

    public static func deleteAttribute(_ obj: hid_t, _ name: String) {
        precondition(H5Adelete(obj, name) >= 0, "cannot delete attribute \(name)")
    }

    /// Replaces (or creates) dataset `name` with `values` of shape `dims` stored as `fileType`.
    static func put(_ f: hid_t, _ name: String, dims: [Int], fileType: hid_t, memType: hid_t, _ data: UnsafeRawPointer) {
        if H5Lexists(f, name, plist) > 0 { delete(f, name) }
        var d = dims.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(d.count), &d, nil)
        precondition(space >= 0)
        defer { H5Sclose(space) }
        let ds = H5Dcreate2(f, name, fileType, space, plist, plist, plist)
        precondition(ds >= 0, "cannot create \(name)")
        defer { H5Dclose(ds) }
        precondition(H5Dwrite(ds, memType, all, all, plist, data) >= 0, "cannot write \(name)")
    }

    public static func putInt32(_ f: hid_t, _ name: String, dims: [Int], _ values: [Int32]) throws {
        values.withUnsafeBytes { put(f, name, dims: dims, fileType: chdf5_std_i32le(), memType: chdf5_native_int32(), $0.baseAddress!) }
    }

    public static func putFloat32(_ f: hid_t, _ name: String, dims: [Int], _ values: [Float]) throws {
        values.withUnsafeBytes { put(f, name, dims: dims, fileType: chdf5_ieee_f32le(), memType: chdf5_native_float(), $0.baseAddress!) }
    }

    public static func putUInt8(_ f: hid_t, _ name: String, dims: [Int], _ values: [UInt8]) throws {
        values.withUnsafeBytes { put(f, name, dims: dims, fileType: chdf5_std_u8le(), memType: chdf5_native_uint8(), $0.baseAddress!) }
    }

    /// Writes one float into an existing float32 dataset at flat element offset `offset` of `sample`.
    public static func poke(_ f: hid_t, _ name: String, sample: Int, offset: Int, value: Float) {
        let ds = H5Dopen2(f, name, plist)
        precondition(ds >= 0)
        defer { H5Dclose(ds) }
        let fs = H5Dget_space(ds)
        defer { H5Sclose(fs) }
        let rank = Int(H5Sget_simple_extent_ndims(fs))
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(fs, &dims, nil)
        var coord = [hsize_t](repeating: 0, count: rank)
        coord[0] = hsize_t(sample)
        var rest = offset
        for d in stride(from: rank - 1, through: 1, by: -1) { coord[d] = hsize_t(rest % Int(dims[d])); rest /= Int(dims[d]) }
        H5Sselect_elements(fs, H5S_SELECT_SET, 1, coord)
        var one = [hsize_t(1)]
        let ms = H5Screate_simple(1, &one, nil)
        defer { H5Sclose(ms) }
        var v = value
        precondition(H5Dwrite(ds, chdf5_native_float(), ms, fs, plist, &v) >= 0)
    }

    /// A variable-length string dataset (as h5py writes by default).
    public static func putVariableStrings(_ f: hid_t, _ name: String, _ strings: [String]) {
        if H5Lexists(f, name, plist) > 0 { delete(f, name) }
        let t = H5Tcopy(chdf5_c_s1())
        H5Tset_size(t, chdf5_t_variable())
        H5Tset_cset(t, H5T_CSET_UTF8)
        defer { H5Tclose(t) }
        var dims = [hsize_t(strings.count)]
        let s = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(s) }
        let ds = H5Dcreate2(f, name, t, s, plist, plist, plist)
        precondition(ds >= 0)
        defer { H5Dclose(ds) }
        let cstrings = strings.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        var ptrs = cstrings.map { UnsafePointer($0) }
        precondition(H5Dwrite(ds, t, all, all, plist, &ptrs) >= 0)
    }
}
