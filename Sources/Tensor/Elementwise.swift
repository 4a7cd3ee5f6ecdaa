/// Element-wise kernels: ReLU, residual add (optionally fused with the ReLU that follows it), axpy.
/// Plain loops: LLVM vectorises them (see SIMDLoops.swift for why not SIMD types). Large arrays
/// are split between the workers (`Parallel`).
public enum Elementwise {
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forEachBlock(n) { r in for i in r { let v = x[i]; y[i] = v > 0 ? v : 0 } }
    }

    /// dx = dy where y > 0, else 0 (dx may alias dy).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forEachBlock(n) { r in for i in r { dx[i] = maskPositive(dy[i], y[i]) } }
    }

    /// out = a + b, then ReLU when `relu` (out may alias a or b).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, relu: Bool) {
        Parallel.forEachBlock(n) { r in
            if relu {
                for i in r { let v = a[i] + b[i]; out[i] = v > 0 ? v : 0 }
            } else {
                for i in r { out[i] = a[i] + b[i] }
            }
        }
    }

    /// y += alpha * x
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forEachBlock(n) { r in for i in r { y[i] += alpha * x[i] } }
    }
}
