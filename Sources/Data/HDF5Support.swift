import CHDF5
import Foundation

// Thin internal layer over the HDF5 C API shared by the writer, the reader and the tests.
//
// The Debian HDF5 (built for OpenMPI) is not thread-safe, so every call into the library from
// this module holds `hdf5Lock` (recursive, so helpers may nest). Only the byte copies and the
// augmentation run outside it.

let hdf5Lock = NSRecursiveLock()

/// HDF5 prints its error stack to stderr by default; errors are reported as `DataError` instead.
private let hdf5Setup: Bool = {
    chdf5_silence_errors()
    return true
}()

@inline(__always)
func withHDF5<T>(_ body: () throws -> T) rethrows -> T {
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    _ = hdf5Setup
    return try body()
}

let h5Default = hid_t(H5P_DEFAULT)
/// H5S_ALL is a cast macro Swift cannot import.
let h5All = hid_t(0)

enum H5 {
    /// File locking of SPICE's opens, unless the user set HDF5_USE_FILE_LOCKING (then HDF5 follows
    /// the variable and the property is left alone). Readers do not lock: read-only opens never
    /// conflict, and locks fail on some shared (network) file systems. Writers lock, but carry on
    /// on a file system where locking is disabled (HDF5's `ignore_when_disabled`).
    static func configureLocking(_ fapl: hid_t, readOnly: Bool) {
        guard chdf5_file_locking_env_set() == 0 else { return }
        H5Pset_file_locking(fapl, !readOnly, true)
    }

