import CImage
import Foundation

/// An 8-bit image, row-major, channels interleaved (HWC): 1 channel (grey) or 3 (RGB).
public struct Image8: Sendable, Equatable {
    public var width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "Image8 holds 1 or 3 channels")
        precondition(pixels.count == width * height * channels)
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// Pixel (x, y) channel c (a grey image answers every channel with its one value).
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        pixels[(y * width + x) * channels + (channels == 1 ? 0 : c)]
    }

    /// One channel as a plane (grey: the plane itself for every c).
    public func plane(_ c: Int) -> [UInt8] {
        if channels == 1 { return pixels }
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) { out[i] = pixels[i * 3 + c] }
        return out
    }
}

/// Image files to pixels: PNG through libpng, JPEG through libjpeg-turbo (the system libraries
/// via the CImage module), and uint8 `.npy` arrays ([H, W] grey, [H, W, 1], [H, W, 3] RGB or
/// [H, W, 4] with the alpha dropped). The format is recognised by its signature, not the file name.
public enum ImageDecoder {
    public static func read(path: String) throws -> Image8 {
        let data = try readInputFile(path)
        return try decode(data, name: path)
    }

    public static func decode(_ data: Data, name: String) throws -> Image8 {
        let b = [UInt8](data.prefix(8))
        if b.count >= 8 && b == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return try decodeLibrary(data, name: name, png: true) }
        if b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF { return try decodeLibrary(data, name: name, png: false) }
        if b.count >= 6 && b[0] == 0x93 && Array(b[1..<6]) == Array("NUMPY".utf8) { return try fromNPY(NPYArray.parse(data, name: name)) }
        if data.isEmpty { throw DataError(file: name, "empty file, not an image") }
        throw DataError(file: name, "not a PNG, JPEG or .npy image (unknown signature)")
    }

    private static func decodeLibrary(_ data: Data, name: String, png: Bool) throws -> Image8 {
        var w: Int32 = 0, h: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let out: UnsafeMutablePointer<UInt8>? = data.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self).baseAddress!
            return err.withUnsafeMutableBufferPointer { e in
                png ? cimage_decode_png(p, raw.count, &w, &h, e.baseAddress!, e.count)
                    : cimage_decode_jpeg(p, raw.count, &w, &h, e.baseAddress!, e.count)
            }
        }
        guard let out else {
            let message = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DataError(file: name, "\(png ? "PNG" : "JPEG") decode failed: \(message)")
        }
        defer { cimage_free(out) }
        let n = Int(w) * Int(h) * 3
        return Image8(width: Int(w), height: Int(h), channels: 3, pixels: Array(UnsafeBufferPointer(start: out, count: n)))
    }

    /// A uint8 array [H, W], [H, W, 1], [H, W, 3] or [H, W, 4] (alpha dropped) as an image.
    public static func fromNPY(_ a: NPYArray) throws -> Image8 {
        guard a.dtype == .uint8 else { throw DataError(file: a.name, "image arrays must be uint8 (|u1), got \(a.dtype.rawValue)") }
        let px = try a.uint8()
        switch a.shape.count {
        case 2 where a.shape[0] > 0 && a.shape[1] > 0:
            return Image8(width: a.shape[1], height: a.shape[0], channels: 1, pixels: px)
        case 3 where a.shape[0] > 0 && a.shape[1] > 0 && [1, 3, 4].contains(a.shape[2]):
            let h = a.shape[0], w = a.shape[1], c = a.shape[2]
            if c == 1 { return Image8(width: w, height: h, channels: 1, pixels: px) }
            if c == 3 { return Image8(width: w, height: h, channels: 3, pixels: px) }
            var rgb = [UInt8](repeating: 0, count: w * h * 3)
            for i in 0..<(w * h) { rgb[3 * i] = px[4 * i]; rgb[3 * i + 1] = px[4 * i + 1]; rgb[3 * i + 2] = px[4 * i + 2] }
            return Image8(width: w, height: h, channels: 3, pixels: rgb)
        default:
            throw DataError(file: a.name, "image arrays must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got \(a.shape)")
        }
    }
}

