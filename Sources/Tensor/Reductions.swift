/// Vectorised sums. Float reductions do not auto-vectorise (reassociation changes the result),
/// so they use explicit 16-lane accumulators; the lane order is fixed, so results are repeatable.

@inline(__always)
public func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= n { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self); i += 16 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Sum of (p[i] - shift)^2.
@inline(__always)
public func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    let m = SIMD16<Float>(repeating: shift)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= n {
        let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - m
        acc += d * d
        i += 16
    }
    var s = acc.sum()
    while i < n { let d = p[i] - shift; s += d * d; i += 1 }
    return s
}

/// Sum of a[i] * b[i].
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
             * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// Sum of a[i] * (b[i] - shift): a centred dot product without the cancellation of
/// dot(a, b) - shift * sum(a).
@inline(__always)
public func dotCentred(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    let m = SIMD16<Float>(repeating: shift)
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
             * (rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - m)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += a[i] * (b[i] - shift); i += 1 }
    return s
}
