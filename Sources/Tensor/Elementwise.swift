/// Element-wise kernels: ReLU, residual add (optionally fused with the ReLU that follows it), axpy.
/// Plain loops: LLVM vectorises them (see SIMDLoops.swift for why not SIMD types).
public enum Elementwise {
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : 0 }
    }

    /// dx = dy where y > 0, else 0 (dx may alias dy).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dx[i] = maskPositive(dy[i], y[i]) }
    }

    /// out = a + b, then ReLU when `relu` (out may alias a or b).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, relu: Bool) {
        if relu {
            for i in 0..<n { let v = a[i] + b[i]; out[i] = v > 0 ? v : 0 }
        } else {
            for i in 0..<n { out[i] = a[i] + b[i] }
        }
    }

    /// y += alpha * x
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }
}
