/// Element-wise kernels: ReLU, residual add (optionally fused with the ReLU that follows it).
public enum Elementwise {
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = max(0, x[i]) }
    }

    /// dx = dy where y > 0, else 0 (dx may alias dy).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }

    /// out = a + b, then ReLU when `relu` (out may alias a or b).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, relu: Bool) {
        if relu { for i in 0..<n { out[i] = max(0, a[i] + b[i]) } } else { for i in 0..<n { out[i] = a[i] + b[i] } }
    }

    /// y += alpha * x
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }
}
