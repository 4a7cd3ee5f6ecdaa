/// Loops over float buffers in 16-lane SIMD chunks with a scalar tail. Swift does not
/// auto-vectorise max()/select on floats (NaN semantics), so the hot elementwise passes use these.

typealias F16 = SIMD16<Float>

@inline(__always) func load16(_ p: UnsafePointer<Float>, _ i: Int) -> F16 {
    UnsafeRawPointer(p + i).loadUnaligned(as: F16.self)
}

@inline(__always) func store16(_ v: F16, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: F16.self)
}
