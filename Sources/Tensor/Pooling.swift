/// Max pooling (square window) and global average pooling over NCHW planes.
public enum MaxPool {
    /// Forward; `argmax` receives, per output, the flat index within its input plane of the
    /// first maximum in scan order (PyTorch's tie rule).
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                               argmax: UnsafeMutablePointer<Int32>) {
        let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, k = g.kernelH, s = g.stride, p = g.padding
        for plane in 0..<(g.batch * g.inChannels) {
            let xp = x + plane * h * w, yp = y + plane * oh * ow, ap = argmax + plane * oh * ow
            for oy in 0..<oh {
                let y0 = max(0, oy * s - p), y1 = min(h, oy * s - p + k)
                for ox in 0..<ow {
                    let x0 = max(0, ox * s - p), x1 = min(w, ox * s - p + k)
                    var best = -Float.infinity, at = y0 * w + x0
                    for iy in y0..<y1 {
                        for ix in x0..<x1 {
                            let v = xp[iy * w + ix]
                            if v > best || v.isNaN { best = v; at = iy * w + ix }
                        }
                    }
                    yp[oy * ow + ox] = best
                    ap[oy * ow + ox] = Int32(at)
                }
            }
        }
    }

    /// dx (overwritten) from dy through the saved argmax positions.
    public static func backward(_ g: ConvGeometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                                dx: UnsafeMutablePointer<Float>) {
        let inPlane = g.inPlane, outPlane = g.outPlane
        dx.update(repeating: 0, count: g.batch * g.inChannels * inPlane)
        for plane in 0..<(g.batch * g.inChannels) {
            let dxp = dx + plane * inPlane, dyp = dy + plane * outPlane, ap = argmax + plane * outPlane
            for o in 0..<outPlane { dxp[Int(ap[o])] += dyp[o] }
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
