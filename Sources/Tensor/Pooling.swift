/// Max pooling (square window) and global average pooling over NCHW planes.
///
/// The forward pass keeps only the maxima; the backward pass finds each window's first maximum
/// again (PyTorch's tie rule: first in scan order). That keeps the forward — which scoring and
/// evaluation run far more often than the backward — a pure vectorised max, and saves an index
/// buffer the size of the output. Planes are split between the workers (`Parallel`).
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
        Parallel.forEach(g.batch * g.inChannels, minPerWorker: planeGrain(g)) { _, planes in for plane in planes {
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
        } }
    }

    /// ResNet's stem pool: a horizontal 3-wide stride-2 max per input row, then a vertical 3-row
    /// max. Rows are kept in a 3-slot ring so each input row is reduced once.
    static func forward3x3s2(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width
        Parallel.forEach(g.batch * g.inChannels, minPerWorker: planeGrain(g)) { _, planes in
        let ring = UnsafeMutablePointer<Float>.allocate(capacity: 3 * ow)
        defer { ring.deallocate() }
        for plane in planes {
            let xp = x + plane * h * w, yp = y + plane * oh * ow
            var have = -1
            for oy in 0..<oh {
                let lo = max(0, 2 * oy - 1), hi = min(h - 1, 2 * oy + 1)
                if have < lo - 1 { have = lo - 1 }
                while have < hi { have += 1; horizontalMax(xp + have * w, w: w, ow: ow, into: ring + (have % 3) * ow) }
                let out = yp + oy * ow
                out.update(from: ring + (lo % 3) * ow, count: ow)
                if lo < hi { for r in (lo + 1)...hi { let src = ring + (r % 3) * ow; for i in 0..<ow { out[i] = fastMax(out[i], src[i]) } } }
            }
        }
        }
    }

    /// Planes per worker below which splitting does not pay (~16 K input elements).
    static func planeGrain(_ g: ConvGeometry) -> Int { max(1, 16_384 / max(1, g.inPlane)) }

    /// dst[ox] = max(src[2ox-1], src[2ox], src[2ox+1]) over the valid columns.
    @inline(__always)
    static func horizontalMax(_ src: UnsafePointer<Float>, w: Int, ow: Int, into dst: UnsafeMutablePointer<Float>) {
        dst[0] = w > 1 ? fastMax(src[0], src[1]) : src[0]
        // Interior outputs have all three columns inside the row.
        let interior = min(ow, (w - 2) / 2 + 1)
        if interior > 1 { for o in 1..<interior { dst[o] = fastMax(fastMax(src[2 * o - 1], src[2 * o]), src[2 * o + 1]) } }
        if interior < ow {
            for o in max(1, interior)..<ow {
                var m = src[2 * o - 1]
                if 2 * o < w { m = fastMax(m, src[2 * o]) }
                dst[o] = m
            }
        }
    }

    /// dx (overwritten) from dy: each output's gradient goes to the first position of its window
    /// holding the maximum `y`.
    public static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, k = g.kernelH, s = g.stride, p = g.padding
        Parallel.forEach(g.batch * g.inChannels, minPerWorker: planeGrain(g)) { _, planes in
        (dx + planes.lowerBound * h * w).update(repeating: 0, count: planes.count * h * w)
        for plane in planes {
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
}

public enum GlobalAvgPool {
    /// y[n, c] = mean over the plane of x[n, c, :, :].
    public static func forward(planes: Int, plane: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(plane)
        Parallel.forEach(planes, minPerWorker: max(1, 16_384 / max(1, plane))) { _, r in for i in r { y[i] = sum(x + i * plane, plane) * inv } }
    }

    public static func backward(planes: Int, plane: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(plane)
        Parallel.forEach(planes, minPerWorker: max(1, 16_384 / max(1, plane))) { _, r in
            for i in r { (dx + i * plane).update(repeating: dy[i] * inv, count: plane) }
        }
    }
}
