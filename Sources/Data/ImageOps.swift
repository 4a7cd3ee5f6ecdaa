import Foundation
import Tensor

/// A crop rectangle in pixels: rows top..<top+height, columns left..<left+width.
public struct CropBox: Equatable, Sendable {
    public var top: Int, left: Int, height: Int, width: Int
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top; self.left = left; self.height = height; self.width = width
    }
}

/// Frame preprocessing: torchvision-style RandomResizedCrop parameters, bilinear resampling of
/// uint8 planes (PyTorch `interpolate(mode="bilinear", align_corners=False)`, no antialiasing)
/// fused with the normalisation (x / 255 - mean) / std.
public enum ImageOps {
    /// torchvision `RandomResizedCrop.get_params`: up to 10 tries of a random area fraction in
    /// `scale` and a log-uniform aspect ratio (w/h) in `ratio`; when none fits, the central crop
    /// with the aspect ratio clamped to `ratio` (the whole image if its ratio is inside).
    public static func randomResizedCrop(height: Int, width: Int, scale: ClosedRange<Double> = 0.08...1.0,
                                         ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
                                         rng: inout SeededRandom) -> CropBox {
        let area = Double(height * width)
        let logLo = Foundation.log(ratio.lowerBound), logHi = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * Double(rng.uniform()))
            let aspect = Foundation.exp(logLo + (logHi - logLo) * Double(rng.uniform()))
            // Python's round(): half to even.
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = rng.below(height - h + 1), left = rng.below(width - w + 1)
                return CropBox(top: top, left: left, height: h, width: w)
            }
        }
        return centerCropFallback(height: height, width: width, ratio: ratio)
    }

    /// The crop torchvision falls back to after 10 failed tries.
    public static func centerCropFallback(height: Int, width: Int, ratio: ClosedRange<Double>) -> CropBox {
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// Source taps of one axis for bilinear resampling of `srcCount` pixels starting at `srcStart`
    /// to `outCount` pixels (half-pixel centres, source index clamped at 0 as PyTorch does).
    /// Fills `lo`, `hi` (absolute source indices) and `frac` (weight of `hi`); `reverse` mirrors the output.
    static func axisTaps(outCount: Int, srcStart: Int, srcCount: Int, reverse: Bool,
                         lo: UnsafeMutablePointer<Int32>, hi: UnsafeMutablePointer<Int32>, frac: UnsafeMutablePointer<Float>) {
        let scale = Double(srcCount) / Double(outCount)
        for o in 0..<outCount {
            let src = max(0, (Double(o) + 0.5) * scale - 0.5)
            let i0 = min(Int(src), srcCount - 1)
            let i1 = i0 < srcCount - 1 ? i0 + 1 : i0
            let lambda = Float(src - Double(i0))
            let k = reverse ? outCount - 1 - o : o
            lo[k] = Int32(srcStart + i0); hi[k] = Int32(srcStart + i1); frac[k] = lambda
        }
    }

    /// dst[y, x] = bilinear(src plane) * scale + bias over precomputed row/column taps.
    static func resample(src: UnsafePointer<UInt8>, srcWidth: Int, dst: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
                         rowLo: UnsafePointer<Int32>, rowHi: UnsafePointer<Int32>, rowFrac: UnsafePointer<Float>,
                         colLo: UnsafePointer<Int32>, colHi: UnsafePointer<Int32>, colFrac: UnsafePointer<Float>,
                         scale: Float, bias: Float) {
        for y in 0..<outHeight {
            let r0 = src + Int(rowLo[y]) * srcWidth, r1 = src + Int(rowHi[y]) * srcWidth
            let wy = rowFrac[y]
            let out = dst + y * outWidth
            for x in 0..<outWidth {
                let c0 = Int(colLo[x]), c1 = Int(colHi[x]), wx = colFrac[x]
                let a = Float(r0[c0]), b = Float(r0[c1]), c = Float(r1[c0]), d = Float(r1[c1])
                let top = a + (b - a) * wx, bottom = c + (d - c) * wx
                out[x] = (top + (bottom - top) * wy) * scale + bias
            }
        }
    }

    /// Convenience for one uint8 plane (tests, tools): crop `box` (optionally mirrored), bilinear
    /// resize to outHeight x outWidth, then v * scale + bias.
    public static func resize(_ plane: [UInt8], height: Int, width: Int, box: CropBox? = nil, flip: Bool = false,
                              outHeight: Int, outWidth: Int, scale: Float = 1, bias: Float = 0) -> [Float] {
        precondition(plane.count == height * width)
        let b = box ?? CropBox(top: 0, left: 0, height: height, width: width)
        var out = [Float](repeating: 0, count: outHeight * outWidth)
        var rl = [Int32](repeating: 0, count: outHeight), rh = rl, cl = [Int32](repeating: 0, count: outWidth), ch = cl
        var rf = [Float](repeating: 0, count: outHeight), cf = [Float](repeating: 0, count: outWidth)
        axisTaps(outCount: outHeight, srcStart: b.top, srcCount: b.height, reverse: false, lo: &rl, hi: &rh, frac: &rf)
        axisTaps(outCount: outWidth, srcStart: b.left, srcCount: b.width, reverse: flip, lo: &cl, hi: &ch, frac: &cf)
        plane.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                resample(src: p.baseAddress!, srcWidth: width, dst: o.baseAddress!, outHeight: outHeight, outWidth: outWidth,
                         rowLo: rl, rowHi: rh, rowFrac: rf, colLo: cl, colHi: ch, colFrac: cf, scale: scale, bias: bias)
            }
        }
        return out
    }
}
