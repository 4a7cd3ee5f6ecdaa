/// Element-wise kernels: ReLU, residual add (optionally fused with the ReLU that follows it), axpy.
public enum Elementwise {
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let zero = F16(repeating: 0)
        var i = 0
        while i + 16 <= n { store16(pointwiseMax(load16(x, i), zero), y, i); i += 16 }
        while i < n { y[i] = max(0, x[i]); i += 1 }
    }

    /// dx = dy where y > 0, else 0 (dx may alias dy).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        let zero = F16(repeating: 0)
        var i = 0
        while i + 16 <= n {
            var g = load16(dy, i)
            g.replace(with: 0, where: load16(y, i) .<= zero)
            store16(g, dx, i)
            i += 16
        }
        while i < n { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
    }

    /// out = a + b, then ReLU when `relu` (out may alias a or b).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, relu: Bool) {
        let zero = F16(repeating: 0)
        var i = 0
        if relu {
            while i + 16 <= n { store16(pointwiseMax(load16(a, i) + load16(b, i), zero), out, i); i += 16 }
            while i < n { out[i] = max(0, a[i] + b[i]); i += 1 }
        } else {
            while i + 16 <= n { store16(load16(a, i) + load16(b, i), out, i); i += 16 }
            while i < n { out[i] = a[i] + b[i]; i += 1 }
        }
    }

    /// y += alpha * x
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let va = F16(repeating: alpha)
        var i = 0
        while i + 16 <= n { store16(load16(y, i) + va * load16(x, i), y, i); i += 16 }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }
}
