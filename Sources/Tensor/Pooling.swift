/// Max pooling (square window) and global average pooling over NCHW planes.
///
/// The forward pass keeps only the maxima; the backward pass finds each window's first maximum
/// again (PyTorch's tie rule: first in scan order). That keeps the forward — which scoring and
/// evaluation run far more often than the backward — a pure vectorised max, and saves an index
/// buffer the size of the output.
public enum MaxPool {
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if g.kernelH == 3 && g.stride == 2 && g.padding == 1 {
            forward3x3s2(g, x: x, y: y)
        } else {
            forwardGeneric(g, x: x, y: y)
        }
    }

    /// The plain window loop, exposed so tests can compare the fast path with it.
    public static func forwardGenericForTesting(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        forwardGeneric(g, x: x, y: y)
    }

    static func forwardGeneric(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, k = g.kernelH, s = g.stride, p = g.padding
        for plane in 0..<(g.batch * g.inChannels) {
            let xp = x + plane * h * w, yp = y + plane * oh * ow
            for oy in 0..<oh {
                let y0 = max(0, oy * s - p), y1 = min(h, oy * s - p + k)
                for ox in 0..<ow {
                    let x0 = max(0, ox * s - p), x1 = min(w, ox * s - p + k)
                    var best = -Float.infinity
                    for iy in y0..<y1 { for ix in x0..<x1 { let v = xp[iy * w + ix]; if v > best || v.isNaN { best = v } } }
                    yp[oy * ow + ox] = best
                }
            }
        }
    }

    /// ResNet's stem pool: a horizontal 3-wide stride-2 max per input row (even/odd lanes of a
    /// 32-float load), then a vertical 3-row max.
    static func forward3x3s2(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width
        var rows = [Float](repeating: 0, count: 3 * ow)
        rows.withUnsafeMutableBufferPointer { rb in
            let r = rb.baseAddress!
            for plane in 0..<(g.batch * g.inChannels) {
                let xp = x + plane * h * w, yp = y + plane * oh * ow
                // hmax of input row iy goes to slot iy % 3; row -1 and row h are padding.
                var have = -2
                for oy in 0..<oh {
                    let top = 2 * oy - 1
                    for iy in max(top, have + 1)...min(top + 2, h - 1) where iy >= 0 {
                        horizontalMax(xp + iy * w, w: w, ow: ow, into: r + (iy % 3) * ow)
                        have = iy
                    }
                    let out = yp + oy * ow
                    let rowsUsed = (max(top, 0)...min(top + 2, h - 1)).map { r + ($0 % 3) * ow }
                    out.update(from: rowsUsed[0], count: ow)
                    for extra in rowsUsed.dropFirst() {
                        var i = 0
                        while i + 16 <= ow { store16(pointwiseMax(load16(out, i), load16(extra, i)), out, i); i += 16 }
                        while i < ow { out[i] = max(out[i], extra[i]); i += 1 }
                    }
                }
            }
        }
    }

    /// dst[ox] = max(src[2ox-1], src[2ox], src[2ox+1]) over the valid columns.
    @inline(__always)
    static func horizontalMax(_ src: UnsafePointer<Float>, w: Int, ow: Int, into dst: UnsafeMutablePointer<Float>) {
        var ox = 0
        // Vector body: reads src[2ox-2 ..< 2ox+32], all inside the row.
        if ow > 1 {
            ox = 1
            while ox + 16 <= ow && 2 * ox + 32 <= w {
                let a = UnsafeRawPointer(src + 2 * ox - 2).loadUnaligned(as: SIMD32<Float>.self)
                let b = UnsafeRawPointer(src + 2 * ox).loadUnaligned(as: SIMD32<Float>.self)
                store16(pointwiseMax(pointwiseMax(a.oddHalf, b.evenHalf), b.oddHalf), dst, ox)
                ox += 16
            }
        }
        for o in 0..<ow where o == 0 || o >= ox {
            var m = -Float.infinity
            for ix in max(0, 2 * o - 1)...min(w - 1, 2 * o + 1) { m = max(m, src[ix]) }
            dst[o] = m
        }
    }

    /// dx (overwritten) from dy: each output's gradient goes to the first position of its window
    /// holding the maximum `y`.
    public static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, k = g.kernelH, s = g.stride, p = g.padding
        dx.update(repeating: 0, count: g.batch * g.inChannels * h * w)
        for plane in 0..<(g.batch * g.inChannels) {
            let xp = x + plane * h * w, yp = y + plane * oh * ow, dyp = dy + plane * oh * ow, dxp = dx + plane * h * w
            for oy in 0..<oh {
                let y0 = max(0, oy * s - p), y1 = min(h, oy * s - p + k)
                for ox in 0..<ow {
                    let x0 = max(0, ox * s - p), x1 = min(w, ox * s - p + k)
                    let m = yp[oy * ow + ox]
                    var at = y0 * w + x0
                    search: for iy in y0..<y1 {
                        for ix in x0..<x1 where xp[iy * w + ix] == m || (m.isNaN && xp[iy * w + ix].isNaN) { at = iy * w + ix; break search }
                    }
                    dxp[at] += dyp[oy * ow + ox]
                }
            }
        }
    }
}

public enum GlobalAvgPool {
    /// y[n, c] = mean over the plane of x[n, c, :, :].
    public static func forward(planes: Int, plane: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(plane)
        for i in 0..<planes { y[i] = sum(x + i * plane, plane) * inv }
    }

    public static func backward(planes: Int, plane: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(plane)
        for i in 0..<planes { (dx + i * plane).update(repeating: dy[i] * inv, count: plane) }
    }
}
