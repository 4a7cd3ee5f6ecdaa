/// im2col / col2im for one image: the input [C, H, W] is unfolded into a matrix with one row per
/// (c, kernel row, kernel column) and one column per output pixel, so convolution becomes one GEMM.
/// `ldc` is the column matrix's row stride, letting several images share one wide matrix.

public func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, s = g.stride, p = g.padding
    var row = 0
    for c in 0..<g.inChannels {
        let plane = input + c * h * w
        for ki in 0..<g.kernelH {
            for kj in 0..<g.kernelW {
                let dst = col + row * ldc
                // Output columns whose input column iw = ox*s - p + kj is inside [0, w).
                let oxLo = max(0, (p - kj + s - 1) / s)
                let oxHi = min(ow, floorDiv(w - 1 + p - kj, s) + 1)
                for oy in 0..<oh {
                    let d = dst + oy * ow
                    let iy = oy * s - p + ki
                    if iy < 0 || iy >= h || oxLo >= oxHi {
                        d.update(repeating: 0, count: ow)
                        continue
                    }
                    if oxLo > 0 { d.update(repeating: 0, count: oxLo) }
                    if oxHi < ow { (d + oxHi).update(repeating: 0, count: ow - oxHi) }
                    let src = plane + iy * w + (oxLo * s - p + kj)
                    if s == 1 {
                        (d + oxLo).update(from: src, count: oxHi - oxLo)
                    } else {
                        var k = 0
                        for ox in oxLo..<oxHi { d[ox] = src[k]; k += s }
                    }
                }
                row += 1
            }
        }
    }
}

/// Adds the column matrix back into the image gradient (the adjoint of im2col).
/// `input` must be zeroed (or hold a gradient to accumulate into) by the caller.
public func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, ldc: Int, input: UnsafeMutablePointer<Float>) {
    let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, s = g.stride, p = g.padding
    var row = 0
    for c in 0..<g.inChannels {
        let plane = input + c * h * w
        for ki in 0..<g.kernelH {
            for kj in 0..<g.kernelW {
                let src = col + row * ldc
                let oxLo = max(0, (p - kj + s - 1) / s)
                let oxHi = min(ow, floorDiv(w - 1 + p - kj, s) + 1)
                if oxLo < oxHi {
                    for oy in 0..<oh {
                        let iy = oy * s - p + ki
                        if iy < 0 || iy >= h { continue }
                        let srow = src + oy * ow
                        let d = plane + iy * w + (oxLo * s - p + kj)
                        if s == 1 {
                            for k in 0..<(oxHi - oxLo) { d[k] += srow[oxLo + k] }
                        } else {
                            var k = 0
                            for ox in oxLo..<oxHi { d[k] += srow[ox]; k += s }
                        }
                    }
                }
                row += 1
            }
        }
    }
}

/// Division rounding toward minus infinity (Swift's `/` truncates toward zero).
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}