/// Resizing for stored frames: Pillow's `Image.resize(size, BILINEAR)` reproduced in integer
/// arithmetic — a triangle filter whose support grows with the shrink factor (antialiased when
/// shrinking, plain bilinear with half-pixel centres when enlarging), coefficients normalised per
/// output pixel and quantised to 22 fractional bits, horizontal pass first with the intermediate
/// rounded to 8 bits, then the vertical pass. Equal to Pillow's output for the cases the tests
/// check, so frames stored here match what a PIL-based loader (`Image.open(...).resize(...)`) sees.
/// (`ImageOps.resize` is the reader's un-antialiased PyTorch-style resize for augmentation.)
public enum FrameResize {
    static let precisionBits = 22

    /// Per output index: first input index, and the fixed-point weights.
    struct Taps {
        var start: [Int] = [], count: [Int] = [], weights: [[Int32]] = []
    }

    static func taps(inSize: Int, outSize: Int) -> Taps {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        var t = Taps()
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)        // C truncation, as Pillow
            let hi = min(Int(center + support + 0.5), inSize)
            var w = [Double]()
            var total = 0.0
            if hi > lo {
                for x in lo..<hi {
                    let u = abs((Double(x) - center + 0.5) / filterScale)
                    let v = u < 1 ? 1 - u : 0
                    w.append(v); total += v
                }
            }
            let q = w.map { v -> Int32 in
                let k = total != 0 ? v / total : v
                return Int32(k < 0 ? -0.5 + k * Double(1 << precisionBits) : 0.5 + k * Double(1 << precisionBits))
            }
            t.start.append(lo); t.count.append(q.count); t.weights.append(q)
        }
        return t
    }

    @inline(__always)
    static func clip8(_ acc: Int) -> UInt8 {
        let v = acc >> precisionBits
        return UInt8(max(0, min(255, v)))
    }

    /// Resizes one uint8 plane (height x width) to outHeight x outWidth.
    public static func resize(_ plane: [UInt8], width: Int, height: Int, outWidth: Int, outHeight: Int) -> [UInt8] {
        precondition(plane.count == width * height && outWidth >= 1 && outHeight >= 1)
        var cur = plane
        var cw = width
        if outWidth != width {
            let t = taps(inSize: width, outSize: outWidth)
            var next = [UInt8](repeating: 0, count: outWidth * height)
            for y in 0..<height {
                for xx in 0..<outWidth {
                    var acc = 1 << (precisionBits - 1)
                    let s = t.start[xx], ws = t.weights[xx]
                    for k in 0..<ws.count { acc += Int(cur[y * cw + s + k]) * Int(ws[k]) }
                    next[y * outWidth + xx] = clip8(acc)
                }
            }
            cur = next; cw = outWidth
        }
        if outHeight != height {
            let t = taps(inSize: height, outSize: outHeight)
            var next = [UInt8](repeating: 0, count: cw * outHeight)
            for yy in 0..<outHeight {
                let s = t.start[yy], ws = t.weights[yy]
                for x in 0..<cw {
                    var acc = 1 << (precisionBits - 1)
                    for k in 0..<ws.count { acc += Int(cur[(s + k) * cw + x]) * Int(ws[k]) }
                    next[yy * cw + x] = clip8(acc)
                }
            }
            cur = next
        }
        return cur
    }

    /// Frames for the `frames` modality: each image resized to height x width and laid out as
    /// [T, 3, H, W] uint8 planes (a grey image is replicated into all three channels).
    public static func frames(_ images: [Image8], height: Int, width: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(images.count * 3 * height * width)
        for img in images {
            if img.channels == 1 {
                let p = resize(img.pixels, width: img.width, height: img.height, outWidth: width, outHeight: height)
                for _ in 0..<3 { out.append(contentsOf: p) }
            } else {
                for c in 0..<3 {
                    out.append(contentsOf: resize(img.plane(c), width: img.width, height: img.height, outWidth: width, outHeight: height))
                }
            }
        }
        return out
    }
}
