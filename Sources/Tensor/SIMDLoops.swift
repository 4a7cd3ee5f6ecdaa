/// Loop helpers. The package builds for baseline x86-64 (SSE), where Swift's generic SIMD16
/// operations such as `pointwiseMax`, `replace(with:where:)` and `evenHalf` are lowered element by
/// element through the stack (measured: 10x slower than memory speed). Plain loops with
/// ternaries are auto-vectorised by LLVM into native compare/select instructions, so the
/// element-wise kernels use those; only reductions keep explicit vector accumulators (float
/// addition is not reassociated automatically), using + and * only, which lower natively.

/// max(a, b) as a select the vectoriser understands (NaN handling: returns b when a is NaN).
@inline(__always) func fastMax(_ a: Float, _ b: Float) -> Float { a > b ? a : b }

/// `value` where `keep` > 0, else +0 — as a bit mask, so a loop that writes it back in place
/// stays an unconditional (vectorisable) store instead of a branch around a store.
@inline(__always) func maskPositive(_ value: Float, _ keep: Float) -> Float {
    Float(bitPattern: value.bitPattern & (keep > 0 ? UInt32.max : 0))
}
