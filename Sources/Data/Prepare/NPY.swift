import Foundation

/// A NumPy `.npy` array (format versions 1.0, 2.0 and 3.0), C order, little-endian dtypes
/// `|u1` (uint8), `<i2` (int16), `<i8` (int64) and `<f4` (float32) (also `|i1`, `<u2`, `<i4`, `<f8`).
/// The raw bytes are kept; typed accessors copy them out.
///
/// Header: magic "\x93NUMPY", major, minor, header length (uint16 for 1.0, uint32 for 2.0/3.0),
/// then a Python dict literal `{'descr': '<i2', 'fortran_order': False, 'shape': (N,), }`.
/// Fortran order, big-endian, object and structured dtypes, and files shorter than the shape
/// says are rejected with a `DataError` naming the file.
public struct NPYArray: Sendable {
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "u1", int8 = "i1", int16 = "i2", uint16 = "u2", int32 = "i4", int64 = "i8", float32 = "f4", float64 = "f8"
        public var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16, .uint16: return 2
            case .int32, .float32: return 4
            case .int64, .float64: return 8
            }
        }
    }

    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// The element bytes (count * dtype.size), little-endian.
    public let bytes: Data

    public var count: Int { shape.reduce(1, *) }

    public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    public static func read(path: String) throws -> NPYArray {
        let data = try readInputFile(path, mapped: true)
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name: String) throws -> NPYArray {
        func fail(_ m: String) -> DataError { DataError(file: name, m) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard data.count >= 10, Array(data.prefix(6)) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
        let base = data.startIndex
        let major = data[base + 6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[base + 8]) | Int(data[base + 9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[base + 8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(data[base + 7])")
        }
        guard headerStart + headerLength <= data.count else { throw fail("truncated .npy header") }
        let header = String(decoding: data[(base + headerStart)..<(base + headerStart + headerLength)], as: UTF8.self)

        guard let descr = stringValue(header, key: "descr") else { throw fail("header has no 'descr': \(header)") }
        guard let fortran = rawValue(header, key: "fortran_order") else { throw fail("header has no 'fortran_order'") }
        guard let shapeText = rawValue(header, key: "shape") else { throw fail("header has no 'shape'") }
        guard fortran.hasPrefix("False") else { throw fail("Fortran-order arrays are not supported") }

        var code = descr
        let order = code.first
        if order == "<" || order == "|" || order == "=" { code.removeFirst() } else if order == ">" {
            guard descr.hasSuffix("1") else { throw fail("big-endian dtype '\(descr)' is not supported") }
            code.removeFirst()
        }
        guard let dtype = DType(rawValue: code) else {
            throw fail("unsupported dtype '\(descr)' (supported: |u1 |i1 <i2 <u2 <i4 <i8 <f4 <f8)")
        }
        guard shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else { throw fail("malformed shape in header: \(header)") }
        let inner = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw fail("malformed shape '\(shapeText[...close])'") }
            shape.append(v)
        }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength, need = count * dtype.size
        guard data.count - start >= need else {
            throw fail("truncated data: shape \(shape) of \(descr) needs \(need) bytes, the file holds \(data.count - start)")
        }
        return NPYArray(name: name, dtype: dtype, shape: shape, bytes: data.subdata(in: (base + start)..<(base + start + need)))
    }

    /// The value text after `'key':` up to the next top-level comma (tuples kept whole).
    private static func rawValue(_ header: String, key: String) -> String? {
        guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[r.upperBound...].drop(while: { $0 == " " })
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        return String(rest)
    }

    private static func stringValue(_ header: String, key: String) -> String? {
        guard let v = rawValue(header, key: key), let q = v.first, q == "'" || q == "\"" else { return nil }
        let body = v.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        return String(body[..<end])
    }

    private func check(_ t: DType) throws {
        guard dtype == t else { throw DataError(file: name, "dtype is \(dtype.rawValue), expected \(t.rawValue)") }
    }

    /// The elements as `T` (a fixed-width integer or float bit pattern of dtype's size), copied in one go.
    private func load<T: FixedWidthInteger>(_ t: DType, as: T.Type) throws -> [T] {
        try check(t)
        let n = count
        let out = [T](unsafeUninitializedCapacity: n) { buf, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: n * t.size)
            }
            initialized = n
        }
        #if _endian(big)
        return out.map { T(littleEndian: $0) }
        #else
        return out
        #endif
    }

    public func uint8() throws -> [UInt8] { try check(.uint8); return [UInt8](bytes) }
    public func int16() throws -> [Int16] { try load(.int16, as: Int16.self) }
    public func int64() throws -> [Int64] { try load(.int64, as: Int64.self) }
    public func float32() throws -> [Float] { try load(.float32, as: UInt32.self).map { Float(bitPattern: $0) } }

    /// Any integer dtype as Int.
    public func integers() throws -> [Int] {
        switch dtype {
        case .uint8: return bytes.map { Int($0) }
        case .int8: return bytes.map { Int(Int8(bitPattern: $0)) }
        case .int16: return try int16().map { Int($0) }
        case .uint16: return try load(.uint16, as: UInt16.self).map { Int($0) }
        case .int32: return try load(.int32, as: Int32.self).map { Int($0) }
        case .int64: return try int64().map { Int($0) }
        case .float32, .float64: throw DataError(file: name, "dtype is \(dtype.rawValue), expected an integer type")
        }
    }

    /// Any numeric dtype as Float.
    public func floats() throws -> [Float] {
        switch dtype {
        case .float32: return try float32()
        case .float64:
            return try load(.float64, as: UInt64.self).map { Float(Double(bitPattern: $0)) }
        default: return try integers().map { Float($0) }
        }
    }

    /// Writes a version 1.0 .npy (header padded to a multiple of 64 bytes, as numpy does).
    public static func encode(dtype: DType, shape: [Int], bytes: Data) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let descr = (dtype.size == 1 ? "|" : "<") + dtype.rawValue
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let n = UInt16(header.utf8.count)
        d.append(UInt8(n & 0xFF)); d.append(UInt8(n >> 8))
        d.append(contentsOf: Array(header.utf8))
        d.append(bytes)
        return d
    }
}