    /// The current HDF5 error stack as one line ("" when empty); clears the stack. Lock held.
    static func reason() -> String {
        var buf = [CChar](repeating: 0, count: 512)
        buf.withUnsafeMutableBufferPointer { chdf5_take_error($0.baseAddress!) }
        let inner = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let outer = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress! + 256) }
        if inner.isEmpty { return outer }
        if outer.isEmpty || outer == inner { return inner }
        return "\(outer) (\(inner))"
    }

    /// `message`, followed by HDF5's own explanation when it has one.
    static func error(_ file: String, dataset: String? = nil, sample: Int? = nil, _ message: String) -> DataError {
        let r = reason()
        return DataError(file: file, dataset: dataset, sample: sample, r.isEmpty ? message : "\(message): HDF5 says \(r)")
    }

    static func linkExists(_ loc: hid_t, _ name: String) -> Bool {
        let r = H5Lexists(loc, name, h5Default)
        if r < 0 { _ = reason() }
        return r > 0
    }

    static func attributeExists(_ obj: hid_t, _ name: String) -> Bool {
        let r = H5Aexists(obj, name)
        if r < 0 { _ = reason() }
        return r > 0
    }

    static func dims(ofSpace space: hid_t) -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var d = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &d, nil)
        return d.map { Int($0) }
    }

    static func dims(ofDataset d: hid_t) -> [Int] {
        let s = H5Dget_space(d)
        defer { H5Sclose(s) }
        return dims(ofSpace: s)
    }

    /// A human-readable name of an HDF5 datatype, for error messages.
    static func describe(type t: hid_t) -> String {
        let size = H5Tget_size(t)
        switch H5Tget_class(t) {
        case H5T_INTEGER: return "\(H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int")\(size * 8)"
        case H5T_FLOAT: return "float\(size * 8)"
        case H5T_STRING: return "string"
        case H5T_COMPOUND: return "compound"
        case H5T_ENUM: return "enum"
        case H5T_ARRAY: return "array"
        case H5T_VLEN: return "variable-length sequence"
        case H5T_OPAQUE: return "opaque"
        case H5T_BITFIELD: return "bitfield"
        case H5T_REFERENCE: return "reference"
        default: return "unknown type"
        }
    }

    // MARK: Strings

    /// Reads `count` strings of file type `fileType` (fixed-length or variable-length) through `read`
    /// (an H5Aread/H5Dread call given the memory type and buffer). Returns nil when `read` fails.
    static func readStrings(fileType: hid_t, count: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        let mem = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(mem) }
        H5Tset_cset(mem, H5Tget_cset(fileType))
        if H5Tis_variable_str(fileType) > 0 {
            H5Tset_size(mem, chdf5_t_variable())
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
            let rc = ptrs.withUnsafeMutableBytes { read(mem, $0.baseAddress!) }
            defer { for p in ptrs where p != nil { H5free_memory(p) } }
            guard rc >= 0 else { return nil }
            return (0..<count).map { ptrs[$0].map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(fileType)
        guard size > 0 else { return nil }
        H5Tset_size(mem, size)
        H5Tset_strpad(mem, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: max(count * size, 1))
        let rc = bytes.withUnsafeMutableBytes { read(mem, $0.baseAddress!) }
        guard rc >= 0 else { return nil }
        return (0..<count).map { i in
            let field = bytes[(i * size)..<((i + 1) * size)]
            let end = field.firstIndex(of: 0) ?? field.endIndex
            return String(decoding: field[field.startIndex..<end], as: UTF8.self)
        }
    }

    /// A fixed-length, NUL-padded UTF-8 string type wide enough for `strings`. Close with H5Tclose.
    static func fixedStringType(for strings: [String]) -> (type: hid_t, width: Int) {
        let width = max(1, strings.map { $0.utf8.count }.max() ?? 1)
        let t = H5Tcopy(chdf5_c_s1())
        H5Tset_size(t, width)
        H5Tset_strpad(t, H5T_STR_NULLPAD)
        H5Tset_cset(t, H5T_CSET_UTF8)
        return (t, width)
    }

    static func packStrings(_ strings: [String], width: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(strings.count * width, 1))
        for (i, s) in strings.enumerated() {
            for (j, b) in s.utf8.enumerated() { bytes[i * width + j] = b }
        }
        return bytes
    }

    // MARK: Attributes

    enum AttributeValue {
        case ints([Int64]), floats([Double]), strings([String])
    }

    /// Reads an attribute of any integer, float or string type; nil when absent.
    static func readAttribute(_ obj: hid_t, _ name: String, file: String, owner: String) throws -> AttributeValue? {
        guard attributeExists(obj, name) else { return nil }
        let a = H5Aopen(obj, name, h5Default)
        guard a >= 0 else { throw error(file, dataset: owner, "cannot open attribute '\(name)'") }
        defer { H5Aclose(a) }
        let t = H5Aget_type(a), s = H5Aget_space(a)
        defer { H5Tclose(t); H5Sclose(s) }
        let n = Int(H5Sget_simple_extent_npoints(s))
        switch H5Tget_class(t) {
        case H5T_INTEGER:
            var v = [Int64](repeating: 0, count: max(n, 1))
            guard H5Aread(a, chdf5_native_int64(), &v) >= 0 else { throw error(file, dataset: owner, "cannot read attribute '\(name)'") }
            return .ints(Array(v.prefix(n)))
        case H5T_FLOAT:
            var v = [Double](repeating: 0, count: max(n, 1))
            guard H5Aread(a, chdf5_native_double(), &v) >= 0 else { throw error(file, dataset: owner, "cannot read attribute '\(name)'") }
            return .floats(Array(v.prefix(n)))
        case H5T_STRING:
            guard let v = readStrings(fileType: t, count: n, read: { H5Aread(a, $0, $1) }) else {
                throw error(file, dataset: owner, "cannot read string attribute '\(name)'")
            }
            return .strings(v)
        default:
            throw DataError(file: file, dataset: owner, "attribute '\(name)' has unsupported type \(describe(type: t))")
        }
    }

    private static func createAttribute(_ obj: hid_t, _ name: String, type: hid_t, count: Int?, file: String,
                                        write: (hid_t) -> herr_t) throws {
        if attributeExists(obj, name) { H5Adelete(obj, name) }
        let space: hid_t
        if let count {
            var d = [hsize_t(count)]
            space = H5Screate_simple(1, &d, nil)
        } else {
            space = H5Screate(H5S_SCALAR)
        }
        defer { H5Sclose(space) }
        let a = H5Acreate2(obj, name, type, space, h5Default, h5Default)
        guard a >= 0 else { throw error(file, "cannot create attribute '\(name)'") }
        defer { H5Aclose(a) }
        guard write(a) >= 0 else { throw error(file, "cannot write attribute '\(name)'") }
    }

    /// A scalar int32 attribute.
    static func writeAttribute(_ obj: hid_t, _ name: String, int value: Int, file: String) throws {
        var v = Int32(clamping: value)
        try createAttribute(obj, name, type: chdf5_std_i32le(), count: nil, file: file) { H5Awrite($0, chdf5_native_int32(), &v) }
    }

    /// A 1-D float32 attribute.
    static func writeAttribute(_ obj: hid_t, _ name: String, floats: [Float], file: String) throws {
        try createAttribute(obj, name, type: chdf5_ieee_f32le(), count: floats.count, file: file) { a in
            floats.withUnsafeBytes { H5Awrite(a, chdf5_native_float(), $0.baseAddress!) }
        }
    }

    /// A fixed-length UTF-8 string attribute: scalar for one string, else 1-D.
    static func writeAttribute(_ obj: hid_t, _ name: String, strings: [String], scalar: Bool, file: String) throws {
        let (t, width) = fixedStringType(for: strings)
        defer { H5Tclose(t) }
        let bytes = packStrings(strings, width: width)
        try createAttribute(obj, name, type: t, count: scalar ? nil : strings.count, file: file) { a in
            bytes.withUnsafeBytes { H5Awrite(a, t, $0.baseAddress!) }
        }
    }

    // MARK: Datasets

    /// Creates a dataset (chunked when `chunk` is given, extendible along dim 0 when `extendible`).
    static func createDataset(_ loc: hid_t, _ name: String, fileType: hid_t, dims: [Int], chunk: [Int]? = nil,
                              extendible: Bool = false, deflate: Int? = nil, file: String) throws -> hid_t {
        var d = dims.map { hsize_t($0) }
        var maxd = d
        if extendible { maxd[0] = chdf5_s_unlimited() }
        let space = H5Screate_simple(Int32(d.count), &d, &maxd)
        guard space >= 0 else { throw error(file, dataset: name, "cannot create dataspace \(dims)") }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(dcpl) }
        if let chunk {
            var c = chunk.map { hsize_t(max($0, 1)) }
            guard H5Pset_chunk(dcpl, Int32(c.count), &c) >= 0 else { throw error(file, dataset: name, "bad chunk shape \(chunk)") }
            if let deflate { H5Pset_deflate(dcpl, UInt32(deflate)) }
        }
        let ds = H5Dcreate2(loc, name, fileType, space, h5Default, dcpl, h5Default)
        guard ds >= 0 else { throw error(file, dataset: name, "cannot create dataset") }
        return ds
    }

    /// Creates a contiguous dataset and writes all of it from `data` (memory type `memType`).
    static func writeDataset(_ loc: hid_t, _ name: String, fileType: hid_t, memType: hid_t, dims: [Int],
                             data: UnsafeRawPointer, file: String) throws {
        let ds = try createDataset(loc, name, fileType: fileType, dims: dims, file: file)
        defer { H5Dclose(ds) }
        guard H5Dwrite(ds, memType, h5All, h5All, h5Default, data) >= 0 else {
            throw error(file, dataset: name, "cannot write dataset")
        }
    }

    static func writeStrings(_ loc: hid_t, _ name: String, _ strings: [String], file: String) throws {
        let (t, width) = fixedStringType(for: strings)
        defer { H5Tclose(t) }
        let bytes = packStrings(strings, width: width)
        try bytes.withUnsafeBytes {
            try writeDataset(loc, name, fileType: t, memType: t, dims: [strings.count], data: $0.baseAddress!, file: file)
        }
    }
}
