import XCTest
import TestSupport
import Foundation
@testable import Data

final class ImagePrepareTests: XCTestCase {
    struct Expected {
        let width: Int, height: Int, rgb: [UInt8], pattern: [UInt8]?
    }

    /// images.json of make_images.py: Pillow's decoded pixels per file, and Pillow's resizes.
    static func expected() throws -> (files: [String: Expected], resize: [String: Expected]) {
        let json = try Data(contentsOf: PrepareFixtures.directory.appendingPathComponent("images.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        func entry(_ d: Any?) throws -> Expected {
            let e = try XCTUnwrap(d as? [String: Any])
            return Expected(width: try XCTUnwrap(e["width"] as? Int), height: try XCTUnwrap(e["height"] as? Int),
                            rgb: try XCTUnwrap(e["rgb"] as? [Int]).map { UInt8($0) },
                            pattern: (e["pattern"] as? [Int])?.map { UInt8($0) })
        }
        var files: [String: Expected] = [:], resize: [String: Expected] = [:]
        for (k, v) in try XCTUnwrap(root["files"] as? [String: Any]) { files[k] = try entry(v) }
        for (k, v) in try XCTUnwrap(root["resize"] as? [String: Any]) { resize[k] = try entry(v) }
        return (files, resize)
    }

    /// Interleaved RGB of a decoded image (grey replicated).
    func rgb(_ im: Image8) -> [UInt8] {
        im.channels == 3 ? im.pixels : im.pixels.flatMap { [$0, $0, $0] }
    }

    func testPNGDecodeMatchesGeneratedPixels() throws {
        let (files, _) = try Self.expected()
        for name in ["rgb.png", "grey.png", "palette.png", "rgba.png"] {
            let e = try XCTUnwrap(files[name])
            let im = try ImageDecoder.read(path: PrepareFixtures.path(name))
            XCTAssertEqual(im.width, e.width, name); XCTAssertEqual(im.height, e.height, name)
            XCTAssertEqual(im.channels, 3, name)
            XCTAssertEqual(im.pixels, e.rgb, name)      // lossless: exactly what Pillow decodes
        }
        // ... which is the generating pattern (the alpha of rgba.png is dropped, the colours kept).
        XCTAssertEqual(try ImageDecoder.read(path: PrepareFixtures.path("rgb.png")).pixels, try XCTUnwrap(files["rgb.png"]?.pattern))
        XCTAssertEqual(try ImageDecoder.read(path: PrepareFixtures.path("rgba.png")).pixels, try XCTUnwrap(files["rgba.png"]?.pattern))
        // 16-bit samples are scaled to 8 bits (round(v / 257)), not colour-managed or clipped.
        let g16 = try ImageDecoder.read(path: PrepareFixtures.path("grey16.png"))
        XCTAssertEqual(g16.pixels, try XCTUnwrap(files["grey16.png"]?.pattern).flatMap { [$0, $0, $0] })
        let grey = try ImageDecoder.read(path: PrepareFixtures.path("grey.png"))
        XCTAssertEqual(grey[3, 2, 1], 171)                                  // (40*3 + 25*2 + 1) % 256
        let rgbImage = try ImageDecoder.read(path: PrepareFixtures.path("rgb.png"))
        let px: [UInt8] = [rgbImage[6, 4, 0], rgbImage[6, 4, 1], rgbImage[6, 4, 2]]
        XCTAssertEqual(px, [10, 242, 171])                                   // ((37x+11y), (5x+53y), (7xy+3)) % 256 at (6, 4)
    }

    func testJPEGDecodeMatchesPillow() throws {
        let (files, _) = try Self.expected()
        for name in ["rgb.jpg", "grey.jpg"] {
            let e = try XCTUnwrap(files[name])
            let im = try ImageDecoder.read(path: PrepareFixtures.path(name))
            XCTAssertEqual([im.width, im.height], [e.width, e.height], name)
            // Same libjpeg-turbo algorithms (islow IDCT, fancy upsampling): equal up to 1 level.
            let diff = zip(rgb(im), e.rgb).map { abs(Int($0) - Int($1)) }.max() ?? 99
            XCTAssertLessThanOrEqual(diff, 1, name)
            // And close to the pattern that was compressed (quality 90-95).
            let pattern = try XCTUnwrap(e.pattern)
            let src = pattern.count == im.width * im.height ? pattern.flatMap { [$0, $0, $0] } : pattern
            let err = zip(rgb(im), src).map { abs(Int($0) - Int($1)) }.max() ?? 99
            XCTAssertLessThanOrEqual(err, 12, name)
        }
    }

    func testNPYImageDecode() throws {
        let (files, _) = try Self.expected()
        let im = try ImageDecoder.read(path: PrepareFixtures.path("rgb.npy"))
        XCTAssertEqual([im.width, im.height, im.channels], [7, 5, 3])
        XCTAssertEqual(im.pixels, try XCTUnwrap(files["rgb.png"]?.pattern))
        // [H, W] grey
        let g = NPYArray.encode(dtype: .uint8, shape: [2, 3], bytes: Data([1, 2, 3, 4, 5, 6]))
        let gi = try ImageDecoder.decode(g, name: "g.npy")
        XCTAssertEqual([gi.width, gi.height, gi.channels], [3, 2, 1])
        XCTAssertThrowsError(try ImageDecoder.decode(NPYArray.encode(dtype: .int16, shape: [2, 2], bytes: Data(count: 8)), name: "i.npy")) {
            XCTAssertEqual("\($0)", "i.npy: image arrays must be uint8 (|u1), got i2")
        }
    }

    func testBadImagesAreReportedByName() throws {
        func message(_ d: Data, _ name: String) -> String {
            do { _ = try ImageDecoder.decode(d, name: name); return "no error" } catch { return "\(error)" }
        }
        let png = try Data(contentsOf: PrepareFixtures.directory.appendingPathComponent("rgb.png"))
        let jpg = try Data(contentsOf: PrepareFixtures.directory.appendingPathComponent("rgb.jpg"))
        XCTAssertEqual(message(Data("GIF89a....".utf8), "x.gif"), "x.gif: not a PNG, JPEG or .npy image (unknown signature)")
        XCTAssertEqual(message(Data(), "e.png"), "e.png: empty file, not an image")
        let truncatedPNG = message(png.prefix(png.count - 20), "t.png")
        XCTAssertTrue(truncatedPNG.hasPrefix("t.png: PNG decode failed: "), truncatedPNG)
        var badCRC = png
        badCRC[badCRC.count - 20] ^= 0xFF
        XCTAssertTrue(message(badCRC, "c.png").hasPrefix("c.png: PNG decode failed: "), message(badCRC, "c.png"))
        let truncatedJPEG = message(jpg.prefix(jpg.count - 40), "t.jpg")   // cut inside the entropy-coded scan
        XCTAssertTrue(truncatedJPEG.hasPrefix("t.jpg: JPEG decode failed: corrupt JPEG data: Premature end of JPEG file"), truncatedJPEG)
        let garbage = message(jpg.prefix(jpg.count / 2), "g.jpg")           // cut before the scan
        XCTAssertTrue(garbage.hasPrefix("g.jpg: JPEG decode failed: "), garbage)
    }

    func testResizeMatchesPillowBilinear() throws {
        let (_, resize) = try Self.expected()
        let src = try XCTUnwrap(resize["source"])
        let image = Image8(width: src.width, height: src.height, channels: 3, pixels: src.rgb)
        for key in ["5x7", "20x15", "13x4"] {
            let e = try XCTUnwrap(resize[key])
            let planes = FrameResize.frames([image], height: e.height, width: e.width)   // [1, 3, H, W]
            let hw = e.width * e.height
            var interleaved = [UInt8](repeating: 0, count: hw * 3)
            for c in 0..<3 { for i in 0..<hw { interleaved[i * 3 + c] = planes[c * hw + i] } }
            let diff = zip(interleaved, e.rgb).map { abs(Int($0) - Int($1)) }.max() ?? 99
            XCTAssertEqual(diff, 0, "resize to \(key): max difference \(diff) from Pillow")
        }
        // Same size: untouched. Grey frames replicate into 3 channels.
        let g = Image8(width: 2, height: 1, channels: 1, pixels: [7, 9])
        XCTAssertEqual(FrameResize.frames([g], height: 1, width: 2), [7, 9, 7, 9, 7, 9])
    }

    // MARK: NPY

    func testNPYReaderDtypesAndShapes() throws {
        let i16 = NPYArray.encode(dtype: .int16, shape: [3], bytes: Data([0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80]))
        let a = try NPYArray.parse(i16, name: "a.npy")
        XCTAssertEqual(a.shape, [3]); XCTAssertEqual(a.dtype, .int16)
        XCTAssertEqual(try a.int16(), [1, -1, -32768])
        XCTAssertThrowsError(try a.uint8()) { XCTAssertEqual("\($0)", "a.npy: dtype is i2, expected u1") }

        var i64 = Data()
        for v: Int64 in [0, 5, -7, 1 << 40] { withUnsafeBytes(of: v.littleEndian) { i64.append(contentsOf: $0) } }
        XCTAssertEqual(try NPYArray.parse(NPYArray.encode(dtype: .int64, shape: [2, 2], bytes: i64), name: "b").int64(), [0, 5, -7, 1 << 40])

        var f32 = Data()
        for v: Float in [0.5, -2, .pi] { withUnsafeBytes(of: v.bitPattern.littleEndian) { f32.append(contentsOf: $0) } }
        XCTAssertEqual(try NPYArray.parse(NPYArray.encode(dtype: .float32, shape: [3, 1], bytes: f32), name: "c").float32(), [0.5, -2, .pi])

        let u8 = try NPYArray.parse(NPYArray.encode(dtype: .uint8, shape: [2, 2, 2], bytes: Data(0..<8)), name: "d")
        XCTAssertEqual(u8.shape, [2, 2, 2]); XCTAssertEqual(try u8.uint8(), Array(0..<8))
        // Scalars have shape () and one element.
        XCTAssertEqual(try NPYArray.parse(NPYArray.encode(dtype: .uint8, shape: [], bytes: Data([9])), name: "s").uint8(), [9])
    }

    func testNPYReaderRejectsBadFiles() throws {
        func message(_ d: Data) -> String {
            do { _ = try NPYArray.parse(d, name: "x.npy"); return "no error" } catch { return "\(error)" }
        }
        func header(_ h: String, major: UInt8 = 1) -> Data {
            var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0])
            let n = UInt16(h.utf8.count)
            d.append(UInt8(n & 0xFF)); d.append(UInt8(n >> 8)); d.append(contentsOf: Array(h.utf8))
            return d
        }
        XCTAssertEqual(message(Data("not numpy at all".utf8)), "x.npy: not a .npy file (no \\x93NUMPY magic)")
        XCTAssertEqual(message(header("{'descr': '<i2', 'fortran_order': True, 'shape': (2,), }") + Data(count: 4)),
                       "x.npy: Fortran-order arrays are not supported")
        XCTAssertEqual(message(header("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }") + Data(count: 4)),
                       "x.npy: big-endian dtype '>i2' is not supported")
        XCTAssertEqual(message(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }")),
                       "x.npy: unsupported dtype '|O' (supported: |u1 |i1 <i2 <u2 <i4 <i8 <f4 <f8)")
        XCTAssertEqual(message(header("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }") + Data(count: 4)),
                       "x.npy: truncated data: shape [3] of <i2 needs 6 bytes, the file holds 4")
        XCTAssertEqual(message(header("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", major: 9) + Data(count: 2)),
                       "x.npy: unsupported .npy format version 9.0")
        XCTAssertTrue(message(header("{'descr': '<i2', 'fortran_order': False}")).contains("no 'shape'"))
    }

    func testNPYReadsTheSharedDataHeaders() throws {
        let root = "/work/shared/data"
        guard FileManager.default.fileExists(atPath: root + "/mnist/t10k_labels_uint8.npy") else {
            throw XCTSkip("\(root) not present: the shared-data NPY check needs the shared data folder")
        }
        let labels = try NPYArray.read(path: root + "/mnist/t10k_labels_uint8.npy")
        XCTAssertEqual(labels.shape, [10000]); XCTAssertEqual(labels.dtype, .uint8)
        let counts = try labels.uint8().reduce(into: [Int](repeating: 0, count: 10)) { $0[Int($1)] += 1 }
        XCTAssertEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])   // README's class counts
        let offsets = try NPYArray.read(path: root + "/fsdd/offsets_int64.npy")
        XCTAssertEqual(offsets.shape, [3001]); XCTAssertEqual(try offsets.int64().last, 10_498_424)
    }
}
