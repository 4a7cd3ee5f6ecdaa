import Foundation

/// Optional timing of the passes of a training step, for `spice bench --per-layer`: convolution
/// layers keep their own forward / data-gradient / weight-gradient times, the other passes add
/// their wall time to a category here. Off by default (one flag test per pass).
public enum Profile {
    nonisolated(unsafe) public static var enabled = false
    /// Seconds per category of non-convolution pass since the last `reset`.
    nonisolated(unsafe) public private(set) static var seconds: [String: Double] = [:]

    public static func reset() { seconds = [:] }

    /// Prefix of categories that time a part of the convolution passes (not added to the rest).
    public static let insideConvolutions = "(part of convolutions) "

    /// Time layers with `Parallel.criticalPathSeconds` (CPU time, slowest part of each parallel
    /// region) instead of the wall clock.
    nonisolated(unsafe) public static var criticalPathClock = false

    @inline(__always) public static func now() -> Double {
        if criticalPathClock { return Parallel.criticalPathSeconds() }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs `body`; when enabled, adds its wall time to `category`.
    @inline(__always) public static func measure<T>(_ category: String, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let t0 = now()
        let r = body()
        seconds[category, default: 0] += now() - t0
        return r
    }
}
